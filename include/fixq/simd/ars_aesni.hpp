// fixq/simd/ars_aesni.hpp - ARS-7 blocks with the AES-NI instructions, one per xmm.
//
// The building block of the vector generators (vec_avx512.hpp and vec_avx2.hpp use
// VAES when the target has it, this otherwise) and of random_u32_fill on x86-64
// with AES-NI but no AVX2. Same blocks as fixq::ars::block (core/random.hpp),
// tested against it in tests/simd.
#ifndef FIXQ_SIMD_ARS_AESNI_HPP
#define FIXQ_SIMD_ARS_AESNI_HPP

#include <cstdint>

#include <fixq/core/random.hpp>

// FIXQ_SIMD_HAVE_AESNI: the target has AES-NI (the vector generators use it).
// Either way, where core/random.hpp can use AES-NI (FIXQ_AES_TARGET: compiled for
// it, or chosen at run time) these functions exist for random_fill.hpp.
#if defined(__AES__) && defined(__SSE2__) && !defined(FIXQ_NO_EXPLICIT_SIMD)
#define FIXQ_SIMD_HAVE_AESNI 1
#endif
#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
#include <wmmintrin.h>
#include <emmintrin.h>

namespace fixq::simd {

/// The round keys of a seed: key_of(seed) plus r times the Weyl increments, r <= rounds.
FIXQ_AES_TARGET inline void ars_round_keys(std::uint64_t seed, __m128i* round_key) {
  const __m128i weyl = _mm_set_epi64x(static_cast<long long>(ars::weyl_hi), static_cast<long long>(ars::weyl_lo));
  __m128i k = _mm_set_epi64x(0, static_cast<long long>(seed));  // {lo32(seed), hi32(seed), 0, 0}
  for (int r = 0; r <= ars::rounds; ++r, k = _mm_add_epi64(k, weyl)) round_key[r] = k;
}

/// out[q] = block first_block + q of a stream, q < NB (all NB in flight: a round's
/// latency is several cycles, its throughput one or two per cycle).
template <int NB>
FIXQ_AES_TARGET inline void ars_blocks_aesni(const __m128i* round_key, std::uint64_t first_block, std::uint32_t stream, __m128i* out) {
  __m128i v[NB];
  for (int q = 0; q < NB; ++q)
    v[q] = _mm_xor_si128(_mm_set_epi64x(stream, static_cast<long long>(first_block + static_cast<unsigned>(q))), round_key[0]);
  for (int r = 1; r < ars::rounds; ++r)
    for (int q = 0; q < NB; ++q) v[q] = _mm_aesenc_si128(v[q], round_key[r]);
  for (int q = 0; q < NB; ++q) out[q] = _mm_aesenclast_si128(v[q], round_key[ars::rounds]);
}

}  // namespace fixq::simd

#endif  // AES-NI usable
#endif  // FIXQ_SIMD_ARS_AESNI_HPP
