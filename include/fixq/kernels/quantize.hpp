// fixq/kernels/quantize.hpp - quantize, quantize_codes, dequantize on Eigen data.
//
//   Eigen::ArrayXXf y = fixq::quantize(x, fmt, round, overflow, seed);   // values on fmt's grid
//   auto codes = fixq::quantize_codes<std::int8_t>(x, fmt);              // Int codes, same shape
//   Eigen::ArrayXXf back = fixq::dequantize(codes, fmt);                  // codes -> values
//   fixq::quantize_inplace(weights, fmt);                                 // large buffers
//
// x is any dense Eigen expression of float or double: Array, Matrix, Map,
// Block, Ref, or an expression such as a * 3 + b (evaluated first). Element
// values are exactly what the scalar core gives (kernels/quantize_span.hpp).
// Stochastic rounding keys element k with random_u32(seed, k), where k is the
// element's position in the storage order of the result (column-major unless
// the input is row-major), so a result depends on the data and the seed only.
// Tensor overloads are in kernels/quantize_tensor.hpp.
#ifndef FIXQ_KERNELS_QUANTIZE_HPP
#define FIXQ_KERNELS_QUANTIZE_HPP

#include <Eigen/Core>
#include <concepts>
#include <cstdint>
#include <type_traits>

#include <fixq/core/format.hpp>
#include <fixq/kernels/quantize_span.hpp>

namespace fixq {

namespace detail {

/// Calls f(src, dst, len, first_index) for each contiguous inner slice of x
/// (in the storage order of x) when x has direct access with unit inner
/// stride, and returns true; returns false (calling nothing) otherwise.
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

template <class Derived>
using scalar_of = typename Derived::Scalar;

template <class Derived, class NewScalar>
using plain_with_scalar = typename std::decay_t<decltype(std::declval<const Derived&>().template cast<NewScalar>())>::PlainObject;

/// Writes quantize_span of x into the contiguous, same-order storage `out`.
template <class Derived, class Out>
void quantize_into(const Eigen::DenseBase<Derived>& x, Out* out, const Format& fmt, Round round,
                   Overflow overflow, std::uint64_t seed) {
  using In = scalar_of<Derived>;
  const bool direct = for_each_inner_slice(x, [&](const In* src, Eigen::Index first, Eigen::Index len) {
    quantize_span(src, out + first, static_cast<std::size_t>(len), fmt, round, overflow, seed,
                  static_cast<std::uint64_t>(first));
  });
  if (!direct) {
    const typename Derived::PlainObject tmp = x;  // evaluate the expression once
    quantize_span(tmp.data(), out, static_cast<std::size_t>(tmp.size()), fmt, round, overflow, seed, 0);
  }
}

}  // namespace detail

/// The quantized values of x (fake quantization): same shape and scalar type,
/// every element on the grid of fmt, rounded by `round`, overflow handled by
/// `overflow`. Throws std::invalid_argument for an invalid fmt and
/// fixq::overflow_error under Overflow::Throw.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
typename Derived::PlainObject quantize(const Eigen::DenseBase<Derived>& x, const Format& fmt,
                                       Round round = Round::NearestEven,
                                       Overflow overflow = Overflow::Saturate, std::uint64_t seed = 0) {
  typename Derived::PlainObject y(x.rows(), x.cols());
  detail::quantize_into(x, y.data(), fmt, round, overflow, seed);
  return y;
}

/// The integer codes of x in fmt, as an array/matrix of Int with x's shape.
/// Throws std::invalid_argument when the codes of fmt do not fit Int.
template <class Int, class Derived>
  requires std::integral<Int> && std::floating_point<typename Derived::Scalar>
detail::plain_with_scalar<Derived, Int> quantize_codes(const Eigen::DenseBase<Derived>& x, const Format& fmt,
                                                       Round round = Round::NearestEven,
                                                       Overflow overflow = Overflow::Saturate,
                                                       std::uint64_t seed = 0) {
  check_code_type<Int>(fmt);
  detail::plain_with_scalar<Derived, Int> y(x.rows(), x.cols());
  detail::quantize_into(x, y.data(), fmt, round, overflow, seed);
  return y;
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
void quantize_inplace(Eigen::DenseBase<Derived>& x, const Format& fmt, Round round = Round::NearestEven,
                      Overflow overflow = Overflow::Saturate, std::uint64_t seed = 0) {
  static_assert(bool(Derived::Flags & Eigen::LvalueBit), "fixq::quantize_inplace: x must be writable");
  using In = typename Derived::Scalar;
  const bool direct =
      detail::for_each_inner_slice(x, [&](const In* src, Eigen::Index first, Eigen::Index len) {
        In* p = const_cast<In*>(src);
        quantize_span(p, p, static_cast<std::size_t>(len), fmt, round, overflow, seed,
                      static_cast<std::uint64_t>(first));
      });
  if (!direct) x = quantize(x, fmt, round, overflow, seed);
}
/// Same, for temporaries such as x.block(...) or an Eigen::Map.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
void quantize_inplace(Eigen::DenseBase<Derived>&& x, const Format& fmt, Round round = Round::NearestEven,
                      Overflow overflow = Overflow::Saturate, std::uint64_t seed = 0) {
  quantize_inplace(x, fmt, round, overflow, seed);
}

}  // namespace fixq

#endif  // FIXQ_KERNELS_QUANTIZE_HPP
