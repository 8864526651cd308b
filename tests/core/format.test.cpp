// fixq::Format (include/fixq/core/format.hpp): validation, code limits, LSB,
// value limits, names and operator<< (core/io.hpp); the names of the modes;
// Fixed's storage types.
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <catch2/catch.hpp>

#include <fixq/core.hpp>

namespace {

using fixq::Fixed;
using fixq::Format;
using fixq::int128;
using fixq::Overflow;
using fixq::Round;
using fixq::UFixed;

// The message of the std::invalid_argument thrown by f.validate() ("" if none).
/// The message of the std::invalid_argument that constructing Format{word, frac,
/// is_signed} throws, or "" when it does not throw.
std::string construct_message(int word, int frac, bool is_signed) {
  try {
    (void)Format{word, frac, is_signed};
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------------------
// The constructor validates; validate() checks fields changed later; valid().

TEST_CASE("Format accepts the formats within the limits", "[format]") {
  const Format good[] = {{1, 0, true},     {1, 0, false},    {8, 4, true},     {64, 0, true},
                         {64, 64, false},  {64, 1022, true}, {1, 1022, false}, {8, 100, true},
                         {8, -1015, true}, {64, -959, true}, {64, -959, false}, {32, -5, false}};
  for (const Format& f : good) {
    INFO(f.name());
    CHECK(Format::valid(f.word, f.frac));
    CHECK_NOTHROW(f.validate());
    CHECK(&f.validate() == &f);  // returns itself, for chaining
  }
  static_assert(Format{8, 4, true}.validate().word == 8);  // usable in constant expressions
  static_assert(Format{8, 4}.is_signed);                    // signed unless said otherwise
  static_assert(Format::valid(64, -959));
  static_assert(!Format::valid(0, 0));
  // There is no default format (tests/compile_fail/format_default.cpp).
  static_assert(!std::is_default_constructible_v<Format>);
}

TEST_CASE("Format's constructor and validate() name the bad field and its value", "[format]") {
  struct Bad {
    int word, frac;
    bool is_signed;
    std::string names[2];  // substrings the message must contain
  };
  const Bad bad[] = {
      {0, 0, true, {"word = 0", "[1, 64]"}},
      {65, 0, true, {"word = 65", "[1, 64]"}},
      {-3, 0, false, {"word = -3", "[1, 64]"}},
      {8, 1023, true, {"frac = 1023", "1022"}},
      {64, 5000, false, {"frac = 5000", "1022"}},
      {1, -1023, true, {"frac = -1023", "word - frac"}},   // word - frac = 1024
      {64, -960, true, {"frac = -960", "word - frac"}},    // word - frac = 1024
      {8, -2000, false, {"frac = -2000", "word = 8"}},
  };
  for (const Bad& b : bad) {
    INFO("word " << b.word << " frac " << b.frac);
    CHECK_FALSE(Format::valid(b.word, b.frac));
    const std::string msg = construct_message(b.word, b.frac, b.is_signed);
    INFO("what(): " << msg);
    for (const std::string& part : b.names) CHECK(msg.find(part) != std::string::npos);
    // validate() gives the same message for a valid Format changed afterwards.
    Format f{8, 0, b.is_signed};
    f.word = b.word;
    f.frac = b.frac;
    try {
      f.validate();
      FAIL_CHECK("validate() did not throw");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()) == msg);
    }
  }
}

TEST_CASE("Format::valid agrees with the constructor and with the stated limits everywhere", "[format]") {
  for (int word = -2; word <= 67; ++word)
    for (int frac = -1030; frac <= 1030; ++frac) {
      const bool expected = word >= 1 && word <= 64 && frac <= 1022 && word - frac <= 1023;
      const bool throws = !construct_message(word, frac, word % 2 == 0).empty();
      if (Format::valid(word, frac) != expected || throws == expected) {
        FAIL_CHECK("word " << word << " frac " << frac << ": valid() " << Format::valid(word, frac)
                           << ", the constructor throws " << throws << ", expected valid " << expected);
      }
    }
}

// ---------------------------------------------------------------------------
// Code limits, against 128-bit arithmetic written here.

TEST_CASE("Format::min_code / max_code for every word, signed and unsigned", "[format]") {
  // Spot values.
  CHECK(Format{1, 0, true}.min_code() == -1);
  CHECK(Format{1, 0, true}.max_code() == 0u);
  CHECK(Format{1, 0, false}.min_code() == 0);
  CHECK(Format{1, 0, false}.max_code() == 1u);
  CHECK(Format{8, 3, true}.min_code() == -128);
  CHECK(Format{8, 3, true}.max_code() == 127u);
  CHECK(Format{8, 3, false}.max_code() == 255u);
  CHECK(Format{63, 0, true}.min_code() == -(std::int64_t{1} << 62));
  CHECK(Format{63, 0, true}.max_code() == (std::uint64_t{1} << 62) - 1);
  CHECK(Format{63, 0, false}.max_code() == (std::uint64_t{1} << 63) - 1);
  CHECK(Format{64, 0, false}.min_code() == 0);
  CHECK(Format{64, 0, false}.max_code() == std::numeric_limits<std::uint64_t>::max());
  CHECK(Format{64, 0, true}.max_code() == static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  static_assert(Format{64, 0, false}.max_code() == ~std::uint64_t{0});

  // Every word: min = -2^(w-1), max = 2^(w-1) - 1 signed; 0 and 2^w - 1 unsigned.
  for (int w = 1; w <= 64; ++w) {
    INFO("word " << w);
    const int128 smin = -(int128{1} << (w - 1)), smax = (int128{1} << (w - 1)) - 1;
    const int128 umax = (int128{1} << w) - 1;
    const Format u{w, 7, false};
    CHECK(u.min_code() == 0);
    CHECK(static_cast<int128>(u.max_code()) == umax);
    CHECK(u.min_code_wide() == 0);
    CHECK(u.max_code_wide() == umax);
    CHECK(u.int_bits() == w - 7);
    if (w < 64) {  // signed Word 64 has its own test case at the end of the file
      const Format s{w, -3, true};
      CHECK(static_cast<int128>(s.min_code()) == smin);
      CHECK(static_cast<int128>(s.max_code()) == smax);
      CHECK(s.min_code_wide() == smin);
      CHECK(s.max_code_wide() == smax);
      CHECK(s.int_bits() == w + 3);
    }
  }
}

// ---------------------------------------------------------------------------
// LSB and value limits.

TEST_CASE("Format::lsb, min_value, max_value", "[format]") {
  CHECK(Format{8, 4, true}.lsb() == 0.0625);
  CHECK(Format{8, 0, true}.lsb() == 1.0);
  CHECK(Format{8, -3, true}.lsb() == 8.0);
  CHECK(Format{8, 1022, true}.lsb() == std::numeric_limits<double>::min());  // 2^-1022
  CHECK(Format{64, -959, true}.lsb() == std::ldexp(1.0, 959));
  CHECK(Format{8, -1015, true}.lsb() == std::ldexp(1.0, 1015));
  for (int frac = -1022; frac <= 1022; ++frac) {
    INFO("frac " << frac);
    REQUIRE(Format{1, frac, false}.lsb() == std::ldexp(1.0, -frac));
  }
  // pow2 also covers the subnormal exponents down to -1074.
  CHECK(Format::pow2(-1074) == std::numeric_limits<double>::denorm_min());
  CHECK(Format::pow2(-1030) == std::ldexp(1.0, -1030));
  CHECK(Format::pow2(1023) == std::ldexp(1.0, 1023));
  static_assert(Format{8, 4, true}.lsb() == 0.0625);

  CHECK(Format{8, 4, true}.min_value() == -8.0);
  CHECK(Format{8, 4, true}.max_value() == 7.9375);
  CHECK(Format{8, 4, false}.min_value() == 0.0);
  CHECK(Format{8, 4, false}.max_value() == 15.9375);
  CHECK(Format{1, 0, true}.min_value() == -1.0);
  CHECK(Format{1, 0, true}.max_value() == 0.0);
  CHECK(Format{16, -2, false}.max_value() == 65535.0 * 4);
  CHECK(Format{8, 100, true}.max_value() == std::ldexp(127.0, -100));
  // More than 53 significant bits: rounded to the nearest double, still finite
  // at the largest allowed scale.
  CHECK(Format{64, 0, false}.max_value() == 0x1p64);
  CHECK(Format{64, 64, false}.max_value() == 1.0);
  CHECK(Format{64, -959, false}.max_value() == 0x1p1023);
  CHECK(std::isfinite(Format{64, -959, false}.max_value()));
  CHECK(Format{8, -1015, true}.max_value() == std::ldexp(127.0, 1015));
  CHECK(Format{8, -1015, true}.min_value() == -0x1p1022);
}

// ---------------------------------------------------------------------------
// Names, Fixed::format(), equality.

TEST_CASE("Format::name and Fixed<...>::format()", "[format]") {
  CHECK(Format{8, 4, true}.name() == "Fixed<8,4>");
  CHECK(Format{16, -2, false}.name() == "UFixed<16,-2>");
  CHECK(Format{64, 1022, true}.name() == "Fixed<64,1022>");
  CHECK(Format{1, 0, false}.name() == "UFixed<1,0>");

  CHECK(Fixed<8, 4>::format() == Format{8, 4, true});
  CHECK(UFixed<16, -2>::format() == Format{16, -2, false});
  CHECK(Fixed<64, 1022, Round::Floor, Overflow::Wrap>::format() == Format{64, 1022, true});
  CHECK(Fixed<8, 4>::format().name() == "Fixed<8,4>");
  CHECK(UFixed<16, -2, Round::Stochastic, Overflow::Throw>::format().name() == "UFixed<16,-2>");
  static_assert(Fixed<12, 20>::format().word == 12 && Fixed<12, 20>::format().frac == 20 &&
                Fixed<12, 20>::format().is_signed);
  static_assert(Fixed<12, 20>::word == 12 && Fixed<12, 20>::frac == 20 && !UFixed<12, 20>::is_signed);
  CHECK(Fixed<8, 4>::lsb() == 0.0625);

  // Equality compares all three fields.
  CHECK(Format{8, 4, true} == Format{8, 4, true});
  CHECK(Format{8, 4, true} != Format{8, 4, false});
  CHECK(Format{8, 4, true} != Format{8, 5, true});
  CHECK(Format{8, 4, true} != Format{9, 4, true});
}

TEST_CASE("operator<< writes Format::name()", "[format]") {
  std::ostringstream os;
  os << Format{8, 4} << " " << Format{16, -2, false} << " " << Format{64, 1022} << " " << Format{1, 0, false};
  CHECK(os.str() == "Fixed<8,4> UFixed<16,-2> Fixed<64,1022> UFixed<1,0>");
  // Exactly name(), also for a format made from a Fixed type.
  std::ostringstream q;
  q << UFixed<12, 20, Round::Floor>::format();
  CHECK(q.str() == UFixed<12, 20>::format().name());
  CHECK(q.str() == "UFixed<12,20>");
}

TEST_CASE("to_string(Round) and to_string(Overflow)", "[format]") {
  CHECK(fixq::to_string(Round::Floor) == "Floor");
  CHECK(fixq::to_string(Round::Ceil) == "Ceil");
  CHECK(fixq::to_string(Round::TowardZero) == "TowardZero");
  CHECK(fixq::to_string(Round::NearestTiesToPosInf) == "NearestTiesToPosInf");
  CHECK(fixq::to_string(Round::NearestTiesToNegInf) == "NearestTiesToNegInf");
  CHECK(fixq::to_string(Round::NearestAway) == "NearestAway");
  CHECK(fixq::to_string(Round::NearestTiesToZero) == "NearestTiesToZero");
  CHECK(fixq::to_string(Round::NearestEven) == "NearestEven");
  CHECK(fixq::to_string(Round::NearestOdd) == "NearestOdd");
  CHECK(fixq::to_string(Round::Stochastic) == "Stochastic");
  CHECK(fixq::to_string(Overflow::Saturate) == "Saturate");
  CHECK(fixq::to_string(Overflow::SaturateSymmetric) == "SaturateSymmetric");
  CHECK(fixq::to_string(Overflow::SaturateZero) == "SaturateZero");
  CHECK(fixq::to_string(Overflow::Wrap) == "Wrap");
  CHECK(fixq::to_string(Overflow::Throw) == "Throw");
  static_assert(fixq::to_string(Round::NearestEven) == "NearestEven");
  // A value outside the enumerators.
  CHECK(fixq::to_string(static_cast<Round>(200)) == "?");
  CHECK(fixq::to_string(static_cast<Overflow>(200)) == "?");

  // all_rounds / all_overflows list every mode once, and the names are distinct.
  std::set<std::string_view> rounds, overflows;
  for (Round r : fixq::all_rounds) rounds.insert(fixq::to_string(r));
  for (Overflow o : fixq::all_overflows) overflows.insert(fixq::to_string(o));
  CHECK(std::size(fixq::all_rounds) == 10);
  CHECK(rounds.size() == 10);
  CHECK(std::size(fixq::all_overflows) == 5);
  CHECK(overflows.size() == 5);
  CHECK(rounds.count("?") == 0);
  CHECK(overflows.count("?") == 0);
}

// ---------------------------------------------------------------------------
// Storage: the smallest standard integer holding Word bits.
static_assert(std::is_same_v<Fixed<1, 0>::storage_type, std::int8_t>);
static_assert(std::is_same_v<Fixed<8, 4>::storage_type, std::int8_t>);
static_assert(std::is_same_v<Fixed<9, 4>::storage_type, std::int16_t>);
static_assert(std::is_same_v<Fixed<16, 3>::storage_type, std::int16_t>);
static_assert(std::is_same_v<Fixed<17, 3>::storage_type, std::int32_t>);
static_assert(std::is_same_v<Fixed<32, 3>::storage_type, std::int32_t>);
static_assert(std::is_same_v<Fixed<33, 3>::storage_type, std::int64_t>);
static_assert(std::is_same_v<Fixed<64, 3>::storage_type, std::int64_t>);
static_assert(std::is_same_v<UFixed<1, 0>::storage_type, std::uint8_t>);
static_assert(std::is_same_v<UFixed<8, 8>::storage_type, std::uint8_t>);
static_assert(std::is_same_v<UFixed<9, 8>::storage_type, std::uint16_t>);
static_assert(std::is_same_v<UFixed<24, 8>::storage_type, std::uint32_t>);
static_assert(std::is_same_v<UFixed<33, 8>::storage_type, std::uint64_t>);
static_assert(std::is_same_v<UFixed<64, 64>::storage_type, std::uint64_t>);
static_assert(sizeof(Fixed<16, 3>) == 2);
static_assert(sizeof(Fixed<8, 100>) == 1);
static_assert(sizeof(UFixed<24, -5>) == 4);
static_assert(sizeof(Fixed<40, 20, Round::Stochastic, Overflow::Throw>) == 8);
static_assert(std::is_trivially_copyable_v<Fixed<16, 3>>);

TEST_CASE("storage: raw() has the storage type; a default Fixed is zero", "[format]") {
  CHECK(std::is_same_v<decltype(Fixed<12, 4>{}.raw()), std::int16_t>);
  CHECK(Fixed<12, 4>{}.raw() == 0);
  CHECK(UFixed<64, 64>{}.raw() == 0u);
}

// ---------------------------------------------------------------------------
// Signed Word 64: min_code = INT64_MIN. Kept last: this is where the library's
// -2^63 computation is exercised (see the report).
TEST_CASE("Format::min_code for signed Word 64 is INT64_MIN", "[format][word64]") {
  const Format f{64, 0, true};
  CHECK(f.min_code() == std::numeric_limits<std::int64_t>::min());
  CHECK(f.min_code_wide() == -(int128{1} << 63));
  CHECK(f.max_code_wide() == (int128{1} << 63) - 1);
  CHECK(Format{64, -959, true}.min_value() == -0x1p1022);
  CHECK(f.min_value() == -0x1p63);
  CHECK(f.max_value() == 0x1p63);  // 2^63 - 1 rounds to 2^63
}

}  // namespace
