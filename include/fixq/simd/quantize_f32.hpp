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
//  - Stochastic: floor(y + U/2^32), i.e. floor(y) + carry(F + U) with
//    F = floor(frac(y) * 2^32), for U = random_u32(seed, index). The top byte of U
//    comes from Philox stream 0 (core/random.hpp), generated in registers and never
//    stored: with z = floor(y * 2^8) and b its byte of U, the code is (z + b) >> 8
//    unless the low byte of z + b is 0xFF, when the lower bytes of F + U decide
//    the carry. That happens with probability 1/256 per element; those elements
//    are recorded without a branch and redone after the loop from the next bytes
//    of U (stochastic_fix). Elements before the first full group of 64 and after
//    the last one use whole words from a RandomStream (f32_codes below).
// Preconditions (kernels/quantize_span.hpp checks them): a saturating overflow
// mode, 0 <= frac < 127, every code within +-2^30, and for float output every code
// within +-2^24 (so the code converts to float exactly); for Round::Stochastic,
// frac < 119 and every code within +-(2^22 - 1) (see stochastic_lanes_fit).
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
#include <fixq/core/random.hpp>
#include <fixq/simd/native.hpp>

namespace fixq::simd {

/// Whether Round::Stochastic may use the vector lanes for format f: y * 2^8 must
/// be a float times a power of two (frac + 8 < 127), and every code strictly
/// within 2^22 (|y * 2^8| is clamped to 2^30 and must stay out of range there).
inline bool stochastic_lanes_fit(const Format& f) {
  constexpr std::int64_t lim = (std::int64_t{1} << 22) - 1;
  return f.frac >= 0 && f.frac < 119 && f.max_code() <= lim && -static_cast<int128>(f.min_code()) <= lim;
}

}  // namespace fixq::simd

#if defined(FIXQ_SIMD_NATIVE)
namespace fixq::simd {

/// Output types the vector kernel stores: float values or integer codes of 1-8 bytes.
template <class Out>
inline constexpr bool f32_kernel_output = std::is_same_v<Out, float> || (std::is_integral_v<Out> && !std::is_same_v<Out, bool>);

/// Vector constants of one call.
template <class V>
struct F32Consts {
  typename V::F scale, scale256, limit, neg_limit, half, below_half, zero, two32, lsb;
  typename V::F lo256, hi256;         // Round::Stochastic: the codes' range times 2^8
  typename V::I lo, hi, one, byte;
  typename V::I byte_of_word[4];      // shuffle_bytes tables: byte k of each word
  F32Consts(const BranchFreePlan<float>& p, float lsb_value)
      : scale(V::set1(p.scale)),
        scale256(V::set1(p.scale * 256.0f)),
        limit(V::set1(0x1p30f)),
        neg_limit(V::set1(-0x1p30f)),
        half(V::set1(0.5f)),
        below_half(V::set1(0x1.fffffep-2f)),
        zero(V::set1(0.0f)),
        two32(V::set1(0x1p32f)),
        lsb(V::set1(lsb_value)),
        lo256(V::set1(static_cast<float>(p.lo) * 256.0f)),
        hi256(V::set1(static_cast<float>(p.hi) * 256.0f)),
        lo(V::set1(static_cast<std::int32_t>(p.lo))),
        hi(V::set1(static_cast<std::int32_t>(p.hi))),
        one(V::set1(std::int32_t{1})),
        byte(V::set1(std::int32_t{0xFF})),
        byte_of_word{V::byte_table(0), V::byte_table(1), V::byte_table(2), V::byte_table(3)} {}
};

/// The overflow mode applied to an int32 code (ok: the lanes that are not NaN).
template <class V, Overflow O>
inline typename V::I f32_saturate(typename V::I c, typename V::M ok, const F32Consts<V>& k) {
  if constexpr (O == Overflow::SaturateZero) {
    const typename V::M out_of_range = V::mask_or(V::lt(c, k.lo), V::lt(k.hi, c));
    return V::zero_unless(V::mask_andnot(out_of_range, ok), c);
  } else {
    return V::zero_unless(ok, V::min(V::max(c, k.lo), k.hi));
  }
}

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
  return f32_saturate<V, O>(c, ok, k);
}

template <class V, class Out>
inline void f32_store(Out* p, typename V::I c, const F32Consts<V>& k) {
  if constexpr (std::is_same_v<Out, float>)
    V::store(p, V::mul(V::to_float(c), k.lsb));  // code exact in float, times 2^-frac exact
  else
    V::template store_codes<Out>(p, c);
}

/// y * 2^8 limited for Round::Stochastic: to [lo, hi] * 2^8 under
/// Saturate(Symmetric), which makes the saturation of the code implicit (a y beyond
/// a limit gives that limit whatever the random byte is); to +-2^30 under
/// SaturateZero. NaN -> the lower limit (the caller zeroes NaN lanes).
template <class V, Overflow O>
inline typename V::F stochastic_limit(typename V::F y8, const F32Consts<V>& k) {
  if constexpr (O == Overflow::SaturateZero)
    return V::min(V::max(y8, k.neg_limit), k.limit);
  else
    return V::min(V::max(y8, k.lo256), k.hi256);
}

/// Round::Stochastic for one vector from the top bytes b of the random words:
/// (z + b) >> 8 with z = floor(y * 2^8) (limited: stochastic_limit). `ties` gets
/// bit 4 j for each lane j whose carry the lower bytes decide (low byte of z + b ==
/// 0xFF); its result is provisional, stochastic_fix replaces it.
template <class V, Overflow O>
inline typename V::I f32_stochastic_codes(typename V::F x, typename V::I b, const F32Consts<V>& k,
                                          std::uint64_t& ties) {
  const typename V::F y8 = V::mul(x, k.scale256);
  const typename V::M ok = V::ordered(y8);
  const typename V::I s = V::add(V::floor_to_int(stochastic_limit<V, O>(y8, k)), b);
  ties = V::low_byte_ff(s);
  if constexpr (O == Overflow::SaturateZero)
    return f32_saturate<V, O>(V::shift_right_arith(s, 8), ok, k);
  else
    return V::zero_unless(ok, V::shift_right_arith(s, 8));  // within [lo, hi]; NaN lanes give code 0
}

/// The exact code of x under Round::Stochastic, given that the top bytes of F and
/// U sum to 0xFF (the vector lanes' tie) and b1, the second byte of U: the next
/// bytes of U decide. The scalar form of f32_stochastic_fix_codes, used for the
/// one tie in 256 whose second bytes sum to 0xFF as well.
template <Overflow O>
inline std::int32_t stochastic_fix_code(float x, const BranchFreePlan<float>& plan, std::uint64_t seed,
                                        std::uint64_t index, std::uint32_t b1) {
  if (x != x) return 0;
  // y = x 2^frac, exact in double, clamped as the vector lanes clamp y 2^8.
  const double scale = static_cast<double>(plan.scale);
  const double y = std::min(std::max(static_cast<double>(x) * scale, -0x1p22), 0x1p22);
  const auto fl = static_cast<std::int32_t>(std::floor(y));
  // F = floor(y 2^32) mod 2^32 = floor(frac(y) 2^32), from the bits of x without
  // branches (the signs of tie elements are random): x = m 2^e with m a signed
  // 25-bit integer, so floor(y 2^32) = m shifted by e + frac + 32.
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const int biased = static_cast<int>((bits >> 23) & 0xFFu);
  const auto mag = static_cast<std::int64_t>((bits & 0x7FFFFFu) | (biased != 0 ? 0x800000u : 0u));
  const std::int64_t m = (bits >> 31) != 0 ? -mag : mag;
  const int frac = static_cast<int>(std::bit_cast<std::uint32_t>(plan.scale) >> 23) - 127;  // scale = 2^frac, normal
  const int shift = (biased != 0 ? biased - 150 : -149) + frac + 32;
  const std::int64_t scaled = shift >= 0 ? static_cast<std::int64_t>(static_cast<std::uint64_t>(m) << std::min(shift, 40))
                                         : m >> std::min(-shift, 63);  // arithmetic: floor
  const auto F = std::fabs(y) < 0x1p22 ? static_cast<std::uint32_t>(scaled) : 0u;  // clamped: an integer
  const std::uint32_t b0 = (0xFFu - (F >> 24)) & 0xFFu;
  const std::uint32_t second = ((F >> 16) & 0xFFu) + b1;
  bool up;
  if (second != 0xFF) {
    up = second > 0xFF;
  } else {  // one in 2^16 elements: the last two bytes too
    const std::uint32_t u = b0 << 24 | b1 << 16 | random_byte(seed, index, 2) << 8 | random_byte(seed, index, 3);
    up = static_cast<std::uint64_t>(F) + u >= (std::uint64_t{1} << 32);
  }
  std::int32_t c = fl + (up ? 1 : 0);
  if constexpr (O == Overflow::SaturateZero)
    c = (c < plan.lo || c > plan.hi) ? 0 : c;
  else
    c = std::min(std::max(c, static_cast<std::int32_t>(plan.lo)), static_cast<std::int32_t>(plan.hi));
  return c;
}

/// The exact codes of V::lanes tie elements x (see f32_stochastic_codes) from b1,
/// the second bytes of their random words: floor(y) plus the carry of the second
/// bytes of F and U, F's being floor(y 2^16) mod 2^8 with y limited as in the main
/// pass (a limited y has F = 0); y 2^16 is the limited y 2^8 times 2^8, exact.
/// floor_to_int gives 0x80000000, low byte 0, for |y 2^16| >= 2^31, where y 2^16 is
/// a multiple of 2^8 anyway. `rare` marks the lanes whose second bytes sum to
/// 0xFF: their lower bytes decide (stochastic_fix_code).
template <class V, Overflow O>
inline typename V::I f32_stochastic_fix_codes(typename V::F x, typename V::I b1, const F32Consts<V>& k,
                                              typename V::M& rare) {
  const typename V::F y8 = V::mul(x, k.scale256);
  const typename V::M ok = V::ordered(y8);
  const typename V::F y8c = stochastic_limit<V, O>(y8, k);
  const typename V::I fl = V::shift_right_arith(V::floor_to_int(y8c), 8);
  const typename V::I second = V::add(V::bit_and(V::floor_to_int(V::mul(y8c, V::set1(0x1p8f))), k.byte), b1);
  rare = V::eq(second, k.byte);
  return f32_saturate<V, O>(V::add_if(V::lt(k.byte, second), fl, k.one), ok, k);
}

/// Where the tie flags of a group put an element: flag bit p of a group's word
/// (vector e of the group, lane j, at bit 4 j + e mod 4 + 4 lanes (e / 4)) is the
/// element group start + tie_offset<L>(p).
template <std::size_t L>
constexpr std::size_t tie_shift(std::size_t e) { return e % 4 + 4 * L * (e / 4); }
template <std::size_t L>
constexpr std::size_t tie_offset(std::size_t p) { return (p % 4 + 4 * (p / (4 * L))) * L + p % (4 * L) / 4; }

/// Out-of-line: redo the recorded ties, flag bits bits[t] of the group of 64
/// elements from at[t], whose inputs are xs[64 t + offset]
/// when xs is given (`out` may be the input buffer) and in[at[t] + offset]
/// otherwise. The ties are first listed (a loop per group whose branch is mostly
/// not taken: 8 in 9 groups with a tie have one), then redone V::lanes at a time in
/// fixed-length loops: their second bytes come from stream 1 (V::philox_bytes_at), their
/// codes from f32_stochastic_fix_codes. The last batch repeats its last tie.
template <class V, Overflow O, class Out>
__attribute__((noinline)) void stochastic_fix(const float* in, const float* xs, Out* out, const std::size_t* at,
                                              const std::uint64_t* bits, std::size_t count,
                                              const BranchFreePlan<float>& plan, const F32Consts<V>& k,
                                              std::uint64_t seed, std::uint64_t first_index,
                                              const typename V::PhiloxKeys& keys) {
  constexpr std::size_t L = V::lanes;
  constexpr std::size_t G = philox::group_size;
  constexpr std::size_t flush_at = 256;  // listed ties redone when the list is this long
  // The list: element offsets and inputs of the ties (a group adds at most G).
  std::size_t list[flush_at + G + L];
  alignas(64) float list_x[flush_at + G + L];
  std::size_t n = 0;
  // Redo the first m listed ties, m a multiple of L.
  const auto redo = [&](std::size_t m) {
    for (std::size_t b = 0; b < m; b += L) {
      const std::size_t* idx = list + b;
      std::uint64_t g[L];
      for (std::size_t j = 0; j < L; ++j) g[j] = first_index + idx[j];
      const typename V::I b1 = V::philox_bytes_at(keys, g, 1);  // the second bytes, from stream 1
      alignas(64) std::int32_t codes[L];
      typename V::M rare;
      const typename V::I c = f32_stochastic_fix_codes<V, O>(V::load(list_x + b), b1, k, rare);
      V::store(reinterpret_cast<std::uint32_t*>(codes), c);
      if (V::mask_bits(rare) != 0) [[unlikely]] {
        alignas(64) std::uint32_t second[L];
        V::store(second, b1);
        for (std::size_t j = 0; j < L; ++j)
          if ((V::mask_bits(rare) >> j) & 1u)
            codes[j] = stochastic_fix_code<O>(list_x[b + j], plan, seed, g[j], second[j]);
      }
      if constexpr (std::is_same_v<Out, float>) {
        alignas(64) float values[L];
        V::store(values, V::mul(V::to_float(V::load(reinterpret_cast<const std::uint32_t*>(codes))), k.lsb));
        for (std::size_t j = 0; j < L; ++j) out[idx[j]] = values[j];
      } else {
        for (std::size_t j = 0; j < L; ++j) out[idx[j]] = static_cast<Out>(codes[j]);
      }
    }
  };
  for (std::size_t t = 0; t < count; ++t) {
    std::uint64_t bm = bits[t];  // not zero; 8 in 9 groups with a tie have exactly one
    const float* x = xs ? xs + G * t : in + at[t];
    do {
      const std::size_t offset = tie_offset<L>(static_cast<std::size_t>(std::countr_zero(bm)));
      list[n] = at[t] + offset;
      list_x[n++] = x[offset];
      bm &= bm - 1;
    } while (bm != 0);
    if (n >= flush_at) {  // redo whole batches, keep the rest
      const std::size_t done = n - n % L;
      redo(done);
      std::copy(list + done, list + n, list);
      std::copy(list_x + done, list_x + n, list_x);
      n -= done;
    }
  }
  if (n == 0) return;
  for (std::size_t j = n; j % L != 0; ++j) {  // repeat the last tie: rewrites the same value
    list[j] = list[n - 1];
    list_x[j] = list_x[n - 1];
  }
  redo((n + L - 1) / L * L);
}

/// out[i] for i < n as documented above; element i uses random_u32(seed, first_index + i).
template <class V, Round R, Overflow O, class Out>
  requires f32_kernel_output<Out>
void quantize_f32(const float* in, Out* out, std::size_t n, const BranchFreePlan<float>& plan, float lsb,
                  std::uint64_t seed, std::uint64_t first_index) {
  if (R == Round::Stochastic && n > 0 && first_index + (n - 1) < first_index) {  // indices wrap: two runs
    const auto head = static_cast<std::size_t>(0 - first_index);
    quantize_f32<V, R, O>(in, out, head, plan, lsb, seed, first_index);
    quantize_f32<V, R, O>(in + head, out + head, n - head, plan, lsb, seed, 0);
    return;
  }
  using I = typename V::I;
  constexpr std::size_t L = V::lanes;
  const F32Consts<V> k(plan, lsb);
  const auto vector = [&](std::size_t at, I u) { f32_store<V>(out + at, f32_codes<V, R, O>(V::load(in + at), u, k), k); };
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
    // Elements before the first group boundary: whole words.
    i = std::min<std::size_t>(n, (philox::group_size - first_index % philox::group_size) % philox::group_size);
    RandomStream stream(seed, first_index);
    for (std::size_t at = 0; at < i; at += L) partial(at, std::min<std::size_t>(L, i - at), &stream);
    const typename V::PhiloxKeys keys(seed);
    constexpr std::size_t wv = philox::group_words / L;  // word vectors per group
    constexpr int n_words = V::philox_in_flight;
    constexpr std::size_t groups = n_words / wv;          // groups per step
    constexpr std::size_t step = groups * philox::group_size;
    constexpr std::size_t cap = 64;                       // recorded groups before a fix pass
    constexpr std::uintptr_t prefetch_bytes_in = 1024 * sizeof(float);  // 1024 elements ahead
    constexpr std::uintptr_t prefetch_bytes_out = 1024 * sizeof(Out);
    std::size_t tie_at[cap];
    std::uint64_t tie_bits[cap];
    alignas(64) float tie_x[cap * philox::group_size];
    std::size_t n_ties = 0;
    // The redo needs the inputs; save them only when the output may overwrite them.
    const std::less<const void*> before;  // a total order, even across buffers
    const bool save_x = before(out, in + n) && before(in, out + n);
    const auto fix = [&] {
      stochastic_fix<V, O>(in, save_x ? tie_x : nullptr, out, tie_at, tie_bits, n_ties, plan, k, seed,
                           first_index, keys);
      n_ties = 0;
    };
    // Full groups: `count` groups from element i, their stream-0 words in w.
    const auto groups_at = [&](std::size_t count, const I* w) {
      for (std::size_t q = 0; q < count; ++q) {
        const std::size_t group = i + q * philox::group_size;
        std::uint64_t ties = 0;  // the group's tie flags (tie_shift)
        for (std::size_t e = 0; e < philox::group_size / L; ++e) {
          // element vector e of group q: byte e L / 16 of word vector (e L mod 16) / L
          const std::size_t at = group + e * L;
          const I b = V::shuffle_bytes(w[q * wv + (e * L % 16) / L], k.byte_of_word[e * L / 16]);
          std::uint64_t t;
          // Prefetch: the Philox rounds between the loads leave the loads too sparse
          // for the hardware prefetchers at 64 MiB (measured: 0.65x -> 0.76x nearest).
          // (Addresses past the buffers are formed as integers: prefetches never fault.)
          __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(in + at) + prefetch_bytes_in), 0, 3);
          __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(out + at) + prefetch_bytes_out), 1, 3);
          const typename V::F x = V::load(in + at);
          const I c = f32_stochastic_codes<V, O>(x, b, k, t);
          if (save_x) V::store(tie_x + n_ties * philox::group_size + e * L, x);  // kept only if the group has a tie
          f32_store<V>(out + at, c, k);
          ties |= t << tie_shift<L>(e);
        }
        tie_at[n_ties] = group;
        tie_bits[n_ties] = ties;
        n_ties += ties != 0;
      }
      if (n_ties + step / philox::group_size > cap) fix();
    };
    for (; i + step <= n; i += step) {
      I w[n_words];
      V::template philox<n_words>(keys, (first_index + i) / 16, w);
      groups_at(groups, w);
    }
    for (; i + philox::group_size <= n; i += philox::group_size) {
      I w[wv];
      V::template philox<static_cast<int>(wv)>(keys, (first_index + i) / 16, w);
      groups_at(1, w);
    }
    fix();
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

}  // namespace fixq::simd
#endif  // FIXQ_SIMD_NATIVE

#endif  // FIXQ_SIMD_QUANTIZE_F32_HPP
