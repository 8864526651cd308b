// fixq/simd/philox.hpp - random_u32(seed, i) for a run of consecutive i, vectorized.
//
// random_u32 takes one byte of each element's word from each of four Philox
// streams (core/random.hpp): a group of 64 elements needs 4 blocks of each stream.
// Here whole groups are computed with the Philox rounds of vec_avx512.hpp,
// vec_avx2.hpp or SSE2 (baseline x86-64, below), several blocks per vector, and
// the bytes are then recombined into words by a loop compilers vectorize. The
// result equals scalar fixq::random_u32 bit for bit (tests/core/random.test.cpp,
// tests/simd); which ISA runs is chosen at compile time (simd/native.hpp).
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

/// The words of elements 64 g + e, e < 64, of the groups g = first_group + q for
/// q < count, from the stream words w[s][16 q + l].
inline void compose_groups(const std::uint32_t (*w)[philox::group_words * 8], std::uint32_t* out, std::size_t count) {
  for (std::size_t q = 0; q < count; ++q)
    for (int k = 0; k < 4; ++k) {
      std::uint32_t* o = out + 64 * q + 16 * static_cast<std::size_t>(k);
      const std::size_t at = 16 * q;
      for (std::size_t l = 0; l < 16; ++l)
        o[l] = philox::compose_word(w[0][at + l], w[1][at + l], w[2][at + l], w[3][at + l], k);
    }
}

/// out[64 q + e] = random_u32(seed, 64 (first_group + q) + e) for q < groups.
template <class V>
void philox_groups(std::uint64_t seed, std::uint64_t first_group, std::uint32_t* out, std::size_t groups) {
  constexpr std::size_t wv = philox::group_words / V::lanes;  // vectors per group and stream
  constexpr int n = V::philox_in_flight;
  constexpr std::size_t per_step = n / wv;                    // groups per step
  static_assert(per_step >= 1 && per_step <= 8);
  const typename V::PhiloxKeys keys(seed);
  alignas(64) std::uint32_t w[philox::streams][philox::group_words * 8];
  std::size_t q = 0;
  for (; q + per_step <= groups; q += per_step) {
    for (std::uint32_t s = 0; s < philox::streams; ++s) {
      typename V::I words[n];
      V::template philox<n>(keys, 4 * (first_group + q), words, s);
      for (int v = 0; v < n; ++v) V::store(w[s] + static_cast<std::size_t>(v) * V::lanes, words[v]);
    }
    compose_groups(w, out + 64 * q, per_step);
  }
  for (; q < groups; ++q) {
    for (std::uint32_t s = 0; s < philox::streams; ++s) {
      const auto ws = philox::group_stream_words(seed, first_group + q, s);
      for (std::size_t l = 0; l < philox::group_words; ++l) w[s][l] = ws[l];
    }
    compose_groups(w, out + 64 * q, 1);
  }
}

#if defined(__SSE2__) && !defined(FIXQ_SIMD_NATIVE) && !defined(FIXQ_NO_EXPLICIT_SIMD)
#define FIXQ_SIMD_HAVE_PHILOX_SSE2 1
/// Philox on baseline x86-64 (SSE2), one block per vector; only what philox_groups needs.
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
  static void philox(const PhiloxKeys& k, std::uint64_t first_block, I* out, std::uint32_t stream = 0) {
    I s[N];
    for (int v = 0; v < N; ++v)
      s[v] = _mm_set_epi64x(stream, static_cast<long long>(first_block + static_cast<unsigned>(v)));
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
  if (n > 0 && first + (n - 1) < first) {  // the indices wrap past 2^64 - 1: two runs
    const auto head = static_cast<std::size_t>(0 - first);
    random_u32_fill(seed, first, out, head);
    random_u32_fill(seed, 0, out + head, n - head);
    return;
  }
  std::size_t k = 0;
  if (first % philox::group_size != 0) {  // to a group boundary, through a sequential stream
    RandomStream stream(seed, first);
    for (; k < n && (first + k) % philox::group_size != 0; ++k) out[k] = stream.next();
  }
  const std::size_t groups = (n - k) / philox::group_size;
  const std::uint64_t g = (first + k) / philox::group_size;
#if defined(FIXQ_SIMD_NATIVE)
  detail::philox_groups<Native>(seed, g, out + k, groups);
#elif defined(FIXQ_SIMD_HAVE_PHILOX_SSE2)
  detail::philox_groups<detail::PhiloxSse2>(seed, g, out + k, groups);
#else
  for (std::size_t q = 0; q < groups; ++q) {
    RandomStream stream(seed, (g + q) * philox::group_size);
    for (std::size_t e = 0; e < philox::group_size; ++e) out[k + q * philox::group_size + e] = stream.next();
  }
#endif
  k += groups * philox::group_size;
  if (k < n) {
    RandomStream stream(seed, first + k);
    for (; k < n; ++k) out[k] = stream.next();
  }
}

}  // namespace fixq::simd

#endif  // FIXQ_SIMD_PHILOX_HPP
