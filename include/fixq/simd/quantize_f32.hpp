// fixq/simd/quantize_f32.hpp - float -> codes / fake-quantized floats in vector registers.
//
// The explicit-SIMD form of the "float lanes" of kernels/quantize_span.hpp, written
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
//  - Stochastic: floor(yc + U/2^32) = t - (r < 0) + carry(F + U) with
//    F = floor(r * 2^32) mod 2^32 (r * 2^32 is exact; |F| < 2^32 converts exactly),
//    the random words U generated in registers (Philox4x32-10, the same words as
//    random_u32(seed, index)), never stored.
// Preconditions (kernels/quantize_span.hpp checks them): a saturating overflow
// mode, 0 <= frac < 127, every code within +-2^30, and for float output every code
// within +-2^24 (so the code converts to float exactly).
#ifndef FIXQ_SIMD_QUANTIZE_F32_HPP
#define FIXQ_SIMD_QUANTIZE_F32_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <fixq/core/convert.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/random.hpp>
#include <fixq/simd/native.hpp>

#if defined(FIXQ_SIMD_NATIVE)
namespace fixq::simd {

/// Output types the vector kernel stores: float values or integer codes of 1-8 bytes.
template <class Out>
inline constexpr bool f32_kernel_output = std::is_same_v<Out, float> || (std::is_integral_v<Out> && !std::is_same_v<Out, bool>);

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

/// The codes of V::lanes floats x (u: their random words, read only by Round::Stochastic).
template <class V, Round R, Overflow O>
inline typename V::I f32_codes(typename V::F x, typename V::I u, const F32Consts<V>& k) {
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
      c = V::add_if(V::ult(V::add(frac, u), u), c, k.one);  // + carry out of frac + u
    } else {
      const F a = V::abs(r);
      const M above = V::gt(a, k.half);
      const M tie = V::eq(a, k.half);
      M away;  // move from t one step away from zero
      if constexpr (R == Round::NearestZero) away = above;
      if constexpr (R == Round::NearestUp) away = V::mask_or(above, V::mask_andnot(neg, tie));
      if constexpr (R == Round::NearestDown) away = V::mask_or(above, V::mask_and(neg, tie));
      if constexpr (R == Round::NearestOdd) away = V::mask_or(above, V::mask_and(V::even(c), tie));
      c = V::add_if(away, c, V::negate_if(neg, k.one));
    }
  }
  if constexpr (O == Overflow::SaturateZero) {
    const M out_of_range = V::mask_or(V::lt(c, k.lo), V::lt(k.hi, c));
    return V::zero_unless(V::mask_andnot(out_of_range, ok), c);
  } else {
    return V::zero_unless(ok, V::min(V::max(c, k.lo), k.hi));
  }
}

template <class V, class Out>
inline void f32_store(Out* p, typename V::I c, const F32Consts<V>& k) {
  if constexpr (std::is_same_v<Out, float>)
    V::store(p, V::mul(V::to_float(c), k.lsb));  // code exact in float, times 2^-frac exact
  else
    V::template store_codes<Out>(p, c);
}

/// out[i] for i < n as documented above; element i uses random_u32(seed, first_index + i).
template <class V, Round R, Overflow O, class Out>
  requires f32_kernel_output<Out>
void quantize_f32(const float* in, Out* out, std::size_t n, const BranchFreePlan<float>& plan, float lsb,
                  std::uint64_t seed, std::uint64_t first_index) {
  using I = typename V::I;
  constexpr std::size_t L = V::lanes;
  const F32Consts<V> k(plan, lsb);
  const auto vector = [&](std::size_t at, I u) { f32_store<V>(out + at, f32_codes<V, R, O>(V::load(in + at), u, k), k); };
  // Fewer than L elements (head and tail), through a full vector on a local copy.
  const auto partial = [&](std::size_t at, std::size_t count) {
    alignas(64) float x[L] = {};
    alignas(64) std::uint32_t u[L] = {};
    alignas(64) Out y[L];
    std::copy(in + at, in + at + count, x);
    if constexpr (R == Round::Stochastic)
      for (std::size_t j = 0; j < count; ++j) u[j] = random_u32(seed, first_index + at + j);
    f32_store<V>(y, f32_codes<V, R, O>(V::load(x), V::load(u), k), k);
    std::copy(y, y + count, out + at);
  };
  std::size_t i = 0;
  if constexpr (R == Round::Stochastic) {
    // Philox blocks hold the words of 4 consecutive indices: start on a block.
    i = std::min<std::size_t>(n, (4 - (first_index & 3)) & 3);
    if (i) partial(0, i);
    const typename V::PhiloxKeys keys(seed);
    constexpr int group = V::philox_in_flight;
    for (; i + group * L <= n; i += group * L) {
      I u[group];
      V::template philox<group>(keys, (first_index + i) >> 2, u);
      for (int v = 0; v < group; ++v) vector(i + static_cast<std::size_t>(v) * L, u[v]);
    }
    for (; i + L <= n; i += L) {
      I u[1];
      V::template philox<1>(keys, (first_index + i) >> 2, u);
      vector(i, u[0]);
    }
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
  if (i < n) partial(i, n - i);
}

}  // namespace fixq::simd
#endif  // FIXQ_SIMD_NATIVE

#endif  // FIXQ_SIMD_QUANTIZE_F32_HPP
