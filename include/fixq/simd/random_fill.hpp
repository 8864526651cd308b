// fixq/simd/random_fill.hpp - random_u32(seed, i) for a run of consecutive i, vectorized.
//
// random_u32 joins halfword h of block b of ARS stream 0 (the top 16 bits) and of
// stream 1 (the bottom 16 bits) for element 8 b + h (random/stream.hpp). Here whole
// runs of blocks are generated in vector registers (vec_avx512.hpp / vec_avx2.hpp:
// VAES, or AES-NI per block) and the halfwords of the two streams are joined by
// zero extension, a shift and an OR. On x86-64 with AES-NI but no AVX2 the blocks
// come from AESENC and an unpack joins them; without AES instructions the scalar
// generator runs (ars::block, a table-driven AES round). The result equals scalar
// fixq::random_u32 bit for bit (tests/simd); which path runs is chosen at compile
// time (simd/native.hpp).
#ifndef FIXQ_SIMD_RANDOM_FILL_HPP
#define FIXQ_SIMD_RANDOM_FILL_HPP

#include <cstddef>
#include <cstdint>

#include <fixq/random/stream.hpp>
#include <fixq/simd/ars_aesni.hpp>
#include <fixq/simd/native.hpp>

namespace fixq::detail::simd {

namespace impl {

#if defined(FIXQ_SIMD_NATIVE)
/// out[k] = random_u32(seed, 8 first_block + k) for k < 8 * blocks, blocks a
/// multiple of V's step (ars_in_flight vectors).
template <class V>
void ars_words(std::uint64_t seed, std::uint64_t first_block, std::uint32_t* out, std::size_t blocks) {
  constexpr int n = V::ars_in_flight;
  constexpr std::size_t blocks_per_vector = 2 * V::lanes / 8;  // 2 V::lanes halfwords per vector
  const typename V::ArsKeys keys(seed);
  for (std::size_t b = 0; b < blocks; b += n * blocks_per_vector) {
    typename V::I hi[n], lo[n];
    V::template ars<n>(keys, first_block + b, hi, 0);
    V::template ars<n>(keys, first_block + b, lo, 1);
    std::uint32_t* o = out + 8 * b;
    for (int v = 0; v < n; ++v, o += 2 * V::lanes) {
      V::store(o, V::bit_or(V::shift_left(V::halves_lo(hi[v]), 16), V::halves_lo(lo[v])));
      V::store(o + V::lanes, V::bit_or(V::shift_left(V::halves_hi(hi[v]), 16), V::halves_hi(lo[v])));
    }
  }
}
#endif
#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
/// The same with AES-NI and SSE2, 8 blocks in flight (compiled for AES-NI; called
/// when ars::impl::aesni_usable()).
FIXQ_AES_TARGET inline void ars_words_aesni(std::uint64_t seed, std::uint64_t first_block, std::uint32_t* out, std::size_t blocks) {
  constexpr int n = 8;
  __m128i round_key[ars::rounds + 1];
  ars_round_keys(seed, round_key);
  for (std::size_t b = 0; b < blocks; b += n) {
    __m128i hi[n], lo[n];
    ars_blocks_aesni<n>(round_key, first_block + b, 0, hi);
    ars_blocks_aesni<n>(round_key, first_block + b, 1, lo);
    for (int q = 0; q < n; ++q) {
      __m128i* o = reinterpret_cast<__m128i*>(out + 8 * (b + static_cast<std::size_t>(q)));
      _mm_storeu_si128(o, _mm_unpacklo_epi16(lo[q], hi[q]));  // {lo_h | hi_h << 16}, h = 0..3
      _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(lo[q], hi[q]));
    }
  }
}
#endif

/// Blocks per step of the vector path (0: scalar only).
inline constexpr std::size_t fill_step_blocks() {
#if defined(FIXQ_SIMD_NATIVE)
  if (Native::has_ars) return static_cast<std::size_t>(Native::ars_in_flight) * (2 * Native::lanes / 8);
#endif
#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
  return 8;  // ars_words_aesni
#else
  return 0;
#endif
}

}  // namespace impl

/// The instruction set random_u32_fill uses.
inline const char* ars_isa_name() {
#if defined(FIXQ_SIMD_NATIVE)
  if (Native::has_ars) {
#if defined(__VAES__)
    return Native::lanes == 16 ? "AVX-512 VAES" : "AVX2 VAES";
#else
    return Native::lanes == 16 ? "AVX-512 + AES-NI" : "AVX2 + AES-NI";
#endif
  }
#endif
#if defined(FIXQ_ARS_HAVE_AESNI)
  return "AES-NI";
#elif defined(FIXQ_ARS_RUNTIME_AESNI)
  return ars::impl::aesni_usable() ? "AES-NI (chosen at run time)" : "portable";
#else
  return "portable";
#endif
}

/// out[k] = random_u32(seed, first + k) for 0 <= k < n.
inline void random_u32_fill(std::uint64_t seed, std::uint64_t first, std::uint32_t* out, std::size_t n) {
  if (n > 0 && first + (n - 1) < first) {  // the indices wrap past 2^64 - 1: two runs
    const auto head = static_cast<std::size_t>(0 - first);
    random_u32_fill(seed, first, out, head);
    random_u32_fill(seed, 0, out + head, n - head);
    return;
  }
  std::size_t k = 0;
  constexpr std::size_t step = impl::fill_step_blocks();
  if constexpr (step > 0) {
    RandomStream stream(seed, first);
    for (; k < n && (first + k) % 8 != 0; ++k) out[k] = stream.next();  // to a block boundary
    const std::size_t blocks = (n - k) / 8 / step * step;
    bool done = false;
#if defined(FIXQ_SIMD_NATIVE)
    if constexpr (Native::has_ars) {
      impl::ars_words<Native>(seed, (first + k) / 8, out + k, blocks);
      done = true;
    }
#endif
#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
    if (!done && ars::impl::aesni_usable()) {
      impl::ars_words_aesni(seed, (first + k) / 8, out + k, blocks);
      done = true;
    }
#endif
    if (done) k += 8 * blocks;
  }
  RandomStream stream(seed, first + k);
  for (; k < n; ++k) out[k] = stream.next();
}

}  // namespace fixq::detail::simd

#endif  // FIXQ_SIMD_RANDOM_FILL_HPP
