// tests/core/arithmetic.test.cpp - exact + - * and unary -, comparisons across
// formats, compound assignment and constexpr use of fixq::Fixed.
//
// The references are computed here from the loop's own integer codes, never
// from the library's results: a value is code * 2^-frac, so sums, differences
// and products are plain 128-bit integer arithmetic once both operands are put
// at a common scale 2^-K. Comparisons use long double, which holds every 64-bit
// code times a power of two exactly (64-bit significand, 15-bit exponent).
#include <catch2/catch.hpp>
#include <cmath>
#include <compare>
#include <cstdint>
#include <fixq/core.hpp>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <support/failures.hpp>
#include <support/fixed_codes.hpp>
#include <support/fixed_printer.hpp>
#include <support/int128.hpp>
#include <support/int128_reference.hpp>
#include <type_traits>
#include <utility>

namespace {

using fixq::Fixed;
using fixq::Overflow;
using fixq::Round;
using fixq::UFixed;
using fixq_test::Failures;
using fixq_test::from_code;
using fixq_test::hi_code;
using fixq_test::i128;
using fixq_test::i128_text;
using fixq_test::lo_code;
using fixq_test::p2;
using fixq_test::random_code;
using fixq_test::ref_narrow;
using fixq_test::ref_round;
using fixq_test::require_none;
using fixq_test::Target;
using fixq_test::target_of;

static_assert(std::numeric_limits<long double>::digits >= 64,
              "the comparison reference needs a long double holding every 64-bit code");

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Common scale for the small exhaustive formats: every frac used there (and
/// every frac of a product of two of them) is <= K, and every value times 2^K
/// stays far below 2^127 and has at most 53 significant bits.
constexpr int K = 40;

/// code * 2^(K - frac): the value in units of 2^-K (frac <= K).
constexpr i128 at_K(i128 code, int frac) { return code * (static_cast<i128>(1) << (K - frac)); }

/// Where a result came from, for failure messages: "a op b" (or "op a") with
/// the operands' formats and codes.
struct Origin {
  const char* op;
  fixq::Format fa;
  i128 ca;
  fixq::Format fb = {1, 0};  // unused unless binary
  i128 cb = 0;
  bool binary = false;
  std::string describe() const {
    std::string t = std::string(op) + ", a = " + fa.name() + " code " + i128_text(ca);
    if (binary) t += ", b = " + fb.name() + " code " + i128_text(cb);
    return t;
  }
};
template <class A>
Origin origin(const char* op, i128 ca) {
  return {op, A::format(), ca};
}
template <class A, class B>
Origin origin(const char* op, i128 ca, i128 cb) {
  return {op, A::format(), ca, B::format(), cb, true};
}

/// Checks one exact result (format fr, code, double value) against the
/// reference value ref * 2^-K: the code compared at scale 2^-K (so a wrong code
/// or a wrong frac both fail) and the double value (exact here: at most 53
/// significant bits).
void verify_exact(Failures& f, const fixq::Format& fr, i128 code, double value, i128 ref,
                  const Origin& o) {
  const bool ok = at_K(code, fr.frac) == ref && value == std::ldexp(static_cast<double>(ref), -K);
  f.expect(ok, [&] {
    return o.describe() + ": got " + fr.name() + " code " + i128_text(code) + " = " +
           fixq::detail::exact_decimal(code, fr.frac) + ", want " + fixq::detail::exact_decimal(ref, K);
  });
}
template <class T>
void check_exact(Failures& f, const T& r, i128 ref, const Origin& o) {
  static_assert(T::frac <= K, "the exhaustive formats must keep frac <= K");
  verify_exact(f, T::format(), r.raw(), r.to_double(), ref, o);
}

// ---------------------------------------------------------------------------
// Result types: ac_fixed's bit growth (see the top of arithmetic.hpp).
//   a + b : F = max(Fa, Fb), I = max(Ia + (!Sa && Sb), Ib + (!Sb && Sa)) + 1, S = Sa || Sb
//   a - b : same F and I, S = true
//   a * b : F = Fa + Fb, W = Wa + Wb, S = Sa || Sb
//   -a    : W = Wa + 1, F = Fa, S = true
// with I = W - F. Every expected type below is worked out by hand.
// ---------------------------------------------------------------------------
template <class T>
T val();  // std::declval without the reference, for decltype of operators

template <class A, class B>
using sum = decltype(val<A>() + val<B>());
template <class A, class B>
using diff = decltype(val<A>() - val<B>());
template <class A, class B>
using prod = decltype(val<A>() * val<B>());
template <class A>
using neg = decltype(-val<A>());

// signed + signed: I = 4 + 1, F = 4
static_assert(std::is_same_v<sum<Fixed<8, 4>, Fixed<8, 4>>, Fixed<9, 4>>);
// unsigned + unsigned stays unsigned
static_assert(std::is_same_v<sum<UFixed<8, 4>, UFixed<8, 4>>, UFixed<9, 4>>);
// signed + unsigned: the unsigned operand needs one more integer bit: I = max(4, 4 + 1) + 1
static_assert(std::is_same_v<sum<Fixed<8, 4>, UFixed<8, 4>>, Fixed<10, 4>>);
static_assert(std::is_same_v<sum<UFixed<8, 4>, Fixed<8, 4>>, Fixed<10, 4>>);
// few integer bits (signed) + more (unsigned): I = max(2, 6 + 1) + 1 = 8, F = 6
static_assert(std::is_same_v<sum<Fixed<8, 6>, UFixed<6, 0>>, Fixed<14, 6>>);
// different Frac: F = 4, I = max(4, 6 - (-2)) + 1 = 9
static_assert(std::is_same_v<sum<Fixed<8, 4>, Fixed<6, -2>>, Fixed<13, 4>>);
// Frac > Word and negative Frac: F = 6, I = max(4 - 6, 4 + 3) + 1 = 8
static_assert(std::is_same_v<sum<Fixed<4, 6>, Fixed<4, -3>>, Fixed<14, 6>>);
// both Frac > Word: I = -7 + 1 = -6, F = 10, W = 4
static_assert(std::is_same_v<sum<Fixed<3, 10>, Fixed<3, 10>>, Fixed<4, 10>>);
// 64-bit results are allowed
static_assert(std::is_same_v<sum<Fixed<63, 0>, Fixed<63, 0>>, Fixed<64, 0>>);
static_assert(std::is_same_v<sum<UFixed<62, 10>, Fixed<20, 3>>, Fixed<64, 10>>);

// differences are always signed, with the sum's F and I
static_assert(std::is_same_v<diff<UFixed<8, 4>, UFixed<8, 4>>, Fixed<9, 4>>);
static_assert(std::is_same_v<diff<UFixed<8, 4>, UFixed<6, -2>>, Fixed<13, 4>>);
static_assert(std::is_same_v<diff<Fixed<8, 4>, UFixed<8, 4>>, Fixed<10, 4>>);
static_assert(std::is_same_v<diff<Fixed<8, 4>, Fixed<8, 4>>, Fixed<9, 4>>);
static_assert(std::is_same_v<diff<UFixed<63, 0>, UFixed<63, 0>>, Fixed<64, 0>>);

// products: W and F add up
static_assert(std::is_same_v<prod<Fixed<8, 4>, Fixed<6, -2>>, Fixed<14, 2>>);
static_assert(std::is_same_v<prod<UFixed<8, 4>, UFixed<5, 5>>, UFixed<13, 9>>);
static_assert(std::is_same_v<prod<UFixed<8, 4>, Fixed<5, 5>>, Fixed<13, 9>>);
static_assert(std::is_same_v<prod<Fixed<5, 5>, UFixed<8, 4>>, Fixed<13, 9>>);
static_assert(std::is_same_v<prod<Fixed<3, 10>, Fixed<4, -3>>, Fixed<7, 7>>);
static_assert(std::is_same_v<prod<UFixed<32, 0>, UFixed<32, 32>>, UFixed<64, 32>>);

// negation: one bit wider, always signed
static_assert(std::is_same_v<neg<Fixed<8, 4>>, Fixed<9, 4>>);
static_assert(std::is_same_v<neg<UFixed<8, 4>>, Fixed<9, 4>>);
static_assert(std::is_same_v<neg<Fixed<3, 10>>, Fixed<4, 10>>);
static_assert(std::is_same_v<neg<UFixed<63, 0>>, Fixed<64, 0>>);
// unary plus is the identity, type included
static_assert(
    std::is_same_v<decltype(+val<UFixed<5, 7, Round::Floor>>()), UFixed<5, 7, Round::Floor>>);

// Modes: the result keeps the operands' Round and Overflow, which must agree
// (mixed modes do not compile: tests/compile_fail/mixed_mode_arithmetic.cpp).
using FW = Fixed<8, 4, Round::Floor, Overflow::Wrap>;
using CT = Fixed<8, 4, Round::Ceil, Overflow::Throw>;
using SS = UFixed<8, 4, Round::Stochastic, Overflow::SaturateSymmetric>;
static_assert(std::is_same_v<sum<FW, FW>, Fixed<9, 4, Round::Floor, Overflow::Wrap>>);
static_assert(std::is_same_v<sum<FW, Fixed<4, 1, Round::Floor, Overflow::Wrap>>, Fixed<9, 4, Round::Floor, Overflow::Wrap>>);
static_assert(std::is_same_v<diff<CT, CT>, Fixed<9, 4, Round::Ceil, Overflow::Throw>>);
static_assert(
    std::is_same_v<prod<SS, SS>, UFixed<16, 8, Round::Stochastic, Overflow::SaturateSymmetric>>);
static_assert(std::is_same_v<neg<CT>, Fixed<9, 4, Round::Ceil, Overflow::Throw>>);
static_assert(std::is_same_v<neg<SS>, Fixed<9, 4, Round::Stochastic, Overflow::SaturateSymmetric>>);

// ---------------------------------------------------------------------------
// Exhaustive exactness and comparisons over all pairs of codes of small formats.
// ---------------------------------------------------------------------------

/// For every pair of codes: a+b, b+a, a-b, b-a, a*b, b*a, -a, -b against the
/// exact integer value, and every comparison operator in both directions
/// against the sign of the exact difference.
template <class A, class B>
void check_all_pairs() {
  static_assert(A::frac <= K && B::frac <= K && A::frac + B::frac <= K);
  Failures f;
  for (i128 ca = lo_code<A>(); ca <= hi_code<A>(); ++ca) {
    const A a = from_code<A>(ca);
    const i128 va = at_K(ca, A::frac);  // the value of a in units of 2^-K
    check_exact(f, -a, -va, origin<A>("-a", ca));
    check_exact(f, +a, va, origin<A>("+a", ca));
    for (i128 cb = lo_code<B>(); cb <= hi_code<B>(); ++cb) {
      const B b = from_code<B>(cb);
      const i128 vb = at_K(cb, B::frac);
      check_exact(f, a + b, va + vb, origin<A, B>("a + b", ca, cb));
      check_exact(f, b + a, va + vb, origin<A, B>("b + a", ca, cb));
      check_exact(f, a - b, va - vb, origin<A, B>("a - b", ca, cb));
      check_exact(f, b - a, vb - va, origin<A, B>("b - a", ca, cb));
      // the product's value is ca * cb * 2^-(Fa + Fb)
      const i128 vp = ca * cb * (static_cast<i128>(1) << (K - A::frac - B::frac));
      check_exact(f, a * b, vp, origin<A, B>("a * b", ca, cb));
      check_exact(f, b * a, vp, origin<A, B>("b * a", ca, cb));

      const i128 d = va - vb;
      f.expect((a < b) == (d < 0) && (a <= b) == (d <= 0) && (a > b) == (d > 0) &&
                   (a >= b) == (d >= 0) && (a == b) == (d == 0) && (a != b) == (d != 0) &&
                   (a <=> b) == (d <=> 0),
               [&] { return origin<A, B>("a <op> b", ca, cb).describe(); });
      f.expect((b < a) == (d > 0) && (b <= a) == (d >= 0) && (b > a) == (d < 0) &&
                   (b >= a) == (d <= 0) && (b == a) == (d == 0) && (b != a) == (d != 0) &&
                   (b <=> a) == (0 <=> d),
               [&] { return origin<A, B>("b <op> a", ca, cb).describe(); });
    }
  }
  for (i128 cb = lo_code<B>(); cb <= hi_code<B>(); ++cb)
    check_exact(f, -from_code<B>(cb), -at_K(cb, B::frac), origin<B>("-b", cb));
  require_none(f, "A = " + A::format().name() + ", B = " + B::format().name());
}

TEST_CASE("arithmetic: + - * and unary - are exact for all pairs of small formats",
          "[arithmetic][exhaustive]") {
  check_all_pairs<Fixed<4, 2>, Fixed<5, -1>>();
  check_all_pairs<UFixed<4, 3>, Fixed<3, 0>>();
  check_all_pairs<Fixed<6, 6>, UFixed<5, 1>>();
  check_all_pairs<Fixed<1, 0>, Fixed<8, 4>>();
  check_all_pairs<UFixed<3, 0>, UFixed<4, 2>>();
  check_all_pairs<Fixed<3, 5>, Fixed<4, -2>>();   // Frac > Word, negative Frac
  check_all_pairs<UFixed<1, 0>, UFixed<1, 0>>();  // 1-bit unsigned
  check_all_pairs<UFixed<1, 3>, Fixed<1, -3>>();  // 1-bit words, values 0..1/8 and -8..0
  check_all_pairs<UFixed<6, -3>, Fixed<5, 7>>();
  check_all_pairs<Fixed<2, 12>, UFixed<2, -10>>();  // Frac 22 apart
  check_all_pairs<Fixed<8, 0>, Fixed<8, 0>>();
  check_all_pairs<UFixed<8, 8>, Fixed<7, 3>>();
  check_all_pairs<UFixed<8, 4>, UFixed<8, 4>>();
  // The operands' modes never change an exact result.
  check_all_pairs<Fixed<6, 6, Round::Floor, Overflow::Wrap>,
                  UFixed<5, 1, Round::Floor, Overflow::Wrap>>();
  check_all_pairs<Fixed<5, 2, Round::Stochastic, Overflow::SaturateZero>,
                  Fixed<5, 2, Round::Stochastic, Overflow::SaturateZero>>();
}

// ---------------------------------------------------------------------------
// Random wide operands (results of up to 64 bits) against 128-bit references.
// ---------------------------------------------------------------------------

/// Checks a result's code and its (exact, long double) value against the expected code.
void verify_code(Failures& f, const fixq::Format& fr, i128 code, long double value, i128 want,
                 const Origin& o) {
  const long double want_value = std::ldexp(static_cast<long double>(want), -fr.frac);
  f.expect(code == want && value == want_value, [&] {
    return o.describe() + ": got " + fr.name() + " code " + i128_text(code) + ", want code " +
           i128_text(want);
  });
}
template <class T>
void check_code(Failures& f, const T& r, i128 want, const Origin& o) {
  verify_code(f, T::format(), r.raw(), r.to_long_double(), want, o);
}

constexpr int wide_draws = 20000;

/// a + b, b + a, a - b, b - a with the expected result types spelled out.
template <class A, class B, class Sum, class Diff>
void check_wide_additive(std::uint64_t seed) {
  static_assert(std::is_same_v<sum<A, B>, Sum> && std::is_same_v<sum<B, A>, Sum>);
  static_assert(std::is_same_v<diff<A, B>, Diff> && std::is_same_v<diff<B, A>, Diff>);
  static_assert(Sum::frac == Diff::frac && Sum::frac >= A::frac && Sum::frac >= B::frac);
  std::mt19937_64 g(seed);
  Failures f;
  for (int i = 0; i < wide_draws; ++i) {
    const i128 ca = random_code<A>(g), cb = random_code<B>(g);
    const A a = from_code<A>(ca);
    const B b = from_code<B>(cb);
    // both codes brought to the result's LSB 2^-F
    const i128 sa = ca * p2(Sum::frac - A::frac), sb = cb * p2(Sum::frac - B::frac);
    check_code(f, a + b, sa + sb, origin<A, B>("a + b", ca, cb));
    check_code(f, b + a, sa + sb, origin<A, B>("b + a", ca, cb));
    check_code(f, a - b, sa - sb, origin<A, B>("a - b", ca, cb));
    check_code(f, b - a, sb - sa, origin<A, B>("b - a", ca, cb));
  }
  require_none(f, A::format().name() + " +- " + B::format().name());
}

template <class A, class B, class Prod>
void check_wide_product(std::uint64_t seed) {
  static_assert(std::is_same_v<prod<A, B>, Prod> && std::is_same_v<prod<B, A>, Prod>);
  std::mt19937_64 g(seed);
  Failures f;
  for (int i = 0; i < wide_draws; ++i) {
    const i128 ca = random_code<A>(g), cb = random_code<B>(g);
    const A a = from_code<A>(ca);
    const B b = from_code<B>(cb);
    check_code(f, a * b, ca * cb, origin<A, B>("a * b", ca, cb));
    check_code(f, b * a, ca * cb, origin<A, B>("b * a", ca, cb));
  }
  require_none(f, A::format().name() + " * " + B::format().name());
}

template <class A, class Neg>
void check_wide_negation(std::uint64_t seed) {
  static_assert(std::is_same_v<neg<A>, Neg>);
  std::mt19937_64 g(seed);
  Failures f;
  for (int i = 0; i < wide_draws; ++i) {
    const i128 ca = random_code<A>(g);
    check_code(f, -from_code<A>(ca), -ca, origin<A>("-a", ca));
  }
  require_none(f, "-" + A::format().name());
}

TEST_CASE("arithmetic: random wide operands against 128-bit integers", "[arithmetic][wide]") {
  check_wide_product<Fixed<32, 16>, Fixed<32, -5>, Fixed<64, 11>>(1);
  check_wide_product<UFixed<32, 0>, UFixed<32, 32>, UFixed<64, 32>>(2);
  check_wide_product<UFixed<40, 3>, Fixed<24, -7>, Fixed<64, -4>>(3);
  check_wide_product<Fixed<1, 0>, Fixed<63, 0>, Fixed<64, 0>>(4);  // (-1) * min = 2^62
  check_wide_product<UFixed<63, 1>, UFixed<1, 0>, UFixed<64, 1>>(5);
  check_wide_product<Fixed<32, 0>, Fixed<32, 0>, Fixed<64, 0>>(6);  // min * min = 2^62

  check_wide_additive<Fixed<63, 10>, Fixed<20, 3>, Fixed<64, 10>, Fixed<64, 10>>(11);
  check_wide_additive<UFixed<63, 10>, UFixed<20, 3>, UFixed<64, 10>, Fixed<64, 10>>(12);
  check_wide_additive<UFixed<62, 10>, Fixed<20, 3>, Fixed<64, 10>, Fixed<64, 10>>(13);
  check_wide_additive<Fixed<30, -10>, Fixed<30, 20>, Fixed<61, 20>, Fixed<61, 20>>(14);
  check_wide_additive<UFixed<63, 0>, UFixed<63, 0>, UFixed<64, 0>, Fixed<64, 0>>(15);
  check_wide_additive<Fixed<63, 0>, Fixed<63, 0>, Fixed<64, 0>, Fixed<64, 0>>(16);
  check_wide_additive<Fixed<32, -31>, UFixed<31, 0>, Fixed<64, 0>, Fixed<64, 0>>(17);
  check_wide_additive<UFixed<40, 50>, UFixed<40, 27>, UFixed<64, 50>, Fixed<64, 50>>(18);

  check_wide_negation<Fixed<63, 5>, Fixed<64, 5>>(21);
  check_wide_negation<UFixed<63, 0>, Fixed<64, 0>>(22);
  check_wide_negation<Fixed<63, -20>, Fixed<64, -20>>(23);
  check_wide_negation<Fixed<1, 0>, Fixed<2, 0>>(24);

  // The extremes, spelled out: 64-bit results at both ends of their range.
  CHECK((Fixed<63, 0>::lowest() + Fixed<63, 0>::lowest()).raw() ==
        std::numeric_limits<std::int64_t>::min());
  CHECK((Fixed<63, 0>::max() - Fixed<63, 0>::lowest()).raw() ==
        std::numeric_limits<std::int64_t>::max());
  CHECK((UFixed<63, 0>::max() + UFixed<63, 0>::max()).raw() ==
        std::numeric_limits<std::uint64_t>::max() - 1);
  CHECK((UFixed<32, 0>::max() * UFixed<32, 0>::max()).raw() == 0xFFFFFFFE00000001ull);
  CHECK((-Fixed<63, 0>::lowest()).raw() == (std::int64_t{1} << 62));
  CHECK((UFixed<63, 0>::lowest() - UFixed<63, 0>::max()).raw() ==
        -std::numeric_limits<std::int64_t>::max());  // -(2^63 - 1)
}

// ---------------------------------------------------------------------------
// Comparisons across formats far apart, and with 64-bit codes.
// ---------------------------------------------------------------------------

/// code * 2^-frac, exactly (long double has a 64-bit significand and 15-bit exponent).
long double exact_value(i128 code, int frac) {
  return std::ldexp(static_cast<long double>(code), -frac);
}

template <class A, class B>
void check_comparisons(Failures& f, i128 ca, i128 cb, const char* what) {
  const A a = from_code<A>(ca);
  const B b = from_code<B>(cb);
  const long double va = exact_value(ca, A::frac), vb = exact_value(cb, B::frac);
  const std::strong_ordering want = va < vb   ? std::strong_ordering::less
                                    : va > vb ? std::strong_ordering::greater
                                              : std::strong_ordering::equal;
  f.expect((a < b) == (va < vb) && (a <= b) == (va <= vb) && (a > b) == (va > vb) &&
               (a >= b) == (va >= vb) && (a == b) == (va == vb) && (a != b) == (va != vb) &&
               (a <=> b) == want && (b < a) == (vb < va) && (b <= a) == (vb <= va) &&
               (b > a) == (vb > va) && (b >= a) == (vb >= va) && (b == a) == (vb == va) &&
               (b != a) == (vb != va) && (b <=> a) == (0 <=> want),
           [&] { return origin<A, B>(what, ca, cb).describe(); });
}

/// All pairs of codes (small formats).
template <class A, class B>
void check_all_comparisons() {
  Failures f;
  for (i128 ca = lo_code<A>(); ca <= hi_code<A>(); ++ca)
    for (i128 cb = lo_code<B>(); cb <= hi_code<B>(); ++cb)
      check_comparisons<A, B>(f, ca, cb, "a <op> b, all pairs");
  require_none(f, A::format().name() + " vs " + B::format().name());
}

/// A code of format (lo..hi) next to the value c * 2^shift (in that format's
/// LSBs): floor(c * 2^shift) + {-1, 0, 1}; nullopt when that is not a code.
std::optional<i128> neighbour(i128 c, int shift, i128 lo, i128 hi, std::mt19937_64& g) {
  if (shift >= 64 || shift <= -128) return std::nullopt;  // only 0 is near; the specials cover it
  i128 t = shift >= 0 ? c * p2(shift) : c >> -shift;      // >> of a negative i128 is floor
  t += static_cast<int>(g() % 3) - 1;
  if (t < lo || t > hi) return std::nullopt;
  return t;
}

/// Random pairs of (up to 64-bit) codes; half of them with one code next to the
/// value of the other (equal, or one LSB below or above, where the formats allow
/// it), since uniform codes of different formats are almost never close.
template <class A, class B>
void check_random_comparisons(std::uint64_t seed) {
  std::mt19937_64 g(seed);
  Failures f;
  long near = 0;
  for (int i = 0; i < wide_draws; ++i) {
    i128 ca = random_code<A>(g);
    i128 cb = random_code<B>(g);
    const std::uint64_t how = g() % 4;
    if (how == 0) {
      if (const auto t = neighbour(ca, B::frac - A::frac, lo_code<B>(), hi_code<B>(), g)) {
        cb = *t;
        ++near;
      }
    } else if (how == 1) {
      if (const auto t = neighbour(cb, A::frac - B::frac, lo_code<A>(), hi_code<A>(), g)) {
        ca = *t;
        ++near;
      }
    }
    check_comparisons<A, B>(f, ca, cb, "a <op> b, random");
  }
  INFO("pairs with one code next to the other's value: " << near);
  if (B::frac - A::frac < 64 && A::frac - B::frac < 64) CHECK(near > 0);
  require_none(f, A::format().name() + " vs " + B::format().name());
}

TEST_CASE("arithmetic: comparisons across formats", "[arithmetic][compare]") {
  // Frac 1000 apart: every nonzero value of one is far beyond the other.
  check_all_comparisons<Fixed<8, -500>, Fixed<8, 500>>();
  check_all_comparisons<UFixed<8, 1022>, Fixed<8, -1015>>();  // the extreme formats
  // Frac exactly 64 and 63 apart (the two sides of the library's shift limit).
  check_all_comparisons<UFixed<8, -300>, Fixed<8, -364>>();
  check_all_comparisons<Fixed<8, 1>, Fixed<8, 65>>();
  check_all_comparisons<Fixed<8, 0>, UFixed<8, 63>>();
  check_all_comparisons<Fixed<7, 3>, UFixed<7, 3>>();  // same Frac

  // 64-bit codes, signed against unsigned, Frac 0, 63 and 64 apart.
  check_random_comparisons<UFixed<64, 0>, Fixed<64, 0>>(31);
  check_random_comparisons<Fixed<64, 0>, UFixed<64, 0>>(32);
  check_random_comparisons<UFixed<64, 0>, Fixed<64, 63>>(33);
  check_random_comparisons<Fixed<64, 63>, UFixed<64, 0>>(34);
  check_random_comparisons<Fixed<64, 0>, UFixed<64, 64>>(35);
  check_random_comparisons<UFixed<64, 64>, Fixed<64, 0>>(36);
  check_random_comparisons<UFixed<64, 0>, Fixed<64, 64>>(42);  // 2^64 - 1 at a shift of 64
  check_random_comparisons<Fixed<64, -3>, UFixed<64, 60>>(37);
  check_random_comparisons<Fixed<64, 1>, Fixed<64, 2>>(38);
  check_random_comparisons<UFixed<64, 10>, UFixed<64, 10>>(39);
  check_random_comparisons<UFixed<64, 500>, Fixed<64, -500>>(40);
  check_random_comparisons<Fixed<33, 7>, UFixed<64, -20>>(41);

  // The extremes, spelled out.
  using U = UFixed<64, 0>;
  using S = Fixed<64, 0>;
  CHECK(U::max() > S::lowest());
  CHECK(U::max() > S::max());
  CHECK(S::lowest() < U::lowest());
  CHECK(S::max() < U::max());
  CHECK((U::max() <=> S::lowest()) == std::strong_ordering::greater);
  CHECK((S::lowest() <=> U::max()) == std::strong_ordering::less);
  CHECK(U::max() != S::lowest());
  CHECK(S::lowest() != U::max());
  CHECK(U::lowest() == S::from_raw(std::int64_t{0}));
  CHECK(S::max() == U::from_raw(std::uint64_t{0x7FFFFFFFFFFFFFFF}));
  CHECK(U::from_raw(std::uint64_t{0x8000000000000000}) > S::max());
  // -1 written with Frac 0 and with Frac 63 (the shift of 63 reaches -2^63 exactly).
  CHECK(S::from_raw(std::int64_t{-1}) == Fixed<64, 63>::lowest());
  CHECK(S::lowest() < Fixed<64, 63>::lowest());
  // 1 - 2^-64 < 1, and > 1 - 2^-63
  CHECK(UFixed<64, 64>::max() < UFixed<1, 0>::max());
  CHECK(UFixed<64, 64>::max() > Fixed<64, 63>::max());
  CHECK(Fixed<8, -500>::lowest() < Fixed<8, 500>::lowest());
  CHECK(Fixed<8, -500>() == Fixed<8, 500>());
  CHECK(Fixed<8, 500>::max() < UFixed<8, -500>::from_raw(std::int64_t{1}));
}

// ---------------------------------------------------------------------------
// Compound assignment: the exact result converted back to the left type.
// ---------------------------------------------------------------------------

// The left-hand type is a Target (run-time values), so that the checks below
// are plain functions and the 135 types only instantiate the loop; the exact
// result is rounded and narrowed by ref_round and ref_narrow
// (support/int128_reference.hpp).

/// Checks x op= y (x of format t, code cx; y of format fy, code cy) which gave
/// `got` (nullopt: threw fixq::overflow_error).
void verify_compound(Failures& f, const Target& t, i128 cx, const fixq::Format& fy, i128 cy,
                     char op, const std::optional<i128>& got) {
  const i128 vx = at_K(cx, t.format.frac), vy = at_K(cy, fy.frac);
  const i128 exact = op == '+'   ? vx + vy
                     : op == '-' ? vx - vy
                                 : cx * cy * p2(K - t.format.frac - fy.frac);  // value * 2^K
  const std::optional<i128> want = ref_narrow(ref_round(exact, p2(K - t.format.frac), t.round), t);
  f.expect(got == want, [&] {
    const auto show = [](const std::optional<i128>& c) {
      return c ? i128_text(*c) : std::string("throw");
    };
    return t.format.name() + " code " + i128_text(cx) + " " + std::string(1, op) + "= " + fy.name() +
           " code " + i128_text(cy) + " (" + std::string(fixq::to_string(t.round)) + ", " +
           std::string(fixq::to_string(t.overflow)) + "): got " + show(got) + ", want " +
           show(want);
  });
}

/// x op= y for the codes cx, cy; nullopt when it threw fixq::overflow_error.
template <class X, class Y>
std::optional<i128> run_compound(char op, i128 cx, i128 cy) {
  const Y y = from_code<Y>(cy);
  X x = from_code<X>(cx);
  try {
    if (op == '+') x += y;
    if (op == '-') x -= y;
    if constexpr (X::word + Y::word <= 64)  // the exact product fits 64 bits
      if (op == '*') x *= y;
  } catch (const fixq::overflow_error&) {
    return std::nullopt;
  }
  return x.raw();
}

/// x op= y for all codes of X (small, deterministic Round) and Y.
template <class X, class Y>
void check_compound_exhaustive(Failures& f) {
  const Target t = target_of<X>();
  for (i128 cx = lo_code<X>(); cx <= hi_code<X>(); ++cx)
    for (i128 cy = lo_code<Y>(); cy <= hi_code<Y>(); ++cy)
      for (const char op : {'+', '-', '*'})
        verify_compound(f, t, cx, Y::format(), cy, op, run_compound<X, Y>(op, cx, cy));
}

/// x op= y for random (wide) codes; '*' only where the exact product fits 64 bits.
template <class X, class Y>
void check_compound_random(Failures& f, std::uint64_t seed) {
  constexpr bool with_product = X::word + Y::word <= 64;
  const Target t = target_of<X>();
  std::mt19937_64 g(seed);
  for (int i = 0; i < 3000; ++i) {
    const i128 cx = random_code<X>(g), cy = random_code<Y>(g);
    for (const char op : {'+', '-', '*'})
      if (op != '*' || with_product)
        verify_compound(f, t, cx, Y::format(), cy, op, run_compound<X, Y>(op, cx, cy));
  }
}

/// X = Fixed<W, F, R, O, S> under a few Round x Overflow pairs, Y random.
template <int W, int F, bool S, class Y>
void check_compound_random_modes(std::uint64_t seed) {
  Failures f;
  check_compound_random<Fixed<W, F, Round::NearestEven, Overflow::Saturate, S>, Y>(f, seed);
  check_compound_random<Fixed<W, F, Round::Floor, Overflow::Wrap, S>, Y>(f, seed + 1);
  check_compound_random<Fixed<W, F, Round::NearestAway, Overflow::Throw, S>, Y>(f, seed + 2);
  check_compound_random<Fixed<W, F, Round::Ceil, Overflow::SaturateSymmetric, S>, Y>(f, seed + 3);
  check_compound_random<Fixed<W, F, Round::NearestOdd, Overflow::SaturateZero, S>, Y>(f, seed + 4);
  require_none(
      f, "random x op= y, x in " + fixq::Format{W, F, S}.name() + ", y in " + Y::format().name());
}

template <int W, int F, bool S, class Y, std::size_t... I>
void check_compound_all_modes(std::index_sequence<I...>) {
  Failures f;
  // the 9 deterministic Round modes x the 5 Overflow modes
  (check_compound_exhaustive<Fixed<W, F, fixq::all_rounds[I / 5], fixq::all_overflows[I % 5], S>,
                             Y>(f),
   ...);
  require_none(f, "x op= y, x in " + fixq::Format{W, F, S}.name() + ", y in " + Y::format().name());
}

/// A code as a plain integer (an int8_t code would print as a character).
template <class T>
long long code(const T& x) {
  return static_cast<long long>(x.raw());
}

TEST_CASE("arithmetic: compound assignment rounds and narrows to the left type",
          "[arithmetic][compound]") {
  SECTION("saturating, wrapping and throwing types") {
    using Sat = Fixed<8, 4>;  // NearestEven, Saturate
    using Wr = Fixed<8, 4, Round::NearestEven, Overflow::Wrap>;
    using Th = Fixed<8, 4, Round::NearestEven, Overflow::Throw>;
    Sat s = Sat::from_raw(std::int64_t{120});  // 7.5
    s += Sat::from_raw(std::int64_t{16});      // 8.5 > max 127/16
    CHECK(code(s) == 127);
    s -= Fixed<16, 0>::from_raw(std::int64_t{20});  // 7.9375 - 20 < min -8
    CHECK(code(s) == -128);
    Wr w = Wr::from_raw(std::int64_t{120});
    w += Wr::from_raw(std::int64_t{16});  // code 136 wraps to 136 - 256
    CHECK(code(w) == -120);
    w *= Fixed<4, 0>::from_raw(std::int64_t{3});  // -7.5 * 3 = -22.5: code -360 = -104 mod 256
    CHECK(code(w) == -104);
    Th t = Th::max();
    CHECK_THROWS_AS(t += Th::from_raw(std::int64_t{1}), fixq::overflow_error);
    CHECK(code(t) == 127);  // unchanged by the failed assignment
    t -= Th::from_raw(std::int64_t{1});
    CHECK(code(t) == 126);

    using USat = UFixed<8, 0>;
    using UWr = UFixed<8, 0, Round::NearestEven, Overflow::Wrap>;
    USat us = USat::from_raw(std::int64_t{3});
    us -= USat::from_raw(std::int64_t{5});
    CHECK(code(us) == 0);
    UWr uw = UWr::from_raw(std::int64_t{3});
    uw -= UWr::from_raw(std::int64_t{5});
    CHECK(code(uw) == 254);
    using Sym = Fixed<8, 0, Round::NearestEven, Overflow::SaturateSymmetric>;
    Sym sym = Sym::from_raw(std::int64_t{-100});
    sym -= Sym::from_raw(std::int64_t{100});
    CHECK(code(sym) == -127);
  }
  SECTION("rounding") {
    // 1.25 * 0.5 = 0.625 = 2.5 LSBs of 0.25: a tie
    const auto half = Fixed<8, 2>::from_raw(std::int64_t{2});
    auto times_half = [&](auto x) { return code(x *= half); };
    CHECK(times_half(Fixed<8, 2, Round::NearestEven>::from_raw(std::int64_t{5})) == 2);
    CHECK(times_half(Fixed<8, 2, Round::NearestOdd>::from_raw(std::int64_t{5})) == 3);
    CHECK(times_half(Fixed<8, 2, Round::NearestTiesToPosInf>::from_raw(std::int64_t{5})) == 3);
    CHECK(times_half(Fixed<8, 2, Round::Floor>::from_raw(std::int64_t{5})) == 2);
    CHECK(times_half(Fixed<8, 2, Round::Ceil>::from_raw(std::int64_t{5})) == 3);
    // -1.25 * 0.5 = -2.5 LSBs
    CHECK(times_half(Fixed<8, 2, Round::NearestEven>::from_raw(std::int64_t{-5})) == -2);
    CHECK(times_half(Fixed<8, 2, Round::NearestTiesToPosInf>::from_raw(std::int64_t{-5})) == -2);
    CHECK(times_half(Fixed<8, 2, Round::NearestTiesToNegInf>::from_raw(std::int64_t{-5})) == -3);
    CHECK(times_half(Fixed<8, 2, Round::NearestAway>::from_raw(std::int64_t{-5})) == -3);
    CHECK(times_half(Fixed<8, 2, Round::NearestTiesToZero>::from_raw(std::int64_t{-5})) == -2);
    CHECK(times_half(Fixed<8, 2, Round::TowardZero>::from_raw(std::int64_t{-5})) == -2);
    CHECK(times_half(Fixed<8, 2, Round::Floor>::from_raw(std::int64_t{-5})) == -3);
    // 1.5 + 0.375 = 1.875 = 3.75 LSBs of 0.5
    Fixed<6, 1> x = Fixed<6, 1>::from_raw(std::int64_t{3});
    x += Fixed<8, 3>::from_raw(std::int64_t{3});
    CHECK(code(x) == 4);
    Fixed<6, 1, Round::Floor> y = Fixed<6, 1, Round::Floor>::from_raw(std::int64_t{3});
    y += Fixed<8, 3>::from_raw(std::int64_t{3});
    CHECK(code(y) == 3);
  }
  SECTION("exhaustively, every deterministic Round x every Overflow") {
    check_compound_all_modes<5, 1, true, Fixed<4, 2>>(std::make_index_sequence<45>{});
    check_compound_all_modes<4, 1, false, Fixed<4, 2>>(std::make_index_sequence<45>{});
    check_compound_all_modes<4, -1, true, UFixed<3, 1>>(std::make_index_sequence<45>{});
  }
  SECTION("random wide operands") {
    // The exact results have up to 64 bits (the conversion back runs in 32-, 64-
    // or 128-bit integers depending on the widths: all three are reached here).
    check_compound_random_modes<40, 10, true, Fixed<30, -5>>(51);  // no product (70 bits)
    check_compound_random_modes<20, 3, true, Fixed<20, 12>>(52);
    check_compound_random_modes<32, 0, false, UFixed<32, 8>>(53);
    check_compound_random_modes<62, 20, true, Fixed<2, 1>>(54);
    check_compound_random_modes<63, 40, false, UFixed<1, 0>>(55);
  }
}

// ---------------------------------------------------------------------------
// constexpr arithmetic.
// ---------------------------------------------------------------------------
constexpr auto c_a = Fixed<8, 4>::from_raw(std::int64_t{24});  // 1.5
constexpr auto c_b = UFixed<6, 2>::from_raw(std::int64_t{3});  // 0.75
static_assert((c_a + c_b).raw() == 36);                        // 2.25 in Fixed<10, 4>
static_assert((c_b - c_a).raw() == -12);                       // -0.75
static_assert((c_a * c_b).raw() == 72);                        // 1.125 in Fixed<14, 6>
static_assert((-c_a).raw() == -24 && (-c_b).raw() == -3);
static_assert(c_a > c_b && c_b < c_a && c_a != c_b && !(c_a == c_b) && (c_a <=> c_b) > 0);
static_assert(c_a == Fixed<4, 1>::from_raw(std::int64_t{3}));    // 1.5 == 1.5 across formats
static_assert(fixq::divide<Fixed<8, 4>>(c_a, c_b).raw() == 32);  // 2.0
constexpr Fixed<8, 4> compound() {
  Fixed<8, 4> x = c_a;
  x += c_b;  // 2.25
  x *= c_b;  // 1.6875
  x -= c_a;  // 0.1875
  return x;
}
static_assert(compound().raw() == 3);

/// True when T::lowest() and T::from_raw(-1) are constant expressions. Detected in
/// a requires-expression, so that a failure is a failed CHECK, not a file that
/// does not compile.
template <class T>
constexpr bool extremes_are_constant() {
  return requires {
    typename std::integral_constant<std::int64_t, static_cast<std::int64_t>(T::lowest().raw())>;
    typename std::integral_constant<std::int64_t,
                                    static_cast<std::int64_t>(T::from_raw(std::int64_t{-1}).raw())>;
  };
}

TEST_CASE("arithmetic: constexpr results match run-time results", "[arithmetic][constexpr]") {
  // Arithmetic on the extremes of 64-bit formats in constant expressions
  // (Fixed::lowest() and from_raw() must be usable there for every Word).
  CHECK(extremes_are_constant<Fixed<8, 4>>());
  CHECK(extremes_are_constant<Fixed<63, 0>>());
  CHECK(extremes_are_constant<Fixed<64, 0>>());
  CHECK(extremes_are_constant<Fixed<64, -7>>());

  // The static_asserts above already ran; this repeats them at run time.
  const auto a = c_a;
  const auto b = c_b;
  CHECK((a + b).raw() == 36);
  CHECK((a * b).raw() == 72);
  CHECK(compound().raw() == 3);
}

}  // namespace
