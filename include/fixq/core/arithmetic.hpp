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
// and Overflow modes, which must agree: mixing modes in + - * is a compile
// error, since no choice of the result's modes is right for every design
// (convert one operand, e.g. Fixed<8, 4, Round::Floor>(b), to say which).
// Compound assignments (a += b) round and narrow the exact result by a's modes,
// whatever b's are. Division rounds by the modes of a result type the caller names.
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
  static_assert(A::rounding == B::rounding && A::overflow == B::overflow,
                "fixq: + - * on Fixed operands with different Round or Overflow modes: convert one "
                "operand to the other's modes first (the exact result carries one pair of modes)");
  static constexpr Round round = A::rounding;
  static constexpr Overflow overflow = A::overflow;
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
/// a converted to A's modes (lossless), for the compound assignments' wide fallback.
template <class A, class B>
using with_modes_of = Fixed<B::word, B::frac, A::rounding, A::overflow, B::is_signed>;

/// The exact value code * 2^-frac (|code| <= 2^126) converted to A by A's modes.
template <class A, class G>
constexpr A convert_exact(int128 code, int frac, G& rng) {
  std::uint32_t u = 0;
  if constexpr (A::rounding == Round::Stochastic) u = static_cast<std::uint32_t>(rng());
  return from_exact<A>(code_from_code<A::rounding, A::overflow>(code, frac, A::format(), u));
}
/// The generator of a deterministic conversion: never called.
struct no_generator {
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return 0xFFFFFFFFu; }
  constexpr result_type operator()() const { return 0; }
};

template <int Sign, class A, class B, class G>
constexpr A& add_assign(A& a, const B& b, G& rng) {
  constexpr int F = A::frac > B::frac ? A::frac : B::frac;
  if constexpr (F - A::frac <= 60 && F - B::frac <= 60) {
    const int128 sum = (static_cast<int128>(a.raw()) << (F - A::frac)) +
                       Sign * (static_cast<int128>(b.raw()) << (F - B::frac));
    return a = convert_exact<A>(sum, F, rng);
  } else {
    const with_modes_of<A, B> b2(b);
    if constexpr (Sign > 0)
      return a = A(a + b2, rng);
    else
      return a = A(a - b2, rng);
  }
}
template <class A, class B, class G>
constexpr A& mul_assign(A& a, const B& b, G& rng) {
  if constexpr ((A::word - A::is_signed) + (B::word - B::is_signed) <= 126) {  // |product| <= 2^126
    return a = convert_exact<A>(static_cast<int128>(a.raw()) * static_cast<int128>(b.raw()), A::frac + B::frac, rng);
  } else {
    const with_modes_of<A, B> b2(b);
    return a = A(a * b2, rng);
  }
}
/// Whether `a op= b` can round (so that a stochastic A needs random words).
template <class A, class B, bool Product>
inline constexpr bool assign_may_round = (Product ? A::frac + B::frac : std::max(A::frac, B::frac)) > A::frac;
template <class A, class B, bool Product>
constexpr void check_deterministic_assign() {
  static_assert(A::rounding != Round::Stochastic || !assign_may_round<A, B, Product>,
                "fixq: this compound assignment into a Round::Stochastic Fixed can round and needs random "
                "words: write a = A(a op b, rng) with a generator such as fixq::RandomStream");
}
}  // namespace detail

/// a = a + b, a - b, a * b: the exact result converted to a's type by a's
/// Round and Overflow (computed in 128 bits, so Word = 64 works too).
template <FixedPoint A, FixedPoint B>
constexpr A& operator+=(A& a, const B& b) {
  detail::check_deterministic_assign<A, B, false>();
  detail::no_generator g;
  return detail::add_assign<1>(a, b, g);
}
template <FixedPoint A, FixedPoint B>
constexpr A& operator-=(A& a, const B& b) {
  detail::check_deterministic_assign<A, B, false>();
  detail::no_generator g;
  return detail::add_assign<-1>(a, b, g);
}
template <FixedPoint A, FixedPoint B>
constexpr A& operator*=(A& a, const B& b) {
  detail::check_deterministic_assign<A, B, true>();
  detail::no_generator g;
  return detail::mul_assign(a, b, g);
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
/// std::domain_error when b is zero. A Round::Stochastic Result needs a
/// generator (the overload below).
template <FixedPoint Result, FixedPoint A, FixedPoint B>
constexpr Result divide(const A& a, const B& b) {
  static_assert(Result::rounding != Round::Stochastic,
                "fixq::divide: a Round::Stochastic result needs random words: divide<Result>(a, b, rng)");
  return detail::divide_with<Result>(a, b, 0);
}
/// Same, drawing the stochastic-rounding word from `rng` (one draw).
template <FixedPoint Result, FixedPoint A, FixedPoint B, Uniform32Generator G>
constexpr Result divide(const A& a, const B& b, G&& rng) {
  std::uint32_t u = 0;
  if constexpr (Result::rounding == Round::Stochastic) u = static_cast<std::uint32_t>(rng());
  return detail::divide_with<Result>(a, b, u);
}

}  // namespace fixq

#endif  // FIXQ_CORE_ARITHMETIC_HPP
