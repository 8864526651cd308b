// Conversions on wide formats (Word 9..64, Frac from Word-1023 to 1000) with
// random and targeted inputs, against the independent reference
// (support/reference.hpp):
//   * double -> Fixed, Word 9, 16, 24, 31, 32, 33, 53, 54, 62, 63, 64: random
//     bit patterns, values at the range edges, exact ties (k + 1/2) LSB, values
//     around 2^52 .. 2^66 LSBs (where the double fast path hands over to the
//     exact path and codes outgrow 64 bits), random in-range values and random
//     magnitudes, each with its floating-point neighbours;
//   * long double -> Fixed, Word 32, 63, 64: the same with 64-bit significands
//     (ties that only a long double can hold, neighbours 2^-64 away);
//   * float -> Fixed, Word 16, 24, 30, 31, 32 (the float paths' limits);
//   * int64_t / uint64_t -> Fixed, Word 33, 64: the extremes, powers of two,
//     random values;
//   * Fixed -> double / float for random 64-bit codes and codes at the 24/53-bit
//     rounding boundaries, for results that are exact, rounded, subnormal in
//     float, zero, or too large for float.
//
// Every (format, mode) is a distinct type, so the modes are spread over the
// formats to keep the compile time sane: each format is checked under 15 of
// the 45 (Round, Overflow) pairs, the pairs (r, o) with (r + o + c) % 3 == 0
// for a per-format c. That is every Round and every Overflow mode for every
// format, and every pair on a third of the formats.
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <fixq/core.hpp>

#include "support/conversion_checks.hpp"
#include "support/fixed_printer.hpp"
#include "support/reference.hpp"

namespace {

using fixq::Overflow;
using fixq::Round;
using fixq_test::i128;
using fixq_test::TargetFormat;
using fixq_test::u128;

// ---------------------------------------------------------------------------
// Formats and modes.
// ---------------------------------------------------------------------------

/// Words: the usual sizes, the ones next to 32 / 53 / 64, 9, and 62 (the widest
/// word whose codes all stay below 2^62, where the library's int64 path for
/// doubles ends); the last one, 30, only for float inputs (the same limit,
/// 2^30, of its int32 path for floats).
constexpr int wide_words[] = {9, 16, 24, 31, 32, 33, 62, 53, 54, 63, 64, 30};
constexpr int n_wide_fracs = 10;
/// Fracs: an LSB far above one, one, small, inside the word, at its edge,
/// beyond it, far beyond (up to 1000), and the most negative allowed (Word-1023).
constexpr int wide_frac(int w, int i) {
  const int f[n_wide_fracs] = {-20, 0, 7, w / 2, w, w + 10, 70, 300, 1000, w - 1023};
  return f[i];
}

/// Calls f.template operator()<W, F, S, C>() for every Frac of word W (both
/// signs), C being the mode selector of that format.
template <int WordIndex, class Fn, std::size_t... I>
void for_each_wide_format_of_word(Fn& f, std::index_sequence<I...>) {
  constexpr int W = wide_words[WordIndex];
  (f.template operator()<W, wide_frac(W, I), true, static_cast<int>((WordIndex + I) % 3)>(), ...);
  (f.template operator()<W, wide_frac(W, I), false, static_cast<int>((WordIndex + I + 1) % 3)>(),
   ...);
}
template <int... WordIndex, class Fn>
void for_each_wide_format(Fn&& f, std::integer_sequence<int, WordIndex...>) {
  (for_each_wide_format_of_word<WordIndex>(f, std::make_index_sequence<n_wide_fracs>{}), ...);
}

/// A generator seeded from the format, so every run sees the same inputs.
std::mt19937_64 rng_for(const TargetFormat& f, unsigned salt) {
  return std::mt19937_64(0x9e3779b97f4a7c15ULL * static_cast<unsigned>(f.word) +
                         0xbf58476d1ce4e5b9ULL * static_cast<unsigned>(f.frac + 2000) +
                         (f.is_signed ? 1u : 2u) * 0x94d049bb133111ebULL + salt);
}

// ---------------------------------------------------------------------------
// Inputs.
// ---------------------------------------------------------------------------

/// Random targeted floating-point inputs of type T for f.
template <class T>
std::vector<T> random_floating_inputs(const TargetFormat& f, std::mt19937_64& rng) {
  constexpr int digits = std::numeric_limits<T>::digits;
  const T inf = std::numeric_limits<T>::infinity();
  std::vector<T> v;
  auto with_neighbours = [&](T x) {
    v.push_back(x);
    v.push_back(std::nextafter(x, -inf));
    v.push_back(std::nextafter(x, inf));
  };
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto random_sign = [&]() { return (rng() & 1) != 0 ? T(1) : T(-1); };
  const int F = f.frac, W = f.word;

  // Random bit patterns (doubles; for long double, random significands and
  // exponents over the whole range), and the extremes of the type.
  for (int i = 0; i < 60; ++i) {
    if constexpr (std::is_same_v<T, double>)
      v.push_back(std::bit_cast<double>(rng()));
    else if constexpr (std::is_same_v<T, float>)
      v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng())));
    else
      v.push_back(random_sign() * std::ldexp(static_cast<T>(rng() | (1ULL << 63)),
                                             uniform(-16445, 16320)));
  }
  for (T x : {std::numeric_limits<T>::max(), std::numeric_limits<T>::denorm_min(),
              std::numeric_limits<T>::min(), inf, std::numeric_limits<T>::quiet_NaN(), T(0)}) {
    v.push_back(x);
    v.push_back(-x);
  }
  // The range edges: min, max + 1 (and 0) plus d half-LSBs, d in [-4, 4].
  const T edges[] = {f.is_signed ? -std::ldexp(T(1), W - 1) : T(0),
                     std::ldexp(T(1), f.is_signed ? W - 1 : W), T(0)};
  for (T e : edges)
    for (int d = -4; d <= 4; ++d) with_neighbours(std::ldexp(e + T(d) / 2, -F));
  // Exact ties (k + 1/2) LSB, k of every length that keeps k + 1/2 exact in T.
  for (int i = 0; i < 40; ++i) {
    const int bits = uniform(0, std::min(digits - 1, W + 2));
    const std::uint64_t k = bits == 0 ? 0 : (rng() >> (64 - bits)) | (1ULL << (bits - 1));
    with_neighbours(std::ldexp(random_sign() * (static_cast<T>(k) + T(0.5)), -F));
  }
  // Around 2^j LSBs for j = 50 .. 66: the fast path's 2^52 limit and the
  // 64-bit code limits (saturation, and Wrap of values beyond 64 bits).
  for (int j = 50; j <= 66; ++j)
    for (T c : {T(0), T(0.5), T(1.5), T(-0.5), T(-1)})
      with_neighbours(std::ldexp(random_sign() * (std::ldexp(T(1), j) + c), -F));
  // Random values in and around the range, and random magnitudes.
  for (int i = 0; i < 60; ++i) {
    const T mant = std::ldexp(static_cast<T>(rng() >> (64 - digits)), -digits);  // [0, 1)
    v.push_back(std::ldexp(random_sign() * (T(0.5) + mant / 2), uniform(W - F - 8, W - F + 3)));
    v.push_back(std::ldexp(random_sign() * (T(0.5) + mant / 2), uniform(-F - 80, W - F + 80)));
  }
  return v;
}

/// Random targeted integers of type I.
template <class I>
std::vector<I> random_integer_inputs(std::mt19937_64& rng) {
  using L = std::numeric_limits<I>;
  std::vector<I> v = {L::min(), static_cast<I>(L::min() + 1), static_cast<I>(L::max() - 1),
                      L::max(), 0, 1, static_cast<I>(-1)};
  for (int k = 0; k < 64; ++k)
    for (int d = -1; d <= 1; ++d) v.push_back(static_cast<I>((std::uint64_t{1} << k) + static_cast<std::uint64_t>(d)));
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t r = rng();
    v.push_back(static_cast<I>(r >> (rng() % 64)));  // every magnitude
    v.push_back(static_cast<I>(r));
  }
  return v;
}

/// The inputs of one format with their reference outcomes: plain functions of
/// the format (templates of the input type only), compiled once per type.
template <class T>
fixq_test::Column<T> floating_column(const char* type, const TargetFormat& f) {
  auto rng = rng_for(f, sizeof(T));
  return fixq_test::Column<T>(type, random_floating_inputs<T>(f, rng), f);
}
template <class I>
fixq_test::Column<I> integer_column(const char* type, const TargetFormat& f) {
  auto rng = rng_for(f, 77);
  return fixq_test::Column<I>(type, random_integer_inputs<I>(rng), f);
}

// ---------------------------------------------------------------------------
// Checks.
// ---------------------------------------------------------------------------

/// T -> Fixed on every wide format of the given word indices.
template <class T, int... WordIndex>
long long check_floating_inputs(const char* type, std::integer_sequence<int, WordIndex...> words) {
  fixq_test::Tally tally;
  for_each_wide_format(
      [&]<int W, int F, bool S, int C>() {
        const TargetFormat f(W, F, S);
        const fixq_test::Column<T> col = floating_column<T>(type, f);
        fixq_test::for_some_modes<C>([&]<Round R, Overflow O>() {
          col.check(&fixq_test::observe<fixq::Fixed<W, F, R, O, S>, T>, f, R, O, tally);
        });
      },
      words);
  tally.report();
  return tally.comparisons;
}

template <class I, int... WordIndex>
long long check_integer_inputs(const char* type, std::integer_sequence<int, WordIndex...> words) {
  fixq_test::Tally tally;
  for_each_wide_format(
      [&]<int W, int F, bool S, int C>() {
        const TargetFormat f(W, F, S);
        const fixq_test::Column<I> col = integer_column<I>(type, f);
        fixq_test::for_some_modes<C>([&]<Round R, Overflow O>() {
          col.check(&fixq_test::observe<fixq::Fixed<W, F, R, O, S>, I>, f, R, O, tally);
        });
      },
      words);
  tally.report();
  return tally.comparisons;
}

/// Random codes of a format, and codes at the p-bit rounding boundary of
/// float (p = 24) and double (p = 53): a p-bit head, then a tail that is 0,
/// exactly half, just below or above half, or all ones.
std::vector<i128> codes_for(const TargetFormat& f, std::mt19937_64& rng) {
  const i128 lo = f.lo.to_i128(), hi = f.hi.to_i128();
  std::vector<i128> c = {lo, lo + 1, hi, hi - 1, 0, 1};
  if (f.is_signed) c.push_back(-1);
  auto clamp_push = [&](i128 x) {
    if (x >= lo && x <= hi) c.push_back(x);
  };
  for (int i = 0; i < 150; ++i) {
    const u128 r = static_cast<u128>(rng());
    const int bits = static_cast<int>(rng() % static_cast<unsigned>(f.word)) + 1;
    const i128 x = static_cast<i128>(r >> (64 - bits));
    clamp_push(f.is_signed && (rng() & 1) ? -x : x);
  }
  for (int p : {24, 53}) {
    if (f.word <= p + 1) continue;
    for (int i = 0; i < 40; ++i) {
      const int s = static_cast<int>(rng() % static_cast<unsigned>(f.word - p - (f.is_signed ? 1 : 0))) + 1;
      const i128 head = static_cast<i128>((rng() >> (64 - p)) | (1ULL << (p - 1)));
      const i128 half = i128{1} << (s - 1);
      for (i128 tail : {i128{0}, half, half - 1, half + 1, (half << 1) - 1}) {
        const i128 x = (head << s) + tail;
        clamp_push(x);
        if (f.is_signed) clamp_push(-x);
      }
    }
  }
  return c;
}

/// Fixed<W, F, S> -> double / float on random and boundary codes.
template <int W, int F, bool S>
void check_to_floating(fixq_test::Tally& tally) {
  using Fx = fixq::Fixed<W, F, Round::NearestEven, Overflow::Saturate, S>;
  const TargetFormat f(W, F, S);
  auto rng = rng_for(f, 5);
  fixq_test::check_to_floating(&fixq_test::floating_views<Fx>, W, F, S, codes_for(f, rng), false, tally);
}

}  // namespace

// Lower bounds on the counts (the loops ran): 10 non-Throw of the 15 modes x
// formats x inputs.
TEST_CASE("Fixed from double: wide formats, random and targeted inputs", "[conversion][wide]") {
  SECTION("Word 9..32") {
    CHECK(check_floating_inputs<double>("double", std::integer_sequence<int, 0, 1, 2, 3, 4>{}) >
          10 * 100 * 500);
  }
  SECTION("Word 33..64") {
    CHECK(check_floating_inputs<double>("double", std::integer_sequence<int, 5, 6, 7, 8, 9, 10>{}) >
          10 * 120 * 500);
  }
}

TEST_CASE("Fixed from float: wide formats up to 32 bits", "[conversion][wide]") {
  // Word 16, 24, 30, 31, 32: around the 2^30 limit of the library's int32 float path.
  CHECK(check_floating_inputs<float>("float", std::integer_sequence<int, 1, 2, 11, 3, 4>{}) >
        10 * 100 * 400);
}

TEST_CASE("Fixed from long double: wide formats, 64-bit significands", "[conversion][wide]") {
  // Word 32, 63, 64.
  CHECK(check_floating_inputs<long double>("long double", std::integer_sequence<int, 4, 9, 10>{}) >
        10 * 60 * 500);
}

TEST_CASE("Fixed from int64_t and uint64_t: wide formats, extremes and random", "[conversion][wide]") {
  // Word 33 and 64.
  CHECK(check_integer_inputs<std::int64_t>("int64_t", std::integer_sequence<int, 5, 10>{}) >
        10 * 40 * 500);
  CHECK(check_integer_inputs<std::uint64_t>("uint64_t", std::integer_sequence<int, 5, 10>{}) >
        10 * 40 * 500);
}

TEST_CASE("Fixed to double and float: wide formats, random and boundary codes", "[conversion][wide]") {
  fixq_test::Tally tally;
  // Word 64 over the whole Frac range: float results that overflow (Frac <= -65),
  // are subnormal (Frac around 150 .. 200) or vanish (Frac 1000).
  check_to_floating<64, -959, true>(tally);
  check_to_floating<64, -959, false>(tally);
  check_to_floating<64, -300, true>(tally);
  check_to_floating<64, -100, false>(tally);
  check_to_floating<64, -64, true>(tally);
  check_to_floating<64, -20, true>(tally);
  check_to_floating<64, 0, true>(tally);
  check_to_floating<64, 0, false>(tally);
  check_to_floating<64, 11, true>(tally);
  check_to_floating<64, 63, true>(tally);
  check_to_floating<64, 64, false>(tally);
  check_to_floating<64, 149, true>(tally);
  check_to_floating<64, 170, false>(tally);
  check_to_floating<64, 200, true>(tally);
  check_to_floating<64, 1000, true>(tally);
  check_to_floating<64, 1022, false>(tally);
  // Other words around the 24 and 53-bit significands.
  check_to_floating<63, 5, true>(tally);
  check_to_floating<54, 0, true>(tally);
  check_to_floating<54, 3, false>(tally);
  check_to_floating<53, -970, false>(tally);
  check_to_floating<33, 140, true>(tally);
  check_to_floating<32, -96, false>(tally);
  check_to_floating<26, 1, true>(tally);
  check_to_floating<25, 0, false>(tally);
  check_to_floating<24, -104, true>(tally);
  tally.report();
  CHECK(tally.comparisons > 5 * 25 * 150);
}
