// tests/support/reference.hpp - an independent, exact reference for conversions.
//
// The conversion tests compare the library against this file. It shares no code
// with the library's conversion path: it uses none of round_shift, rounds_up,
// round_div, narrow, code_from_*, to_floating, decompose, nor the library's
// int128 helpers. Only the vocabulary (fixq::Round, fixq::Overflow) is borrowed.
// It is written for obviousness, not speed:
//
//  * Numbers are arbitrary-size two's complement integers (BigInt below), so no
//    value is ever clamped, special-cased by size or approximated.
//  * An exact input is value = num * 2^exp (ExactValue). Floating-point inputs
//    are split with std::frexp / std::ldexp (the library uses bit patterns).
//  * split() / goes_up() follow the contract word for word: with x = value / lsb,
//    n = floor(x) and the remainder x - n written as the fraction rem / den,
//    each Round mode picks n or n + 1 by comparing 2*rem with den.
//  * apply_overflow() follows the Overflow contract word for word: clamp,
//    or reduce modulo 2^word.
//  * to_floating_ref() rounds code * 2^-frac to the nearest float/double with
//    ties to even by the same round_to_lsb() at the target's spacing (then
//    std::ldexp, which is exact there), and
//    to_floating_via_long_double() gets the same result a second, unrelated
//    way (exact long double, then one hardware rounding); the tests check that
//    the two references agree before trusting either.
//
// The end of the file holds the test harness shared by the conversion tests
// (run the library under every mode, count and report mismatches, the small
// formats and the input grids); only the harness uses the library's types.
#ifndef FIXQ_TESTS_SUPPORT_REFERENCE_HPP
#define FIXQ_TESTS_SUPPORT_REFERENCE_HPP

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <fixq/core.hpp>  // the reference itself uses only fixq::Round / fixq::Overflow

#include "support/int128.hpp"  // i128, u128, i128_text

namespace fixq_test {

// ---------------------------------------------------------------------------
// BigInt: an integer of any size in two's complement, 64-bit limbs, least
// significant first. The (infinite) two's complement expansion of the value is
// the limbs followed by copies of the sign bit, which makes floor(x / 2^k) the
// plain "drop the low k bits" (sar) and x * 2^k "append k zero bits" (shl).
// ---------------------------------------------------------------------------
class BigInt {
 public:
  BigInt() : limbs_{0} {}
  BigInt(i128 v)  // NOLINT: implicit on purpose, integers are BigInts
      : limbs_{static_cast<std::uint64_t>(static_cast<u128>(v)),
               static_cast<std::uint64_t>(static_cast<u128>(v) >> 64)} {
    normalize();
  }
  static BigInt from_unsigned(u128 v) {
    BigInt b;
    b.limbs_ = {static_cast<std::uint64_t>(v), static_cast<std::uint64_t>(v >> 64), 0};
    b.normalize();
    return b;
  }
  /// 2^k, k >= 0.
  static BigInt pow2(int k) { return BigInt(1).shl(k); }

  bool negative() const { return (limbs_.back() >> 63) != 0; }
  bool is_zero() const { return limbs_.size() == 1 && limbs_[0] == 0; }
  bool odd() const { return (limbs_[0] & 1) != 0; }

  /// x * 2^k (k >= 0): bit j of the result is bit j - k of x.
  BigInt shl(int k) const {
    BigInt r;
    r.limbs_.assign(limbs_.size() + static_cast<std::size_t>(k / 64) + 1, 0);
    for (std::size_t j = 0; j < r.limbs_.size(); ++j)
      r.limbs_[j] = bits_at(static_cast<long long>(j) * 64 - k);
    r.normalize();
    return r;
  }
  /// floor(x / 2^k) (k >= 0): bit j of the result is bit j + k of x.
  BigInt sar(int k) const {
    BigInt r;
    const std::size_t drop = static_cast<std::size_t>(k / 64);
    r.limbs_.assign(drop + 1 < limbs_.size() ? limbs_.size() - drop : 1, 0);
    for (std::size_t j = 0; j < r.limbs_.size(); ++j)
      r.limbs_[j] = bits_at(static_cast<long long>(j) * 64 + k);
    r.normalize();
    return r;
  }

  friend BigInt operator+(const BigInt& a, const BigInt& b) { return add(a, b, false); }
  friend BigInt operator-(const BigInt& a, const BigInt& b) { return add(a, b, true); }
  BigInt operator-() const { return BigInt(0) - *this; }

  /// Value order: limb by limb from the top, the top limb (which holds the sign)
  /// compared as a signed number and the others as unsigned digits.
  friend std::strong_ordering operator<=>(const BigInt& a, const BigInt& b) {
    const std::size_t n = std::max(a.limbs_.size(), b.limbs_.size());
    const auto top_a = static_cast<std::int64_t>(a.limb(n - 1));
    const auto top_b = static_cast<std::int64_t>(b.limb(n - 1));
    if (top_a != top_b) return top_a <=> top_b;
    for (std::size_t i = n - 1; i-- > 0;)
      if (a.limb(i) != b.limb(i)) return a.limb(i) <=> b.limb(i);
    return std::strong_ordering::equal;
  }
  friend bool operator==(const BigInt& a, const BigInt& b) { return (a <=> b) == 0; }

  /// True when the value fits a signed 128-bit integer.
  bool fits_i128() const { return limbs_.size() <= 2; }
  i128 to_i128() const {
    if (!fits_i128()) throw std::logic_error("reference BigInt does not fit 128 bits");
    return static_cast<i128>((static_cast<u128>(limb(1)) << 64) | limb(0));
  }
  std::string text() const {
    if (fits_i128()) return i128_text(to_i128());
    return std::string(negative() ? "-" : "") + "(about 2^" + std::to_string(limbs_.size() * 64) +
           ")";
  }

 private:
  std::vector<std::uint64_t> limbs_;

  /// a + b, or a - b as a + ~b + 1, one limb (and carry) at a time.
  static BigInt add(const BigInt& a, const BigInt& b, bool subtract) {
    BigInt r;
    const std::size_t n = std::max(a.limbs_.size(), b.limbs_.size()) + 1;
    r.limbs_.assign(n, 0);
    u128 carry = subtract ? 1 : 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t bi = subtract ? ~b.limb(i) : b.limb(i);
      const u128 s = static_cast<u128>(a.limb(i)) + bi + carry;
      r.limbs_[i] = static_cast<std::uint64_t>(s);
      carry = s >> 64;
    }
    r.normalize();
    return r;
  }
  std::uint64_t sign_fill() const { return negative() ? ~std::uint64_t{0} : 0; }
  std::uint64_t limb(std::size_t i) const { return i < limbs_.size() ? limbs_[i] : sign_fill(); }
  /// Bits p .. p+63 of the infinite expansion; positions below 0 read as 0.
  std::uint64_t bits_at(long long p) const {
    if (p <= -64) return 0;
    if (p < 0) return limb(0) << (-p);
    const auto q = static_cast<std::size_t>(p / 64);
    const int r = static_cast<int>(p % 64);
    if (r == 0) return limb(q);
    return (limb(q) >> r) | (limb(q + 1) << (64 - r));
  }
  /// Drop limbs that only repeat the sign.
  void normalize() {
    while (limbs_.size() > 1) {
      const std::uint64_t top = limbs_.back();
      const std::uint64_t below = limbs_[limbs_.size() - 2];
      const bool redundant = (top == 0 && (below >> 63) == 0) || (top == ~std::uint64_t{0} && (below >> 63) == 1);
      if (!redundant) break;
      limbs_.pop_back();
    }
  }
};

// ---------------------------------------------------------------------------
// Exact inputs: value = num * 2^exp, or NaN / an infinity.
// ---------------------------------------------------------------------------
enum class Kind { Finite, NaN, PlusInf, MinusInf };

struct ExactValue {
  Kind kind = Kind::Finite;
  BigInt num;
  int exp = 0;
};

/// A floating-point value, split by frexp: |v| = fr * 2^e with fr in [0.5, 1).
/// fr has at most `digits` significant bits (true for subnormals too, which have
/// fewer), so fr * 2^digits is an integer below 2^digits; ldexp makes it exactly.
template <class T>
  requires std::is_floating_point_v<T>
ExactValue exact(T v) {
  static_assert(std::numeric_limits<T>::digits <= 64, "mantissa must fit 64 bits");
  ExactValue x;
  if (std::isnan(v)) {
    x.kind = Kind::NaN;
    return x;
  }
  if (std::isinf(v)) {
    x.kind = v > 0 ? Kind::PlusInf : Kind::MinusInf;
    return x;
  }
  if (v == 0) return x;  // +0 and -0 are both exactly 0
  constexpr int digits = std::numeric_limits<T>::digits;
  int e = 0;
  const T fr = std::frexp(std::fabs(v), &e);
  const T scaled = std::ldexp(fr, digits);
  const auto mant = static_cast<std::uint64_t>(scaled);
  // Self-check: the split must give v back exactly.
  if (static_cast<T>(mant) != scaled || std::ldexp(static_cast<T>(mant), e - digits) != std::fabs(v))
    throw std::logic_error("reference: frexp split is not exact");
  x.num = v < 0 ? -BigInt::from_unsigned(mant) : BigInt::from_unsigned(mant);
  x.exp = e - digits;
  return x;
}

/// An integer value.
template <class I>
  requires std::is_integral_v<I>
ExactValue exact(I v) {
  ExactValue x;
  x.num = std::is_signed_v<I> ? BigInt(static_cast<i128>(v))
                              : BigInt::from_unsigned(static_cast<u128>(v));
  return x;
}

/// The value code * 2^-frac of a fixed-point code.
inline ExactValue exact_code(i128 code, int frac) {
  ExactValue x;
  x.num = BigInt(code);
  x.exp = -frac;
  return x;
}

// ---------------------------------------------------------------------------
// Rounding: the value as an integer number of LSBs 2^-frac, per the contract.
// ---------------------------------------------------------------------------

/// x = value / 2^-frac written as x = n + rem / den with n = floor(x), 0 <= rem < den.
struct Split {
  BigInt n;                   ///< floor(x)
  bool exact = true;          ///< rem == 0
  std::strong_ordering half = std::strong_ordering::less;  ///< 2 * rem <=> den
  bool x_negative = false;    ///< x < 0
};

inline Split split(const ExactValue& v, int frac) {
  if (v.kind != Kind::Finite) throw std::logic_error("reference split: not finite");
  Split s;
  s.x_negative = v.num.negative();  // the sign of x is the sign of num
  // x = num * 2^t in units of the LSB.
  const int t = v.exp + frac;
  if (t >= 0) {
    s.n = v.num.shl(t);  // x is an integer
    return s;
  }
  // x = num / den with den = 2^k.
  const int k = -t;
  const BigInt den = BigInt::pow2(k);
  s.n = v.num.sar(k);                   // floor(num / 2^k)
  const BigInt rem = v.num - s.n.shl(k);  // num - n * den
  if (rem.negative() || rem >= den) throw std::logic_error("reference split: bad floor");
  s.exact = rem.is_zero();
  s.half = rem.shl(1) <=> den;
  return s;
}

/// Whether mode r rounds x = n + rem/den up to n + 1 (else down to n). Written
/// from the contract, one line per mode; r must not be Stochastic.
inline bool goes_up(const Split& s, fixq::Round r) {
  using fixq::Round;
  if (s.exact) return false;  // every mode returns an integer x unchanged
  const bool tie = s.half == 0, above = s.half > 0;
  // At a tie x = n + 1/2, so x > 0 exactly when n >= 0.
  const bool tie_positive = !s.n.negative();
  switch (r) {
    case Round::Floor: return false;
    case Round::Ceil: return true;
    case Round::TowardZero: return s.x_negative;  // trunc: up for negative x
    case Round::NearestTiesToPosInf: return above || tie;
    case Round::NearestTiesToNegInf: return above;
    case Round::NearestAway: return above || (tie && tie_positive);
    case Round::NearestTiesToZero: return above || (tie && !tie_positive);
    case Round::NearestEven: return above || (tie && s.n.odd());  // n odd: n + 1 is even
    case Round::NearestOdd: return above || (tie && !s.n.odd());
    case Round::Stochastic: break;
  }
  throw std::logic_error("reference goes_up: Stochastic is not deterministic");
}

/// round(value / 2^-frac) under r (finite value, r != Stochastic).
inline BigInt round_to_lsb(const ExactValue& v, int frac, fixq::Round r) {
  const Split s = split(v, frac);
  return goes_up(s, r) ? s.n + BigInt(1) : s.n;
}

// ---------------------------------------------------------------------------
// Overflow: the rounded integer as a code of the target word.
// ---------------------------------------------------------------------------

/// A target format with its limits as BigInts (computed once).
struct TargetFormat {
  int word;
  int frac;
  bool is_signed;
  BigInt lo, hi, modulus;  ///< min code, max code, 2^word
  TargetFormat(int w, int f, bool s)
      : word(w),
        frac(f),
        is_signed(s),
        lo(s ? -BigInt::pow2(w - 1) : BigInt(0)),
        hi(s ? BigInt::pow2(w - 1) - BigInt(1) : BigInt::pow2(w) - BigInt(1)),
        modulus(BigInt::pow2(w)) {}
};

/// The expected outcome of a conversion: a code, or "throws overflow_error".
struct RefCode {
  bool throws = false;
  i128 code = 0;
  friend bool operator==(const RefCode&, const RefCode&) = default;
  std::string text() const { return throws ? std::string("throws") : i128_text(code); }
};

/// Narrow an exact rounded integer v to a code under o.
inline RefCode apply_overflow(const BigInt& v, const TargetFormat& f, fixq::Overflow o) {
  using fixq::Overflow;
  const BigInt& lo = f.lo;
  const BigInt& hi = f.hi;
  const bool fits = lo <= v && v <= hi;
  switch (o) {
    case Overflow::Saturate: return {false, (v < lo ? lo : v > hi ? hi : v).to_i128()};
    case Overflow::SaturateSymmetric: {
      const BigInt sym_lo = f.is_signed ? -hi : lo;  // the min code is never produced
      return {false, (v < sym_lo ? sym_lo : v > hi ? hi : v).to_i128()};
    }
    case Overflow::SaturateZero: return {false, fits ? v.to_i128() : 0};
    case Overflow::Wrap: {
      if (fits) return {false, v.to_i128()};
      // v mod 2^word in [0, 2^word), then into [-2^(word-1), 2^(word-1)) when signed.
      BigInt r = v - v.sar(f.word).shl(f.word);  // v - floor(v / 2^word) * 2^word
      if (r.negative() || r >= f.modulus) throw std::logic_error("reference wrap: bad modulo");
      if (f.is_signed && r > hi) r = r - f.modulus;
      return {false, r.to_i128()};
    }
    case Overflow::Throw: return fits ? RefCode{false, v.to_i128()} : RefCode{true, 0};
  }
  throw std::logic_error("apply_overflow: bad mode");
}

/// The code for NaN and the infinities: NaN -> 0 (Throw throws); +-inf -> the
/// high/low overflow (any value beyond the range), except that Wrap saturates.
inline RefCode special_code(Kind kind, const TargetFormat& f, fixq::Overflow o) {
  using fixq::Overflow;
  if (kind == Kind::NaN) return o == Overflow::Throw ? RefCode{true, 0} : RefCode{false, 0};
  const Overflow as = o == Overflow::Wrap ? Overflow::Saturate : o;
  const BigInt beyond = f.modulus + f.modulus;
  return apply_overflow(kind == Kind::PlusInf ? beyond : -beyond, f, as);
}

/// The code of value v in format f under (r, o), including NaN and infinities.
inline RefCode reference_code(const ExactValue& v, const TargetFormat& f, fixq::Round r,
                              fixq::Overflow o) {
  if (v.kind != Kind::Finite) return special_code(v.kind, f, o);
  return apply_overflow(round_to_lsb(v, f.frac, r), f, o);
}

/// The 9 deterministic rounding modes.
inline constexpr fixq::Round deterministic_rounds[] = {
    fixq::Round::Floor,       fixq::Round::Ceil,        fixq::Round::TowardZero,
    fixq::Round::NearestTiesToPosInf,   fixq::Round::NearestTiesToNegInf, fixq::Round::NearestAway,
    fixq::Round::NearestTiesToZero, fixq::Round::NearestEven, fixq::Round::NearestOdd};
inline constexpr int n_rounds = 9;
inline constexpr int n_overflows = 5;
inline constexpr int n_modes = n_rounds * n_overflows;
/// Index of a (Round, Overflow) pair in [0, 45): round-major.
constexpr int mode_index(fixq::Round r, fixq::Overflow o) {
  return static_cast<int>(r) * n_overflows + static_cast<int>(o);
}

/// All 45 expected outcomes for one input in one format, indexed by mode_index.
/// The same as calling reference_code 45 times; it only shares the work (the
/// floor and remainder, and the narrowing of the two candidates n and n + 1).
struct RefTable {
  RefCode at[n_modes];
};
inline RefTable reference_table(const ExactValue& v, const TargetFormat& f) {
  RefTable t;
  if (v.kind != Kind::Finite) {
    for (fixq::Round r : deterministic_rounds)
      for (fixq::Overflow o : fixq::all_overflows) t.at[mode_index(r, o)] = special_code(v.kind, f, o);
    return t;
  }
  const Split s = split(v, f.frac);
  RefCode down[n_overflows], up[n_overflows];
  const BigInt n1 = s.n + BigInt(1);
  for (fixq::Overflow o : fixq::all_overflows) {
    down[static_cast<int>(o)] = apply_overflow(s.n, f, o);
    if (!s.exact) up[static_cast<int>(o)] = apply_overflow(n1, f, o);
  }
  for (fixq::Round r : deterministic_rounds) {
    const bool u = goes_up(s, r);
    for (fixq::Overflow o : fixq::all_overflows)
      t.at[mode_index(r, o)] = u ? up[static_cast<int>(o)] : down[static_cast<int>(o)];
  }
  return t;
}

// ---------------------------------------------------------------------------
// Code -> float / double, correctly rounded (nearest, ties to even).
// ---------------------------------------------------------------------------

/// code * 2^-frac rounded to T. With |value| in [2^e, 2^(e+1)), the spacing of
/// T there is 2^q, q = max(e - (digits - 1), smallest subnormal exponent). The
/// value rounded to a multiple of 2^q (ties to even multiple = even last bit) is
/// m * 2^q with |m| <= 2^digits, which T holds exactly unless it overflows, and
/// ldexp then gives the correctly rounded infinity. A result of 0 keeps the sign.
template <class T>
T to_floating_ref(i128 code, int frac) {
  if (code == 0) return T(0);
  constexpr int digits = std::numeric_limits<T>::digits;
  constexpr int min_exp = std::numeric_limits<T>::min_exponent - 1;  // of the smallest normal
  constexpr int sub_exp = min_exp - (digits - 1);                     // of the smallest subnormal
  u128 mag = code < 0 ? u128(0) - static_cast<u128>(code) : static_cast<u128>(code);
  int bits = 0;
  for (u128 m = mag; m != 0; m >>= 1) ++bits;
  const int e = bits - 1 - frac;
  const int q = std::max(e - (digits - 1), sub_exp);
  const BigInt m = round_to_lsb(exact_code(code, frac), -q, fixq::Round::NearestEven);
  if (m.is_zero()) return code < 0 ? -T(0) : T(0);
  return std::ldexp(static_cast<T>(m.to_i128()), q);
}

/// The same, a second way: the value is exact in a long double (64-bit
/// significand, 15-bit exponent), and one conversion to T rounds it correctly.
template <class T>
T to_floating_via_long_double(i128 code, int frac) {
  static_assert(std::numeric_limits<long double>::digits >= 64, "needs x87 long double");
  return static_cast<T>(std::ldexp(static_cast<long double>(code), -frac));
}

/// Same value and same sign (so -0.0 and +0.0 differ, NaNs never occur here).
template <class T>
bool same_floating(T a, T b) {
  return a == b && std::signbit(a) == std::signbit(b);
}


// ===========================================================================
// Test harness (not part of the reference): running the library for every
// (Round, Overflow) pair and comparing its answers with the reference.
// ===========================================================================

/// Calls f.template operator()<R, O>() for the 45 deterministic (R, O) pairs.
template <class F, std::size_t... I>
void for_each_mode_impl(F& f, std::index_sequence<I...>) {
  (f.template operator()<deterministic_rounds[I / n_overflows],
                         fixq::all_overflows[I % n_overflows]>(),
   ...);
}
template <class F>
void for_each_mode(F&& f) {
  for_each_mode_impl(f, std::make_index_sequence<n_modes>{});
}

/// The library's answer for converting v to Fx: the code, or "threw overflow_error".
template <class Fx, class T>
RefCode observe(T v) {
  if constexpr (Fx::overflow == fixq::Overflow::Throw) {
    try {
      return {false, static_cast<i128>(Fx(v).raw())};
    } catch (const fixq::overflow_error&) {
      return {true, 0};
    }
  } else {
    return {false, static_cast<i128>(Fx(v).raw())};
  }
}

/// Counts every comparison and keeps the first few failures, so that a broken
/// mode reports a dozen readable lines instead of millions.
struct Tally {
  long long comparisons = 0;
  long long mismatches = 0;
  std::vector<std::string> first;
  void fail(std::string what) {
    if (++mismatches <= 12) first.push_back(std::move(what));
  }
  /// Reports to Catch: one failure per kept message, then the total.
  void report() const {
    for (const auto& m : first) FAIL_CHECK(m);
    CHECK(mismatches == 0);
  }
};

inline std::string text(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%a (%.17g)", v, v);
  return b;
}
inline std::string text(float v) { return text(static_cast<double>(v)) + "f"; }
inline std::string text(long double v) {
  char b[80];
  std::snprintf(b, sizeof b, "%La (%.21Lg)", v, v);
  return b;
}
template <class I>
  requires std::is_integral_v<I>
std::string text(I v) {
  return std::to_string(v);
}

inline std::string format_name(int word, int frac, bool is_signed) {
  return std::string(is_signed ? "Fixed<" : "UFixed<") + std::to_string(word) + "," +
         std::to_string(frac) + ">";
}
inline std::string mode_name(const TargetFormat& f, fixq::Round r, fixq::Overflow o) {
  return format_name(f.word, f.frac, f.is_signed) + " " + std::string(fixq::to_string(r)) + " " +
         std::string(fixq::to_string(o));
}

/// Inputs of one type for one target format, with the reference outcomes.
template <class T>
struct Column {
  const char* type;
  std::vector<T> values;
  std::vector<RefTable> expected;

  /// Which values Overflow::Throw is checked on (see the constructor).
  std::vector<unsigned char> throw_sample;

  /// Under Overflow::Throw every overflowing input costs an exception, by far
  /// the slowest step of these loops (especially under sanitizers). So Throw is
  /// checked on every value within half a code range of the format's range, on
  /// every non-finite value, and on every 4th value further out.
  Column(const char* type_name, std::vector<T> v, const TargetFormat& f)
      : type(type_name), values(std::move(v)) {
    expected.reserve(values.size());
    for (T x : values) expected.push_back(reference_table(exact(x), f));
    const long double half_range = std::ldexp(1.0L, f.word - 1);
    const long double lo = f.is_signed ? -half_range : 0;  // the range, roughly
    const long double hi = f.is_signed ? half_range : 2 * half_range;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const long double lsbs = std::ldexp(static_cast<long double>(values[i]), f.frac);
      const bool near = lsbs >= lo - half_range && lsbs <= hi + half_range;
      const bool special = !std::isfinite(static_cast<long double>(values[i]));
      throw_sample.push_back(near || special || i % 4 == 0);
    }
  }
  /// Compares obs(v) (the library under mode (r, o)) with the reference on every value.
  void check(RefCode (*obs)(T), const TargetFormat& f, fixq::Round r, fixq::Overflow o,
             Tally& tally) const {
    const int m = mode_index(r, o);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (o == fixq::Overflow::Throw && !throw_sample[i]) continue;
      const RefCode got = obs(values[i]);
      const RefCode& want = expected[i].at[m];
      ++tally.comparisons;
      if (!(got == want))
        tally.fail(mode_name(f, r, o) + " from " + type + " " + text(values[i]) + ": got " +
                   got.text() + ", expected " + want.text());
    }
  }
};


// ---------------------------------------------------------------------------
// Small formats (exhaustive tests): Word in 1..8 with the Frac values
// {-3, 0, 1, Word-1, Word, Word+3, 12} (LSB above one, at one, inside the word,
// at the word's edge, beyond it), without repeats, signed and unsigned.
// ---------------------------------------------------------------------------
struct FracList {
  int v[7] = {};
  int n = 0;
};
constexpr FracList small_fracs(int w) {
  const int wanted[] = {-3, 0, 1, w - 1, w, w + 3, 12};
  FracList l;
  for (int x : wanted) {
    bool seen = false;
    for (int i = 0; i < l.n; ++i) seen = seen || l.v[i] == x;
    if (!seen) l.v[l.n++] = x;
  }
  return l;
}
template <int W, class F, std::size_t... I>
void for_each_small_format_of_word(F& f, std::index_sequence<I...>) {
  (f.template operator()<W, small_fracs(W).v[I], true>(), ...);
  (f.template operator()<W, small_fracs(W).v[I], false>(), ...);
}
/// Calls f.template operator()<Word, Frac, Signed>() for every small format of
/// the given words.
template <int... Words, class F>
void for_each_small_format(F&& f) {
  (for_each_small_format_of_word<Words>(
       f, std::make_index_sequence<static_cast<std::size_t>(small_fracs(Words).n)>{}),
   ...);
}

/// Every multiple j of half an LSB with |j| <= 4 * 2^word, i.e. codes within
/// two code ranges of zero (every tie, every grid point, the range edges, and
/// beyond them on both sides at least one more range: saturation and wraps),
/// each with its two floating-point neighbours.
template <class T>
std::vector<T> half_lsb_grid(const TargetFormat& f) {
  std::vector<T> out;
  const long long reach = 4LL << f.word;
  for (long long j = -reach; j <= reach; ++j) {
    const T v = std::ldexp(static_cast<T>(j), -(f.frac + 1));  // exact: |j| < 2^11
    out.push_back(v);
    out.push_back(std::nextafter(v, -std::numeric_limits<T>::infinity()));
    out.push_back(std::nextafter(v, std::numeric_limits<T>::infinity()));
  }
  return out;
}

/// Values off the grid: zeros, subnormals, extremes, infinities, NaN, powers of
/// two over the whole exponent range, and (2^m + c) LSBs for m around the
/// double fast path's 2^52 limit, the 64-bit code range and far beyond it
/// (where Wrap must still keep the exact low bits).
template <class T>
std::vector<T> special_values(const TargetFormat& f) {
  using L = std::numeric_limits<T>;
  std::vector<T> out = {T(0),          -T(0),          L::denorm_min(), -L::denorm_min(),
                        L::min(),      -L::min(),      L::min() / 2,    -L::min() / 2,
                        L::min() - L::denorm_min(),    L::max(),        -L::max(),
                        L::infinity(), -L::infinity(), L::quiet_NaN(),  -L::quiet_NaN(),
                        L::epsilon(),  T(1e30f),       T(-1e30f)};
  const T lsb = std::ldexp(T(1), -f.frac);
  const T cs[] = {0, 0.5, 1.5, -0.5, -1.5, std::ldexp(T(1), f.word) - 1,
                  std::ldexp(T(1), f.word - 1) + T(0.5)};
  for (int m : {20, 51, 52, 53, 63, 64, 65, 100})
    for (T c : cs)
      for (T sign : {T(1), T(-1)}) out.push_back(sign * (std::ldexp(T(1), m) + c) * lsb);
  for (int e = L::min_exponent - L::digits; e < L::max_exponent; e += 97) {
    out.push_back(std::ldexp(T(1), e));
    out.push_back(-std::ldexp(T(1), e));
  }
  return out;
}

template <class T>
std::vector<T> grid_and_specials(const TargetFormat& f) {
  std::vector<T> v = half_lsb_grid<T>(f);
  for (T x : special_values<T>(f)) v.push_back(x);
  return v;
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_REFERENCE_HPP
