// fixq/core/convert.hpp - exact conversions between numbers and codes.
//
// Everything funnels into one function, code_from_scaled: the exact value
// mant * 2^shift (in units of the target LSB) is rounded (rounding.hpp) and
// narrowed (overflow.hpp). Floating-point inputs are decomposed exactly from
// their bits; Fixed-to-Fixed conversion is the same call with the source code
// as mantissa. A fast path for float/double inputs computes the same result in
// double arithmetic where that is provably exact; tests check it against the
// exact path on every tie and boundary.
//
// Special values (the same in the array kernels):
//   NaN    -> code 0; under Overflow::Throw, throws fixq::overflow_error.
//   +-inf  -> overflow high/low: Saturate and Wrap give max/min,
//             SaturateSymmetric gives +-max, SaturateZero gives 0, Throw throws.
//   -0.0   -> code 0.
#ifndef FIXQ_CORE_CONVERT_HPP
#define FIXQ_CORE_CONVERT_HPP

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <type_traits>

#include <fixq/core/format.hpp>
#include <fixq/core/int128.hpp>
#include <fixq/core/overflow.hpp>
#include <fixq/core/rounding.hpp>

namespace fixq::detail {

/// The exact value mant * 2^shift (target LSB units, |mant| <= 2^126) rounded
/// under R to an integer, before any overflow handling. Values beyond every
/// 64-bit range come back as +-(2^100 + low 64 bits), which narrows correctly
/// under every Overflow mode (Wrap needs only the low bits).
template <Round R>
constexpr int128 round_scaled(int128 mant, int shift, std::uint32_t u = 0) {
  if (shift <= 0) return round_shift<R>(mant, -shift, u);
  if (mant == 0) return 0;
  if (detail::bit_length(detail::magnitude(mant)) + shift <= 100) return mant << shift;
  const std::uint64_t low =
      shift >= 64 ? 0 : static_cast<std::uint64_t>(static_cast<uint128>(mant) << shift);
  return (mant < 0 ? -detail::pow2_i128(100) : detail::pow2_i128(100)) + static_cast<int128>(low);
}

/// Code of the exact value mant * 2^shift (target LSB units), |mant| <= 2^126.
template <Round R, Overflow O>
constexpr int128 code_from_scaled(int128 mant, int shift, const Format& f, std::uint32_t u = 0) {
  return narrow<O>(round_scaled<R>(mant, shift, u), f);
}

/// Code for NaN and the infinities (see the table at the top of this file).
template <Overflow O>
constexpr int128 code_for_nan(const Format& f) {
  if constexpr (O == Overflow::Throw)
    throw overflow_error("fixq: NaN cannot be converted to " + f.name());
  return 0;
}
template <Overflow O>
constexpr int128 code_for_inf(bool negative, const Format& f) {
  if constexpr (O == Overflow::Throw)
    throw overflow_error(std::string("fixq: ") + (negative ? "-inf" : "+inf") +
                         " cannot be converted to " + f.name());
  constexpr Overflow sat = O == Overflow::SaturateSymmetric ? Overflow::SaturateSymmetric
                           : O == Overflow::SaturateZero    ? Overflow::SaturateZero
                                                            : Overflow::Saturate;
  return narrow<sat>(negative ? -detail::pow2_i128(126) : detail::pow2_i128(126), f);
}

/// IEEE binary32/binary64 parameters.
template <class T>
struct ieee;
template <>
struct ieee<double> {
  using bits = std::uint64_t;
  static constexpr int digits = 53, emin = -1022, emax = 1023, bias = 1023;
};
template <>
struct ieee<float> {
  using bits = std::uint32_t;
  static constexpr int digits = 24, emin = -126, emax = 127, bias = 127;
};

enum class Kind : unsigned char { Finite, NaN, Inf };
/// v = mant * 2^exp exactly (finite v), or NaN / signed infinity.
struct Decomposed {
  int128 mant = 0;
  int exp = 0;
  Kind kind = Kind::Finite;
  bool negative = false;
};

template <class T>
  requires std::same_as<T, float> || std::same_as<T, double>
constexpr Decomposed decompose(T v) {
  using I = ieee<T>;
  constexpr int fbits = I::digits - 1;
  constexpr int ebits = sizeof(T) * 8 - 1 - fbits;
  constexpr int emask = (1 << ebits) - 1;
  const auto b = std::bit_cast<typename I::bits>(v);
  Decomposed d;
  d.negative = (b >> (sizeof(T) * 8 - 1)) != 0;
  const int e = static_cast<int>((b >> fbits) & emask);
  const auto m = static_cast<std::uint64_t>(b & ((typename I::bits{1} << fbits) - 1));
  if (e == emask) {
    d.kind = m != 0 ? Kind::NaN : Kind::Inf;
    return d;
  }
  const std::uint64_t mant = e == 0 ? m : m | (std::uint64_t{1} << fbits);
  d.exp = (e == 0 ? 1 : e) - I::bias - fbits;
  d.mant = d.negative ? -static_cast<int128>(mant) : static_cast<int128>(mant);
  return d;
}

inline Decomposed decompose(long double v) {
  static_assert(std::numeric_limits<long double>::digits <= 64,
                "fixq: long double with more than 64 significand bits is not supported");
  Decomposed d;
  d.negative = std::signbit(v);
  if (std::isnan(v)) {
    d.kind = Kind::NaN;
    return d;
  }
  if (std::isinf(v)) {
    d.kind = Kind::Inf;
    return d;
  }
  int e = 0;
  const long double fr = std::frexp(std::fabs(v), &e);  // in [0.5, 1) or 0
  const auto mant = static_cast<std::uint64_t>(std::ldexp(fr, 64));
  d.exp = e - 64;
  d.mant = d.negative ? -static_cast<int128>(mant) : static_cast<int128>(mant);
  return d;
}

/// The signed integer type of a floating type's width.
template <class T>
using float_int_t = std::conditional_t<std::same_as<T, float>, std::int32_t, std::int64_t>;

/// round(y) under a deterministic R, as an integer, for |y| < 2^(bits - 2) of
/// float_int_t<T> (2^30 for float, 2^62 for double). Exact and branch-free,
/// so that compilers vectorize loops over it: with t = trunc(y), the fraction
/// r = y - t is exact; its sign and the sign of r -+ 1/2 (never rounded to the
/// wrong side or to zero) are read from the bit patterns, not by FP compares.
template <Round R, class T>
constexpr float_int_t<T> round_to_int(T y) {
  static_assert(R != Round::Stochastic);
  using I = float_int_t<T>;
  constexpr int sign_shift = sizeof(I) * 8 - 1;
  constexpr I magnitude_mask = ~(I(1) << sign_shift);
  const I t = static_cast<I>(y);
  const T r = y - static_cast<T>(t);
  const I rb = std::bit_cast<I>(r);
  const I neg = (rb < 0) & ((rb & magnitude_mask) != 0);  // r < 0
  const I pos = rb > 0;                                   // r > 0
  const I fl = t - neg;
  if constexpr (R == Round::Floor) {
    return fl;
  } else if constexpr (R == Round::Ceil) {
    return t + pos;
  } else if constexpr (R == Round::TowardZero) {
    return t;
  } else {
    // d = f - 1/2 with f = r + neg the fraction above floor.
    const T half = std::bit_cast<T>(static_cast<I>(std::bit_cast<I>(T(0.5)) ^ (neg << sign_shift)));
    const I db = std::bit_cast<I>(static_cast<T>(r - half));
    const I above = db > 0;
    const I tie = (db & magnitude_mask) == 0;
    const I tie_up = tie_rounds_up<R>(static_cast<I>(fl < 0), static_cast<I>(fl & 1));
    return fl + (above | (tie & tie_up));
  }
}

/// y with NaN replaced by +-0 and |y| limited to 2^(bits - 2) of float_int_t<T>,
/// by integer operations on the bit pattern (branch-free).
template <class T>
constexpr T tame(T y) {
  using I = float_int_t<T>;
  constexpr I magnitude_mask = ~(I(1) << (sizeof(I) * 8 - 1));
  constexpr I limit = std::bit_cast<I>(static_cast<T>(I(1) << (sizeof(I) * 8 - 2)));
  constexpr I inf = std::bit_cast<I>(std::numeric_limits<T>::infinity());
  const I b = std::bit_cast<I>(y);
  I m = b & magnitude_mask;
  m = m > inf ? 0 : m;          // NaN
  m = m > limit ? limit : m;    // huge and inf
  return std::bit_cast<T>(static_cast<I>((b & ~magnitude_mask) | m));
}

/// floor(y + U / 2^32) for |y| < 2^52 (Round::Stochastic), exact.
inline double round_stochastic(double y, std::uint32_t u) {
  const double fl = std::floor(y);
  // floor(f * 2^32) with f = y - fl, computed without rounding error.
  const double frac32 = std::floor(y * 0x1p32) - fl * 0x1p32;
  return fl + (stochastic_carry(static_cast<std::uint32_t>(frac32), u) ? 1.0 : 0.0);
}

/// round(v * 2^frac) under R for a finite v, before overflow handling (see
/// round_scaled for values beyond every 64-bit range).
template <Round R, class T>
  requires std::floating_point<T>
constexpr int128 round_floating(T v, int frac, std::uint32_t u = 0) {
  if constexpr (std::same_as<T, float> || std::same_as<T, double>) {
    if (!std::is_constant_evaluated()) {
      // Fast path: y = v * 2^frac is exact unless it underflows, and every
      // rounding of |y| < 2^52 is exact in double arithmetic.
      const double y = static_cast<double>(v) * Format::pow2(frac);
      if (std::fabs(y) < 0x1p52 && (frac >= 0 || std::fabs(y) >= 0x1p-1022 || v == 0)) {
        if constexpr (R == Round::Stochastic)
          return static_cast<int128>(detail::round_stochastic(y, u));
        else
          return static_cast<int128>(detail::round_to_int<R>(y));
      }
    }
  }
  const detail::Decomposed d = detail::decompose(v);
  return round_scaled<R>(d.mant, d.exp + frac, u);
}

/// Code of a floating-point value in format f under (R, O). `u` is the random
/// word for Round::Stochastic. Under Overflow::Throw the message names v.
template <Round R, Overflow O, class T>
  requires std::floating_point<T>
constexpr int128 code_from_floating(T v, const Format& f, std::uint32_t u = 0) {
  if (v != v) return code_for_nan<O>(f);
  if (v > std::numeric_limits<T>::max() || v < std::numeric_limits<T>::lowest())  // +-inf
    return code_for_inf<O>(v < 0, f);
  const int128 r = round_floating<R>(v, f.frac, u);
  if constexpr (O == Overflow::Throw) {
    if (r < f.min_code_wide() || r > f.max_code_wide())
      throw overflow_error("fixq: " + detail::shortest_text(static_cast<long double>(v)) + " overflows " +
                           f.name());
  }
  return narrow<O>(r, f);
}

/// True when code_branch_free<R, O, T> applies to format f: a deterministic
/// rounding, a saturating overflow mode, 0 <= frac < emax (so v * 2^frac is
/// exact or +-inf), and codes strictly within +-2^(bits - 2) of float_int_t<T>
/// (tame() maps larger magnitudes to 2^(bits - 2), which must stay out of range).
template <class T, Round R, Overflow O>
constexpr bool branch_free_applies(const Format& f) {
  if constexpr (!(std::same_as<T, float> || std::same_as<T, double>)) {
    return false;
  } else {
    constexpr std::uint64_t limit = std::uint64_t{1} << (sizeof(detail::float_int_t<T>) * 8 - 2);
    return (O == Overflow::Saturate || O == Overflow::SaturateSymmetric ||
            O == Overflow::SaturateZero) &&
           R != Round::Stochastic && f.frac >= 0 && f.frac < detail::ieee<T>::emax &&
           f.max_code() < limit && static_cast<std::uint64_t>(-f.min_code()) < limit;
  }
}

/// The constants of code_branch_free for one format (hoist them out of loops).
template <class T>
struct BranchFreePlan {
  T scale;                   // 2^frac
  detail::float_int_t<T> lo;  // smallest code kept (-max under SaturateSymmetric)
  detail::float_int_t<T> hi;  // largest code
};
template <class T, Overflow O>
constexpr BranchFreePlan<T> branch_free_plan(const Format& f) {
  using I = detail::float_int_t<T>;
  const auto hi = static_cast<I>(f.max_code());
  return {static_cast<T>(Format::pow2(f.frac)), O == Overflow::SaturateSymmetric && f.is_signed ? I(-hi) : static_cast<I>(f.min_code()), hi};
}

/// The code of v computed without branches, in a form compilers vectorize:
/// y = v * 2^frac is exact or +-inf (frac >= 0); tame() maps NaN to 0 and
/// limits |y| to 2^(bits - 2), beyond every code of f, so the limited value
/// overflows exactly when the original does; round_to_int is exact; the
/// overflow mode is applied to the integer. Equals code_from_floating<R, O>.
/// Precondition: branch_free_applies<T, R, O>(f), plan = branch_free_plan<T, O>(f).
template <Round R, Overflow O, class T>
constexpr detail::float_int_t<T> code_branch_free(T v, BranchFreePlan<T> plan) {
  using I = detail::float_int_t<T>;
  const I c = detail::round_to_int<R>(detail::tame(static_cast<T>(v * plan.scale)));
  if constexpr (O == Overflow::SaturateZero) return ((c < plan.lo) | (c > plan.hi)) ? I(0) : c;
  return c < plan.lo ? plan.lo : (c > plan.hi ? plan.hi : c);
}

/// Code of an integer value in format f under (R, O).
template <Round R, Overflow O>
constexpr int128 code_from_integer(int128 v, const Format& f, std::uint32_t u = 0) {
  return code_from_scaled<R, O>(v, f.frac, f, u);
}

/// Code in format `to` of a code in format `from`.
template <Round R, Overflow O>
constexpr int128 code_from_code(int128 code, int from_frac, const Format& to, std::uint32_t u = 0) {
  return code_from_scaled<R, O>(code, to.frac - from_frac, to, u);
}

/// The same computed in a narrower integer type Int (int32 or int64), for
/// callers that know |code| * 2^max(shift, 0) <= 2^(bits - 2), shift = to.frac - from_frac.
template <Round R, Overflow O, class Int>
constexpr Int code_from_code_in(Int code, int shift, const Format& to, std::uint32_t u = 0) {
  return narrow<O>(shift >= 0 ? static_cast<Int>(code << shift) : round_shift<R>(code, -shift, u), to);
}

/// The integer type code_from_code_in can use for a source of SrcWord bits
/// moved by Shift bits into a target of DstWord bits (both codes and the
/// shifted source must fit with two bits to spare): int32, int64, or int128.
template <int SrcWord, bool SrcSigned, int Shift, int DstWord, bool DstSigned>
inline constexpr int code_bits_needed =
    std::max(SrcWord + (SrcSigned ? 0 : 1) + (Shift > 0 ? Shift : 0), DstWord + (DstSigned ? 0 : 1)) + 1;
template <int SrcWord, bool SrcSigned, int Shift, int DstWord, bool DstSigned>
using code_int_t = std::conditional_t<
    (code_bits_needed<SrcWord, SrcSigned, Shift, DstWord, DstSigned> <= 32), std::int32_t,
    std::conditional_t<(code_bits_needed<SrcWord, SrcSigned, Shift, DstWord, DstSigned> <= 64), std::int64_t,
                       int128>>;

/// code * 2^-frac correctly rounded (to nearest, ties to even) to float or
/// double, including subnormal results; exact when representable.
template <class T>
  requires std::same_as<T, float> || std::same_as<T, double>
constexpr T to_floating(int128 code, int frac) {
  using I = detail::ieee<T>;
  constexpr int p = I::digits;
  constexpr int emin_sub = I::emin - (p - 1);  // exponent of the smallest subnormal
  if (code == 0) return T(0);
  const bool negative = code < 0;
  const uint128 mag = detail::magnitude(code);
  int drop = detail::bit_length(mag) - p;
  if (drop - frac < emin_sub) drop = emin_sub + frac;
  uint128 m = mag;
  int k = -frac;
  if (drop > 0) {
    m = static_cast<uint128>(round_shift<Round::NearestEven>(static_cast<int128>(mag), drop));
    k = drop - frac;
  }
  using B = typename I::bits;
  const B sign = negative ? B{1} << (sizeof(T) * 8 - 1) : B{0};
  if (m == 0) return std::bit_cast<T>(sign);
  const int nb = detail::bit_length(m);
  const int e = k + nb - 1;
  if (e > I::emax) return std::bit_cast<T>(static_cast<B>(sign | (B((1 << (sizeof(T) * 8 - p)) - 1) << (p - 1))));
  if (e >= I::emin) {
    const uint128 sig = nb <= p ? m << (p - nb) : m >> (nb - p);
    const B bits = (static_cast<B>(e + I::bias) << (p - 1)) |
                   (static_cast<B>(sig) & ((B{1} << (p - 1)) - 1));
    return std::bit_cast<T>(static_cast<B>(sign | bits));
  }
  return std::bit_cast<T>(static_cast<B>(sign | static_cast<B>(m << (k - emin_sub))));
}

/// code * 2^-frac as long double (exact for codes of up to 64 bits).
inline long double to_long_double(int128 code, int frac) {
  return std::ldexp(static_cast<long double>(code), -frac);
}

}  // namespace fixq::detail

#endif  // FIXQ_CORE_CONVERT_HPP
