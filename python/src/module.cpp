// fixq._core: the module, its exceptions, formats, modes and specs (docs/python.md).
#include <pybind11/stl.h>

#include <climits>
#include <sstream>
#include <string>

#include <fixq/io/files.hpp>
#include <fixq/kernels/parallel.hpp>
#include <fixq/random/stream.hpp>

#include "common.hpp"

namespace fixq::python {

namespace {

template <class Mode>
std::string mode_names(const Mode* all, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::string(to_string(all[i]));
  return s;
}

std::string repr(const Format& f) {
  std::ostringstream s;
  s << "Format(" << f.word << ", " << f.frac << (f.is_signed ? "" : ", signed=False") << ")";
  return s.str();
}

std::string repr(const QuantSpec& q) {
  std::ostringstream s;
  s << "QuantSpec(" << repr(q.format) << ", round='" << to_string(q.round) << "', overflow='" << to_string(q.overflow)
    << "'";
  if (q.seed) s << ", seed=" << *q.seed;
  s << ")";
  return s.str();
}

/// The module's torch.Tensor type, once torch has been imported by someone (fixq never
/// imports torch itself: numpy users do not pay for it).
PyObject* torch_tensor_type() {
  static PyObject* type = nullptr;
  if (!type) {
    PyObject* torch = PyDict_GetItemString(PyImport_GetModuleDict(), "torch");  // borrowed
    if (!torch) return nullptr;
    type = PyObject_GetAttrString(torch, "Tensor");  // kept for the life of the process
    if (!type) PyErr_Clear();
  }
  return type;
}

}  // namespace

std::string type_name(py::handle x) {
  const py::handle t = reinterpret_cast<PyObject*>(Py_TYPE(x.ptr()));
  const std::string module = py::str(t.attr("__module__"));
  const std::string name = py::str(t.attr("__qualname__"));
  return module == "builtins" ? name : module + "." + name;
}

std::string dtype_name(const py::dtype& d) { return py::str(d.attr("name")); }

Round to_round(py::handle v, const char* what) {
  if (py::isinstance<Round>(v)) return v.cast<Round>();
  if (py::isinstance<py::str>(v)) {
    const std::string s = v.cast<std::string>();
    if (const auto r = parse_round(s)) return *r;
    throw py::value_error(std::string("fixq: ") + what + " = '" + s + "' is not a rounding mode; the modes are " +
                          mode_names(all_rounds, std::size(all_rounds)) + " (or ac_fixed's names, e.g. AC_RND_CONV)");
  }
  throw py::type_error(std::string("fixq: ") + what + " must be a fixq.Round or its name, got " + type_name(v));
}

Overflow to_overflow(py::handle v, const char* what) {
  if (py::isinstance<Overflow>(v)) return v.cast<Overflow>();
  if (py::isinstance<py::str>(v)) {
    const std::string s = v.cast<std::string>();
    if (const auto o = parse_overflow(s)) return *o;
    throw py::value_error(std::string("fixq: ") + what + " = '" + s + "' is not an overflow mode; the modes are " +
                          mode_names(all_overflows, std::size(all_overflows)) + " (or ac_fixed's names, e.g. AC_SAT)");
  }
  throw py::type_error(std::string("fixq: ") + what + " must be a fixq.Overflow or its name, got " + type_name(v));
}

namespace {
/// v as a Python int: an int, or an integer such as numpy.int64 (not a bool); else nullopt.
std::optional<py::int_> as_index(py::handle v) {
  if (PyBool_Check(v.ptr()) || py::isinstance<py::array>(v) || !PyIndex_Check(v.ptr())) return std::nullopt;
  return py::reinterpret_steal<py::int_>(PyNumber_Index(v.ptr()));
}

}  // namespace

long long to_int(py::handle v, const char* what, long long lo, long long hi) {
  const auto i = as_index(v);
  if (!i || !i->ptr()) {
    PyErr_Clear();
    throw py::type_error(std::string("fixq: ") + what + " must be an int, got " + type_name(v));
  }
  int overflow = 0;
  const long long x = PyLong_AsLongLongAndOverflow(i->ptr(), &overflow);
  if (overflow || x < lo || x > hi)
    throw py::value_error(std::string("fixq: ") + what + " = " + std::string(py::str(v)) + " is out of range [" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

Format to_format(py::handle v, const char* what) {
  if (py::isinstance<Format>(v)) return v.cast<Format>();
  if (py::isinstance<py::tuple>(v)) {
    const py::tuple t = py::reinterpret_borrow<py::tuple>(v);
    if (t.size() == 2 || t.size() == 3) {
      const int word = static_cast<int>(to_int(t[0], "word", INT_MIN, INT_MAX));
      const int frac = static_cast<int>(to_int(t[1], "frac", INT_MIN, INT_MAX));
      bool is_signed = true;
      if (t.size() == 3) {
        if (!PyBool_Check(t[2].ptr())) throw py::type_error(std::string("fixq: ") + what + "'s signed must be a bool");
        is_signed = t[2].cast<bool>();
      }
      return Format(word, frac, is_signed);  // std::invalid_argument (ValueError) naming the bad field
    }
  }
  throw py::type_error(std::string("fixq: ") + what + " must be a fixq.Format or a (word, frac[, signed]) tuple, got " +
                       type_name(v));
}

std::uint64_t to_u64(py::handle v, const char* what) {
  const auto i = as_index(v);
  if (!i || !i->ptr()) {
    PyErr_Clear();
    throw py::type_error(std::string("fixq: ") + what + " must be an int from 0 to 2**64 - 1, got " + type_name(v));
  }
  const unsigned long long x = PyLong_AsUnsignedLongLong(i->ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    throw py::value_error(std::string("fixq: ") + what + " = " + std::string(py::str(v)) +
                          " is out of range [0, 2**64 - 1]");
  }
  return x;
}

std::optional<std::uint64_t> to_seed(py::handle v, const char* what) {
  if (v.is_none()) return std::nullopt;
  return to_u64(v, what);
}

QuantSpec to_spec(py::handle v) {
  if (py::isinstance<QuantSpec>(v)) return v.cast<QuantSpec>();  // validated when made
  if (py::isinstance<Format>(v) || py::isinstance<py::tuple>(v)) return QuantSpec{to_format(v, "spec")};
  throw py::type_error("fixq: spec must be a fixq.QuantSpec, a fixq.Format or a (word, frac[, signed]) tuple, got " +
                       type_name(v));
}

bool is_tensor(py::handle x) {
  PyObject* t = torch_tensor_type();
  return t && PyObject_IsInstance(x.ptr(), t) == 1;
}

py::array as_array(py::handle x, const char* what, bool& tensor) {
  tensor = false;
  if (py::isinstance<py::array>(x)) {
    static const py::handle masked = py::object(py::module_::import("numpy").attr("ma").attr("MaskedArray")).release();  // (common.hpp)
    if (PyObject_IsInstance(x.ptr(), masked.ptr()) == 1)
      throw py::type_error(std::string("fixq: ") + what +
                           " is a masked array; fixq would ignore its mask (pass x.filled(...) or x.compressed())");
    return py::reinterpret_borrow<py::array>(x);
  }
  if (is_tensor(x)) {
    if (!x.attr("is_cpu").cast<bool>())
      throw py::type_error(std::string("fixq: ") + what + " is a tensor on device '" + std::string(py::str(x.attr("device"))) +
                           "'; fixq takes CPU tensors (move it with .cpu())");
    tensor = true;
    try {
      // numpy() shares the tensor's memory; a tensor that requires grad is read through detach().
      if (x.attr("requires_grad").cast<bool>()) return x.attr("detach")().attr("numpy")();
      return x.attr("numpy")();
    } catch (py::error_already_set& e) {
      throw py::type_error(std::string("fixq: ") + what + ": the tensor cannot be read as a numpy array (" + e.what() +
                           ")");
    }
  }
  throw py::type_error(std::string("fixq: ") + what + " must be a numpy array or a CPU torch.Tensor, got " + type_name(x));
}

py::array as_float_array(py::handle x, const char* what, bool& tensor) {
  py::array a = as_array(x, what, tensor);
  const py::dtype d = a.dtype();
  const bool native = d.attr("isnative").cast<bool>();
  if (d.kind() != 'f' || (d.itemsize() != 4 && d.itemsize() != 8) || !native)
    throw py::type_error(std::string("fixq: ") + what + " has dtype " + dtype_name(d) +
                         (native ? "" : " in non-native byte order") +
                         "; fixq quantizes float32 and float64 arrays in native byte order (convert with "
                         ".astype(np.float32))");
  return a;
}

py::object wrap_like(const py::array& a, bool tensor) {
  if (!tensor) return a;
  static const py::handle from_numpy = py::object(py::module_::import("torch").attr("from_numpy")).release();  // (common.hpp)
  return from_numpy(a);
}

py::array c_order(const py::array& a) {
  if (c_contiguous(a)) return a;
  static const py::handle require = py::object(py::module_::import("numpy").attr("require")).release();  // (common.hpp)
  return require(a, py::none(), "CA");
}

void bind_formats(py::module_& m) {
  py::enum_<Round> round(m, "Round", "How a value between two codes is rounded (README: the rounding table).");
  for (const Round r : all_rounds) round.value(std::string(to_string(r)).c_str(), r);
  py::enum_<Overflow> overflow(m, "Overflow", "What happens to a value outside the format's range.");
  for (const Overflow o : all_overflows) overflow.value(std::string(to_string(o)).c_str(), o);

  py::class_<Format>(m, "Format",
                     "A fixed-point format: a code c of `word` bits (two's complement when signed) stands for "
                     "c * 2**-frac.")
      .def(py::init([](py::handle word, py::handle frac, py::handle is_signed) {
             if (!PyBool_Check(is_signed.ptr()))
               throw py::type_error("fixq: signed must be a bool, got " + type_name(is_signed));
             return Format(static_cast<int>(to_int(word, "word", INT_MIN, INT_MAX)),
                           static_cast<int>(to_int(frac, "frac", INT_MIN, INT_MAX)), is_signed.cast<bool>());
           }),
           py::arg("word"), py::arg("frac"), py::arg("signed") = true)
      .def_property_readonly("word", [](const Format& f) { return f.word; })
      .def_property_readonly("frac", [](const Format& f) { return f.frac; })
      .def_property_readonly("signed", [](const Format& f) { return f.is_signed; })
      .def_property_readonly("lsb", &Format::lsb, "2**-frac")
      .def_property_readonly("min_code", &Format::min_code)
      .def_property_readonly("max_code", &Format::max_code)
      .def_property_readonly("min", &Format::min_value, "the value of the smallest code")
      .def_property_readonly("max", &Format::max_value, "the value of the largest code")
      .def("__repr__", [](const Format& f) { return repr(f); })
      .def("__str__", &Format::name)
      .def("__eq__", [](const Format& a, py::handle b) { return py::isinstance<Format>(b) && a == b.cast<Format>(); })
      .def("__hash__", [](const Format& f) { return py::hash(py::make_tuple(f.word, f.frac, f.is_signed)); })
      .def(py::pickle([](const Format& f) { return py::make_tuple(f.word, f.frac, f.is_signed); },
                      [](const py::tuple& t) { return to_format(t); }));

  py::class_<QuantSpec>(m, "QuantSpec", "How a tensor is quantized: format, rounding, overflow and (Stochastic) seed.")
      .def(py::init([](py::handle format, py::handle round, py::handle overflow, py::handle seed) {
             QuantSpec q{to_format(format), to_round(round), to_overflow(overflow), to_seed(seed)};
             q.validate();
             return q;
           }),
           py::arg("format"), py::arg("round") = "NearestEven", py::arg("overflow") = "Saturate",
           py::arg("seed") = py::none())
      .def_property_readonly("format", [](const QuantSpec& q) { return q.format; })
      .def_property_readonly("round", [](const QuantSpec& q) { return q.round; })
      .def_property_readonly("overflow", [](const QuantSpec& q) { return q.overflow; })
      .def_property_readonly("seed", [](const QuantSpec& q) { return q.seed; })
      .def("__repr__", [](const QuantSpec& q) { return repr(q); })
      .def("__eq__", [](const QuantSpec& a, py::handle b) { return py::isinstance<QuantSpec>(b) && a == b.cast<QuantSpec>(); })
      .def("__hash__", [](const QuantSpec& q) {
        return py::hash(py::make_tuple(q.format.word, q.format.frac, q.format.is_signed, static_cast<int>(q.round),
                                       static_cast<int>(q.overflow), q.seed));
      });

  m.def(
      "derive_seed",
      [](const py::args& parts) {
        std::vector<std::uint64_t> p;
        for (const py::handle h : parts) p.push_back(to_u64(h, "derive_seed's part"));
        return derive_seed(std::span<const std::uint64_t>(p));
      },
      "A seed mixed from any number of integers (0 to 2**64 - 1): derive_seed(run_seed, step, tensor) gives every "
      "(step, tensor) its own random stream, as in C++.");
  m.def(
      "set_threads", [](py::handle n) { set_threads(static_cast<int>(to_int(n, "n", 0, 1024))); }, py::arg("n"),
      "Use at most n threads (0 to 1024) in the array kernels (0: all cores). Results do not depend on it.");
  m.def("get_threads", &threads, "The number of threads the array kernels use.");
}

}  // namespace fixq::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "fixq's C++ kernels and models (import fixq, not fixq._core)";
  // A file that cannot be read or is malformed: an OSError naming the file and the problem.
  py::register_exception<fixq::file_error>(m, "FileError", PyExc_OSError);
  fixq::python::bind_formats(m);
  fixq::python::bind_arrays(m);
  fixq::python::bind_models(m);
}
