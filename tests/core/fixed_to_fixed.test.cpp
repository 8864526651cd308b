// Fixed -> Fixed conversion against the independent reference
// (support/reference.hpp) applied to the exact source value code * 2^-Frac:
//   * small formats exhaustively: every code of 8 source formats (Word <= 8,
//     Frac negative, zero, inside and beyond the word, both signs) into 8
//     target formats, under all 45 (Round, Overflow) pairs;
//   * wide formats (up to 64 bits, Frac differences up to 1030) on random codes
//     and on codes whose dropped bits are exactly half, just off half, zero or
//     all ones, under 15 pairs per (source, target) (every Round and every
//     Overflow; see modes_for in support/conversion_checks.hpp);
//   * pairs at the limits of the int32 / int64 arithmetic the library may use
//     for a conversion (Word 29 .. 64, shifts of -22 .. 1), every mode;
//   * codes with more than 53 significant bits, which a trip through double
//     would round;
//   * which conversions are implicit (lossless) and which explicit.
#include <array>
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

using fixq::Fixed;
using fixq::Overflow;
using fixq::Round;
using fixq::UFixed;
using fixq_test::i128;
using fixq_test::RefCode;
using fixq_test::RefTable;
using fixq_test::TargetFormat;

/// The library's answer for converting the Src with code `code` to Dst.
template <class Src, class Dst>
RefCode convert_code(i128 code) {
  Src src;
  if constexpr (!Src::is_signed && Src::word == 64)
    src = Src::from_raw(static_cast<std::uint64_t>(code));
  else
    src = Src::from_raw(static_cast<std::int64_t>(code));
  if constexpr (Dst::overflow == Overflow::Throw) {
    try {
      return {false, static_cast<i128>(Dst(src).raw())};
    } catch (const fixq::overflow_error&) {
      return {true, 0};
    }
  } else {
    return {false, static_cast<i128>(Dst(src).raw())};
  }
}

/// Source codes with their expected outcomes in one target format.
struct Codes {
  TargetFormat src;
  std::vector<i128> codes;
  std::vector<RefTable> expected;
  Codes(const TargetFormat& source, std::vector<i128> c, const TargetFormat& target)
      : src(source), codes(std::move(c)) {
    for (i128 code : codes)
      expected.push_back(fixq_test::reference_table(fixq_test::exact_code(code, src.frac), target));
  }
  void check(RefCode (*conv)(i128), const TargetFormat& dst, Round r, Overflow o,
             fixq_test::Tally& tally) const {
    const int m = fixq_test::mode_index(r, o);
    for (std::size_t i = 0; i < codes.size(); ++i) {
      const RefCode got = conv(codes[i]);
      ++tally.comparisons;
      if (!(got == expected[i].at[m]))
        tally.fail(fixq_test::format_name(src.word, src.frac, src.is_signed) + " code " +
                   fixq_test::i128_text(codes[i]) + " -> " + fixq_test::mode_name(dst, r, o) +
                   ": got " + got.text() + ", expected " + expected[i].at[m].text());
    }
  }
};

// ---------------------------------------------------------------------------
// Small formats, every source code, every mode.
// ---------------------------------------------------------------------------

struct Shape {
  int word, frac;
  bool is_signed;
};
constexpr Shape small_sources[] = {{8, 4, true},  {8, 4, false}, {8, -3, true}, {7, 10, false},
                                   {5, 0, true},  {3, 1, false}, {1, 0, true},  {6, 9, true}};
constexpr Shape small_targets[] = {{8, 1, true},   {4, 2, false}, {3, -2, true}, {8, 11, false},
                                   {6, 6, true},   {2, 0, true},  {8, 4, false}, {8, 4, true}};

template <Shape S, Shape D>
void check_small_pair(fixq_test::Tally& tally) {
  const TargetFormat src(S.word, S.frac, S.is_signed), dst(D.word, D.frac, D.is_signed);
  std::vector<i128> all;
  for (i128 c = src.lo.to_i128(); c <= src.hi.to_i128(); ++c) all.push_back(c);
  const Codes codes(src, std::move(all), dst);
  fixq_test::for_each_mode([&]<Round R, Overflow O>() {
    using Src = Fixed<S.word, S.frac, Round::NearestEven, Overflow::Saturate, S.is_signed>;
    using Dst = Fixed<D.word, D.frac, R, O, D.is_signed>;
    codes.check(&convert_code<Src, Dst>, dst, R, O, tally);
  });
}

template <std::size_t SrcIndex, std::size_t... DstIndex>
void check_small_source(fixq_test::Tally& tally, std::index_sequence<DstIndex...>) {
  (check_small_pair<small_sources[SrcIndex], small_targets[DstIndex]>(tally), ...);
}
template <std::size_t... SrcIndex>
void check_small(fixq_test::Tally& tally, std::index_sequence<SrcIndex...>) {
  (check_small_source<SrcIndex>(tally, std::make_index_sequence<std::size(small_targets)>{}), ...);
}

// ---------------------------------------------------------------------------
// Wide formats, random and boundary codes, 15 modes per pair.
// ---------------------------------------------------------------------------

constexpr Shape wide_sources[] = {{64, 0, true},    {64, 500, false}, {33, -400, true},
                                  {64, 1000, true}, {48, 20, false},  {17, -500, true}};
// Every source meets a target a few bits coarser (drops of 4 .. 30 bits, where
// the tie codes matter), targets far coarser and far finer (Frac differences up
// to 1030), narrower and wider words.
constexpr Shape wide_targets[] = {{64, -30, true}, {32, 16, true}, {64, 990, false},
                                  {9, 470, true},  {64, 0, true},  {20, -420, false}};

/// Random codes of every length, the extremes, and codes whose `drop` lowest
/// bits (the bits a conversion to a coarser LSB drops) are 0, exactly half,
/// half +-1 or all ones.
std::vector<i128> wide_codes(const TargetFormat& f, int drop, std::mt19937_64& rng) {
  const i128 lo = f.lo.to_i128(), hi = f.hi.to_i128();
  std::vector<i128> c = {lo, lo + 1, hi, hi - 1, 0, 1};
  auto push = [&](i128 x) {
    if (x >= lo && x <= hi) c.push_back(x);
  };
  for (int i = 0; i < 200; ++i) {
    const int bits = static_cast<int>(rng() % static_cast<unsigned>(f.word)) + 1;
    const i128 x = static_cast<i128>(rng() >> (64 - bits));
    push(f.is_signed && (rng() & 1) ? -x : x);
  }
  if (drop > 0 && drop < f.word) {
    const i128 half = i128{1} << (drop - 1);
    for (int i = 0; i < 40; ++i) {
      const int head_bits = static_cast<int>(rng() % static_cast<unsigned>(f.word - drop)) + 1;
      const i128 head = static_cast<i128>(rng() >> (64 - head_bits)) << drop;
      for (i128 tail : {i128{0}, half, half - 1, half + 1, 2 * half - 1}) {
        push(head + tail);
        if (f.is_signed) push(-(head + tail));
      }
    }
  }
  return c;
}

template <Shape S, Shape D, int C>
void check_wide_pair(fixq_test::Tally& tally) {
  const TargetFormat src(S.word, S.frac, S.is_signed), dst(D.word, D.frac, D.is_signed);
  std::mt19937_64 rng(static_cast<std::uint64_t>(S.word * 7919 + S.frac * 104729 + D.word * 31 +
                                                 D.frac * 65537 + 1000000));
  const Codes codes(src, wide_codes(src, S.frac - D.frac, rng), dst);
  fixq_test::for_some_modes<C>([&]<Round R, Overflow O>() {
    using Src = Fixed<S.word, S.frac, Round::NearestEven, Overflow::Saturate, S.is_signed>;
    using Dst = Fixed<D.word, D.frac, R, O, D.is_signed>;
    codes.check(&convert_code<Src, Dst>, dst, R, O, tally);
  });
}

template <std::size_t SrcIndex, std::size_t... DstIndex>
void check_wide_source(fixq_test::Tally& tally, std::index_sequence<DstIndex...>) {
  (check_wide_pair<wide_sources[SrcIndex], wide_targets[DstIndex],
                   static_cast<int>((SrcIndex + DstIndex) % 3)>(tally),
   ...);
}
template <std::size_t... SrcIndex>
void check_wide(fixq_test::Tally& tally, std::index_sequence<SrcIndex...>) {
  (check_wide_source<SrcIndex>(tally, std::make_index_sequence<std::size(wide_targets)>{}), ...);
}

// ---------------------------------------------------------------------------
// Pairs at the limits of the narrower integer types the library may compute a
// conversion in (int32 / int64 when source, shifted source and target fit with
// two bits to spare): every mode.
// ---------------------------------------------------------------------------
struct ShapePair {
  Shape src, dst;
};
constexpr ShapePair limit_pairs[] = {
    {{30, 0, true}, {31, 1, true}},    {{30, 0, true}, {30, -2, true}},
    {{29, 3, false}, {31, 4, true}},   {{31, 0, true}, {31, 0, true}},
    {{62, 0, true}, {63, 1, true}},    {{61, 5, false}, {63, 6, true}},
    {{62, 0, true}, {40, -22, true}},  {{63, 0, true}, {63, 0, true}},
    {{64, 3, false}, {64, 2, true}},   {{32, 0, false}, {16, -16, false}}};

template <Shape S, Shape D>
void check_limit_pair(fixq_test::Tally& tally) {
  const TargetFormat src(S.word, S.frac, S.is_signed), dst(D.word, D.frac, D.is_signed);
  std::mt19937_64 rng(static_cast<std::uint64_t>(S.word * 7919 + S.frac * 104729 + D.word * 31 +
                                                 D.frac * 65537 + 12345));
  const Codes codes(src, wide_codes(src, S.frac - D.frac, rng), dst);
  fixq_test::for_each_mode([&]<Round R, Overflow O>() {
    using Src = Fixed<S.word, S.frac, Round::NearestEven, Overflow::Saturate, S.is_signed>;
    using Dst = Fixed<D.word, D.frac, R, O, D.is_signed>;
    codes.check(&convert_code<Src, Dst>, dst, R, O, tally);
  });
}
template <std::size_t... I>
void check_limits(fixq_test::Tally& tally, std::index_sequence<I...>) {
  (check_limit_pair<limit_pairs[I].src, limit_pairs[I].dst>(tally), ...);
}

// ---------------------------------------------------------------------------
// Implicit only when lossless (every source value is a target value).
// ---------------------------------------------------------------------------
static_assert(std::is_convertible_v<Fixed<8, 4>, Fixed<16, 8>>);
static_assert(!std::is_convertible_v<Fixed<16, 8>, Fixed<8, 4>>);
static_assert(std::is_constructible_v<Fixed<16, 8>, Fixed<8, 4>>);
static_assert(std::is_constructible_v<Fixed<8, 4>, Fixed<16, 8>>);
// Fewer fraction bits, or fewer integer bits: explicit.
static_assert(!std::is_convertible_v<Fixed<8, 4>, Fixed<16, 3>>);
static_assert(!std::is_convertible_v<Fixed<8, 4>, Fixed<7, 4>>);
static_assert(std::is_convertible_v<Fixed<8, 4>, Fixed<8, 4, Round::Floor, Overflow::Wrap>>);
static_assert(std::is_convertible_v<Fixed<8, 4, Round::Floor, Overflow::Wrap>, Fixed<9, 5>>);
// Signed -> unsigned is explicit even with room to spare; unsigned -> signed
// needs one more integer bit for the sign.
static_assert(!std::is_convertible_v<Fixed<8, 4>, UFixed<16, 8>>);
static_assert(std::is_constructible_v<UFixed<16, 8>, Fixed<8, 4>>);
static_assert(std::is_convertible_v<UFixed<8, 4>, Fixed<9, 4>>);
static_assert(!std::is_convertible_v<UFixed<8, 4>, Fixed<8, 4>>);
static_assert(std::is_constructible_v<Fixed<8, 4>, UFixed<8, 4>>);
static_assert(std::is_convertible_v<UFixed<8, 4>, UFixed<8, 4, Round::Floor>>);
// Negative Frac: Fixed<8,-2> has 10 integer bits.
static_assert(std::is_convertible_v<Fixed<8, -2>, Fixed<10, 0>>);
static_assert(!std::is_convertible_v<Fixed<8, -2>, Fixed<9, 0>>);
static_assert(std::is_convertible_v<Fixed<8, 10>, Fixed<64, 60>>);
static_assert(!std::is_convertible_v<Fixed<8, 10>, Fixed<64, 1000>>);  // values below 2^-936 only
static_assert(!std::is_convertible_v<Fixed<64, 1000>, Fixed<64, 999>>);

// A Fixed-to-Fixed conversion in a constant expression, ties included.
static_assert(Fixed<8, 2>(Fixed<8, 4>::from_raw(6)).raw() == 2);  // 1.5 -> 2 (even)
static_assert(Fixed<8, 2>(Fixed<8, 4>::from_raw(10)).raw() == 2);  // 2.5 -> 2 (even)
static_assert(Fixed<8, 2, Round::NearestAway>(Fixed<8, 4>::from_raw(-6)).raw() == -2);
static_assert(Fixed<4, 0, Round::Floor, Overflow::Wrap>(Fixed<16, 0>::from_raw(17)).raw() == 1);

}  // namespace

TEST_CASE("Fixed to Fixed: every code of small formats, every mode", "[conversion][fixed]") {
  fixq_test::Tally tally;
  check_small(tally, std::make_index_sequence<std::size(small_sources)>{});
  tally.report();
  // 8 targets x 45 modes x every code of the sources (256+256+256+128+32+8+2+64 codes).
  CHECK(tally.comparisons == 8 * 45 * (256 + 256 + 256 + 128 + 32 + 8 + 2 + 64));
}

TEST_CASE("Fixed to Fixed: wide formats, random and boundary codes", "[conversion][fixed][wide]") {
  fixq_test::Tally tally;
  check_wide(tally, std::make_index_sequence<std::size(wide_sources)>{});
  tally.report();
  CHECK(tally.comparisons > 36 * 15 * 150);
}

TEST_CASE("Fixed to Fixed: at the limits of 32- and 64-bit arithmetic, every mode",
          "[conversion][fixed][wide]") {
  fixq_test::Tally tally;
  check_limits(tally, std::make_index_sequence<std::size(limit_pairs)>{});
  tally.report();
  CHECK(tally.comparisons > 36 * 10 * 150);
}

TEST_CASE("Fixed to Fixed: no trip through double", "[conversion][fixed]") {
  // 2^53 + 1 and 2^62 + 3 are not doubles: a conversion through double would
  // change them. (Compared as Fixed, so a failure prints value, code and hex.)
  const auto a = Fixed<64, 10>::from_raw((std::int64_t{1} << 53) + 1);
  CHECK(Fixed<64, 10, Round::Floor>(a) == a);
  CHECK(Fixed<64, 12>(a) == Fixed<64, 12>::from_raw((std::int64_t{1} << 55) + 4));
  const auto b = Fixed<64, 0>::from_raw((std::int64_t{1} << 62) + 3);
  CHECK(Fixed<63, -1, Round::Floor>(b) == Fixed<63, -1>::from_raw((std::int64_t{1} << 61) + 1));
  CHECK(Fixed<63, -1, Round::Ceil>(b) == Fixed<63, -1>::from_raw((std::int64_t{1} << 61) + 2));
  CHECK(Fixed<63, -1>(b) == Fixed<63, -1>::from_raw((std::int64_t{1} << 61) + 2));  // 1.5 -> 2
  const auto c = UFixed<64, 0>::from_raw(~std::uint64_t{0});
  CHECK(UFixed<64, 1, Round::Floor, Overflow::Wrap>(c).raw() == ~std::uint64_t{0} - 1);
  CHECK(Fixed<64, -1, Round::Floor>(c) == Fixed<64, -1>::max());
}

TEST_CASE("implicit conversion only when lossless, SaturateSymmetric targets included", "[fixed_to_fixed]") {
  using fixq::Fixed;
  using fixq::Overflow;
  using fixq::Round;
  using Sym84 = Fixed<8, 4, Round::NearestEven, Overflow::SaturateSymmetric>;
  using Sym94 = Fixed<9, 4, Round::NearestEven, Overflow::SaturateSymmetric>;
  // Fixed<8,4>::lowest() becomes -max in Sym84: lossy, so explicit.
  STATIC_REQUIRE(!std::is_convertible_v<Fixed<8, 4>, Sym84>);
  STATIC_REQUIRE(std::is_constructible_v<Sym84, Fixed<8, 4>>);
  CHECK(Sym84(Fixed<8, 4>::lowest()).raw() == -127);
  // One more integer bit makes every value fit.
  STATIC_REQUIRE(std::is_convertible_v<Fixed<8, 4>, Sym94>);
  const Sym94 widened = Fixed<8, 4>::lowest();
  CHECK(widened.raw() == -128);
  STATIC_REQUIRE(std::is_convertible_v<fixq::UFixed<8, 4>, Sym94>);
  STATIC_REQUIRE(!std::is_convertible_v<std::int8_t, Fixed<8, 0, Round::NearestEven, Overflow::SaturateSymmetric>>);
  STATIC_REQUIRE(std::is_convertible_v<std::int8_t, Fixed<9, 0, Round::NearestEven, Overflow::SaturateSymmetric>>);
}
