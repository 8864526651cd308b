// fixq._core: model files from Python: load, run (float, sim, int), verify, calibrate,
// save and export, with the `fixq` tool's semantics (docs/python.md, docs/cli.md).
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <fixq/io/export.hpp>
#include <fixq/io/model_file.hpp>
#include <fixq/io/summary.hpp>
#include <fixq/kernels/instantiate.hpp>
#include <fixq/model/calibrate.hpp>
#include <fixq/model/model.hpp>

#include "common.hpp"

namespace fixq::python {

namespace {

namespace fs = std::filesystem;

fs::path to_path(py::handle p, const char* what) {
  static const py::handle fsencode = py::object(py::module_::import("os").attr("fsencode")).release();  // (common.hpp)
  std::string bytes;
  try {
    bytes = fsencode(p).cast<std::string>();  // str, bytes or os.PathLike, in the file system's encoding
  } catch (py::error_already_set&) {
    throw py::type_error(std::string("fixq: ") + what + " must be a str, bytes or os.PathLike, got " + type_name(p));
  }
  if (bytes.find('\0') != std::string::npos)
    throw py::value_error(std::string("fixq: ") + what + " holds a null byte");
  return fs::path(bytes);
}

std::string shape_tuple_text(const std::vector<py::ssize_t>& s) {
  std::string t = "(";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (s.size() == 1 ? ",)" : ")");
}

/// A model as Python sees it: the model file's contents.
struct PyModel {
  ModelFile mf;

  std::string where() const { return mf.path.empty() ? std::string("model") : mf.path.string(); }

  void require_formats(const std::string& what) const {
    if (!mf.quantized)
      throw py::value_error(where() + ": a float model (no formats) has no " + what +
                            "; give it formats with fixq.calibrate");
  }

  /// x's samples, checked against the model's input shape: (N, *input_shape).
  std::int64_t samples(const py::array& x) const {
    const Shape& want = mf.model.input_shape();
    bool ok = x.ndim() == static_cast<py::ssize_t>(want.size() + 1);
    for (std::size_t d = 0; ok && d < want.size(); ++d) ok = x.shape(static_cast<py::ssize_t>(d + 1)) == want[d];
    if (!ok)
      throw py::value_error("fixq: x has shape " + shape_tuple_text({x.shape(), x.shape() + x.ndim()}) +
                            "; the model takes (N" + (want.empty() ? "" : ", ") + shape_text(want).substr(1));
    return x.shape(0);
  }
};

/// The raw inputs of a model, read a batch at a time: values (preprocessed as the
/// model file says) or codes of the input format.
class Inputs {
 public:
  Inputs(const PyModel& m, py::handle x_obj, bool codes) : m_(m), codes_(codes) {
    bool tensor = false;
    x_ = as_array(x_obj, "x", tensor);
    const py::dtype d = x_.dtype();
    if (codes) {
      if (d.kind() != 'i' && d.kind() != 'u')
        throw py::type_error("fixq: x has dtype " + dtype_name(d) + "; input_codes=True needs integer codes");
      if (d.kind() == 'u' && d.itemsize() == 8 && x_.size() > 0) {  // beyond int64 when >= 2^63: no input code
        const std::uint64_t top = x_.attr("max")().cast<std::uint64_t>();
        if (top > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw py::value_error("fixq: code " + std::to_string(top) + " is outside the input format " +
                                m.mf.model.input_spec().format.name());
      }
      x_ = c_order(x_.attr("astype")("int64"));
    } else {
      if (d.kind() != 'f' && d.kind() != 'i' && d.kind() != 'u' && d.kind() != 'b')
        throw py::type_error("fixq: x has dtype " + dtype_name(d) + "; the model takes real numbers");
      if (d.kind() == 'f' && d.itemsize() != 4 && d.itemsize() != 8)
        throw py::type_error("fixq: x has dtype " + dtype_name(d) + "; the model takes float32, float64 or integers");
      // Read in its own dtype (each batch converted on the way): no copy of a large input.
      if (!d.attr("isnative").cast<bool>()) x_ = x_.attr("astype")(d.attr("newbyteorder")("="));
      x_ = c_order(x_);
    }
    kind_ = d.kind() == 'b' ? 'u' : d.kind();  // bool: one byte, 0 or 1
    itemsize_ = static_cast<int>(d.itemsize());
    n_ = m.samples(x_);
    row_ = shape_size(m.mf.model.input_shape());
  }
  std::int64_t rows() const { return n_; }

  /// Samples [first, first + count), preprocessed. Runs without the GIL.
  NDArray<float> values(std::int64_t first, std::int64_t count) const {
    NDArray<float> v(batch_shape(count));
    const std::size_t at = static_cast<std::size_t>(first) * row_;
    const auto go = [&](const auto* p) {
      preprocess_input(m_.mf.preprocess, m_.mf.model.input_shape(), p + at, v.size(), first, v.data.data());
    };
    const void* p = x_.data();
    if (kind_ == 'f') itemsize_ == 4 ? go(static_cast<const float*>(p)) : go(static_cast<const double*>(p));
    else if (kind_ == 'i' && itemsize_ == 1) go(static_cast<const std::int8_t*>(p));
    else if (kind_ == 'i' && itemsize_ == 2) go(static_cast<const std::int16_t*>(p));
    else if (kind_ == 'i' && itemsize_ == 4) go(static_cast<const std::int32_t*>(p));
    else if (kind_ == 'i') go(static_cast<const std::int64_t*>(p));
    else if (itemsize_ == 1) go(static_cast<const std::uint8_t*>(p));
    else if (itemsize_ == 2) go(static_cast<const std::uint16_t*>(p));
    else if (itemsize_ == 4) go(static_cast<const std::uint32_t*>(p));
    else go(static_cast<const std::uint64_t*>(p));
    return v;
  }
  /// Codes of samples [first, first + count): given (checked against the input format) or quantized.
  NDArray<std::int32_t> codes(std::int64_t first, std::int64_t count) const {
    if (!codes_) return m_.mf.model.input_codes(values(first, count), static_cast<std::uint64_t>(first));
    const Format& f = m_.mf.model.input_spec().format;
    NDArray<std::int32_t> c(batch_shape(count));
    const std::int64_t* p = static_cast<const std::int64_t*>(x_.data()) + static_cast<std::size_t>(first) * row_;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (p[i] < f.min_code() || p[i] > static_cast<std::int64_t>(f.max_code()))
        throw std::invalid_argument("fixq: code " + std::to_string(p[i]) + " at element " +
                                    std::to_string(static_cast<std::size_t>(first) * row_ + i) +
                                    " is outside the input format " + f.name());
      c.data[i] = static_cast<std::int32_t>(p[i]);
    }
    return c;
  }

 private:
  Shape batch_shape(std::int64_t count) const {
    Shape s{count};
    const Shape& in = m_.mf.model.input_shape();
    s.insert(s.end(), in.begin(), in.end());
    return s;
  }
  const PyModel& m_;
  py::array x_;
  bool codes_;
  char kind_ = 'f';  // x_'s dtype: 'f', 'i' or 'u', and bytes per element
  int itemsize_ = 8;
  std::int64_t n_ = 0;
  std::size_t row_ = 0;
};

/// A layer's output for every sample: float32 values, or codes (int32, int64 when wider).
struct Output {
  py::array array;
  bool codes = false;
  double lsb = 1;
  std::size_t per_sample = 0;

  Output(std::int64_t n, const Shape& shape, bool want_codes, const Format& f)
      : codes(want_codes), lsb(f.lsb()), per_sample(shape_size(shape)) {
    std::vector<py::ssize_t> s{n};
    s.insert(s.end(), shape.begin(), shape.end());
    if (!codes) array = py::array_t<float>(s);
    else if (f.word > 32) array = py::array_t<std::int64_t>(s);
    else array = py::array_t<std::int32_t>(s);
  }
  /// Stores a batch's output at sample `first` (no Python calls: runs without the GIL).
  void put(std::int64_t first, const NDArray<float>& v) {
    std::memcpy(static_cast<float*>(mutable_at()) + static_cast<std::size_t>(first) * per_sample, v.data.data(),
                v.size() * sizeof(float));
  }
  void put(std::int64_t first, const NDArray<std::int32_t>& c) {
    const std::size_t at = static_cast<std::size_t>(first) * per_sample;
    if (!codes) {
      float* o = static_cast<float*>(mutable_at()) + at;
      for (std::size_t i = 0; i < c.size(); ++i) o[i] = static_cast<float>(static_cast<double>(c.data[i]) * lsb);
    } else if (array.itemsize() == 8) {
      std::int64_t* o = static_cast<std::int64_t*>(mutable_at()) + at;
      for (std::size_t i = 0; i < c.size(); ++i) o[i] = c.data[i];
    } else {
      std::memcpy(static_cast<std::int32_t*>(mutable_at()) + at, c.data.data(), c.size() * sizeof(std::int32_t));
    }
  }
  void* mutable_at() { return data_; }
  void* data_ = nullptr;  // the array's memory, taken while the GIL is held
};

std::int64_t to_batch(py::handle batch) { return to_int(batch, "batch", 1, std::numeric_limits<std::int32_t>::max()); }

/// Runs a path on every sample of x, a batch at a time; one array per layer (all) or
/// the first output's.
std::vector<Output> run_path(const PyModel& pm, py::handle x_obj, const std::string& path, bool codes, bool input_codes,
                             py::handle batch_obj, bool all) {
  const Model& m = pm.mf.model;
  if (path != "float" && path != "sim" && path != "int")
    throw py::value_error("fixq: path = '" + path + "' is not 'float', 'sim' or 'int'");
  if (path != "float") pm.require_formats("sim or int path");
  if (codes && path != "int") throw py::value_error("fixq: codes=True needs path='int' (the float and sim paths give values)");
  if (input_codes && path != "int") throw py::value_error("fixq: input_codes=True needs path='int'");
  const std::int64_t batch = to_batch(batch_obj);
  const Inputs in(pm, x_obj, input_codes);
  const std::int64_t n = in.rows();
  const std::string out_name = m.outputs().front();
  std::vector<Output> outs;
  std::vector<std::size_t> layer_of;  // which layer each output holds
  for (std::size_t i = 0; i < m.size(); ++i)
    if (all || m.layer(i).name() == out_name) {
      outs.emplace_back(n, m.layer(i).output_shape(), codes, m.layer(i).output_format());
      layer_of.push_back(i);
    }
  for (Output& o : outs) o.data_ = o.array.mutable_data();
  py::gil_scoped_release unlocked;
  for (std::int64_t first = 0; first < n; first += batch) {
    const std::int64_t count = std::min(batch, n - first);
    const auto store = [&](const auto& ys) {
      for (std::size_t k = 0; k < outs.size(); ++k) outs[k].put(first, ys[layer_of[k]]);
    };
    if (path == "float") store(m.forward_float_all(in.values(first, count)));
    else if (path == "sim") store(m.forward_sim_all(in.values(first, count), static_cast<std::uint64_t>(first)));
    else store(m.forward_int_all(in.codes(first, count), static_cast<std::uint64_t>(first)));
  }
  return outs;
}

PyModel load(py::handle path, py::handle seed) {
  return PyModel{load_model(to_path(path, "path"), {.seed = to_seed(seed)})};
}

PyModel calibrate_model(const PyModel& pm, py::handle x_obj, py::handle bits, py::handle weight_bits,
                        const std::string& method, double overflow_rate, bool per_channel, py::handle count_obj) {
  CalibrationSpec c;
  c.activation_bits = static_cast<int>(to_int(bits, "bits", 1, Layer::max_word));
  c.weight_bits = weight_bits.is_none() ? c.activation_bits
                                        : static_cast<int>(to_int(weight_bits, "weight_bits", 1, Layer::max_word));
  if (const auto m = parse_frac_method(method)) c.method = *m;
  else throw py::value_error("fixq: method = '" + method + "' is not MaxAbs, OverflowRate or MinMSE");
  if (overflow_rate != 0 && c.method != FracMethod::OverflowRate)
    throw py::value_error("fixq: overflow_rate needs method='OverflowRate'");
  if (!(overflow_rate >= 0 && overflow_rate <= 1))
    throw py::value_error("fixq: overflow_rate = " + std::to_string(overflow_rate) + " is not in [0, 1]");
  c.overflow_rate = overflow_rate;
  c.per_channel = per_channel;
  c.choose_signedness = !pm.mf.quantized;  // a float model says nothing about signedness
  const Inputs in(pm, x_obj, false);
  std::int64_t samples = in.rows();
  if (!count_obj.is_none()) samples = std::min<std::int64_t>(samples, to_int(count_obj, "count", 1, 1LL << 62));
  if (samples == 0) throw py::value_error("fixq: x has no samples; calibration needs at least one");
  py::gil_scoped_release unlocked;
  Model q = calibrate(pm.mf.model, in.values(0, samples), c);
  return PyModel{ModelFile{std::move(q), true, pm.mf.preprocess, {}}};
}

void export_model(const PyModel& pm, py::handle dir, py::handle x_obj, py::handle count_obj, bool input_codes, bool force) {
  pm.require_formats("integer codes to export");
  const std::int64_t count = to_int(count_obj, "count", 1, 1LL << 40);
  const fs::path d = to_path(dir, "dir");
  const Inputs in(pm, x_obj, input_codes);
  if (in.rows() == 0) throw py::value_error("fixq: x has no samples to export");
  py::gil_scoped_release unlocked;
  write_export_codes(pm.mf.model, in.codes(0, std::min(count, in.rows())), d, {.count = count, .force = force});
}

}  // namespace

void bind_models(py::module_& m) {
  py::class_<VerifySummary>(m, "VerifyResult", "The outcome of Model.verify: int == sim on every layer, or the first mismatch.")
      .def_readonly("ok", &VerifySummary::ok)
      .def_readonly("samples", &VerifySummary::samples)
      .def_readonly("layers", &VerifySummary::layers)
      .def_readonly("elements", &VerifySummary::elements)
      .def_readonly("layer", &VerifySummary::layer)
      .def_readonly("sample", &VerifySummary::sample)
      .def_readonly("element", &VerifySummary::element)
      .def_readonly("sim_value", &VerifySummary::sim_value)
      .def_readonly("int_code", &VerifySummary::int_code)
      .def_readonly("int_value", &VerifySummary::int_value)
      .def("__bool__", [](const VerifySummary& v) { return v.ok; })
      .def("__str__", &VerifySummary::text)
      .def("__repr__", [](const VerifySummary& v) { return "<fixq.VerifyResult: " + v.text() + ">"; });

  py::class_<PyModel>(m, "Model", "A fixq model (fixq.load_model, fixq.calibrate).")
      .def_property_readonly("path", [](const PyModel& p) { return p.mf.path.string(); })
      .def_property_readonly("quantized", [](const PyModel& p) { return p.mf.quantized; })
      .def_property_readonly("input_shape",
                             [](const PyModel& p) { return py::tuple(py::cast(p.mf.model.input_shape())); })
      .def_property_readonly("input_format",
                             [](const PyModel& p) -> py::object {
                               if (!p.mf.quantized) return py::none();
                               return py::cast(p.mf.model.input_spec().format);
                             })
      .def_property_readonly("layers",
                             [](const PyModel& p) {
                               std::vector<std::string> names;
                               for (std::size_t i = 0; i < p.mf.model.size(); ++i) names.push_back(p.mf.model.layer(i).name());
                               return names;
                             })
      .def_property_readonly("outputs", [](const PyModel& p) { return p.mf.model.outputs(); })
      .def_property_readonly("stochastic", [](const PyModel& p) { return p.mf.model.stochastic(); })
      .def("__len__", [](const PyModel& p) { return p.mf.model.size(); })
      .def("__repr__",
           [](const PyModel& p) {
             return "<fixq.Model " + p.where() + ": " + std::to_string(p.mf.model.size()) + " layers, " +
                    (p.mf.quantized ? "fixed point" : "float") + ">";
           })
      .def("info", [](const PyModel& p) { return model_summary(p.mf); }, "`fixq info`'s table.")
      .def(
          "run",
          [](const PyModel& p, py::handle x, const std::string& path, bool codes, bool input_codes, py::handle batch) {
            return run_path(p, x, path, codes, input_codes, batch, false).front().array;
          },
          py::arg("x"), py::arg("path") = "int", py::arg("codes") = false, py::arg("input_codes") = false,
          py::arg("batch") = 256, "The first output of a path ('float', 'sim' or 'int') on every sample of x.")
      .def(
          "run_all",
          [](const PyModel& p, py::handle x, const std::string& path, bool codes, bool input_codes, py::handle batch) {
            std::vector<Output> outs = run_path(p, x, path, codes, input_codes, batch, true);
            py::dict d;  // (all=true: output k is layer k's)
            for (std::size_t k = 0; k < outs.size(); ++k) d[py::str(p.mf.model.layer(k).name())] = outs[k].array;
            return d;
          },
          py::arg("x"), py::arg("path") = "int", py::arg("codes") = false, py::arg("input_codes") = false,
          py::arg("batch") = 256, "Every layer's output, as {layer name: array}, in the model's order.")
      .def(
          "verify",
          [](const PyModel& p, py::handle x, py::handle batch_obj) {
            p.require_formats("integer network to verify");
            const std::int64_t batch = to_batch(batch_obj);
            const Inputs in(p, x, false);
            py::gil_scoped_release unlocked;
            return verify_in_batches(p.mf.model, in.rows(), batch,
                                     [&](std::int64_t first, std::int64_t count) { return in.values(first, count); });
          },
          py::arg("x"), py::arg("batch") = 256, "Checks int code * lsb == sim value on every element of every layer.")
      .def(
          "save",
          [](const PyModel& p, py::handle dir) {
            const fs::path d = to_path(dir, "dir");
            py::gil_scoped_release unlocked;
            save_model(p.mf.model, d, {.quantized = p.mf.quantized, .preprocess = p.mf.preprocess});
          },
          py::arg("dir"), "Writes dir/model.json and the weights (all files or none).")
      .def("export", &export_model, py::arg("dir"), py::arg("x"), py::arg("count") = 10, py::arg("input_codes") = false,
           py::arg("force") = false, "`fixq export`: integer weights and golden vectors for test benches.");

  m.def("load_model", &load, py::arg("path"), py::arg("seed") = py::none(),
        "Reads a model file (model.json or its folder); seed replaces every stochastic seed, as `fixq run --seed`.");
  m.def("calibrate", &calibrate_model, py::arg("model"), py::arg("x"), py::arg("bits") = 8,
        py::arg("weight_bits") = py::none(), py::arg("method") = "MaxAbs", py::arg("overflow_rate") = 0.0,
        py::arg("per_channel") = false, py::arg("count") = py::none(),
        "`fixq calibrate`: a new model with every fractional length chosen from x.");
}

}  // namespace fixq::python
