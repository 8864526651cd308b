// The Python module fixq._core: what its translation units share.
//
// Conversions from Python values to fixq's (formats, modes, specs, seeds), reading
// numpy arrays and CPU torch tensors without copies, and the binders of each part.
// Every check raises TypeError (wrong kind of object or dtype) or ValueError (a bad
// value), naming what was given and what is accepted; the library's own exceptions
// are translated by pybind11 (std::invalid_argument: ValueError, fixq::overflow_error:
// OverflowError) and by module.cpp (fixq::file_error: fixq.FileError, an OSError).
#ifndef FIXQ_PYTHON_COMMON_HPP
#define FIXQ_PYTHON_COMMON_HPP

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>

namespace fixq::python {

namespace py = pybind11;

/// A Round from a Round or a mode name (fixq's or ac_fixed's).
Round to_round(py::handle v, const char* what = "round");
/// An Overflow from an Overflow or a mode name.
Overflow to_overflow(py::handle v, const char* what = "overflow");
/// A Format from a Format or a (word, frac[, signed]) tuple.
Format to_format(py::handle v, const char* what = "format");
/// A QuantSpec from a QuantSpec, a Format or a tuple (default modes); validated.
QuantSpec to_spec(py::handle v);
/// None, or an integer from 0 to 2^64 - 1.
std::optional<std::uint64_t> to_seed(py::handle v, const char* what = "seed");
/// An integer from 0 to 2^64 - 1.
std::uint64_t to_u64(py::handle v, const char* what);
/// An integer (a Python int or a numpy integer, not a bool) in [lo, hi]: TypeError
/// otherwise, or ValueError naming `what` and the range.
long long to_int(py::handle v, const char* what, long long lo, long long hi);

/// Whether x is a torch.Tensor (false when torch was never imported).
bool is_tensor(py::handle x);
/// A numpy array, or a CPU torch tensor read as one (no copy); `tensor` says which.
/// TypeError for anything else (a GPU tensor, a list).
py::array as_array(py::handle x, const char* what, bool& tensor);
/// `as_array`, and the dtype must be float32 or float64 (native byte order).
py::array as_float_array(py::handle x, const char* what, bool& tensor);
/// torch.from_numpy(a) when `tensor`, else a.
py::object wrap_like(const py::array& a, bool tensor);
/// The object's type as Python names it ("list", "torch.Tensor").
std::string type_name(py::handle x);
/// "float32", "int8", ...
std::string dtype_name(const py::dtype& d);

// Python functions the module calls (numpy.copyto, torch.from_numpy, ...) are looked up
// once, into function-local `static const py::handle`s whose reference is never
// released: a static py::object would be destroyed after the interpreter has shut down.

/// Whether the array's elements are aligned for their type and in C order / Fortran
/// order in one block (an unaligned array counts as neither: the kernels read typed
/// pointers, so it is copied first).
inline bool aligned(const py::array& a) { return (a.flags() & 0x0100) != 0; }  // NPY_ARRAY_ALIGNED
inline bool c_contiguous(const py::array& a) { return (a.flags() & py::array::c_style) != 0 && aligned(a); }
inline bool f_contiguous(const py::array& a) { return (a.flags() & py::array::f_style) != 0 && aligned(a); }
/// a in C order and aligned: a itself when it is, else a copy.
py::array c_order(const py::array& a);

void bind_formats(py::module_& m);
void bind_arrays(py::module_& m);
void bind_models(py::module_& m);

}  // namespace fixq::python

#endif  // FIXQ_PYTHON_COMMON_HPP
