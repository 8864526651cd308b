// fixq/simd/philox.hpp - random_u32(seed, i) for a run of consecutive i, vectorized.
//
// Each 128-bit SIMD lane computes one Philox4x32-10 block, whose four output
// words are the random words of four consecutive indices, already in memory
// order: one AVX-512 vector gives 16 words, an AVX2 vector 8, an SSE2 vector 4.
// A round is one 32x32->64 multiply (vpmuludq on the counter words 0 and 2),
// a shuffle, a shift and an XOR. The result equals the scalar fixq::random_u32 bit
// for bit (tests/simd/philox.test.cpp); which ISA runs is chosen at compile
// time from the target flags.
#ifndef FIXQ_SIMD_PHILOX_HPP
#define FIXQ_SIMD_PHILOX_HPP

#include <cstddef>
#include <cstdint>

#include <fixq/core/random.hpp>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace fixq::simd {

/// The widest instruction set this translation unit is compiled for.
inline constexpr const char* isa_name() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__SSE2__)
  return "SSE2";
#else
  return "portable";
#endif
}

namespace detail {

// Lane layout of a 128-bit block: {c0, c1, c2, c3}; the multipliers sit under
// c0 and c2 so that vpmuludq gives {lo(M0*c0), hi(M0*c0), lo(M1*c2), hi(M1*c2)}.
// A round maps {c0, c1, c2, c3} to {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0}.
#if defined(__AVX512F__)
inline void philox_blocks_avx512(std::uint64_t seed, std::uint64_t first_block, std::uint32_t* out,
                                 std::size_t blocks) {
  const philox::Key key = philox::key_of(seed);
  const __m512i mult = _mm512_set4_epi32(0, static_cast<int>(philox::M1), 0, static_cast<int>(philox::M0));
  __m512i keys[philox::rounds];
  for (int r = 0; r < philox::rounds; ++r)
    keys[r] = _mm512_set4_epi32(0, static_cast<int>(key[1] + r * philox::W1), 0,
                                static_cast<int>(key[0] + r * philox::W0));
  // Four independent vectors per step: a round's multiply-shuffle-xor chain is
  // latency bound, so interleaving hides it (port-bound instead).
  const auto counters = [](std::uint64_t c) {
    return _mm512_set_epi32(0, 0, static_cast<int>((c + 3) >> 32), static_cast<int>(c + 3),  //
                            0, 0, static_cast<int>((c + 2) >> 32), static_cast<int>(c + 2),  //
                            0, 0, static_cast<int>((c + 1) >> 32), static_cast<int>(c + 1),  //
                            0, 0, static_cast<int>(c >> 32), static_cast<int>(c));
  };
  // (maskz forms with a full mask: the plain intrinsics trip GCC 12's
  // -Wmaybe-uninitialized through _mm512_undefined_epi32, GCC bug 105593)
  const auto round = [&](__m512i s, const __m512i& k) {
    const __m512i prod = _mm512_maskz_mul_epu32(0xFF, s, mult);
    const __m512i swapped = _mm512_maskz_shuffle_epi32(0xFFFF, prod, _MM_PERM_ABCD);  // {hi1, lo1, hi0, lo0}
    const __m512i odd = _mm512_maskz_srli_epi64(0xFF, s, 32);                         // {c1, 0, c3, 0}
    return _mm512_ternarylogic_epi32(swapped, odd, k, 0x96);                          // three-way XOR
  };
  std::size_t b = 0;
  for (; b + 16 <= blocks; b += 16) {
    __m512i s0 = counters(first_block + b), s1 = counters(first_block + b + 4);
    __m512i s2 = counters(first_block + b + 8), s3 = counters(first_block + b + 12);
    for (int r = 0; r < philox::rounds; ++r) {
      s0 = round(s0, keys[r]);
      s1 = round(s1, keys[r]);
      s2 = round(s2, keys[r]);
      s3 = round(s3, keys[r]);
    }
    _mm512_storeu_si512(out + 4 * b, s0);
    _mm512_storeu_si512(out + 4 * b + 16, s1);
    _mm512_storeu_si512(out + 4 * b + 32, s2);
    _mm512_storeu_si512(out + 4 * b + 48, s3);
  }
  for (; b + 4 <= blocks; b += 4) {
    __m512i s0 = counters(first_block + b);
    for (int r = 0; r < philox::rounds; ++r) s0 = round(s0, keys[r]);
    _mm512_storeu_si512(out + 4 * b, s0);
  }
  for (; b < blocks; ++b) {
    const auto w = philox::block(philox::counter_of_block(first_block + b), key);
    for (int j = 0; j < 4; ++j) out[4 * b + j] = w[j];
  }
}
#endif

#if defined(__AVX2__)
inline void philox_blocks_avx2(std::uint64_t seed, std::uint64_t first_block, std::uint32_t* out,
                               std::size_t blocks) {
  const philox::Key key = philox::key_of(seed);
  const __m256i mult = _mm256_setr_epi32(static_cast<int>(philox::M0), 0, static_cast<int>(philox::M1), 0,
                                         static_cast<int>(philox::M0), 0, static_cast<int>(philox::M1), 0);
  __m256i keys[philox::rounds];
  for (int r = 0; r < philox::rounds; ++r) {
    const int k0 = static_cast<int>(key[0] + r * philox::W0), k1 = static_cast<int>(key[1] + r * philox::W1);
    keys[r] = _mm256_setr_epi32(k0, 0, k1, 0, k0, 0, k1, 0);
  }
  std::size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const std::uint64_t c = first_block + b;
    __m256i s = _mm256_setr_epi32(static_cast<int>(c), static_cast<int>(c >> 32), 0, 0,
                                  static_cast<int>(c + 1), static_cast<int>((c + 1) >> 32), 0, 0);
    for (int r = 0; r < philox::rounds; ++r) {
      const __m256i prod = _mm256_mul_epu32(s, mult);
      const __m256i swapped = _mm256_shuffle_epi32(prod, 0x1B);                      // {hi1, lo1, hi0, lo0}
      const __m256i odd = _mm256_srli_epi64(s, 32);                                  // {c1, 0, c3, 0}
      s = _mm256_xor_si256(_mm256_xor_si256(swapped, odd), keys[r]);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * b), s);
  }
  for (; b < blocks; ++b) {
    const auto w = philox::block(philox::counter_of_block(first_block + b), key);
    for (int j = 0; j < 4; ++j) out[4 * b + j] = w[j];
  }
}
#endif

inline void philox_blocks_portable(std::uint64_t seed, std::uint64_t first_block, std::uint32_t* out,
                                   std::size_t blocks) {
  const philox::Key key = philox::key_of(seed);
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto w = philox::block(philox::counter_of_block(first_block + b), key);
    for (int j = 0; j < 4; ++j) out[4 * b + j] = w[j];
  }
}

}  // namespace detail

/// out[k] = random_u32(seed, first + k) for 0 <= k < n.
inline void random_u32_fill(std::uint64_t seed, std::uint64_t first, std::uint32_t* out, std::size_t n) {
  std::size_t k = 0;
  for (; k < n && ((first + k) & 3) != 0; ++k) out[k] = random_u32(seed, first + k);  // to a block boundary
  const std::size_t blocks = (n - k) / 4;
#if defined(__AVX512F__)
  detail::philox_blocks_avx512(seed, (first + k) >> 2, out + k, blocks);
#elif defined(__AVX2__)
  detail::philox_blocks_avx2(seed, (first + k) >> 2, out + k, blocks);
#else
  detail::philox_blocks_portable(seed, (first + k) >> 2, out + k, blocks);
#endif
  for (k += 4 * blocks; k < n; ++k) out[k] = random_u32(seed, first + k);
}

}  // namespace fixq::simd

#endif  // FIXQ_SIMD_PHILOX_HPP
