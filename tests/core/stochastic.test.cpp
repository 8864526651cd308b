// Round::Stochastic conversions into Fixed.
//
// The contract: with x the exact value in target LSB units, n = floor(x) and
// f = x - n, the result is n + 1 iff floor(f * 2^32) + U >= 2^32, where U is
// the next word of the RandomStream (one draw per conversion, always). So the
// probability of rounding up is exactly floor(f * 2^32) / 2^32.
//
// Because the streams are deterministic, most checks here are exact: every
// draw's result is predicted from a second RandomStream with the same seed and
// an independent computation of n and floor(f * 2^32). The statistical checks
// on top (up-frequency, mean error) confirm the resulting distribution, with
// the false-alarm probability of each bound stated.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/core.hpp>
#include <fixq/random.hpp>

#include "support/int128_reference.hpp"

namespace {

using fixq::Fixed;
using fixq::int128;
using fixq::Overflow;
using fixq::RandomStream;
using fixq::Round;
using fixq::UFixed;
constexpr Round S = Round::Stochastic;
constexpr std::uint64_t two32 = std::uint64_t{1} << 32;

// ---------------------------------------------------------------------------
// Reference: n = floor(x) and frac32 = floor((x - n) * 2^32) for an exact
// value x, written independently of the library.

struct Split {
  int128 n;
  std::uint32_t frac32;
};

// x = v / 2^drop for an integer v and drop >= 0 (drop < 120).
Split split_int(int128 v, int drop) {
  const auto [n, rem] = fixq_test::floor_divide(v, fixq_test::p2(drop));  // rem in [0, 2^drop)
  const auto frac32 = static_cast<std::uint32_t>(drop <= 32 ? rem << (32 - drop) : rem >> (drop - 32));
  return {n, frac32};
}

// x = v * 2^frac for a finite long double v (every float and double is one).
Split split_float(long double v, int frac) {
  if (v == 0) return {0, 0};
  int e = 0;
  const long double fr = std::frexp(std::fabs(v), &e);  // |v| = fr * 2^e, fr in [0.5, 1)
  const auto m = static_cast<std::uint64_t>(std::ldexp(fr, 64));  // exact: 64-bit significand
  const int128 sm = v < 0 ? -static_cast<int128>(m) : static_cast<int128>(m);
  const int t = e - 64 + frac;  // x = sm * 2^t
  if (t >= 0) {
    REQUIRE(t < 60);  // the callers keep x well inside 128 bits
    return {sm * (int128{1} << t), 0};
  }
  if (-t >= 120) {
    // |x| < 2^64 * 2^-120: n = 0 (f tiny, frac32 = 0) or n = -1 (f = 1 - tiny).
    return v > 0 ? Split{0, 0} : Split{-1, 0xffffffffu};
  }
  return split_int(sm, -t);
}

// Bernstein's inequality for S ~ Binomial(N, p):
//   P(|S - N p| >= s) <= 2 exp(-s^2 / (2 (N p (1 - p) + s / 3))).
// Returns the s that makes the right side equal to delta.
double bernstein_bound(double n, double p, double delta) {
  const double l = std::log(2 / delta);
  return l / 3 + std::sqrt(l * l / 9 + 2 * n * p * (1 - p) * l);
}
constexpr double false_alarm = 1e-9;  // per statistical check in this file

// Run `count` conversions `convert(rng)` from RandomStream(seed, start) and
// check each result against n + (frac32 + U >= 2^32), U drawn from a second
// stream with the same seed and start. Also checks that every conversion
// takes exactly one draw. Returns how many rounded up.
template <class Convert>
std::size_t check_draws(Convert convert, Split sp, std::size_t count, std::uint64_t seed = 1,
                        std::uint64_t start = 0) {
  RandomStream rng(seed, start), ref(seed, start);
  std::size_t ups = 0, wrong = 0;
  int128 first_wrong_got = 0, first_wrong_expected = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const int128 got = convert(rng);
    const bool up = sp.frac32 + static_cast<std::uint64_t>(ref.next()) >= two32;
    const int128 expected = sp.n + (up ? 1 : 0);
    ups += up ? 1 : 0;
    if (got != expected && wrong++ == 0) {
      first_wrong_got = got;
      first_wrong_expected = expected;
    }
  }
  INFO("n = " << static_cast<long long>(sp.n) << ", frac32 = " << sp.frac32 << "; first wrong: got "
              << static_cast<long long>(first_wrong_got) << ", expected "
              << static_cast<long long>(first_wrong_expected));
  CHECK(wrong == 0);
  CHECK(rng.index() == start + count);  // one draw per conversion
  return ups;
}

// The up-frequency check: |ups - N p| < Bernstein bound at false_alarm, with
// p = frac32 / 2^32 exactly.
void check_frequency(std::size_t ups, std::size_t count, std::uint32_t frac32) {
  const double p = frac32 / 4294967296.0;
  const double n = static_cast<double>(count);
  const double bound = bernstein_bound(n, p, false_alarm);
  INFO("ups " << ups << " of " << count << ", p = " << p << ", bound " << bound);
  CHECK(std::fabs(static_cast<double>(ups) - n * p) < bound);
  if (frac32 == 0) CHECK(ups == 0);  // f < 2^-32 never rounds up
}

// A floating-point value through Fixed<W, F, Stochastic> with an explicit stream.
template <class Fx, class T>
std::size_t check_floating(T v, std::size_t count, std::uint64_t seed = 1) {
  static_assert(Fx::rounding == S);
  const Split sp = split_float(static_cast<long double>(v), Fx::frac);
  INFO("value " << static_cast<double>(v) << " into Fixed<" << Fx::word << "," << Fx::frac << ">");
  const std::size_t ups =
      check_draws([&](RandomStream& rng) { return static_cast<int128>(Fx(v, rng).raw()); }, sp, count, seed);
  check_frequency(ups, count, sp.frac32);
  return ups;
}

// ---------------------------------------------------------------------------
// (a) Reproducibility.

template <class Fx, class T>
std::vector<long long> codes(T v, std::uint64_t seed, std::uint64_t start, std::size_t count) {
  RandomStream rng(seed, start);
  std::vector<long long> out;
  for (std::size_t k = 0; k < count; ++k) out.push_back(static_cast<long long>(Fx(v, rng).raw()));
  return out;
}

TEST_CASE("stochastic: same seed and start reproduce the codes; another seed does not", "[stochastic]") {
  using Fx = Fixed<16, 8, S>;
  const double v = 1.5 / 256;  // f = 1/2: every code is a fair coin between 1 and 2
  const auto a = codes<Fx>(v, 11, 0, 256);
  CHECK(a == codes<Fx>(v, 11, 0, 256));
  // 256 fair coins agree by chance with probability 2^-256.
  CHECK(a != codes<Fx>(v, 12, 0, 256));
  CHECK(a != codes<Fx>(v, 11 + (std::uint64_t{1} << 32), 0, 256));
  // Starting one index later is the same sequence shifted by one.
  const auto shifted = codes<Fx>(v, 11, 1, 255);
  CHECK(std::vector<long long>(a.begin() + 1, a.end()) == shifted);
  // Both codes occur (this is a rounding, not a truncation).
  CHECK(std::count(a.begin(), a.end(), 1) > 0);
  CHECK(std::count(a.begin(), a.end(), 2) > 0);
  CHECK(std::count(a.begin(), a.end(), 1) + std::count(a.begin(), a.end(), 2) == 256);
}

// ---------------------------------------------------------------------------
// (b) P(round up) = floor(f * 2^32) / 2^32.

TEST_CASE("stochastic: each draw rounds up iff floor(f*2^32) + U >= 2^32; frequency matches",
          "[stochastic]") {
  constexpr std::size_t count = std::size_t{1} << 17;
  using Fx = Fixed<16, 8, S>;
  // Fractional parts (in LSB units); the Fixed input is f * 2^-8 or (k + f) * 2^-8.
  const double fs[] = {0.5,
                       0.25,
                       0x1p-10,
                       0x1p-31,
                       0x1p-32,           // frac32 = 1: up with probability 2^-32
                       0.3,               // the double nearest 0.3 (bits down to 2^-54)
                       1.0 / 3,           // the double nearest 1/3
                       0.999,
                       0x1p-40,           // frac32 = 0: never up
                       0x1p-33 * 1.5,     // frac32 = 0
                       0.5 + 0x1p-40,     // more than 32 fraction bits; frac32 = 2^31
                       1 - 0x1p-40,       // frac32 = 2^32 - 1: up unless U = 0
                       0x1.23456789abcdep-1};
  for (double f : fs) {
    check_floating<Fx>(std::ldexp(f, -8), count);          // n = 0
    check_floating<Fx>(std::ldexp(-f, -8), count / 4);     // n = -1, fraction 1 - f
    check_floating<Fx>(std::ldexp(f + 37, -8), count / 4);  // n = 37 (f + 37 rounded to a double)
    check_floating<Fx>(static_cast<float>(std::ldexp(f, -8)), count / 4);
    check_floating<Fx>(std::ldexp(static_cast<long double>(f), -8), count / 4);
  }
  // The reference itself: 0.3 (the double) has frac32 = floor(0.3 * 2^32) =
  // 1288490188 (0.3 * 2^32 = 1288490188.8 for the exact decimal 0.3, and the
  // double 0.3 is 0.29999999999999998889...); 1/3 gives 1431655765.
  CHECK(split_float(std::ldexp(0.3, -8), 8).frac32 == 1288490188u);
  CHECK(split_float(std::ldexp(1.0 / 3, -8), 8).frac32 == 1431655765u);
}

TEST_CASE("stochastic: long double and wide formats, 64-bit significands, more than 32 dropped bits",
          "[stochastic]") {
  constexpr std::size_t count = std::size_t{1} << 15;
  const long double m = 0xabcdef0123456789p0L;  // 64 significant bits
  // 20 dropped bits (frac32 = rem << 12) and 50 dropped bits (frac32 = rem >> 18).
  check_floating<UFixed<64, 40, S>>(std::ldexp(m, -40 - 20), count);
  check_floating<UFixed<64, 40, S>>(std::ldexp(m, -40 - 50), count);
  check_floating<Fixed<60, 40, S>>(-std::ldexp(m, -40 - 20), count);
  check_floating<Fixed<60, 40, S>>(-std::ldexp(m, -40 - 50), count);
  // A double whose LSB-unit value underflows (negative Frac): x = 2^-1074 * 2^-10.
  check_floating<Fixed<8, -10, S>>(std::numeric_limits<double>::denorm_min(), count);
  check_floating<Fixed<8, -10, S>>(-std::numeric_limits<double>::denorm_min(), count);  // up unless U = 0
  check_floating<Fixed<16, 8, S>>(-std::numeric_limits<double>::denorm_min(), count);
  check_floating<Fixed<16, 8, S>>(std::ldexp(1.0L, -300), count);
  check_floating<Fixed<16, 8, S>>(-std::ldexp(1.0L, -300), count);
}

// The decision boundary, draw by draw: for the word U of a known index, f =
// (2^32 - U) / 2^32 must round up and f - 2^-45 must not (frac32 one lower;
// n + f - 2^-45 still fits a double's 53 bits for |n| <= 100).
TEST_CASE("stochastic: the boundary floor(f*2^32) + U = 2^32 rounds up, one below does not",
          "[stochastic]") {
  using Fx = Fixed<16, 8, S>;
  const std::uint64_t seed = 2024;
  int tested = 0;
  for (std::uint64_t k = 0; k < 64; ++k) {
    const std::uint32_t u = fixq::random_u32(seed, k);
    if (u == 0) continue;
    const double f_up = std::ldexp(static_cast<double>(two32 - u), -32);
    const double f_down = f_up - 0x1p-45;
    INFO("index " << k << " U " << u);
    for (int n : {0, 3, -1, -100}) {
      // double and float inputs (the library's double fast path).
      RandomStream a(seed, k), b(seed, k);
      CHECK(Fx(std::ldexp(n + f_up, -8), a).raw() == n + 1);
      CHECK(Fx(std::ldexp(n + f_down, -8), b).raw() == n);
      // long double inputs (the exact path).
      RandomStream c(seed, k), d(seed, k);
      CHECK(Fx(std::ldexp(static_cast<long double>(n) + f_up, -8), c).raw() == n + 1);
      CHECK(Fx(std::ldexp(static_cast<long double>(n) + f_down, -8), d).raw() == n);
      // Fixed-to-Fixed with exactly 32 dropped bits: rem = 2^32 - U and one less.
      const std::int64_t up_code = n * static_cast<std::int64_t>(two32) + static_cast<std::int64_t>(two32 - u);
      RandomStream e(seed, k), g(seed, k);
      CHECK(Fx(Fixed<48, 40>::from_raw(up_code), e).raw() == n + 1);
      CHECK(Fx(Fixed<48, 40>::from_raw(up_code - 1), g).raw() == n);
      // Integers with 32 dropped bits (Fixed<16,-32>).
      RandomStream h(seed, k), j(seed, k);
      CHECK(Fixed<16, -32, S>(up_code, h).raw() == n + 1);
      CHECK(Fixed<16, -32, S>(up_code - 1, j).raw() == n);
    }
    ++tested;
  }
  CHECK(tested >= 60);
}

// Values on the grid are never moved (f = 0 means frac32 = 0), and still take one draw.
TEST_CASE("stochastic: values on the grid are never moved", "[stochastic]") {
  using Fx = Fixed<8, 2, S>;
  RandomStream rng(5);
  for (int code = -128; code <= 127; ++code) {
    for (int k = 0; k < 32; ++k) {
      INFO("code " << code);
      const std::uint64_t before = rng.index();
      REQUIRE(+Fx(code / 4.0, rng).raw() == code);
      REQUIRE(+Fx(static_cast<float>(code / 4.0), rng).raw() == code);
      REQUIRE(+Fx(static_cast<long double>(code) / 4, rng).raw() == code);
      REQUIRE(+Fx(Fixed<12, 6>(code / 4.0), rng).raw() == code);
      REQUIRE(rng.index() == before + 4);
    }
  }
  // Integers into a coarser grid: multiples of 16 into Fixed<16,-4>.
  for (int v = -1000 * 16; v <= 1000 * 16; v += 16) REQUIRE(Fixed<16, -4, S>(v, rng).raw() == v / 16);
}

// Fractions below 2^-32 never round up, whatever the draw.
TEST_CASE("stochastic: f < 2^-32 never rounds up", "[stochastic]") {
  using Fx = Fixed<32, 16, S>;
  RandomStream rng(6);
  const double vs[] = {std::ldexp(0x1p-33, -16), std::ldexp(5 + 0x1p-40, -16),
                       std::ldexp(-5 + 0x1p-40, -16), std::ldexp(1 + 0x1p-32 - 0x1p-52, -16),
                       std::numeric_limits<double>::denorm_min()};
  const int expected[] = {0, 5, -5, 1, 0};
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < (1 << 14); ++k) REQUIRE(Fx(vs[i], rng).raw() == expected[i]);
}

// ---------------------------------------------------------------------------
// (c) Unbiased on average.
TEST_CASE("stochastic: mean error is near zero, NearestEven's is not", "[stochastic]") {
  constexpr std::size_t count = std::size_t{1} << 18;
  // x = 0.3 LSB (Fixed<16,8> input 0.3 / 256). Every error lies in [-0.3, 0.7]
  // (width 1) and has mean p - f with |p - f| < 2^-32; Hoeffding:
  // P(|mean - (p - f)| >= t) <= 2 exp(-2 N t^2) = 1e-9 for t = sqrt(ln(2e9) / (2N)).
  const double t = std::sqrt(std::log(2 / false_alarm) / (2.0 * count)) + 0x1p-32;
  for (double v : {0.3, 2.3, -0.3, 0.7, 1.0 / 3}) {
    const double x = v;  // in LSB units
    RandomStream rng(8);
    double sum_stochastic = 0, sum_nearest = 0;
    for (std::size_t k = 0; k < count; ++k) {
      sum_stochastic += Fixed<16, 8, S>(x / 256, rng).raw() - x;
      sum_nearest += Fixed<16, 8, Round::NearestEven>(x / 256).raw() - x;
    }
    INFO("x = " << x << " LSB; bound " << t);
    CHECK(std::fabs(sum_stochastic / count) < t);
    CHECK(std::fabs(sum_nearest / count) > 0.25);  // |round(x) - x| >= 0.3 for these x
  }
}

// ---------------------------------------------------------------------------
// (d) Negative values: floor semantics, P(up) is the fraction above floor(x).
TEST_CASE("stochastic: negative values round between floor and floor + 1", "[stochastic]") {
  constexpr std::size_t count = std::size_t{1} << 17;
  using Fx = Fixed<8, 2, S>;
  // -0.3 at Frac = 2 is x = -1.2 LSB (the double -1.19999999999999995559...):
  // n = -2 (-0.5), and it rounds up to -1 (-0.25) with probability
  // floor(0.80000000000000004441 * 2^32) / 2^32 = 3435973836 / 2^32, about 0.8 (not 0.2).
  const Split sp = split_float(-0.3, 2);
  CHECK(static_cast<long long>(sp.n) == -2);
  CHECK(sp.frac32 == 3435973836u);
  const std::size_t ups = check_floating<Fx>(-0.3, count);
  CHECK(ups > count / 2);  // guards against a trunc-based (toward zero) reading of the fraction
  // -0.125 = -0.5 LSB: -1 or 0 with probability 1/2 each; -0.375 = -1.5 LSB.
  check_floating<Fx>(-0.125, count);
  check_floating<Fx>(-0.375, count);
  check_floating<Fx>(-31.9, count);
  // Every result is one of the two neighbours.
  RandomStream rng(9);
  for (int k = 0; k < 4096; ++k) {
    const auto c = Fx(-0.3, rng).raw();
    REQUIRE((c == -2 || c == -1));
  }
}

// ---------------------------------------------------------------------------
// (e) Stochastic rounding that carries out of the range meets every Overflow mode.

// Input `make_input(rng)` converts to Fixed<W, Frac, S, O, Signed>; the exact
// rounded value is floor or floor + 1 of x (from `sp`), then O applies (as
// ref_narrow in support/int128_reference.hpp says).
template <int W, int F, bool Signed, Overflow O, class Convert>
void check_range_end(Convert convert, Split sp) {
  using Fx = Fixed<W, F, S, O, Signed>;
  const fixq_test::Target target = fixq_test::target_of<Fx>();
  RandomStream rng(77), ref(77);
  int ups = 0, downs = 0;
  for (int k = 0; k < 400; ++k) {
    const bool up = sp.frac32 + static_cast<std::uint64_t>(ref.next()) >= two32;
    (up ? ups : downs) += 1;
    // The expected code of the rounded value under O; nullopt: it throws.
    const std::optional<int128> expected = fixq_test::ref_narrow(sp.n + up, target);
    INFO(fixq::to_string(O) << ", rounded " << static_cast<long long>(sp.n) + up);
    if (!expected) {
      REQUIRE_THROWS_AS(convert.template operator()<Fx>(rng), fixq::overflow_error);
    } else {
      REQUIRE(static_cast<long long>(convert.template operator()<Fx>(rng).raw()) ==
              static_cast<long long>(*expected));
    }
  }
  CHECK(ups > 0);  // both outcomes were exercised
  CHECK(downs > 0);
}

template <Overflow O>
void range_ends_for() {
  // Fixed<8,0>: 127.5 rounds to 127 or 128 (overflow); -128.5 to -129 (overflow) or -128.
  auto from = [](auto v) { return [v]<class Fx>(RandomStream& rng) { return Fx(v, rng); }; };
  check_range_end<8, 0, true, O>(from(127.5), split_float(127.5, 0));
  check_range_end<8, 0, true, O>(from(-128.5), split_float(-128.5, 0));
  check_range_end<8, 0, true, O>(from(127.25f), split_float(127.25f, 0));
  check_range_end<8, 0, true, O>(from(-128.75L), split_float(-128.75L, 0));
  // UFixed<8,0>: 255.5 -> 255 or 256; -0.5 -> -1 or 0.
  check_range_end<8, 0, false, O>(from(255.5), split_float(255.5, 0));
  check_range_end<8, 0, false, O>(from(-0.5), split_float(-0.5, 0));
  // Integer input: 511 into Fixed<8,-2> is 127.75 LSB.
  check_range_end<8, -2, true, O>(from(511), split_int(511, 2));
  check_range_end<8, -2, true, O>(from(-513), split_int(-513, 2));
  // Fixed input: Fixed<12,4> code 2047 (127.9375) into Fixed<8,0>.
  check_range_end<8, 0, true, O>(from(Fixed<12, 4>::from_raw(2047)), split_int(2047, 4));
  // Wide: UFixed<40,8> code 2^40 - 128 into UFixed<32,0> is 2^32 - 1/2.
  const std::int64_t wide = (std::int64_t{1} << 40) - 128;
  check_range_end<32, 0, false, O>(from(UFixed<40, 8>::from_raw(wide)), split_int(wide, 8));
}

TEST_CASE("stochastic: rounding past the range ends under every Overflow mode", "[stochastic]") {
  range_ends_for<Overflow::Saturate>();
  range_ends_for<Overflow::SaturateSymmetric>();
  range_ends_for<Overflow::SaturateZero>();
  range_ends_for<Overflow::Wrap>();
  range_ends_for<Overflow::Throw>();
}

// ---------------------------------------------------------------------------
// (f) Random words come only from the caller's generator.
TEST_CASE("stochastic: every conversion that can round takes one draw from the given generator",
          "[stochastic]") {
  using Fx = Fixed<16, 8, S>;
  // Every kind of stochastic conversion takes exactly one draw, even when no
  // rounding is needed, so element k of an array converted with RandomStream(seed)
  // uses random_u32(seed, k).
  RandomStream rng(7, 1000);
  const std::uint32_t words[] = {fixq::random_u32(7, 1000), fixq::random_u32(7, 1001)};
  CHECK(Fx(0.0, rng).raw() == 0);
  CHECK(rng.index() == 1001);
  // 2^-9: half an LSB, rounds up exactly when the word's top bit is set.
  CHECK(Fx(std::ldexp(1.0, -9), rng).raw() == static_cast<int>(words[1] >> 31));
  (void)Fx(1.0f, rng);
  (void)Fx(0.3L, rng);
  (void)Fx(3, rng);
  (void)Fx(Fixed<20, 12>::from_raw(12345), rng);
  CHECK(rng.index() == 1006);
  // Deterministic types draw nothing from a generator they are given.
  (void)Fixed<16, 8>(0.3, rng);
  (void)Fixed<16, 8, Round::Floor>(7, rng);
  CHECK(rng.index() == 1006);
  // Conversions that cannot round need no generator, even into a stochastic type:
  // a lossless Fixed-to-Fixed widening and an integer into Frac >= 0.
  const Fx implicit = Fixed<8, 4>::from_raw(-77);
  CHECK(implicit.raw() == -77 * 16);
  CHECK(Fx(3).raw() == 3 * 256);
  // Any standard 32-bit generator is accepted, and draws in the same way.
  std::mt19937 mt(5), mt_copy(5);
  const Fx from_mt(std::ldexp(1.0, -9), mt);
  CHECK(from_mt.raw() == static_cast<int>(mt_copy() >> 31));
}

// A stochastic conversion that can round and has no generator does not compile:
// tests/compile_fail/stochastic_without_generator.cpp checks the diagnostic.
static_assert(std::is_constructible_v<Fixed<16, 8, S>, double, RandomStream&>);
static_assert(std::is_constructible_v<Fixed<16, 8, S>, double, std::mt19937&>);
static_assert(!std::is_constructible_v<Fixed<16, 8, S>, double, std::mt19937_64&>);  // 64-bit words

// ---------------------------------------------------------------------------
// (g) Fixed-to-Fixed and integer-to-Fixed: P(up) = dropped bits / 2^dropped
// exactly when at most 32 bits are dropped (frac32 = rem << (32 - dropped)).
TEST_CASE("stochastic: Fixed-to-Fixed and integer conversions", "[stochastic]") {
  constexpr std::size_t count = std::size_t{1} << 15;
  auto run = [&](auto convert, Split sp) { check_frequency(check_draws(convert, sp, count), count, sp.frac32); };

  // 4 dropped bits: Fixed<16,8> -> Fixed<16,4>. rem = code mod 16 (floor semantics).
  for (int code : {0x123, -0x123, 0x7fff, -0x8000, 8, -8, 1, -1, 15}) {
    INFO("Fixed<16,8> code " << code);
    const auto src = Fixed<16, 8>::from_raw(code);
    const Split sp = split_int(code, 4);
    CHECK(sp.frac32 == static_cast<std::uint32_t>(((code % 16) + 16) % 16) << 28);
    run([&](RandomStream& rng) { return int128{Fixed<16, 4, S>(src, rng).raw()}; }, sp);
  }
  // Exactly 32 dropped bits: P = low 32 bits / 2^32.
  {
    const long long code = 0x0123456789abcdefLL;
    const auto src = Fixed<60, 40>::from_raw(code);
    const Split sp = split_int(code, 32);
    CHECK(sp.frac32 == 0x89abcdefu);
    CHECK(static_cast<long long>(sp.n) == 0x01234567LL);
    run([&](RandomStream& rng) { return int128{Fixed<28, 8, S>(src, rng).raw()}; }, sp);
    const auto neg = Fixed<60, 40>::from_raw(-code);
    run([&](RandomStream& rng) { return int128{Fixed<28, 8, S>(neg, rng).raw()}; }, split_int(-code, 32));
  }
  // 40 dropped bits: frac32 is the top 32 of them.
  {
    const long long code = 0x0fedcba987654321LL;
    const auto src = UFixed<60, 48>::from_raw(code);
    const Split sp = split_int(code, 40);
    CHECK(sp.frac32 == 0xa9876543u);
    run([&](RandomStream& rng) { return int128{Fixed<24, 8, S>(src, rng).raw()}; }, sp);
  }
  // Far more dropped bits than any word: the fraction of a positive value is
  // below 2^-32 (never up); of a negative value above 1 - 2^-32 (up unless U = 0).
  run([&](RandomStream& rng) { return int128{Fixed<8, 0, S>(Fixed<8, 1022>::from_raw(5), rng).raw()}; },
      Split{0, 0});
  run([&](RandomStream& rng) { return int128{Fixed<8, 0, S>(Fixed<8, 1022>::from_raw(-5), rng).raw()}; },
      Split{-1, 0xffffffffu});
  run([&](RandomStream& rng) { return int128{Fixed<8, -200, S>(5, rng).raw()}; }, Split{0, 0});
  run([&](RandomStream& rng) { return int128{Fixed<8, -200, S>(-5, rng).raw()}; }, Split{-1, 0xffffffffu});
  run([&](RandomStream& rng) { return int128{UFixed<8, 0, S>(UFixed<64, 100>::max(), rng).raw()}; },
      split_int((int128{1} << 64) - 1, 100));
  run([&](RandomStream& rng) { return int128{UFixed<40, 32, S>(UFixed<64, 64>::max(), rng).raw()}; },
      split_int((int128{1} << 64) - 1, 32));
  // Signed source into an unsigned target and back, 1 dropped bit.
  run([&](RandomStream& rng) { return int128{UFixed<8, 0, S>(Fixed<9, 1>::from_raw(201), rng).raw()}; },
      split_int(201, 1));
  // Integers: Fixed<16,-4> drops 4 bits; -7 / 16 has n = -1, rem 9, P(up to 0) = 9/16.
  for (int v : {-7, 7, 100, -100, 32767, -32768}) {
    INFO("int " << v);
    run([&](RandomStream& rng) { return int128{Fixed<16, -4, S>(v, rng).raw()}; }, split_int(v, 4));
  }
  CHECK(split_int(-7, 4).frac32 == 9u << 28);
  // 64-bit integers with 32 dropped bits.
  const std::int64_t i64 = 0x123456789abcdefLL;
  run([&](RandomStream& rng) { return int128{Fixed<32, -32, S>(i64, rng).raw()}; }, split_int(i64, 32));
  run([&](RandomStream& rng) { return int128{Fixed<32, -32, S>(-i64, rng).raw()}; }, split_int(-i64, 32));
  const std::uint64_t u64 = 0xfedcba9876543210ull;
  const Split su = split_int(static_cast<int128>(u64), 32);
  CHECK(su.frac32 == 0x76543210u);
  run([&](RandomStream& rng) { return int128{UFixed<32, -32, S>(u64, rng).raw()}; }, su);
  // Small integer types too.
  run([&](RandomStream& rng) { return int128{Fixed<8, -1, S>(std::int8_t{-127}, rng).raw()}; },
      split_int(-127, 1));
  run([&](RandomStream& rng) { return int128{UFixed<8, -1, S>(std::uint8_t{255}, rng).raw()}; },
      split_int(255, 1));
}

// ---------------------------------------------------------------------------
// Word 64, signed: 2^63 - 1/2 (a long double) rounds to 2^63 - 1 or to 2^63,
// which overflows. Kept last: see the report about Format::min_code for Word 64.
TEST_CASE("stochastic: Fixed<64,0> at the top of its range", "[stochastic][word64]") {
  const long double v = 0x1p63L - 0.5L;
  const Split sp = split_float(v, 0);
  CHECK(sp.frac32 == 1u << 31);
  using Thrower = Fixed<64, 0, S, Overflow::Throw>;
  RandomStream a(3), b(3), c(3), d(3), e(3), ref(3);
  int ups = 0;
  for (int k = 0; k < 200; ++k) {
    const bool up = sp.frac32 + static_cast<std::uint64_t>(ref.next()) >= two32;
    ups += up;
    const std::int64_t top = std::numeric_limits<std::int64_t>::max();
    REQUIRE(Fixed<64, 0, S, Overflow::Saturate>(v, a).raw() == top);
    REQUIRE(Fixed<64, 0, S, Overflow::Wrap>(v, b).raw() == (up ? std::numeric_limits<std::int64_t>::min() : top));
    REQUIRE(Fixed<64, 0, S, Overflow::SaturateZero>(v, c).raw() == (up ? 0 : top));
    REQUIRE(Fixed<64, 0, S, Overflow::SaturateSymmetric>(v, d).raw() == top);
    if (up)
      REQUIRE_THROWS_AS(Thrower(v, e), fixq::overflow_error);
    else
      REQUIRE(Thrower(v, e).raw() == top);
  }
  CHECK(ups > 0);
  CHECK(ups < 200);
}

}  // namespace
