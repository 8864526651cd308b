// Special inputs and the edges of the API:
//  - NaN, +inf, -inf, -0.0 from float, double and long double under every
//    Overflow mode, several Round modes, signed and unsigned formats;
//  - Fixed::from_raw's range check and its message;
//  - the messages of Overflow::Throw;
//  - SaturateSymmetric never producing the min code.
// The rules (include/fixq/core/convert.hpp): NaN -> 0 (Throw: throws);
// +-inf -> overflow high/low, except that Wrap saturates: Saturate and Wrap
// give max/min, SaturateSymmetric +-max, SaturateZero 0, Throw throws;
// -0.0 -> 0.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
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

// Code limits from the definition (not through Format): lo_code / hi_code in
// support/int128_reference.hpp.
using fixq_test::hi_code;
using fixq_test::lo_code;

// The numbers that appear in a message, as text ("-3", "1.500000", "1e+40").
std::vector<std::string> number_tokens(const std::string& msg) {
  std::vector<std::string> out;
  const char* p = msg.c_str();
  while (*p != 0) {
    const bool starts = (*p >= '0' && *p <= '9') || (*p == '-' && p[1] >= '0' && p[1] <= '9');
    if (!starts) {
      ++p;
      continue;
    }
    char* end = nullptr;
    std::strtod(p, &end);
    out.emplace_back(p, static_cast<const char*>(end));
    p = end;
  }
  return out;
}
// True when some number in the message is `v` to a relative 1e-6.
bool names_value(const std::string& msg, double v) {
  for (const std::string& t : number_tokens(msg)) {
    const double x = std::strtod(t.c_str(), nullptr);
    if (x == v || std::fabs(x - v) <= 1e-6 * std::fabs(v)) return true;
  }
  return false;
}
// True when some number in the message is exactly the integer `c`.
bool names_integer(const std::string& msg, long long c) {
  for (const std::string& t : number_tokens(msg))
    if (t == std::to_string(c)) return true;
  return false;
}

// The special inputs, in this order: three NaNs (one negative, one
// signaling), +inf, -inf, +0, -0.
enum Input { NaN1, NaN2, NaN3, PosInf, NegInf, PosZero, NegZero, InputCount };
const char* const input_names[] = {"NaN", "-NaN", "sNaN", "+inf", "-inf", "+0", "-0"};

struct Outcome {
  bool threw = false;
  std::string what;  // message when it threw
  int128 code = 0;   // code when it did not
  bool positive_zero_value = true;
  bool same_via_default_stream = true;
  bool one_draw = true;
};

// The only templated part (kept small: it is instantiated for every format,
// mode and input type): convert each input through an explicit stream and
// through the default stream, which is set to the same position.
template <class Fx, class T>
std::vector<Outcome> outcomes() {
  using L = std::numeric_limits<T>;
  const T inputs[] = {L::quiet_NaN(), std::copysign(L::quiet_NaN(), T(-1)), L::signaling_NaN(),
                      L::infinity(), -L::infinity(), T(0), -T(0)};
  std::vector<Outcome> out(InputCount);
  RandomStream rng(17, 3);
  for (int i = 0; i < InputCount; ++i) {
    Outcome& o = out[static_cast<std::size_t>(i)];
    const std::uint64_t before = rng.index();
    RandomStream twin(17, before);
    try {
      const Fx a(inputs[i], rng);
      o.code = a.raw();
      // a stochastic type takes one draw per conversion; a deterministic one none
      o.one_draw = rng.index() == before + (Fx::rounding == fixq::Round::Stochastic ? 1 : 0);
      o.positive_zero_value = !std::signbit(a.to_double()) && !std::signbit(a.to_float());
      o.same_via_default_stream = Fx(inputs[i], twin).raw() == a.raw();
    } catch (const fixq::overflow_error& e) {
      o.threw = true;
      o.what = e.what();
      rng = RandomStream(17, before + 1);
    }
  }
  return out;
}

// Checks the outcomes against the rules for the format and overflow mode.
void check_outcomes(const std::vector<Outcome>& out, const fixq::Format& f, Overflow o, const char* type) {
  const int128 hi = hi_code(f.word, f.is_signed);
  const int128 lo = lo_code(f.word, f.is_signed);
  for (int i = 0; i < InputCount; ++i) {
    const Outcome& r = out[static_cast<std::size_t>(i)];
    INFO(f.name() << " " << fixq::to_string(o) << ", " << input_names[i] << " as " << type
                  << (r.threw ? ", threw: " + r.what : ""));
    const bool is_nan = i <= NaN3, is_inf = i == PosInf || i == NegInf;
    if (o == Overflow::Throw && (is_nan || is_inf)) {
      CHECK(r.threw);
      CHECK(r.what.find(is_nan ? "NaN" : input_names[i]) != std::string::npos);
      CHECK(r.what.find(f.name()) != std::string::npos);
      continue;
    }
    REQUIRE_FALSE(r.threw);
    int128 expected = 0;
    if (is_inf) {
      const bool negative = i == NegInf;
      switch (o) {
        case Overflow::Saturate:
        case Overflow::Wrap: expected = negative ? lo : hi; break;  // Wrap saturates on infinities
        case Overflow::SaturateSymmetric: expected = negative ? (f.is_signed ? -hi : 0) : hi; break;
        case Overflow::SaturateZero:
        case Overflow::Throw: expected = 0; break;
      }
    }
    INFO("code " << static_cast<long long>(r.code) << ", expected " << static_cast<long long>(expected));
    CHECK(r.code == expected);
    CHECK(r.one_draw);
    CHECK(r.same_via_default_stream);
    if (expected == 0) CHECK(r.positive_zero_value);
  }
}

template <class Fx>
void check_specials() {
  INFO("Round::" << fixq::to_string(Fx::rounding));
  check_outcomes(outcomes<Fx, float>(), Fx::format(), Fx::overflow, "float");
  check_outcomes(outcomes<Fx, double>(), Fx::format(), Fx::overflow, "double");
  check_outcomes(outcomes<Fx, long double>(), Fx::format(), Fx::overflow, "long double");
}
template <int W, int F, bool S, Round R>
void check_specials_all_overflows() {
  check_specials<Fixed<W, F, R, Overflow::Saturate, S>>();
  check_specials<Fixed<W, F, R, Overflow::SaturateSymmetric, S>>();
  check_specials<Fixed<W, F, R, Overflow::SaturateZero, S>>();
  check_specials<Fixed<W, F, R, Overflow::Wrap, S>>();
  check_specials<Fixed<W, F, R, Overflow::Throw, S>>();
}
// Rounding plays no part for these inputs, so (to keep the build fast) the
// Round modes vary across formats rather than being crossed with all of them;
// Stochastic, which also takes a draw, is checked on several.
TEST_CASE("specials: NaN, +-inf and -0.0 under every Overflow mode", "[specials]") {
  check_specials_all_overflows<8, 4, true, Round::NearestEven>();
  check_specials_all_overflows<8, 4, true, Round::Floor>();
  check_specials_all_overflows<8, 4, true, Round::Stochastic>();
  check_specials_all_overflows<8, 4, false, Round::Ceil>();
  check_specials_all_overflows<8, 4, false, Round::Stochastic>();
  check_specials_all_overflows<64, 64, false, Round::NearestEven>();
  check_specials_all_overflows<16, -3, true, Round::NearestEven>();
  check_specials_all_overflows<1, 0, true, Round::NearestEven>();
  check_specials_all_overflows<1, 0, false, Round::TowardZero>();
  check_specials_all_overflows<32, 40, true, Round::NearestAway>();
  check_specials_all_overflows<20, 1022, true, Round::NearestEven>();
  check_specials_all_overflows<8, -1015, false, Round::NearestEven>();
  check_specials_all_overflows<64, -959, false, Round::Stochastic>();
  // fixq::overflow_error is a std::overflow_error.
  static_assert(std::is_base_of_v<std::overflow_error, fixq::overflow_error>);
  using Thrower = Fixed<8, 4, Round::NearestEven, Overflow::Throw>;
  CHECK_THROWS_AS(Thrower(std::nan("")), std::overflow_error);
}

// The same rules hold in constant evaluation (the exact path).
constexpr double inf_d = std::numeric_limits<double>::infinity();
constexpr double nan_d = std::numeric_limits<double>::quiet_NaN();
static_assert(Fixed<8, 4>(inf_d).raw() == 127);
static_assert(Fixed<8, 4>(-inf_d).raw() == -128);
static_assert(Fixed<8, 4, Round::Floor, Overflow::Wrap>(-inf_d).raw() == -128);
static_assert(Fixed<8, 4, Round::Floor, Overflow::SaturateSymmetric>(-inf_d).raw() == -127);
static_assert(Fixed<8, 4, Round::Floor, Overflow::SaturateZero>(inf_d).raw() == 0);
static_assert(Fixed<8, 4>(nan_d).raw() == 0);
static_assert(Fixed<8, 4>(-0.0).raw() == 0);
static_assert(UFixed<8, 4>(-inf_d).raw() == 0);
static_assert(UFixed<8, 4, Round::Floor, Overflow::Wrap>(inf_d).raw() == 255);

// ---------------------------------------------------------------------------
// from_raw

template <class Fx>
void check_from_raw_small() {
  const auto name = Fx::format().name();
  const long long lo = static_cast<long long>(lo_code<Fx>()), hi = static_cast<long long>(hi_code<Fx>());
  for (long long c = lo; c <= hi; ++c) {
    INFO(name << " code " << c);
    REQUIRE(Fx::from_raw(c).raw() == c);
  }
  const long long bad[] = {lo - 1, hi + 1, lo - 1000, hi + 1000, std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::int64_t>::max()};
  for (long long c : bad) {
    INFO(name << " code " << c);
    try {
      (void)Fx::from_raw(c);
      FAIL_CHECK("no exception");
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      INFO("what(): " << msg);
      CHECK(names_integer(msg, c));
      CHECK(msg.find(name) != std::string::npos);
    }
  }
}

TEST_CASE("from_raw accepts every in-range code and rejects the others by name", "[specials]") {
  check_from_raw_small<Fixed<1, 0>>();
  check_from_raw_small<Fixed<2, 5>>();
  check_from_raw_small<Fixed<5, 0>>();
  check_from_raw_small<Fixed<8, -3>>();
  check_from_raw_small<Fixed<12, 20>>();
  check_from_raw_small<UFixed<1, 0>>();
  check_from_raw_small<UFixed<4, 0>>();
  check_from_raw_small<UFixed<8, 8>>();
  check_from_raw_small<UFixed<13, -2>>();

  // The brief's examples, word for word.
  using F5 = Fixed<5, 0>;
  using U4 = UFixed<4, 0>;
  CHECK_THROWS_WITH(F5::from_raw(16), Catch::Contains("code 16") && Catch::Contains("Fixed<5,0>"));
  CHECK_THROWS_WITH(U4::from_raw(-1), Catch::Contains("code -1") && Catch::Contains("UFixed<4,0>"));
  CHECK_THROWS_AS(F5::from_raw(-17), std::invalid_argument);
  CHECK(F5::from_raw(-16).raw() == -16);
  CHECK(F5::from_raw(15).raw() == 15);

  // Wide formats, including the uint64_t overload of UFixed<64, F>.
  using U63 = UFixed<63, 0>;
  using U33 = UFixed<33, 0>;
  using U64 = UFixed<64, 0>;
  using S63 = Fixed<63, 0>;
  CHECK(U63::from_raw(std::numeric_limits<std::int64_t>::max()).raw() ==
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  CHECK_THROWS_AS(U63::from_raw(-1), std::invalid_argument);
  CHECK_THROWS_AS(U33::from_raw(std::int64_t{1} << 33), std::invalid_argument);
  CHECK(U64::from_raw(~std::uint64_t{0}).raw() == ~std::uint64_t{0});
  CHECK(U64::from_raw(std::uint64_t{5}).raw() == 5u);
  CHECK(U64::from_raw(std::int64_t{5}).raw() == 5u);
  CHECK_THROWS_AS(U64::from_raw(std::int64_t{-1}), std::invalid_argument);
  CHECK(S63::from_raw(-(std::int64_t{1} << 62)).raw() == -(std::int64_t{1} << 62));
  CHECK_THROWS_AS(S63::from_raw(-(std::int64_t{1} << 62) - 1), std::invalid_argument);
  CHECK_THROWS_AS(S63::from_raw(std::int64_t{1} << 62), std::invalid_argument);
  static_assert(Fixed<8, 4>::from_raw(-128).raw() == -128);
}

// ---------------------------------------------------------------------------
// Overflow::Throw messages name the value and the format.

template <class Fx, class V>
std::string overflow_message(const V& v) {
  try {
    (void)Fx(v);
  } catch (const fixq::overflow_error& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST_CASE("Throw: the message names the value and the format", "[specials]") {
  using T84 = Fixed<8, 4, Round::NearestEven, Overflow::Throw>;
  struct Case {
    std::string msg;
    double value;
    std::string format;
  };
  const Case cases[] = {
      {overflow_message<T84>(100.0), 100.0, "Fixed<8,4>"},
      {overflow_message<T84>(-8.0625f), -8.0625, "Fixed<8,4>"},
      {overflow_message<T84>(8.0L), 8.0, "Fixed<8,4>"},
      {overflow_message<UFixed<8, 0, Round::Floor, Overflow::Throw>>(-3.0), -3.0, "UFixed<8,0>"},
      {overflow_message<Fixed<16, -3, Round::NearestEven, Overflow::Throw>>(1e6), 1e6, "Fixed<16,-3>"},
      {overflow_message<Fixed<8, 0, Round::Floor, Overflow::Throw>>(1000), 1000.0, "Fixed<8,0>"},
      {overflow_message<Fixed<8, 0, Round::Floor, Overflow::Throw>>(Fixed<16, 0>::from_raw(-300)), -300.0, "Fixed<8,0>"},
      {overflow_message<UFixed<64, 0, Round::Floor, Overflow::Throw>>(1e20), 1e20, "UFixed<64,0>"},
  };
  for (const Case& c : cases) {
    INFO("what(): " << c.msg);
    CHECK(names_value(c.msg, c.value));
    CHECK(c.msg.find(c.format) != std::string::npos);
  }
  // NaN and the infinities say what they are.
  const std::string nan_msg = overflow_message<T84>(std::nan(""));
  CHECK(nan_msg.find("NaN") != std::string::npos);
  CHECK(nan_msg.find("Fixed<8,4>") != std::string::npos);
  const std::string inf_msg = overflow_message<T84>(-std::numeric_limits<double>::infinity());
  CHECK(inf_msg.find("-inf") != std::string::npos);
  // The exception is a std::overflow_error.
  CHECK_THROWS_AS(T84(100.0), std::overflow_error);
}

// Values far outside the word, and tiny values in formats with many fraction
// bits: the message must still name the value that overflowed.
TEST_CASE("Throw: the message names far-out and tiny values correctly", "[specials]") {
  {
    const std::string far = overflow_message<Fixed<8, 0, Round::NearestEven, Overflow::Throw>>(1e40);
    INFO("what(): " << far);
    CHECK(names_value(far, 1e40));
  }
  {
    const std::string tiny = overflow_message<Fixed<8, 40, Round::NearestEven, Overflow::Throw>>(0x1p-30);
    INFO("what(): " << tiny);
    CHECK(names_value(tiny, 0x1p-30));
  }
}

// ---------------------------------------------------------------------------
// SaturateSymmetric: the min code is never produced.

TEST_CASE("SaturateSymmetric maps in-range input equal to min to -max", "[specials]") {
  // (The unary + makes Catch print 8-bit codes as numbers, not characters.)
  using SS = Fixed<8, 4, Round::NearestEven, Overflow::SaturateSymmetric>;
  CHECK(+SS(-8.0).raw() == -127);
  CHECK(+SS(-8.0f).raw() == -127);
  CHECK(+SS(-8.0L).raw() == -127);
  CHECK(+SS(-7.97).raw() == -127);   // -127.52 LSB rounds to -128, then -127
  CHECK(+SS(-100.0).raw() == -127);
  CHECK(+SS(-7.9375).raw() == -127);  // -max itself
  CHECK(+SS(7.9375).raw() == 127);
  CHECK(+SS(-8).raw() == -127);       // integer input
  using SS0 = Fixed<8, 0, Round::Floor, Overflow::SaturateSymmetric>;
  CHECK(+SS0(std::int8_t{-128}).raw() == -127);
  CHECK(+SS0(-128).raw() == -127);
  CHECK(+SS0(Fixed<8, 0>::lowest()).raw() == -127);  // from another Fixed
  CHECK(+SS0(Fixed<16, 8>::from_raw(-128 * 256)).raw() == -127);
  CHECK(+SS0(-127.5).raw() == -127);  // Floor: -128, then -127
  // Every conversion of every code of Fixed<8,0> into a SaturateSymmetric
  // Fixed<8,0> is the identity except for min.
  for (int c = -128; c <= 127; ++c) REQUIRE(+SS0(Fixed<8, 0>::from_raw(c)).raw() == (c == -128 ? -127 : c));
  // Unsigned: the range is [0, max], and min = 0 is produced normally.
  using US = UFixed<8, 0, Round::NearestEven, Overflow::SaturateSymmetric>;
  CHECK(+US(0.0).raw() == 0);
  CHECK(+US(-5.0).raw() == 0);
  CHECK(+US(300.0).raw() == 255);
  // Wide signed formats below 64 bits.
  using SS40 = Fixed<40, 0, Round::NearestEven, Overflow::SaturateSymmetric>;
  CHECK(+SS40(-0x1p39).raw() == -((std::int64_t{1} << 39) - 1));
}

// ---------------------------------------------------------------------------
// Signed Word 64 (kept last: see the report about Format::min_code).

TEST_CASE("specials: signed Word 64", "[specials][word64]") {
  check_specials_all_overflows<64, 0, true, Round::NearestEven>();
  check_specials_all_overflows<64, 0, true, Round::Stochastic>();
  check_specials_all_overflows<64, 32, true, Round::Floor>();
  // from_raw at the ends.
  CHECK(Fixed<64, 0>::from_raw(std::numeric_limits<std::int64_t>::min()).raw() ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(Fixed<64, 0>::from_raw(std::numeric_limits<std::int64_t>::max()).raw() ==
        std::numeric_limits<std::int64_t>::max());
  // SaturateSymmetric at -2^63.
  using SS64 = Fixed<64, 0, Round::NearestEven, Overflow::SaturateSymmetric>;
  CHECK(SS64(-0x1p63L).raw() == -std::numeric_limits<std::int64_t>::max());
  CHECK(SS64(std::numeric_limits<std::int64_t>::min()).raw() == -std::numeric_limits<std::int64_t>::max());
  CHECK(SS64(-0x1p63).raw() == -std::numeric_limits<std::int64_t>::max());
}

}  // namespace
