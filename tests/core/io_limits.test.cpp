// Text output (include/fixq/core/io.hpp), std::hash and std::numeric_limits
// (include/fixq/core/limits.hpp).
//
// Exact decimal text is checked three independent ways: literal strings for a
// few values; a big-integer parser written here that proves a string equals
// code * 2^-frac exactly and has the minimal number of decimals; and glibc's
// printf, which prints the exact binary value of a double or long double when
// asked for enough decimals.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/core.hpp>
#include <fixq/random.hpp>

namespace {

using fixq::Fixed;
using fixq::int128;
using fixq::Overflow;
using fixq::Round;
using fixq::UFixed;
using fixq::uint128;

// ---------------------------------------------------------------------------
// A minimal unsigned big integer (base 2^32, least significant limb first).
struct Big {
  std::vector<std::uint32_t> limbs;  // no leading zero limbs; empty is 0

  static Big of(uint128 v) {
    Big b;
    for (; v != 0; v >>= 32) b.limbs.push_back(static_cast<std::uint32_t>(v));
    return b;
  }
  void mul_add(std::uint32_t k, std::uint32_t add) {
    std::uint64_t carry = add;
    for (auto& l : limbs) {
      const std::uint64_t t = static_cast<std::uint64_t>(l) * k + carry;
      l = static_cast<std::uint32_t>(t);
      carry = t >> 32;
    }
    if (carry != 0) limbs.push_back(static_cast<std::uint32_t>(carry));
  }
  void shift_left(int bits) {  // times 2^bits
    if (limbs.empty()) return;
    limbs.insert(limbs.begin(), static_cast<std::size_t>(bits / 32), 0u);
    if (bits % 32 != 0) mul_add(std::uint32_t{1} << (bits % 32), 0);
  }
  void times_pow10(int d) {
    for (; d >= 9; d -= 9) mul_add(1000000000u, 0);
    for (; d > 0; --d) mul_add(10, 0);
  }
  friend bool operator==(const Big&, const Big&) = default;
};

// Checks that `s` is the canonical exact decimal text of code * 2^-frac:
// optional '-', integer digits without leading zeros, and '.' with exactly as
// many decimals as the value needs (none for integers). Returns "" on success,
// otherwise what is wrong.
std::string check_exact_decimal(const std::string& s, int128 code, int frac) {
  if (code == 0) return s == "0" ? "" : "zero must print as \"0\"";
  std::size_t pos = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative != (code < 0)) return "wrong sign";
  if (negative) ++pos;
  const std::size_t dot = s.find('.');
  const std::string int_part = s.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
  const std::string frac_part = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (int_part.empty()) return "no integer digits";
  if (int_part.size() > 1 && int_part[0] == '0') return "leading zero";
  if (dot != std::string::npos && frac_part.empty()) return "dot without decimals";
  Big digits;
  for (char c : int_part + frac_part) {
    if (c < '0' || c > '9') return std::string("bad character '") + c + "'";
    digits.mul_add(10, static_cast<std::uint32_t>(c - '0'));
  }
  const uint128 mag = fixq::detail::magnitude(code);
  // The value m * 2^-frac with m = |code| = odd * 2^tz has exactly
  // max(0, frac - tz) decimals.
  const auto low = static_cast<std::uint64_t>(mag);
  const int tz = low != 0 ? std::countr_zero(low) : 64 + std::countr_zero(static_cast<std::uint64_t>(mag >> 64));
  const int decimals = frac - tz > 0 ? frac - tz : 0;
  if (static_cast<int>(frac_part.size()) != decimals)
    return "expected " + std::to_string(decimals) + " decimals, got " + std::to_string(frac_part.size());
  // digits / 10^d == m * 2^-frac  <=>  digits * 2^frac == m * 10^d (frac > 0)
  //                               <=>  digits == m * 2^-frac         (frac <= 0, d = 0)
  Big lhs = digits, rhs = Big::of(mag);
  if (frac > 0) {
    lhs.shift_left(frac);
    rhs.times_pow10(decimals);
  } else {
    rhs.shift_left(-frac);
  }
  return lhs == rhs ? "" : "digits do not equal the value";
}

// Self-check of the checker: it must reject near misses.
TEST_CASE("io: the exact-decimal checker rejects wrong strings", "[io]") {
  CHECK(check_exact_decimal("-0.3125", -5, 4) == "");
  CHECK(check_exact_decimal("0.3125", -5, 4) != "");      // sign
  CHECK(check_exact_decimal("-0.3126", -5, 4) != "");     // digit
  CHECK(check_exact_decimal("-0.31250", -5, 4) != "");    // trailing zero
  CHECK(check_exact_decimal("-.3125", -5, 4) != "");      // no integer digit
  CHECK(check_exact_decimal("-00.3125", -5, 4) != "");    // leading zero
  CHECK(check_exact_decimal("-0.312", -5, 4) != "");      // truncated
  CHECK(check_exact_decimal("40", 5, -3) == "");
  CHECK(check_exact_decimal("40.", 5, -3) != "");
  CHECK(check_exact_decimal("41", 5, -3) != "");
  CHECK(check_exact_decimal("-0", 0, 3) != "");
  CHECK(check_exact_decimal("2", 8, 2) == "");
  CHECK(check_exact_decimal("2.0", 8, 2) != "");
}

// ---------------------------------------------------------------------------
// Literal values (expected strings computed with Python's decimal module).

template <class Fx>
std::string streamed(const Fx& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

TEST_CASE("io: exact decimal text of known values", "[io]") {
  const Fixed<8, 4> a(-0.3);  // -4.8 LSB -> -5
  CHECK(fixq::to_string(a) == "-0.3125");
  CHECK(streamed(a) == "-0.3125");
  const Fixed<8, -3> b(40);
  CHECK(fixq::to_string(b) == "40");
  CHECK(streamed(b) == "40");
  CHECK(fixq::to_string(UFixed<64, 64>::max()) ==
        "0.9999999999999999999457898913757247782996273599565029144287109375");
  CHECK(fixq::to_string(UFixed<64, 0>::max()) == "18446744073709551615");
  CHECK(fixq::to_string(Fixed<8, 4>()) == "0");
  CHECK(fixq::to_string(Fixed<8, 4>::from_raw(1)) == "0.0625");
  CHECK(fixq::to_string(Fixed<8, 4>::from_raw(-1)) == "-0.0625");
  CHECK(fixq::to_string(Fixed<8, 4>::from_raw(-128)) == "-8");
  CHECK(fixq::to_string(Fixed<8, 4>::from_raw(127)) == "7.9375");
  CHECK(fixq::to_string(Fixed<8, 4>::from_raw(16)) == "1");
  CHECK(fixq::to_string(Fixed<8, 4>::from_raw(24)) == "1.5");
  CHECK(fixq::to_string(Fixed<8, -3>::max()) == "1016");
  CHECK(fixq::to_string(Fixed<8, -3>::lowest()) == "-1024");
  CHECK(fixq::to_string(Fixed<1, 0>::lowest()) == "-1");
  CHECK(fixq::to_string(UFixed<8, 8>::from_raw(1)) == "0.00390625");
  CHECK(fixq::to_string(Fixed<16, 1>::from_raw(-1)) == "-0.5");
  CHECK(fixq::to_string(Fixed<32, 40>::from_raw(3)) == "0.0000000000027284841053187847137451171875");
  CHECK(fixq::to_string(Fixed<63, 0>::lowest()) == "-4611686018427387904");
  CHECK(streamed(UFixed<16, -2, Round::Stochastic, Overflow::Throw>::from_raw(65535)) == "262140");
}

// Every code of a few small formats, through to_string and operator<<.
template <class Fx>
void check_all_codes() {
  const auto f = Fx::format();
  for (long long c = f.min_code(); c <= static_cast<long long>(f.max_code()); ++c) {
    const Fx x = Fx::from_raw(c);
    const std::string s = fixq::to_string(x);
    INFO(f.name() << " code " << c << " printed " << s);
    REQUIRE(check_exact_decimal(s, c, Fx::frac) == "");
    REQUIRE(streamed(x) == s);
  }
}

TEST_CASE("io: every code of small formats prints its exact value", "[io]") {
  check_all_codes<Fixed<8, 4>>();
  check_all_codes<UFixed<8, 8>>();
  check_all_codes<Fixed<8, 12>>();
  check_all_codes<Fixed<8, -3>>();
  check_all_codes<UFixed<10, 0>>();
  check_all_codes<Fixed<1, 5>>();
  check_all_codes<UFixed<1, -7>>();
  check_all_codes<Fixed<9, 1022>>();
}

// Random codes of up to 64 bits at fracs over the whole allowed range.
TEST_CASE("io: exact_decimal of random codes and fracs", "[io]") {
  fixq::RandomStream rng(2718);
  std::vector<int> fracs;
  for (int f = -70; f <= 140; ++f) fracs.push_back(f);
  for (int f : {-959, -700, -300, 300, 700, 1000, 1021, 1022}) fracs.push_back(f);
  auto random_code = [&](int bits, bool is_signed) -> int128 {
    const std::uint64_t r = (static_cast<std::uint64_t>(rng.next()) << 32) | rng.next();
    const std::uint64_t m = bits == 64 ? r : r & ((std::uint64_t{1} << bits) - 1);
    if (!is_signed) return m;
    return static_cast<int128>(static_cast<std::int64_t>(m));  // negative only when bits = 64
  };
  int checked = 0;
  for (int frac : fracs)
    for (int k = 0; k < 6; ++k) {
      const int bits = 1 + static_cast<int>(rng.next() % 64);
      int128 code = random_code(bits, k % 2 == 0);
      if (k == 3 && bits < 64) code = -code;
      const std::string s = fixq::detail::exact_decimal(code, frac);
      INFO("code " << static_cast<long long>(code) << " frac " << frac << " printed " << s);
      REQUIRE(check_exact_decimal(s, code, frac) == "");
      ++checked;
    }
  // The 64-bit extremes.
  for (int frac : fracs) {
    INFO("frac " << frac);
    REQUIRE(check_exact_decimal(fixq::detail::exact_decimal(-(int128{1} << 63), frac), -(int128{1} << 63), frac) == "");
    REQUIRE(check_exact_decimal(fixq::detail::exact_decimal((int128{1} << 64) - 1, frac), (int128{1} << 64) - 1, frac) == "");
  }
  CHECK(checked > 1000);
}

// glibc printf prints the exact binary value when given enough decimals; the
// trailing zeros it pads with are stripped here.
std::string printf_exact(long double v, int decimals) {
  std::vector<char> buf(static_cast<std::size_t>(decimals) + 400);
  std::snprintf(buf.data(), buf.size(), "%.*Lf", decimals, v);
  std::string s = buf.data();
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

TEST_CASE("io: agrees with glibc printf of the same value as a long double", "[io]") {
  fixq::RandomStream rng(31415);
  // 64-bit codes are exact in long double (64-bit significand); the exponent
  // range of long double covers every format.
  for (int frac = -959; frac <= 1022; frac += 7)
    for (int k = 0; k < 4; ++k) {
      const std::uint64_t r = (static_cast<std::uint64_t>(rng.next()) << 32) | rng.next();
      const int shift = static_cast<int>(rng.next() % 64);
      const int128 code = k % 2 == 0 ? int128{static_cast<std::int64_t>(r) >> shift} : int128{r >> shift};
      const long double v = std::ldexp(static_cast<long double>(code), -frac);
      INFO("code " << static_cast<long long>(code) << " frac " << frac);
      REQUIRE(fixq::detail::exact_decimal(code, frac) == printf_exact(v, frac > 0 ? frac : 0));
    }
}

// ---------------------------------------------------------------------------
// std::hash

template <class Fx>
void check_hash_consistent() {
  const std::hash<Fx> h;
  const auto f = Fx::format();
  std::unordered_set<Fx, std::hash<Fx>> set;
  for (long long c = f.min_code(); c <= static_cast<long long>(f.max_code()); ++c) {
    const Fx a = Fx::from_raw(c), b = Fx::from_raw(c);  // equal, separately made
    REQUIRE(a == b);
    REQUIRE(h(a) == h(b));
    set.insert(a);
    set.insert(b);
  }
  CHECK(set.size() == static_cast<std::size_t>(static_cast<long long>(f.max_code()) - f.min_code() + 1));
}

TEST_CASE("std::hash is consistent with equality and usable in unordered containers", "[limits]") {
  check_hash_consistent<Fixed<8, 4>>();
  check_hash_consistent<UFixed<8, 8>>();
  check_hash_consistent<Fixed<12, -2, Round::Stochastic, Overflow::Throw>>();
  // Values made by conversion: equal values land in the same bucket.
  std::unordered_set<Fixed<8, 4>> set;
  for (int k = 0; k < 2000; ++k) set.insert(Fixed<8, 4>(-8.0 + k * 0.008));
  CHECK(set.size() == 256);  // the step 0.008 < 1/16 visits every code once at least
  const std::hash<UFixed<64, 64>> h64;
  CHECK(h64(UFixed<64, 64>::max()) == h64(UFixed<64, 64>::from_raw(~std::uint64_t{0})));
}

// ---------------------------------------------------------------------------
// std::numeric_limits

template <Round R>
constexpr std::float_round_style style_of() {
  return std::numeric_limits<Fixed<8, 4, R>>::round_style;
}

TEST_CASE("numeric_limits<Fixed>", "[limits]") {
  using L = std::numeric_limits<Fixed<8, 4>>;
  static_assert(L::is_specialized);
  CHECK(L::min().raw() == 1);  // smallest positive: one LSB
  CHECK(L::min().to_double() == 0.0625);
  CHECK(L::lowest() == Fixed<8, 4>::lowest());
  CHECK(L::lowest().raw() == -128);
  CHECK(L::max() == Fixed<8, 4>::max());
  CHECK(L::max().raw() == 127);
  CHECK(L::epsilon().to_double() == 0.0625);
  CHECK(L::digits == 7);
  CHECK(L::radix == 2);
  CHECK(L::is_signed);
  CHECK_FALSE(L::is_integer);
  CHECK(L::is_exact);
  CHECK(L::is_bounded);
  CHECK_FALSE(L::has_infinity);
  CHECK_FALSE(L::has_quiet_NaN);
  CHECK_FALSE(L::is_iec559);
  CHECK_FALSE(L::is_modulo);  // Saturate
  CHECK_FALSE(L::traps);
  CHECK(L::round_style == std::round_to_nearest);  // NearestEven
  static_assert(L::max().raw() == 127 && L::min().raw() == 1);

  using U = std::numeric_limits<UFixed<8, 8>>;
  CHECK_FALSE(U::is_signed);
  CHECK(U::digits == 8);
  CHECK(U::lowest().raw() == 0);
  CHECK(U::max().raw() == 255);
  CHECK(U::min().raw() == 1);
  CHECK(U::epsilon().to_double() == 1.0 / 256);

  // Fixed<1,F> signed holds {-1, 0} LSBs: no positive value, so min() is 0.
  CHECK(std::numeric_limits<Fixed<1, 3>>::min().raw() == 0);
  CHECK(std::numeric_limits<Fixed<1, 3>>::lowest().raw() == -1);
  CHECK(std::numeric_limits<Fixed<1, 3>>::max().raw() == 0);
  CHECK(std::numeric_limits<Fixed<1, 3>>::digits == 0);
  CHECK(std::numeric_limits<UFixed<1, 3>>::min().raw() == 1);
  CHECK(std::numeric_limits<UFixed<1, 3>>::digits == 1);

  // Negative Frac: the LSB is larger than 1.
  CHECK(std::numeric_limits<Fixed<8, -3>>::min().to_double() == 8.0);
  CHECK(std::numeric_limits<Fixed<8, -3>>::epsilon().to_double() == 8.0);

  // Overflow modes.
  CHECK(std::numeric_limits<Fixed<8, 4, Round::Floor, Overflow::Wrap>>::is_modulo);
  CHECK(std::numeric_limits<UFixed<8, 4, Round::Floor, Overflow::Wrap>>::is_modulo);
  CHECK_FALSE(std::numeric_limits<Fixed<8, 4, Round::Floor, Overflow::Throw>>::is_modulo);
  CHECK(std::numeric_limits<Fixed<8, 4, Round::Floor, Overflow::Throw>>::traps);
  CHECK_FALSE(std::numeric_limits<Fixed<8, 4, Round::Floor, Overflow::Wrap>>::traps);
  CHECK_FALSE(std::numeric_limits<Fixed<8, 4, Round::Floor, Overflow::SaturateZero>>::traps);
  CHECK_FALSE(std::numeric_limits<Fixed<8, 4, Round::Floor, Overflow::SaturateSymmetric>>::is_modulo);

  // round_style for every Round mode.
  CHECK(style_of<Round::Floor>() == std::round_toward_neg_infinity);
  CHECK(style_of<Round::Ceil>() == std::round_toward_infinity);
  CHECK(style_of<Round::TowardZero>() == std::round_toward_zero);
  CHECK(style_of<Round::NearestTiesToPosInf>() == std::round_to_nearest);
  CHECK(style_of<Round::NearestTiesToNegInf>() == std::round_to_nearest);
  CHECK(style_of<Round::NearestAway>() == std::round_to_nearest);
  CHECK(style_of<Round::NearestTiesToZero>() == std::round_to_nearest);
  CHECK(style_of<Round::NearestEven>() == std::round_to_nearest);
  CHECK(style_of<Round::NearestOdd>() == std::round_to_nearest);
  CHECK(style_of<Round::Stochastic>() == std::round_indeterminate);
}

// digits and digits10 match the standard integer types of the same width, and
// floor(digits * log10(2)) for every width.
// (The checks are a plain function of the values, so that the 64 widths only
// instantiate the numeric_limits they read.)
struct Digits {
  int word, s_digits, u_digits, s_digits10, u_digits10;
};
void check_digits(const Digits& d) {
  INFO("Word " << d.word);
  CHECK(d.s_digits == d.word - 1);
  CHECK(d.u_digits == d.word);
  CHECK(d.s_digits10 == static_cast<int>(std::floor((d.word - 1) * std::log10(2.0L))));
  CHECK(d.u_digits10 == static_cast<int>(std::floor(d.word * std::log10(2.0L))));
}
template <int W>
Digits digits_of() {
  using S = std::numeric_limits<Fixed<W, 0>>;
  using U = std::numeric_limits<UFixed<W, 0>>;
  return {W, S::digits, U::digits, S::digits10, U::digits10};
}
template <int... W>
void check_all_digits(std::integer_sequence<int, W...>) {
  (check_digits(digits_of<W + 1>()), ...);
}

TEST_CASE("numeric_limits<Fixed>::digits and digits10", "[limits]") {
  check_all_digits(std::make_integer_sequence<int, 64>{});
  CHECK(std::numeric_limits<Fixed<8, 3>>::digits10 == std::numeric_limits<std::int8_t>::digits10);
  CHECK(std::numeric_limits<UFixed<16, 3>>::digits10 == std::numeric_limits<std::uint16_t>::digits10);
  CHECK(std::numeric_limits<Fixed<32, 3>>::digits10 == std::numeric_limits<std::int32_t>::digits10);
  CHECK(std::numeric_limits<UFixed<64, 3>>::digits10 == std::numeric_limits<std::uint64_t>::digits10);
  CHECK(std::numeric_limits<Fixed<64, 3>>::digits10 == std::numeric_limits<std::int64_t>::digits10);
  CHECK(std::numeric_limits<UFixed<64, 64>>::max() == UFixed<64, 64>::max());
  CHECK(std::numeric_limits<UFixed<64, 64>>::min().raw() == 1u);
}

// ---------------------------------------------------------------------------
// Signed Word 64 (kept last: see the report about Format::min_code).
TEST_CASE("io and limits: signed Word 64", "[io][limits][word64]") {
  CHECK(fixq::to_string(Fixed<64, 0>::lowest()) == "-9223372036854775808");
  CHECK(fixq::to_string(Fixed<64, 0>::max()) == "9223372036854775807");
  CHECK(fixq::to_string(Fixed<64, 63>::lowest()) == "-1");
  CHECK(streamed(Fixed<64, 64>::lowest()) == "-0.5");
  using L = std::numeric_limits<Fixed<64, 10>>;
  CHECK(L::lowest().raw() == std::numeric_limits<std::int64_t>::min());
  CHECK(L::max().raw() == std::numeric_limits<std::int64_t>::max());
  CHECK(L::min().raw() == 1);
  CHECK(L::digits == 63);
}

}  // namespace
