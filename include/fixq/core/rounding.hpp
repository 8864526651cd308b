// fixq/core/rounding.hpp - every Round mode as one decision on exact integers.
//
// As in ac_fixed's quantization_adjust, a rounding is decided from a few facts
// about the exact value x = n + f (n = floor(x), 0 <= f < 1): the sign of x,
// the parity of n, and where f lies (zero, below one half, one half, above).
// Stochastic rounding also needs F = floor(f * 2^32) and a 32-bit random word U.
//
// The rule of each mode is written once, here, over an abstract mask type
// (tie_rounds_up, stochastic_carry): the exact scalar path evaluates it on bool,
// the branch-free float path (convert.hpp) on 0/1 integers, and the vector
// kernels (simd/quantize_f32.hpp) on vector masks. Floor, Ceil, TowardZero and
// NearestEven are also single instructions on x86 (roundps with an immediate
// mode); the tests check every path against this table.
#ifndef FIXQ_CORE_ROUNDING_HPP
#define FIXQ_CORE_ROUNDING_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fixq/core/format.hpp>
#include <fixq/core/int128.hpp>

namespace fixq::detail {

/// Where the dropped fraction f of an exact value lies.
enum class Remainder : unsigned char { Zero, BelowHalf, Half, AboveHalf };

/// Mask operations for bool, and for 0/1 integers (the branch-free paths).
struct BoolMaskOps {
  template <class M>
  static constexpr M all() { return M(1); }
  template <class M>
  static constexpr M none() { return M(0); }
  template <class M>
  static constexpr M not_(M a) { return M(a ^ M(1)); }
};

/// Whether R rounds to the nearest code (and so has a tie rule).
template <Round R>
inline constexpr bool is_nearest = R == Round::NearestTiesToPosInf || R == Round::NearestTiesToNegInf ||
                                   R == Round::NearestAway || R == Round::NearestTiesToZero ||
                                   R == Round::NearestEven || R == Round::NearestOdd;

/// The tie rule of a nearest mode: whether an exact tie x = n + 1/2 goes up to
/// n + 1, from `negative` (x < 0) and `odd` (n odd). M is a mask type (bool,
/// a 0/1 integer, a vector mask) and Ops supplies all<M>(), none<M>() and not_.
template <Round R, class Ops = BoolMaskOps, class M>
constexpr M tie_rounds_up(M negative, M odd) {
  static_assert(is_nearest<R>);
  if constexpr (R == Round::NearestTiesToPosInf) {
    return Ops::template all<M>();
  } else if constexpr (R == Round::NearestTiesToNegInf) {
    return Ops::template none<M>();
  } else if constexpr (R == Round::NearestAway) {
    return Ops::not_(negative);
  } else if constexpr (R == Round::NearestTiesToZero) {
    return negative;
  } else if constexpr (R == Round::NearestEven) {
    return odd;
  } else {
    return Ops::not_(odd);
  }
}

/// Round::Stochastic's rule: x = n + f goes up to n + 1 exactly when
/// F + U >= 2^32, i.e. when the 32-bit sum F + U carries.
constexpr bool stochastic_carry(std::uint32_t frac32, std::uint32_t u) {
  return static_cast<std::uint32_t>(frac32 + u) < u;
}

/// The rounding table: true when x = n + f is rounded to n + 1, false for n.
/// `frac32` = floor(f * 2^32) and `u` (the random word) matter only to Stochastic.
template <Round R>
constexpr bool rounds_up(int128 n, Remainder f, std::uint32_t frac32 = 0, std::uint32_t u = 0) {
  if constexpr (R == Round::Floor) {
    return false;
  } else if constexpr (R == Round::Ceil) {
    return f != Remainder::Zero;
  } else if constexpr (R == Round::TowardZero) {
    return n < 0 && f != Remainder::Zero;
  } else if constexpr (R == Round::Stochastic) {
    return stochastic_carry(frac32, u);
  } else {
    return f == Remainder::AboveHalf || (f == Remainder::Half && tie_rounds_up<R>(n < 0, (n & 1) != 0));
  }
}

/// round(x / 2^shift) under R, for shift >= 0 (any size). Int is a signed
/// integer type (int32, int64 or int128) and |x| <= 2^(bits - 2).
template <Round R, class Int>
constexpr Int round_shift(Int x, int shift, std::uint32_t u = 0) {
  using U = typename int_traits<Int>::unsigned_type;
  constexpr int bits = int_traits<Int>::bits;
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
    case Round::NearestTiesToPosInf: return f.template operator()<Round::NearestTiesToPosInf>();
    case Round::NearestTiesToNegInf: return f.template operator()<Round::NearestTiesToNegInf>();
    case Round::NearestAway: return f.template operator()<Round::NearestAway>();
    case Round::NearestTiesToZero: return f.template operator()<Round::NearestTiesToZero>();
    case Round::NearestEven: return f.template operator()<Round::NearestEven>();
    case Round::NearestOdd: return f.template operator()<Round::NearestOdd>();
    case Round::Stochastic: return f.template operator()<Round::Stochastic>();
  }
  throw std::invalid_argument("fixq: unknown Round value " + std::to_string(static_cast<int>(r)));
}

}  // namespace fixq::detail

#endif  // FIXQ_CORE_ROUNDING_HPP
