// fixq._core: quantize, quantize_codes, dequantize, statistics and fraction choice on
// numpy arrays and CPU torch tensors (docs/python.md).
//
// Element k of an array is the element at C-order position k (x.ravel()'s order),
// whatever the memory layout: stochastic rounding keys it with random_u32(seed, k). A
// C-contiguous array (and a Fortran-ordered one under a deterministic rounding, where
// the index changes nothing) is read and written in place; other layouts are gathered
// into C order first.
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <fixq/kernels/frac_select.hpp>
#include <fixq/kernels/instantiate.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/stats.hpp>
#include <fixq/random/stream.hpp>

#include "common.hpp"

namespace fixq::python {

namespace {

/// Below this many elements a kernel keeps the GIL (releasing it costs more than the work).
constexpr std::size_t release_gil_from = 1 << 14;

/// Bytes [lo, hi) that an array's elements span.
std::pair<const char*, const char*> extent(const py::array& a) {
  const char* lo = static_cast<const char*>(a.data());
  const char* hi = lo;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    if (a.shape(d) == 0) return {lo, lo};
    const py::ssize_t step = (a.shape(d) - 1) * a.strides(d);
    (step < 0 ? lo : hi) += step;
  }
  return {lo, hi + a.itemsize()};
}

bool same_view(const py::array& a, const py::array& b) {
  if (a.data() != b.data() || a.ndim() != b.ndim() || a.itemsize() != b.itemsize()) return false;
  for (py::ssize_t d = 0; d < a.ndim(); ++d)
    if (a.shape(d) != b.shape(d) || a.strides(d) != b.strides(d)) return false;
  return true;
}

/// Whether writing `out` could change elements of `x` not yet read (any overlap but the same view).
bool overlaps(const py::array& x, const py::array& out) {
  const auto [xl, xh] = extent(x);
  const auto [ol, oh] = extent(out);
  return xl < oh && ol < xh && !same_view(x, out);
}

std::vector<py::ssize_t> shape_of(const py::array& a) { return {a.shape(), a.shape() + a.ndim()}; }

/// An uninitialized array of x's shape, in Fortran order when `fortran`, else C order.
template <class T>
py::array empty_like(const py::array& x, bool fortran) {
  if (fortran) return py::array_t<T, py::array::f_style>(shape_of(x));
  return py::array_t<T, py::array::c_style>(shape_of(x));
}

py::array copy_of(const py::array& a) {
  static const py::handle array = py::object(py::module_::import("numpy").attr("array")).release();  // (common.hpp)
  return array(a, py::arg("copy") = true);
}

void copy_into(py::array& out, const py::array& from) {
  static const py::handle copyto = py::object(py::module_::import("numpy").attr("copyto")).release();  // (common.hpp)
  copyto(out, from);
}

/// quantize_span over n elements, without the GIL when the call is long enough to gain.
template <class In, class Out>
void run_span(const In* in, Out* out, std::size_t n, const QuantSpec& spec) {
  if (n >= release_gil_from) {
    py::gil_scoped_release unlocked;
    quantize_span(in, out, n, spec, 0);
  } else {
    quantize_span(in, out, n, spec, 0);
  }
}

/// out[k] = quantize(x[k]) for every C-order position k; x and out of one shape.
template <class In, class Out>
void quantize_arrays(py::array x, py::array& out, const QuantSpec& spec) {
  const std::size_t n = static_cast<std::size_t>(x.size());
  if (n == 0) return;
  if (overlaps(x, out)) x = copy_of(x);
  const bool any_order = spec.round != Round::Stochastic;
  if ((c_contiguous(x) && c_contiguous(out)) || (any_order && f_contiguous(x) && f_contiguous(out))) {
    run_span(static_cast<const In*>(x.data()), static_cast<Out*>(out.mutable_data()), n, spec);
    return;
  }
  x = c_order(x);
  if (c_contiguous(out)) {
    run_span(static_cast<const In*>(x.data()), static_cast<Out*>(out.mutable_data()), n, spec);
    return;
  }
  py::array tmp = empty_like<Out>(x, false);
  run_span(static_cast<const In*>(x.data()), static_cast<Out*>(tmp.mutable_data()), n, spec);
  copy_into(out, tmp);
}

bool is_float32(const py::array& a) { return a.itemsize() == 4; }  // (after as_float_array)

py::object quantize(py::handle x_obj, py::handle spec_obj, py::handle out_obj) {
  const QuantSpec spec = to_spec(spec_obj);
  bool tensor = false;
  const py::array x = as_float_array(x_obj, "x", tensor);
  const bool deterministic = spec.round != Round::Stochastic;
  if (out_obj.is_none()) {
    const bool fortran = deterministic && f_contiguous(x) && !c_contiguous(x);
    py::array out = is_float32(x) ? empty_like<float>(x, fortran) : empty_like<double>(x, fortran);
    if (is_float32(x)) quantize_arrays<float, float>(x, out, spec);
    else quantize_arrays<double, double>(x, out, spec);
    return wrap_like(out, tensor);
  }
  bool out_tensor = false;
  py::array out = as_float_array(out_obj, "out", out_tensor);
  if (out_tensor && out_obj.attr("requires_grad").cast<bool>()) {
    static const py::handle grad_enabled = py::object(py::module_::import("torch").attr("is_grad_enabled")).release();  // (common.hpp)
    if (grad_enabled().cast<bool>())
      throw py::value_error(
          "fixq: out is a tensor that requires grad: writing it in place would hide the change from autograd (wrong "
          "gradients); use fixq.torch.quantize, or write under torch.no_grad()");
  }
  if (!out.writeable()) throw py::value_error("fixq: out is read-only");
  if (shape_of(out) != shape_of(x))
    throw py::value_error("fixq: out has shape " + std::string(py::str(out.attr("shape"))) + ", x has " +
                          std::string(py::str(x.attr("shape"))));
  if (is_float32(x) && is_float32(out)) quantize_arrays<float, float>(x, out, spec);
  else if (!is_float32(x) && !is_float32(out)) quantize_arrays<double, double>(x, out, spec);
  else if (!is_float32(x)) quantize_arrays<double, float>(x, out, spec);
  else
    throw py::type_error("fixq: out is float64 and x float32; out must have x's dtype (or be float32 for a float64 x)");
  return py::reinterpret_borrow<py::object>(out_obj);
}

/// Calls f.template operator()<T>() with the integer type T of dtype d; TypeError otherwise.
template <class F>
decltype(auto) visit_int_dtype(const py::dtype& d, const char* what, F&& f) {
  const bool native = d.attr("isnative").cast<bool>();
  if (native && d.kind() == 'i') {
    switch (d.itemsize()) {
      case 1: return f.template operator()<std::int8_t>();
      case 2: return f.template operator()<std::int16_t>();
      case 4: return f.template operator()<std::int32_t>();
      case 8: return f.template operator()<std::int64_t>();
    }
  }
  if (native && d.kind() == 'u') {
    switch (d.itemsize()) {
      case 1: return f.template operator()<std::uint8_t>();
      case 2: return f.template operator()<std::uint16_t>();
      case 4: return f.template operator()<std::uint32_t>();
      case 8: return f.template operator()<std::uint64_t>();
    }
  }
  throw py::type_error(std::string("fixq: ") + what + " is " + std::string(py::str(d.attr("str"))) +
                       "; expected an integer dtype (int8 to int64, uint8 to uint64, native byte order)");
}

/// The smallest integer dtype that holds every code of f; for a tensor, one that torch has
/// (no uint16/32/64: the next signed type).
py::dtype default_code_dtype(const Format& f, bool tensor) {
  const int bytes = f.word <= 8 ? 1 : f.word <= 16 ? 2 : f.word <= 32 ? 4 : 8;
  if (f.is_signed) return py::dtype("int" + std::to_string(8 * bytes));
  if (!tensor) return py::dtype("uint" + std::to_string(8 * bytes));
  if (bytes == 1) return py::dtype("uint8");
  if (f.word == 64)
    throw py::value_error("fixq: the codes of " + f.name() +
                          " need uint64, which torch does not have; quantize a numpy array instead");
  return py::dtype("int" + std::to_string(f.word < 16 ? 16 : f.word < 32 ? 32 : 64));
}

py::object quantize_codes(py::handle x_obj, py::handle spec_obj, py::handle dtype_obj) {
  const QuantSpec spec = to_spec(spec_obj);
  bool tensor = false;
  py::array x = as_float_array(x_obj, "x", tensor);
  const py::dtype d = dtype_obj.is_none() ? default_code_dtype(spec.format, tensor)
                                          : py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype_obj));
  if (tensor && d.kind() == 'u' && d.itemsize() > 1)
    throw py::type_error("fixq: dtype " + dtype_name(d) + " for a tensor: torch has no such integer type (use int16, "
                         "int32 or int64, or quantize a numpy array)");
  const bool fortran = spec.round != Round::Stochastic && f_contiguous(x) && !c_contiguous(x);
  py::array out = visit_int_dtype(d, "dtype", [&]<class Out>() -> py::array {
    detail::check_code_type<Out>(spec.format);  // ValueError: the codes do not fit
    py::array o = empty_like<Out>(x, fortran);
    if (is_float32(x)) {
      if constexpr (std::is_same_v<Out, std::uint64_t>) {  // no float -> uint64 kernel: from double (exact)
        const py::array wide = x.attr("astype")("float64");
        quantize_arrays<double, Out>(wide, o, spec);
      } else {
        quantize_arrays<float, Out>(x, o, spec);
      }
    } else {
      quantize_arrays<double, Out>(x, o, spec);
    }
    return o;
  });
  return wrap_like(out, tensor);
}

py::object dequantize(py::handle codes_obj, py::handle format_obj, py::handle dtype_obj) {
  const Format f = to_format(format_obj);
  bool tensor = false;
  const py::array codes = c_order(as_array(codes_obj, "codes", tensor));
  bool use_float = f.word <= 24 && f.frac <= 149 && f.word - f.frac <= 128;  // every value exact in float32
  if (!dtype_obj.is_none()) {
    const py::dtype d = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype_obj));
    if (d.kind() != 'f' || (d.itemsize() != 4 && d.itemsize() != 8))
      throw py::type_error("fixq: dtype " + dtype_name(d) + " is not float32 or float64");
    use_float = d.itemsize() == 4;
  }
  const std::size_t n = static_cast<std::size_t>(codes.size());
  py::array out = use_float ? empty_like<float>(codes, false) : empty_like<double>(codes, false);
  visit_int_dtype(codes.dtype(), "codes", [&]<class Int>() {
    const Int* c = static_cast<const Int*>(codes.data());
    for (std::size_t i = 0; i < n; ++i) {
      const bool below = std::is_signed_v<Int> ? static_cast<std::int64_t>(c[i]) < f.min_code() : false;
      const bool above = std::is_signed_v<Int> ? c[i] > 0 && static_cast<std::uint64_t>(c[i]) > f.max_code()
                                               : static_cast<std::uint64_t>(c[i]) > f.max_code();
      if (below || above)
        throw py::value_error("fixq: code " + std::to_string(c[i]) + " at index " + std::to_string(i) +
                              " (C order) is outside " + f.name() + " (codes " + std::to_string(f.min_code()) + " to " +
                              std::to_string(f.max_code()) + ")");
    }
    py::gil_scoped_release unlocked;
    if (use_float) dequantize_span(c, static_cast<float*>(out.mutable_data()), n, f);
    else dequantize_span(c, static_cast<double*>(out.mutable_data()), n, f);
  });
  return wrap_like(out, tensor);
}

QuantStats stats(py::handle x_obj, py::handle spec_obj) {
  const QuantSpec spec = to_spec(spec_obj);
  bool tensor = false;
  const py::array x = c_order(as_float_array(x_obj, "x", tensor));
  const std::size_t n = static_cast<std::size_t>(x.size());
  py::gil_scoped_release unlocked;
  if (is_float32(x)) return quantize_stats_span(static_cast<const float*>(x.data()), n, spec, 0);
  return quantize_stats_span(static_cast<const double*>(x.data()), n, spec, 0);
}

FracSpec frac_spec(py::handle word, bool is_signed, const std::string& method, double overflow_rate, py::handle round) {
  FracSpec s;
  s.word = static_cast<int>(to_int(word, "word", 1, max_word));
  s.is_signed = is_signed;
  const auto m = parse_frac_method(method);
  if (!m) throw py::value_error("fixq: method = '" + method + "' is not MaxAbs, OverflowRate or MinMSE");
  s.method = *m;
  s.overflow_rate = overflow_rate;
  s.round = to_round(round);
  return s;
}

template <class F>
auto with_float_span(const py::array& x, F&& f) {
  if (is_float32(x)) return f(static_cast<const float*>(x.data()));
  return f(static_cast<const double*>(x.data()));
}

int choose_frac(py::handle x_obj, py::handle word, bool is_signed, const std::string& method, double overflow_rate,
                py::handle round) {
  const FracSpec s = frac_spec(word, is_signed, method, overflow_rate, round);
  bool tensor = false;
  const py::array x = c_order(as_float_array(x_obj, "x", tensor));
  const std::size_t n = static_cast<std::size_t>(x.size());
  py::gil_scoped_release unlocked;
  return with_float_span(x, [&](const auto* p) { return detail::choose_frac_span(p, n, s); });
}

std::vector<int> choose_frac_per_channel(py::handle x_obj, py::handle word, py::handle axis_obj, bool is_signed,
                                         const std::string& method, double overflow_rate, py::handle round) {
  const FracSpec s = frac_spec(word, is_signed, method, overflow_rate, round);
  bool tensor = false;
  py::array x = as_float_array(x_obj, "x", tensor);
  const py::ssize_t nd = x.ndim();
  auto axis = static_cast<py::ssize_t>(to_int(axis_obj, "axis", -(1LL << 40), 1LL << 40));
  if (nd == 0) throw py::value_error("fixq: choose_frac_per_channel needs an array of 1 or more dimensions, x is 0-d");
  if (axis < -nd || axis >= nd)
    throw py::value_error("fixq: axis = " + std::to_string(axis) + " is out of range for an array of " +
                          std::to_string(nd) + " dimensions");
  if (axis < 0) axis += nd;
  static const py::handle moveaxis = py::object(py::module_::import("numpy").attr("moveaxis")).release();  // (common.hpp)
  x = c_order(moveaxis(x, axis, 0));
  const std::size_t channels = static_cast<std::size_t>(x.shape(0));
  const std::size_t per = channels == 0 ? 0 : static_cast<std::size_t>(x.size()) / channels;
  std::vector<int> fracs(channels);
  py::gil_scoped_release unlocked;
  with_float_span(x, [&](const auto* p) {
    for (std::size_t c = 0; c < channels; ++c) fracs[c] = detail::choose_frac_span(p + c * per, per, s);
    return 0;
  });
  return fracs;
}

py::object random_words(py::handle seed_obj, py::handle index_obj) {
  const std::uint64_t seed = to_u64(seed_obj, "seed");
  if (!py::isinstance<py::array>(index_obj) && !is_tensor(index_obj))
    return py::int_(random_u32(seed, to_u64(index_obj, "index")));
  bool tensor = false;
  const py::array idx = c_order(as_array(index_obj, "index", tensor));
  py::array_t<std::uint32_t> out(shape_of(idx));
  std::uint32_t* o = out.mutable_data();
  const std::size_t n = static_cast<std::size_t>(idx.size());
  visit_int_dtype(idx.dtype(), "index", [&]<class Int>() {
    const Int* p = static_cast<const Int*>(idx.data());
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (std::is_signed_v<Int>)
        if (p[i] < 0) throw py::value_error("fixq: index " + std::to_string(p[i]) + " is negative");
      o[i] = random_u32(seed, static_cast<std::uint64_t>(p[i]));
    }
  });
  if (tensor) return wrap_like(py::array(out.attr("astype")("int64")), true);  // torch has no uint32
  return out;
}

}  // namespace

void bind_arrays(py::module_& m) {
  m.def("quantize", &quantize, py::arg("x"), py::arg("spec"), py::arg("out") = py::none(),
        "Values of x on the spec's grid (same shape and dtype). out: an array of x's shape (x itself: in place).");
  m.def("quantize_codes", &quantize_codes, py::arg("x"), py::arg("spec"), py::arg("dtype") = py::none(),
        "Integer codes of x in the spec's format (dtype: by default the smallest that holds them).");
  m.def("dequantize", &dequantize, py::arg("codes"), py::arg("format"), py::arg("dtype") = py::none(),
        "Values of integer codes: code * 2**-frac (float32 when exact, else float64, unless dtype says).");

  py::class_<QuantStats>(m, "QuantStats", "What quantizing an array does to it (C++ fixq::QuantStats).")
      .def_readonly("count", &QuantStats::count)
      .def_readonly("saturated_high", &QuantStats::saturated_high)
      .def_readonly("saturated_low", &QuantStats::saturated_low)
      .def_readonly("nan_count", &QuantStats::nan_count)
      .def_readonly("max_abs_error", &QuantStats::max_abs_error)
      .def_readonly("mse", &QuantStats::mse)
      .def_readonly("sqnr_db", &QuantStats::sqnr_db)
      .def_property_readonly(
          "overflow_rate",
          [](const QuantStats& s) {
            return s.count ? static_cast<double>(s.saturated_high + s.saturated_low) / static_cast<double>(s.count) : 0.0;
          },
          "(saturated_high + saturated_low) / count")
      .def("__repr__", [](const QuantStats& s) {
        std::ostringstream o;
        o.precision(17);
        o << "QuantStats(" << s << ")";
        return o.str();
      });
  m.def("quantize_stats", &stats, py::arg("x"), py::arg("spec"),
        "Saturation counts, max |error|, MSE and SQNR of quantize(x, spec).");
  m.def("choose_frac", &choose_frac, py::arg("x"), py::arg("word"), py::arg("signed") = true,
        py::arg("method") = "MaxAbs", py::arg("overflow_rate") = 0.0, py::arg("round") = "NearestEven",
        "The fractional length for word-bit codes of x (dynamic fixed point): MaxAbs, OverflowRate or MinMSE.");
  m.def("choose_frac_per_channel", &choose_frac_per_channel, py::arg("x"), py::arg("word"), py::arg("axis") = 0,
        py::arg("signed") = true, py::arg("method") = "MaxAbs", py::arg("overflow_rate") = 0.0,
        py::arg("round") = "NearestEven", "choose_frac for each index of `axis`.");
  m.def("random_u32", &random_words, py::arg("seed"), py::arg("index"),
        "The random word of stochastic rounding for element `index` (an int or an integer array) under `seed`.");
}

}  // namespace fixq::python
