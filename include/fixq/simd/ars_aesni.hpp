// fixq/simd/ars_aesni.hpp - ARS-7 blocks with the AES-NI instructions, one per xmm.
//
// The building block of the vector generators (vec_avx512.hpp and vec_avx2.hpp use
// VAES when the target has it, this otherwise) and of random_u32_fill on x86-64
// with AES-NI but no AVX2: runs of consecutive blocks of a stream. The key schedule
// and rounds are random/ars.hpp's (ars::impl::aesni_round_keys, aesni_blocks),
// which the scalar ars::block uses too; tested against it in tests/simd.
#ifndef FIXQ_SIMD_ARS_AESNI_HPP
#define FIXQ_SIMD_ARS_AESNI_HPP

#include <cstdint>

#include <fixq/random/ars.hpp>

// Where random/ars.hpp can use AES-NI (FIXQ_ARS_HAVE_AESNI: the target has it;
// FIXQ_ARS_RUNTIME_AESNI: compiled for it with FIXQ_AES_TARGET, chosen at run time).
#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
#include <emmintrin.h>

namespace fixq::detail::simd {

/// The round keys of a seed (ars::impl::aesni_round_keys of key_of(seed)).
FIXQ_AES_TARGET inline void ars_round_keys(std::uint64_t seed, __m128i* round_key) {
  ars::impl::aesni_round_keys<ars::rounds>(ars::key_of(seed), round_key);
}

/// out[q] = block first_block + q of a stream, q < NB.
template <int NB>
FIXQ_AES_TARGET inline void ars_blocks_aesni(const __m128i* round_key, std::uint64_t first_block, std::uint32_t stream, __m128i* out) {
  for (int q = 0; q < NB; ++q) out[q] = _mm_set_epi64x(stream, static_cast<long long>(first_block + static_cast<unsigned>(q)));
  ars::impl::aesni_blocks<ars::rounds, NB>(round_key, out);
}

}  // namespace fixq::detail::simd

#endif  // AES-NI usable
#endif  // FIXQ_SIMD_ARS_AESNI_HPP
