// fixq/kernels/quantize.hpp - quantize, quantize_codes, dequantize on Eigen data.
//
//   y = fixq::quantize(x, {.format = {8, 4}});                 // values on the grid, into y's storage
//   y = fixq::quantize<fixq::Fixed<8, 4>>(x);                   // the same, from a Fixed type
//   Eigen::ArrayXX<std::int8_t> codes = fixq::quantize_codes<std::int8_t>(x, spec);
//   Eigen::ArrayXXf back = fixq::dequantize(codes, spec.format); // codes -> values
//   fixq::quantize_inplace(weights, spec);                      // in place
//
// x is any dense Eigen expression of float or double: Array, Matrix, Map,
// Block, Ref, or an expression such as a * 3 + b (evaluated first). Element
// values are exactly what the scalar core gives (kernels/quantize_span.hpp).
// quantize() returns an expression: `y = quantize(x, spec)` writes into y's
// storage (no temporary, no allocation when y has the right size; x and y may
// be the same array, but must not overlap otherwise). It refers to x, and has no
// coefficients to read: assign it, or call .eval(), to use the values (it cannot
// take part in a larger Eigen expression). Stochastic rounding keys element k with
// random_u32(seed, k), where k is the element's position in the storage order
// of x's plain type (column-major unless x is row-major), so a result depends
// on the data and the seed only. Tensor overloads: kernels/quantize_tensor.hpp.
#ifndef FIXQ_KERNELS_QUANTIZE_HPP
#define FIXQ_KERNELS_QUANTIZE_HPP

#include <Eigen/Core>
#include <concepts>
#include <cstdint>
#include <optional>
#include <type_traits>

#include <fixq/core/fixed.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>

namespace fixq {

namespace detail {

/// Calls f(src, first_index, len) for each contiguous inner slice of x (in the
/// storage order of x) when x has direct access with unit inner stride, and
/// returns true; returns false (calling nothing) otherwise.
template <class Derived, class F>
bool for_each_inner_slice(const Eigen::DenseBase<Derived>& x, F&& f) {
  if constexpr (bool(Derived::Flags & Eigen::DirectAccessBit)) {
    const Derived& d = x.derived();
    if (d.innerStride() != 1) return false;
    const Eigen::Index inner = d.innerSize(), outer = d.outerSize();
    if (d.outerStride() == inner || outer == 1) {
      f(d.data(), Eigen::Index{0}, inner * outer);
      return true;
    }
    for (Eigen::Index j = 0; j < outer; ++j) f(d.data() + j * d.outerStride(), j * inner, inner);
    return true;
  } else {
    return false;
  }
}

template <class Derived, class NewScalar>
using plain_with_scalar = typename std::decay_t<decltype(std::declval<const Derived&>().template cast<NewScalar>())>::PlainObject;

/// The modes of a Fixed type, fixed at compile time (one kernel compiled); void:
/// the modes of the spec, chosen at run time (every mode's kernel compiled).
template <Round R, Overflow O>
struct StaticModes {};

template <class Modes, class In, class Out>
void quantize_span_as(const In* in, Out* out, std::size_t n, const QuantSpec& spec, std::uint64_t first) {
  if constexpr (std::is_void_v<Modes>) {
    quantize_span(in, out, n, spec, first);
  } else {
    [&]<Round R, Overflow O>(StaticModes<R, O>) {
      quantize_span_static<R, O>(in, out, n, spec, first);
    }(Modes{});
  }
}

/// Writes quantize_span of x into the contiguous storage `out`, in x's storage order.
template <class Modes = void, class Derived, class Out>
void quantize_into(const Eigen::DenseBase<Derived>& x, Out* out, const QuantSpec& spec) {
  using In = typename Derived::Scalar;
  const bool direct = for_each_inner_slice(x, [&](const In* src, Eigen::Index first, Eigen::Index len) {
    quantize_span_as<Modes>(src, out + first, static_cast<std::size_t>(len), spec, static_cast<std::uint64_t>(first));
  });
  if (!direct) {
    const typename Derived::PlainObject tmp = x;  // evaluate the expression once
    quantize_span_as<Modes>(tmp.data(), out, static_cast<std::size_t>(tmp.size()), spec, 0);
  }
}

/// Whether dst's storage is one contiguous run in the storage order of Plain.
template <class Plain, class Dest>
bool writes_like(const Dest& dst) {
  if constexpr (bool(Dest::Flags & Eigen::DirectAccessBit) && bool(Dest::Flags & Eigen::LvalueBit)) {
    const bool same_order = bool(Dest::IsRowMajor) == bool(Plain::IsRowMajor) || dst.rows() == 1 || dst.cols() == 1;
    return same_order && dst.innerStride() == 1 && (dst.outerStride() == dst.innerSize() || dst.outerSize() <= 1);
  } else {
    return false;
  }
}

template <class Derived, class Out, class Modes = void>
class QuantizeExpr;

}  // namespace detail

}  // namespace fixq

namespace Eigen::internal {
// A QuantizeExpr is an EigenBase (like Eigen's solver expressions): it can be
// assigned and evaluated, but it has no coefficients to read, so no expression
// can read a dangling temporary of it.
template <class Derived, class Out, class Modes>
struct traits<fixq::detail::QuantizeExpr<Derived, Out, Modes>> : traits<fixq::detail::plain_with_scalar<Derived, Out>> {};
}  // namespace Eigen::internal

namespace fixq {

namespace detail {

/// What quantize() and quantize_codes() return: assigning it to an array, a
/// matrix, a Map or a Block writes the results into that storage (no temporary
/// when the destination is contiguous in x's storage order).
template <class Derived, class Out, class Modes>
class QuantizeExpr : public Eigen::EigenBase<QuantizeExpr<Derived, Out, Modes>>,
                     Eigen::internal::no_assignment_operator {
  // (The second base, as Eigen's ReturnByValue has it, also makes Eigen::internal an
  // associated namespace, where Eigen's EigenBase assignment looks up call_assignment.)
 public:
  using Plain = plain_with_scalar<Derived, Out>;
  using Scalar = Out;
  enum {
    RowsAtCompileTime = Plain::RowsAtCompileTime,
    ColsAtCompileTime = Plain::ColsAtCompileTime,
    MaxRowsAtCompileTime = Plain::MaxRowsAtCompileTime,
    MaxColsAtCompileTime = Plain::MaxColsAtCompileTime,
    IsRowMajor = Plain::IsRowMajor
  };
  QuantizeExpr(const Derived& x, const QuantSpec& spec) : x_(x), spec_(spec) {}
  Eigen::Index rows() const { return x_.rows(); }
  Eigen::Index cols() const { return x_.cols(); }

  /// Writes the results into dst (of x's shape).
  template <class Dest>
  void evalTo(Dest& dst) const {
    if (writes_like<Plain>(dst)) {
      quantize_into<Modes>(x_, dst.data(), spec_);
    } else {
      Plain tmp(rows(), cols());
      quantize_into<Modes>(x_, tmp.data(), spec_);
      dst = tmp;
    }
  }
  /// The results as a new array.
  Plain eval() const {
    Plain y(rows(), cols());
    quantize_into<Modes>(x_, y.data(), spec_);
    return y;
  }

 private:
  // Plain objects by reference, expressions by value (as Eigen nests them).
  typename Eigen::internal::ref_selector<Derived>::type x_;
  QuantSpec spec_;
};

}  // namespace detail

}  // namespace fixq

// `dst = expr`: Eigen routes assignments of an EigenBase through Assignment; this
// one writes into dst's storage (after resizing a plain destination).
namespace Eigen::internal {
template <class DstXprType, class Derived, class Out, class Modes>
struct Assignment<DstXprType, fixq::detail::QuantizeExpr<Derived, Out, Modes>,
                  assign_op<typename DstXprType::Scalar, Out>, Dense2Dense> {
  using SrcXprType = fixq::detail::QuantizeExpr<Derived, Out, Modes>;
  static void run(DstXprType& dst, const SrcXprType& src, const assign_op<typename DstXprType::Scalar, Out>& func) {
    resize_if_allowed(dst, src, func);
    src.evalTo(dst);
  }
};
}  // namespace Eigen::internal

namespace fixq {

/// The quantized values of x (fake quantization) by `spec`: same shape and
/// scalar type, every element on the format's grid. An expression: assign it
/// (`y = quantize(x, spec)`) to write into y. Throws std::invalid_argument for
/// an invalid spec (checked here) and fixq::overflow_error under Overflow::Throw
/// (when assigned).
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
[[nodiscard]] detail::QuantizeExpr<Derived, typename Derived::Scalar> quantize(const Eigen::DenseBase<Derived>& x,
                                                                 const QuantSpec& spec) {
  spec.validate();
  return {x.derived(), spec};
}

/// The same with the format and modes of a Fixed type Q (and a seed, which a
/// Round::Stochastic Q needs): quantize<Fixed<8, 4>>(x). The modes are known at
/// compile time, so this compiles Q's kernel only.
template <FixedPoint Q, class Derived>
  requires std::floating_point<typename Derived::Scalar>
[[nodiscard]] detail::QuantizeExpr<Derived, typename Derived::Scalar, detail::StaticModes<Q::rounding, Q::overflow>> quantize(
    const Eigen::DenseBase<Derived>& x) {
  static_assert(Q::rounding != Round::Stochastic,
                "fixq::quantize<Q>: a Round::Stochastic Q needs a seed: quantize<Q>(x, seed)");
  return {x.derived(), QuantSpec::of<Q>()};
}
template <FixedPoint Q, class Derived>
  requires std::floating_point<typename Derived::Scalar>
[[nodiscard]] detail::QuantizeExpr<Derived, typename Derived::Scalar, detail::StaticModes<Q::rounding, Q::overflow>> quantize(
    const Eigen::DenseBase<Derived>& x, std::uint64_t seed) {
  return {x.derived(), QuantSpec::of<Q>(seed)};
}

/// The integer codes of x by `spec`, as an array/matrix of Int with x's shape
/// (an expression, as quantize's). Throws std::invalid_argument when the codes
/// of the format do not fit Int.
template <class Int, class Derived>
  requires std::integral<Int> && std::floating_point<typename Derived::Scalar>
[[nodiscard]] detail::QuantizeExpr<Derived, Int> quantize_codes(const Eigen::DenseBase<Derived>& x, const QuantSpec& spec) {
  spec.validate();
  detail::check_code_type<Int>(spec.format);
  return {x.derived(), spec};
}
/// The codes of a Fixed type Q, as Q::storage_type: quantize_codes<Fixed<8, 4>>(x).
template <FixedPoint Q, class Derived>
  requires std::floating_point<typename Derived::Scalar>
[[nodiscard]] detail::QuantizeExpr<Derived, typename Q::storage_type, detail::StaticModes<Q::rounding, Q::overflow>> quantize_codes(
    const Eigen::DenseBase<Derived>& x) {
  static_assert(Q::rounding != Round::Stochastic,
                "fixq::quantize_codes<Q>: a Round::Stochastic Q needs a seed: quantize_codes<Q>(x, seed)");
  return {x.derived(), QuantSpec::of<Q>()};
}
template <FixedPoint Q, class Derived>
  requires std::floating_point<typename Derived::Scalar>
[[nodiscard]] detail::QuantizeExpr<Derived, typename Q::storage_type, detail::StaticModes<Q::rounding, Q::overflow>> quantize_codes(
    const Eigen::DenseBase<Derived>& x, std::uint64_t seed) {
  return {x.derived(), QuantSpec::of<Q>(seed)};
}

/// Values of integer codes in fmt (code * 2^-frac, correctly rounded to Out).
template <class Out = float, class Derived>
  requires std::integral<typename Derived::Scalar> && std::floating_point<Out>
detail::plain_with_scalar<Derived, Out> dequantize(const Eigen::DenseBase<Derived>& codes, const Format& fmt) {
  using Int = typename Derived::Scalar;
  detail::plain_with_scalar<Derived, Out> y(codes.rows(), codes.cols());
  const bool direct =
      detail::for_each_inner_slice(codes, [&](const Int* src, Eigen::Index first, Eigen::Index len) {
        dequantize_span(src, y.data() + first, static_cast<std::size_t>(len), fmt);
      });
  if (!direct) {
    const typename Derived::PlainObject c = codes;
    dequantize_span(c.data(), y.data(), static_cast<std::size_t>(c.size()), fmt);
  }
  return y;
}

/// Quantize x in place (x must be writable: an Array, Matrix, Map, Block or Ref).
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
void quantize_inplace(Eigen::DenseBase<Derived>& x, const QuantSpec& spec) {
  static_assert(bool(Derived::Flags & Eigen::LvalueBit), "fixq::quantize_inplace: x must be writable");
  using In = typename Derived::Scalar;
  spec.validate();
  const bool direct =
      detail::for_each_inner_slice(x, [&](const In* src, Eigen::Index first, Eigen::Index len) {
        In* p = const_cast<In*>(src);
        quantize_span(p, p, static_cast<std::size_t>(len), spec, static_cast<std::uint64_t>(first));
      });
  if (!direct) {
    const typename Derived::PlainObject tmp = quantize(x, spec);
    x = tmp;
  }
}
/// Same, for temporaries such as x.block(...) or an Eigen::Map.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
void quantize_inplace(Eigen::DenseBase<Derived>&& x, const QuantSpec& spec) {
  quantize_inplace(x, spec);
}

}  // namespace fixq

#endif  // FIXQ_KERNELS_QUANTIZE_HPP
