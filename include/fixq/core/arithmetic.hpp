// fixq/core/arithmetic.hpp - exact arithmetic on Fixed.
//
// + - * and unary minus return a Fixed wide enough to hold the exact result,
// with ac_fixed's bit-growth rules (I = Word - Frac integer bits, S = signed):
//   a + b : F = max(Fa, Fb), I = max(Ia + (!Sa && Sb), Ib + (!Sb && Sa)) + 1, S = Sa || Sb
//   a - b : same F and I, S = true
//   a * b : F = Fa + Fb, W = Wa + Wb, S = Sa || Sb
//   -a    : W = Wa + 1, F = Fa, S = true
// A result wider than 64 bits is a compile error (see detail::exact_result in
// the compiler's message for the widths). The result keeps the operands' Round
// and Overflow modes when they agree, otherwise NearestEven and Saturate.
// Division rounds by the policy of a result type the caller names.
// Comparisons between any two formats are exact. (The operators return auto
// so that their constraints are checked before the result type is formed:
// Clang 14 would otherwise reject unrelated operators in namespace fixq.)
#ifndef FIXQ_CORE_ARITHMETIC_HPP
#define FIXQ_CORE_ARITHMETIC_HPP

#include <algorithm>
#include <compare>
#include <stdexcept>

#include <fixq/core/fixed.hpp>
#include <fixq/core/int128.hpp>
#include <fixq/core/overflow.hpp>
#include <fixq/core/rounding.hpp>

namespace fixq {

namespace detail {

/// The result type of an exact operation; fails with the widths in its name.
template <int W, int F, Round R, Overflow O, bool S, int WidthA, int WidthB>
struct exact_result {
  static_assert(W <= max_word,
                "fixq: the exact result of this arithmetic needs more than 64 bits; convert an "
                "operand to a narrower Fixed first (the widths are exact_result<ResultWord, Frac, "
                "..., WordA, WordB>)");
  using type = Fixed<(W <= max_word ? W : max_word), F, R, O, S>;
};

template <class A, class B>
struct common_modes {
  static constexpr Round round = A::rounding == B::rounding ? A::rounding : Round::NearestEven;
  static constexpr Overflow overflow =
      A::overflow == B::overflow ? A::overflow : Overflow::Saturate;
};

template <class A, class B>
struct additive_shape {
  static constexpr int frac = std::max(A::frac, B::frac);
  static constexpr int int_bits =
      std::max(A::word - A::frac + (!A::is_signed && B::is_signed ? 1 : 0),
               B::word - B::frac + (!B::is_signed && A::is_signed ? 1 : 0)) +
      1;
};

template <class A, class B>
using sum_t = typename exact_result<additive_shape<A, B>::int_bits + additive_shape<A, B>::frac,
                                    additive_shape<A, B>::frac, common_modes<A, B>::round,
                                    common_modes<A, B>::overflow, A::is_signed || B::is_signed,
                                    A::word, B::word>::type;
template <class A, class B>
using difference_t =
    typename exact_result<additive_shape<A, B>::int_bits + additive_shape<A, B>::frac,
                          additive_shape<A, B>::frac, common_modes<A, B>::round,
                          common_modes<A, B>::overflow, true, A::word, B::word>::type;
template <class A, class B>
using product_t =
    typename exact_result<A::word + B::word, A::frac + B::frac, common_modes<A, B>::round,
                          common_modes<A, B>::overflow, A::is_signed || B::is_signed, A::word,
                          B::word>::type;
template <class A>
using negate_t =
    typename exact_result<A::word + 1, A::frac, A::rounding, A::overflow, true, A::word, 0>::type;

/// code * 2^shift for 0 <= shift and a result that fits (guaranteed by the types).
constexpr int128 scale_up(int128 code, int shift) { return code << shift; }

template <class T>
constexpr T from_exact(int128 code) {
  return T(unchecked, static_cast<typename T::storage_type>(code));
}

/// Exact three-way comparison of x * 2^-fx and y * 2^-fy (|x|, |y| < 2^64).
constexpr std::strong_ordering compare_scaled(int128 x, int fx, int128 y, int fy) {
  if (fx > fy) return 0 <=> compare_scaled(y, fy, x, fx);
  // Now fx <= fy: bring x to y's scale by shifting left.
  const int s = fy - fx;
  if (s == 0 || x == 0) return (s == 0 ? x : 0) <=> y;
  if (s >= 64) return x < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
  return (x << s) <=> y;
}

}  // namespace detail

/// Exact sum.
template <FixedPoint A, FixedPoint B>
constexpr auto operator+(const A& a, const B& b) {
  using T = detail::sum_t<A, B>;
  return detail::from_exact<T>(detail::scale_up(a.raw(), T::frac - A::frac) +
                               detail::scale_up(b.raw(), T::frac - B::frac));
}

/// Exact difference (always signed).
template <FixedPoint A, FixedPoint B>
constexpr auto operator-(const A& a, const B& b) {
  using T = detail::difference_t<A, B>;
  return detail::from_exact<T>(detail::scale_up(a.raw(), T::frac - A::frac) -
                               detail::scale_up(b.raw(), T::frac - B::frac));
}

/// Exact product.
template <FixedPoint A, FixedPoint B>
constexpr auto operator*(const A& a, const B& b) {
  using T = detail::product_t<A, B>;
  return detail::from_exact<T>(static_cast<int128>(a.raw()) * static_cast<int128>(b.raw()));
}

/// Exact negation (one bit wider, signed: -min() fits).
template <FixedPoint A>
constexpr auto operator-(const A& a) {
  return detail::from_exact<detail::negate_t<A>>(-static_cast<int128>(a.raw()));
}
template <FixedPoint A>
constexpr A operator+(const A& a) {
  return a;
}

/// Exact comparison across any two formats.
template <FixedPoint A, FixedPoint B>
constexpr std::strong_ordering operator<=>(const A& a, const B& b) {
  return detail::compare_scaled(a.raw(), A::frac, b.raw(), B::frac);
}
template <FixedPoint A, FixedPoint B>
constexpr bool operator==(const A& a, const B& b) {
  return detail::compare_scaled(a.raw(), A::frac, b.raw(), B::frac) == 0;
}

namespace detail {
template <class Result, class A, class B>
constexpr Result divide_with(const A& a, const B& b, std::uint32_t u) {
  constexpr int s = Result::frac + B::frac - A::frac;  // quotient scale, in Result LSBs
  static_assert(s >= 0 ? A::word + s <= 125 : B::word - s <= 125,
                "fixq::divide: the formats are too far apart for an exact 128-bit quotient");
  if (b.raw() == 0) throw std::domain_error("fixq::divide: division by zero");
  const int128 num = s >= 0 ? static_cast<int128>(a.raw()) << (s >= 0 ? s : 0) : a.raw();
  const int128 den = s >= 0 ? static_cast<int128>(b.raw()) : static_cast<int128>(b.raw()) << (s < 0 ? -s : 0);
  const int128 q = round_div<Result::rounding>(num, den, u);
  return from_exact<Result>(narrow<Result::overflow>(q, Result::format()));
}
}  // namespace detail

/// a / b rounded by Result's Round and narrowed by its Overflow. Throws
/// std::domain_error when b is zero. Stochastic results draw from
/// default_random_stream().
template <FixedPoint Result, FixedPoint A, FixedPoint B>
constexpr Result divide(const A& a, const B& b) {
  std::uint32_t u = 0;
  if constexpr (Result::rounding == Round::Stochastic) u = default_random_stream().next();
  return detail::divide_with<Result>(a, b, u);
}
/// Same, drawing the stochastic-rounding word from `rng`.
template <FixedPoint Result, FixedPoint A, FixedPoint B>
Result divide(const A& a, const B& b, RandomStream& rng) {
  return detail::divide_with<Result>(a, b, rng.next());
}

}  // namespace fixq

#endif  // FIXQ_CORE_ARITHMETIC_HPP
