// fixq/core/rounding.hpp - every Round mode as one decision on exact integers.
//
// As in ac_fixed's quantization_adjust, a rounding is decided from a few facts
// about the exact value x = n + f (n = floor(x), 0 <= f < 1): the sign of x,
// the parity of n, and where f lies (zero, below one half, one half, above).
// Stochastic rounding also needs floor(f * 2^32) and a 32-bit random word U.
// This header is the only place that table is written; the SIMD kernels and
// the tests are checked against it.
#ifndef FIXQ_CORE_ROUNDING_HPP
#define FIXQ_CORE_ROUNDING_HPP

#include <cstdint>
#include <type_traits>

#include <fixq/core/format.hpp>
#include <fixq/core/int128.hpp>

namespace fixq {

/// Where the dropped fraction f of an exact value lies.
enum class Remainder : unsigned char { Zero, BelowHalf, Half, AboveHalf };

/// The rounding table: true when x = n + f is rounded to n + 1, false for n.
/// `frac32` = floor(f * 2^32) and `u` (the random word) matter only to Stochastic.
template <Round R>
constexpr bool rounds_up(int128 n, Remainder f, std::uint32_t frac32 = 0, std::uint32_t u = 0) {
  const bool odd = (n & 1) != 0;
  const bool negative = n < 0;  // x < 0 exactly when n < 0, since 0 <= f < 1
  switch (R) {
    case Round::Floor: return false;
    case Round::Ceil: return f != Remainder::Zero;
    case Round::TowardZero: return negative && f != Remainder::Zero;
    case Round::NearestUp: return f >= Remainder::Half;
    case Round::NearestDown: return f == Remainder::AboveHalf;
    case Round::NearestAway: return f == Remainder::AboveHalf || (f == Remainder::Half && !negative);
    case Round::NearestZero: return f == Remainder::AboveHalf || (f == Remainder::Half && negative);
    case Round::NearestEven: return f == Remainder::AboveHalf || (f == Remainder::Half && odd);
    case Round::NearestOdd: return f == Remainder::AboveHalf || (f == Remainder::Half && !odd);
    case Round::Stochastic:
      return static_cast<std::uint64_t>(frac32) + u >= (std::uint64_t{1} << 32);
  }
  return false;
}

/// round(x / 2^shift) under R, for shift >= 0 (any size). Int is a signed
/// integer type (int32, int64 or int128) and |x| <= 2^(bits - 2).
template <Round R, class Int>
constexpr Int round_shift(Int x, int shift, std::uint32_t u = 0) {
  using U = typename detail::int_traits<Int>::unsigned_type;
  constexpr int bits = detail::int_traits<Int>::bits;
  if (shift <= 0) return x;
  if (shift >= bits) {
    // |x / 2^shift| < 1/4: only the sign and non-zeroness of x matter. Replace x by
    // sign(x) at a shift of bits - 2, which keeps floor, the remainder class and frac32.
    x = x > 0 ? 1 : (x < 0 ? -1 : 0);
    shift = bits - 2;
  }
  const Int n = x >> shift;  // arithmetic: floor
  const U rem = static_cast<U>(x) & ((U(1) << shift) - 1);
  const U half = U(1) << (shift - 1);
  const Remainder f = rem == 0 ? Remainder::Zero
                      : rem < half ? Remainder::BelowHalf
                      : rem == half ? Remainder::Half
                                    : Remainder::AboveHalf;
  std::uint32_t frac32 = 0;
  if constexpr (R == Round::Stochastic)
    frac32 = static_cast<std::uint32_t>(shift >= 32 ? rem >> (shift - 32) : rem << (32 - shift));
  return n + (rounds_up<R>(n, f, frac32, u) ? 1 : 0);
}

/// round(num / den) under R, for den != 0 and |num|, |den| < 2^126.
template <Round R>
constexpr int128 round_div(int128 num, int128 den, std::uint32_t u = 0) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  int128 n = num / den;  // C++ truncates; make it floor
  int128 rem = num - n * den;
  if (rem < 0) {
    n -= 1;
    rem += den;
  }
  const int128 twice = 2 * rem;
  const Remainder f = rem == 0 ? Remainder::Zero
                      : twice < den ? Remainder::BelowHalf
                      : twice == den ? Remainder::Half
                                     : Remainder::AboveHalf;
  std::uint32_t frac32 = 0;
  if constexpr (R == Round::Stochastic) {
    uint128 r = static_cast<uint128>(rem);  // long division for 32 fraction bits
    for (int i = 0; i < 32; ++i) {
      r <<= 1;
      frac32 <<= 1;
      if (r >= static_cast<uint128>(den)) {
        r -= static_cast<uint128>(den);
        frac32 |= 1;
      }
    }
  }
  return n + (rounds_up<R>(n, f, frac32, u) ? 1 : 0);
}

/// Run-time Round to compile-time dispatch: calls f.template operator()<R>().
template <class F>
constexpr decltype(auto) dispatch_round(Round r, F&& f) {
  switch (r) {
    case Round::Floor: return f.template operator()<Round::Floor>();
    case Round::Ceil: return f.template operator()<Round::Ceil>();
    case Round::TowardZero: return f.template operator()<Round::TowardZero>();
    case Round::NearestUp: return f.template operator()<Round::NearestUp>();
    case Round::NearestDown: return f.template operator()<Round::NearestDown>();
    case Round::NearestAway: return f.template operator()<Round::NearestAway>();
    case Round::NearestZero: return f.template operator()<Round::NearestZero>();
    case Round::NearestEven: return f.template operator()<Round::NearestEven>();
    case Round::NearestOdd: return f.template operator()<Round::NearestOdd>();
    case Round::Stochastic: return f.template operator()<Round::Stochastic>();
  }
  throw std::invalid_argument("fixq: unknown Round value " + std::to_string(static_cast<int>(r)));
}

}  // namespace fixq

#endif  // FIXQ_CORE_ROUNDING_HPP
