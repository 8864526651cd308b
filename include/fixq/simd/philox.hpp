// fixq/simd/philox.hpp - random_u32(seed, i) for a run of consecutive i, vectorized.
//
// Each 128-bit SIMD lane computes one Philox4x32-10 block, whose four output words
// are the random words of four consecutive indices, already in memory order: one
// AVX-512 vector gives 16 words, an AVX2 vector 8 (the rounds are in vec_avx512.hpp
// and vec_avx2.hpp, next to the other vector operations), an SSE2 vector 4 (baseline
// x86-64, below). The result equals the
// scalar fixq::random_u32 bit for bit (tests/core/random.test.cpp); which ISA runs
// is chosen at compile time (simd/native.hpp).
#ifndef FIXQ_SIMD_PHILOX_HPP
#define FIXQ_SIMD_PHILOX_HPP

#include <cstddef>
#include <cstdint>

#include <fixq/core/random.hpp>
#include <fixq/simd/native.hpp>

#if defined(__SSE2__) && !defined(FIXQ_NO_EXPLICIT_SIMD)
#include <emmintrin.h>
#endif

namespace fixq::simd {

namespace detail {

/// out[4 k + j] = word j of block first_block + k, for k < blocks.
template <class V>
void philox_blocks(std::uint64_t seed, std::uint64_t first_block, std::uint32_t* out, std::size_t blocks) {
  constexpr std::size_t per_vector = V::lanes / 4;  // blocks per vector
  constexpr int n = V::philox_in_flight;
  const typename V::PhiloxKeys keys(seed);
  std::size_t b = 0;
  for (; b + n * per_vector <= blocks; b += n * per_vector) {
    typename V::I words[n];
    V::template philox<n>(keys, first_block + b, words);
    for (int v = 0; v < n; ++v) V::store(out + 4 * b + static_cast<std::size_t>(v) * V::lanes, words[v]);
  }
  for (; b + per_vector <= blocks; b += per_vector) {
    typename V::I words[1];
    V::template philox<1>(keys, first_block + b, words);
    V::store(out + 4 * b, words[0]);
  }
  const philox::Key key = philox::key_of(seed);
  for (; b < blocks; ++b) {
    const auto w = philox::block(philox::counter_of_block(first_block + b), key);
    for (int j = 0; j < 4; ++j) out[4 * b + j] = w[j];
  }
}

#if defined(__SSE2__) && !defined(FIXQ_SIMD_NATIVE) && !defined(FIXQ_NO_EXPLICIT_SIMD)
#define FIXQ_SIMD_HAVE_PHILOX_SSE2 1
/// Philox on baseline x86-64 (SSE2), one block per vector; only what philox_blocks needs.
struct PhiloxSse2 {
  static constexpr int lanes = 4;
  static constexpr int philox_in_flight = 4;
  using I = __m128i;
  struct PhiloxKeys {
    I mult;
    I round_key[philox::rounds];
    explicit PhiloxKeys(std::uint64_t seed) {
      const philox::Key key = philox::key_of(seed);
      mult = _mm_setr_epi32(static_cast<int>(philox::M0), 0, static_cast<int>(philox::M1), 0);
      for (int r = 0; r < philox::rounds; ++r)
        round_key[r] = _mm_setr_epi32(static_cast<int>(key[0] + static_cast<std::uint32_t>(r) * philox::W0), 0,
                                      static_cast<int>(key[1] + static_cast<std::uint32_t>(r) * philox::W1), 0);
    }
  };
  template <int N>
  static void philox(const PhiloxKeys& k, std::uint64_t first_block, I* out) {
    I s[N];
    for (int v = 0; v < N; ++v)
      s[v] = _mm_set_epi64x(0, static_cast<long long>(first_block + static_cast<unsigned>(v)));
    for (int r = 0; r < philox::rounds; ++r) {
      for (int v = 0; v < N; ++v) {
        const I swapped = _mm_shuffle_epi32(_mm_mul_epu32(s[v], k.mult), 0x1B);  // {hi1, lo1, hi0, lo0}
        s[v] = _mm_xor_si128(_mm_xor_si128(swapped, _mm_srli_epi64(s[v], 32)), k.round_key[r]);
      }
    }
    for (int v = 0; v < N; ++v) out[v] = s[v];
  }
  static void store(std::uint32_t* p, I a) { _mm_storeu_si128(reinterpret_cast<I*>(p), a); }
};
#endif

}  // namespace detail

/// The instruction set random_u32_fill uses.
inline constexpr const char* philox_isa_name() {
#if defined(FIXQ_SIMD_NATIVE)
  return Native::name;
#elif defined(FIXQ_SIMD_HAVE_PHILOX_SSE2)
  return "SSE2";
#else
  return "portable";
#endif
}

/// out[k] = random_u32(seed, first + k) for 0 <= k < n.
inline void random_u32_fill(std::uint64_t seed, std::uint64_t first, std::uint32_t* out, std::size_t n) {
  std::size_t k = 0;
  for (; k < n && ((first + k) & 3) != 0; ++k) out[k] = random_u32(seed, first + k);  // to a block boundary
  const std::size_t blocks = (n - k) / 4;
#if defined(FIXQ_SIMD_NATIVE)
  detail::philox_blocks<Native>(seed, (first + k) >> 2, out + k, blocks);
#elif defined(FIXQ_SIMD_HAVE_PHILOX_SSE2)
  detail::philox_blocks<detail::PhiloxSse2>(seed, (first + k) >> 2, out + k, blocks);
#else
  const philox::Key key = philox::key_of(seed);
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto w = philox::block(philox::counter_of_block(((first + k) >> 2) + b), key);
    for (int j = 0; j < 4; ++j) out[k + 4 * b + j] = w[j];
  }
#endif
  for (k += 4 * blocks; k < n; ++k) out[k] = random_u32(seed, first + k);
}

}  // namespace fixq::simd

#endif  // FIXQ_SIMD_PHILOX_HPP
