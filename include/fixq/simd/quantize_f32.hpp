// fixq/simd/quantize_f32.hpp - float -> codes / fake-quantized floats in vector registers.
//
// The explicit-SIMD form of the float path of kernels/span_paths.hpp, written
// once against the vector vocabulary of vec_avx512.hpp / vec_avx2.hpp. It computes,
// for every element, exactly what core/convert.hpp's code_branch_free (and, for
// Round::Stochastic, floor(y + U / 2^32)) computes:
//   y  = x * 2^frac                      exact (0 <= frac < 127) or +-inf
//   yc = y limited to +-2^30, NaN lanes remembered and zeroed at the end
//   c  = round(yc) under R               exact, see below
//   c  = the overflow mode applied to c  Saturate, SaturateSymmetric, SaturateZero
// Rounding without the FPU rounding mode:
//  - Floor, Ceil, TowardZero, NearestEven: one vroundps/vrndscaleps with an
//    immediate mode;
//  - NearestAway: trunc(yc + copysign(1/2 - 2^-25, yc)) with an embedded
//    round-to-nearest sum (AVX-512), or t + trunc(2 r) with t = trunc(yc) and
//    r = yc - t (all exact; AVX2);
//  - the other nearest modes: t = trunc(yc) and r = yc - t (exact: same sign,
//    Sterbenz), so |r| > 1/2 moves t one step away from zero, |r| == 1/2 is an
//    exact tie resolved by the mode;
//  - Stochastic: floor(y + U/2^32), i.e. floor(y) + carry(F + U) with
//    F = floor(frac(y) * 2^32), for U = random_u32(seed, index). The top halfword
//    b of U comes from ARS stream 0 (random/ars.hpp), generated in registers and
//    never stored. With F16 = floor(frac(y) 2^16), the carry is that of F16 + b
//    unless F16 + b = 0xFFFF, when the bottom halves decide: that happens with
//    probability 2^-16 per element. Codes within +-2^15 ("narrow": every 8- and
//    16-bit signed format) compute z = floor(y 2^16), a single int32, and the code
//    (z + b) >> 16; wider codes (up to 2^24, "wide") compute t = trunc(y), the
//    exact remainder r = y - t and the code t + ((floor(r 2^16) + b) >> 16). The
//    low halfwords of the sums are folded with an unsigned max, checked once per
//    step, and the rare steps with a 0xFFFF are redone from whole words
//    (stochastic_undecided). Elements before the first block of 8 and
//    after the last step use whole words from a RandomStream (f32_codes below).
// Preconditions (kernels/quantize_span.hpp checks them): a saturating overflow
// mode, 0 <= frac < 127, every code within +-2^30, and for float output every code
// within +-2^24 (so the code converts to float exactly); for Round::Stochastic,
// every code within +-2^24 and AES instructions (see stochastic_lanes_fit).
#ifndef FIXQ_SIMD_QUANTIZE_F32_HPP
#define FIXQ_SIMD_QUANTIZE_F32_HPP

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>

#include <fixq/core/convert.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/rounding.hpp>
#include <fixq/random/stream.hpp>
#include <fixq/simd/native.hpp>
#include <fixq/simd/random_fill.hpp>

namespace fixq::detail::simd {

/// Whether Round::Stochastic may use the vector lanes for format f: every code
/// within +-2^24, so that the limits and t = trunc(y) are exact floats (the
/// remaining preconditions are those of every float lane).
inline bool stochastic_lanes_fit(const Format& f) {
  constexpr std::int64_t lim = std::int64_t{1} << 24;
  return f.frac >= 0 && f.frac < 127 && f.max_code() <= lim && -static_cast<int128>(f.min_code()) <= lim;
}

}  // namespace fixq::detail::simd

#if defined(FIXQ_SIMD_NATIVE)
namespace fixq::detail::simd {

/// Output types the vector kernel stores: float values or integer codes of 1-8 bytes.
template <class Out>
inline constexpr bool f32_kernel_output = std::is_same_v<Out, float> || (std::is_integral_v<Out> && !std::is_same_v<Out, bool>);

/// core/rounding.hpp's mask operations on V's masks.
template <class V>
struct VectorMaskOps {
  template <class M>
  static M all() { return V::mask_all(); }
  template <class M>
  static M none() { return V::mask_none(); }
  template <class M>
  static M not_(M a) { return V::mask_not(a); }
};

/// Vector constants of one call.
template <class V>
struct F32Consts {
  typename V::F scale, limit, neg_limit, half, below_half, zero, two32, lsb;
  typename V::I lo, hi, one;
  F32Consts(const BranchFreePlan<float>& p, float lsb_value)
      : scale(V::set1(p.scale)),
        limit(V::set1(0x1p30f)),
        neg_limit(V::set1(-0x1p30f)),
        half(V::set1(0.5f)),
        below_half(V::set1(0x1.fffffep-2f)),
        zero(V::set1(0.0f)),
        two32(V::set1(0x1p32f)),
        lsb(V::set1(lsb_value)),
        lo(V::set1(static_cast<std::int32_t>(p.lo))),
        hi(V::set1(static_cast<std::int32_t>(p.hi))),
        one(V::set1(std::int32_t{1})) {}
};

/// The overflow mode applied to an int32 code (ok: the lanes that are not NaN).
template <class V, Overflow O>
[[gnu::always_inline]] inline typename V::I f32_saturate(typename V::I c, typename V::M ok, const F32Consts<V>& k) {
  if constexpr (O == Overflow::SaturateZero) {
    const typename V::M out_of_range = V::mask_or(V::lt(c, k.lo), V::lt(k.hi, c));
    return V::zero_unless(V::mask_andnot(out_of_range, ok), c);
  } else {
    return V::zero_unless(ok, V::min(V::max(c, k.lo), k.hi));
  }
}

/// The codes of V::lanes floats x (u: their random words, read only by Round::Stochastic).
template <class V, Round R, Overflow O>
[[gnu::always_inline]] inline typename V::I f32_codes(typename V::F x, typename V::I u, const F32Consts<V>& k) {
  using F = typename V::F;
  using I = typename V::I;
  using M = typename V::M;
  static_assert(O == Overflow::Saturate || O == Overflow::SaturateSymmetric || O == Overflow::SaturateZero);
  const F y = V::mul(x, k.scale);
  const M ok = V::ordered(y);                              // NaN lanes give code 0
  const F yc = V::min(V::max(y, k.neg_limit), k.limit);  // NaN -> -2^30 (dropped through ok)
  I c;
  if constexpr (R == Round::Floor) {
    c = V::to_int(V::template round<_MM_FROUND_TO_NEG_INF>(yc));
  } else if constexpr (R == Round::Ceil) {
    c = V::to_int(V::template round<_MM_FROUND_TO_POS_INF>(yc));
  } else if constexpr (R == Round::TowardZero) {
    c = V::to_int(V::template round<_MM_FROUND_TO_ZERO>(yc));
  } else if constexpr (R == Round::NearestEven) {
    c = V::to_int(V::template round<_MM_FROUND_TO_NEAREST_INT>(yc));
  } else if constexpr (R == Round::NearestAway && V::has_add_nearest) {
    // trunc(yc + copysign(1/2 - 2^-25, yc)) with the sum rounded to nearest even:
    // equals round-half-away for every float of magnitude <= 2^30 (checked for all
    // of them; the RN sum of a value just below a tie stays below the next integer).
    c = V::to_int(V::template round<_MM_FROUND_TO_ZERO>(V::add_nearest(yc, V::copysign(k.below_half, yc))));
  } else if constexpr (R == Round::NearestAway) {
    // t + trunc(2 r): 2 r is exact, |2 r| >= 1 exactly when |r| >= 1/2; the sum is
    // exact (|t| < 2^24 or r == 0).
    const F t = V::template round<_MM_FROUND_TO_ZERO>(yc);
    const F r = V::sub(yc, t);
    c = V::to_int(V::add(t, V::template round<_MM_FROUND_TO_ZERO>(V::add(r, r))));
  } else {
    const F t = V::template round<_MM_FROUND_TO_ZERO>(yc);
    const F r = V::sub(yc, t);  // exact; |r| < 1 with the sign of y (or +0)
    const M neg = V::lt(r, k.zero);
    c = V::to_int(t);
    if constexpr (R == Round::Stochastic) {
      // F = floor(r * 2^32) mod 2^32, from |F| = floor or ceil of |r| * 2^32 < 2^32.
      const I frac = V::negate_if(neg, V::to_uint(V::abs(V::template round<_MM_FROUND_TO_NEG_INF>(V::mul(r, k.two32)))));
      c = V::sub_if(neg, c, k.one);                          // floor(yc)
      c = V::add_if(V::ult(V::add(frac, u), u), c, k.one);  // + stochastic_carry(frac, u) (core/rounding.hpp)
    } else {
      const F a = V::abs(r);
      const M above = V::gt(a, k.half);
      const M tie = V::eq(a, k.half);
      // The tie rule of core/rounding.hpp on vector masks. At a tie r != 0, so
      // floor(yc) = t - neg and its parity is t's flipped by neg; a tie goes away
      // from zero (from t) when it goes up and y > 0, or down and y < 0.
      const M odd_floor = V::mask_xor(V::mask_not(V::even(c)), neg);
      const M tie_up = tie_rounds_up<R, VectorMaskOps<V>>(neg, odd_floor);
      const M away = V::mask_or(above, V::mask_and(tie, V::mask_xor(tie_up, neg)));
      c = V::add_if(away, c, V::negate_if(neg, k.one));
    }
  }
  return f32_saturate<V, O>(c, ok, k);
}

template <class V, class Out>
[[gnu::always_inline]] inline void f32_store(Out* p, typename V::I c, const F32Consts<V>& k) {
  if constexpr (std::is_same_v<Out, float>)
    V::store(p, V::mul(V::to_float(c), k.lsb));  // code exact in float, times 2^-frac exact
  else
    V::template store_codes<Out>(p, c);
}

/// Round::Stochastic's vector constants: y 2^16 (narrow) or y (wide) limited to
/// the codes' range, so that saturation is implicit (a y beyond a limit gives the
/// limit whatever the random halfword is); under SaturateZero, y limited to
/// +-2^30 (wide only) and the overflow mode applied to the code.
template <class V>
struct StochasticConsts {
  typename V::F scale16, lo16, hi16, lo, hi, two16;
  StochasticConsts(const BranchFreePlan<float>& p)
      : scale16(V::set1(p.scale * 65536.0f)),
        lo16(V::set1(static_cast<float>(p.lo) * 65536.0f)),
        hi16(V::set1(static_cast<float>(p.hi) * 65536.0f)),
        lo(V::set1(static_cast<float>(p.lo))),
        hi(V::set1(static_cast<float>(p.hi))),
        two16(V::set1(65536.0f)) {}
};

/// Whether the narrow scheme applies: codes within [-2^15, 2^15 - 1] (so z + b
/// fits an int32), y 2^16 a float times a power of two (frac + 16 < 127), and a
/// mode that saturates to the limits.
template <Overflow O>
inline bool stochastic_narrow(const BranchFreePlan<float>& p) {
  const int frac = static_cast<int>(std::bit_cast<std::uint32_t>(p.scale) >> 23) - 127;  // scale = 2^frac, normal
  return O == Overflow::Saturate && p.lo >= -32768 && p.hi <= 32767 && frac + 16 < 127;
}

/// Round::Stochastic for one vector of inputs x with the top halfwords b of their
/// random words; `sums` gets the sums whose low halfword is 0xFFFF exactly for
/// the undecided lanes. NaN lanes give code 0.
template <class V, Overflow O, bool Narrow>
inline typename V::I f32_stochastic_codes(typename V::F x, typename V::I b, const F32Consts<V>& k,
                                          const StochasticConsts<V>& sk, typename V::I& sums) {
  if constexpr (Narrow) {
    const typename V::F y16 = V::mul(x, sk.scale16);
    const typename V::M ok = V::ordered(y16);
    sums = V::add(V::floor_to_int(V::min(V::max(y16, sk.lo16), sk.hi16)), b);  // NaN -> lo
    return V::zero_unless(ok, V::shift_right_arith(sums, 16));
  } else {
    const typename V::F y = V::mul(x, k.scale);
    const typename V::M ok = V::ordered(y);
    const typename V::F yc = O == Overflow::SaturateZero ? V::min(V::max(y, k.neg_limit), k.limit) : V::min(V::max(y, sk.lo), sk.hi);
    const typename V::F t = V::template round<_MM_FROUND_TO_ZERO>(yc);
    // r = yc - t is exact (same sign, |r| < 1); floor(r 2^16) is F16 - 2^16 when r < 0,
    // which the arithmetic shift turns into floor(y) = t - 1.
    sums = V::add(V::floor_to_int(V::mul(V::sub(yc, t), sk.two16)), b);
    const typename V::I c = V::add(V::to_int(t), V::shift_right_arith(sums, 16));
    if constexpr (O == Overflow::SaturateZero)
      return f32_saturate<V, O>(c, ok, k);
    else
      return V::zero_unless(ok, c);
  }
}

/// Out-of-line and rare (one step in 256 on random fractions): a step in which some
/// element's top halfword leaves the carry undecided, redone from whole random
/// words (random_fill.hpp) through the exact path f32_codes, which the head and
/// tail of every call take too. xs: the step's `count` inputs (the first at
/// first_index).
template <class V, Overflow O, class Out>
__attribute__((noinline, cold)) void stochastic_undecided(const float* xs, Out* out, std::size_t count,
                                                          const F32Consts<V>& k, std::uint64_t seed,
                                                          std::uint64_t first_index) {
  constexpr std::size_t L = V::lanes;
  alignas(64) std::uint32_t u[2 * L * V::ars_in_flight];
  random_u32_fill(seed, first_index, u, count);
  for (std::size_t j = 0; j < count; j += L)
    f32_store<V>(out + j, f32_codes<V, Round::Stochastic, O>(V::load(xs + j), V::load(u + j), k), k);
}

/// Round::Stochastic's main loop from element i while a whole step fits; returns
/// the next element. A step: V::ars_in_flight vectors of stream 0 (2 V::lanes
/// halfwords each), then the 2 V::ars_in_flight element vectors they serve.
/// Everything the loop reads is a local copy, so that it lives in registers
/// (stores through the intrinsics' may-alias vector types would otherwise force
/// reloads).
template <class V, Overflow O, bool Narrow, bool Prefetch, class Out>
std::size_t stochastic_steps(const float* const in, Out* const out, std::size_t i, const std::size_t n,
                             const BranchFreePlan<float>& plan, const F32Consts<V>& consts,
                             const typename V::ArsKeys& keys, const std::uint64_t seed,
                             const std::uint64_t first_index, const bool save_x) {
  using I = typename V::I;
  constexpr std::size_t L = V::lanes;
  constexpr std::size_t nw = V::ars_in_flight;  // generator vectors per step
  constexpr std::size_t step = 2 * L * nw;      // elements per step
  // Prefetch distance: 4096 elements, enough to cover the memory latency at the
  // stream's bandwidth (in cache, Prefetch false, the instructions only cost).
  constexpr std::uintptr_t ahead_in = 4096 * sizeof(float), ahead_out = 4096 * sizeof(Out);
  const F32Consts<V> k = consts;
  const StochasticConsts<V> sk(plan);
  alignas(64) float saved[step];
  constexpr int nwi = static_cast<int>(nw);
  // With staged generators (VAES), the next step's stream-0 vectors are computed
  // a round at a time between this step's element vectors: a burst of AES rounds
  // would otherwise fill the FP schedulers ahead of the rounding work.
  I next[nw];
  if constexpr (V::has_ars_stages)
    if (i + step <= n) V::template ars<nwi>(keys, (first_index + i) / 8, next, 0);
  for (; i + step <= n; i += step) {
    I w[nw];
    if constexpr (V::has_ars_stages) {
      for (std::size_t q = 0; q < nw; ++q) w[q] = next[q];
      V::template ars_start<nwi>(keys, (first_index + i + step) / 8, next, 0);  // the last step's is not used
    } else {
      V::template ars<nwi>(keys, (first_index + i) / 8, w, 0);
    }
    I folded = V::zero();
    // Element vector j of the step: halfwords 0..L-1 (even j) or L..2L-1 (odd j) of w[j / 2].
    const auto vector_j = [&](std::size_t j, I b) {
      const std::size_t at = i + L * j;
      if constexpr (Prefetch) {  // one per 64-byte line (addresses formed as integers: never fault)
        if ((L * sizeof(float) * j) % 64 == 0)
          __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(in + at) + ahead_in), 0, 3);
        if ((L * sizeof(Out) * j) % 64 == 0)
          __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(out + at) + ahead_out), 1, 3);
      }
      const typename V::F x = V::load(in + at);
      if (save_x) V::store(saved + L * j, x);
      I sums;
      const I c = f32_stochastic_codes<V, O, Narrow>(x, b, k, sk, sums);
      folded = V::max_u16(folded, sums);
      f32_store<V>(out + at, c, k);
    };
#pragma GCC unroll 16
    for (std::size_t q = 0; q < nw; ++q) {
      vector_j(2 * q, V::halves_lo(w[q]));
      vector_j(2 * q + 1, V::halves_hi(w[q]));
      if constexpr (V::has_ars_stages) {
        static_assert(nw >= ars::rounds);
        if (q < ars::rounds) V::template ars_stage<nwi>(keys, static_cast<int>(q) + 1, next);
      }
    }
    if (V::any_low_half_ffff(folded)) [[unlikely]]
      stochastic_undecided<V, O>(save_x ? saved : in + i, out + i, step, k, seed, first_index + i);
  }
  return i;
}

/// out[i] for i < n as documented above; element i uses random_u32(seed, first_index + i).
/// `prefetch`: the arrays are far larger than the caches (Round::Stochastic then
/// prefetches ahead, which in cache only costs).
template <class V, Round R, Overflow O, class Out>
  requires f32_kernel_output<Out>
void quantize_f32(const float* in, Out* out, std::size_t n, const BranchFreePlan<float>& plan, float lsb,
                  std::uint64_t seed, std::uint64_t first_index, bool prefetch = false) {
  if (R == Round::Stochastic && n > 0 && first_index + (n - 1) < first_index) {  // indices wrap: two runs
    const auto head = static_cast<std::size_t>(0 - first_index);
    quantize_f32<V, R, O>(in, out, head, plan, lsb, seed, first_index, prefetch);
    quantize_f32<V, R, O>(in + head, out + head, n - head, plan, lsb, seed, 0, prefetch);
    return;
  }
  using I = typename V::I;
  constexpr std::size_t L = V::lanes;
  const F32Consts<V> k(plan, lsb);
  // (Forced inline: with many kernels in one unit, GCC's unit-growth budget may
  // otherwise leave it a call per vector, with every constant reloaded.)
  const auto vector = [&](std::size_t at, I u) __attribute__((always_inline)) {
    f32_store<V>(out + at, f32_codes<V, R, O>(V::load(in + at), u, k), k);
  };
  // Fewer than L elements (head and tail), through a full vector on a local copy.
  // Round::Stochastic takes their words from `stream`, which must be at element at.
  const auto partial = [&](std::size_t at, std::size_t count, RandomStream* stream) {
    alignas(64) float x[L] = {};
    alignas(64) std::uint32_t u[L] = {};
    alignas(64) Out y[L];
    std::copy(in + at, in + at + count, x);
    if constexpr (R == Round::Stochastic)
      for (std::size_t j = 0; j < count; ++j) u[j] = stream->next();
    f32_store<V>(y, f32_codes<V, R, O>(V::load(x), V::load(u), k), k);
    std::copy(y, y + count, out + at);
  };
  std::size_t i = 0;
  if constexpr (R == Round::Stochastic) {
    // Elements before the first block of 8: whole words.
    i = std::min<std::size_t>(n, (8 - first_index % 8) % 8);
    RandomStream stream(seed, first_index);
    for (std::size_t at = 0; at < i; at += L) partial(at, std::min<std::size_t>(L, i - at), &stream);
    if constexpr (V::has_ars) {
      const typename V::ArsKeys keys(seed);
      // Undecided elements need their inputs after the step; keep a copy when the
      // output may overwrite them.
      const std::less<const void*> before;  // a total order, even across buffers
      const bool save_x = before(out, in + n) && before(in, out + n);
      const bool narrow = stochastic_narrow<O>(plan);
      if (narrow && prefetch)
        i = stochastic_steps<V, O, true, true>(in, out, i, n, plan, k, keys, seed, first_index, save_x);
      else if (narrow)
        i = stochastic_steps<V, O, true, false>(in, out, i, n, plan, k, keys, seed, first_index, save_x);
      else if (prefetch)
        i = stochastic_steps<V, O, false, true>(in, out, i, n, plan, k, keys, seed, first_index, save_x);
      else
        i = stochastic_steps<V, O, false, false>(in, out, i, n, plan, k, keys, seed, first_index, save_x);
    }
    stream = RandomStream(seed, first_index + i);
    for (std::size_t at = i; at < n; at += L) partial(at, std::min<std::size_t>(L, n - at), &stream);
    return;
  } else {
    const I u = V::zero();
    for (; i + 4 * L <= n; i += 4 * L) {
      vector(i, u);
      vector(i + L, u);
      vector(i + 2 * L, u);
      vector(i + 3 * L, u);
    }
    for (; i + L <= n; i += L) vector(i, u);
  }
  if (i < n) partial(i, n - i, nullptr);
}

}  // namespace fixq::detail::simd
#endif  // FIXQ_SIMD_NATIVE

#endif  // FIXQ_SIMD_QUANTIZE_F32_HPP
