// fixq/simd/philox.hpp - random_u32(seed, i) for a run of consecutive i, vectorized.
//
// Each 128-bit SIMD lane computes one Philox4x32-10 block, whose four output words
// are the random words of four consecutive indices, already in memory order: one
// AVX-512 vector gives 16 words, an AVX2 vector 8 (the rounds are in vec_avx512.hpp
// and vec_avx2.hpp, next to the other vector operations). The result equals the
// scalar fixq::random_u32 bit for bit (tests/core/random.test.cpp); which ISA runs
// is chosen at compile time (simd/native.hpp).
#ifndef FIXQ_SIMD_PHILOX_HPP
#define FIXQ_SIMD_PHILOX_HPP

#include <cstddef>
#include <cstdint>

#include <fixq/core/random.hpp>
#include <fixq/simd/native.hpp>

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

}  // namespace detail

/// out[k] = random_u32(seed, first + k) for 0 <= k < n.
inline void random_u32_fill(std::uint64_t seed, std::uint64_t first, std::uint32_t* out, std::size_t n) {
  std::size_t k = 0;
  for (; k < n && ((first + k) & 3) != 0; ++k) out[k] = random_u32(seed, first + k);  // to a block boundary
  const std::size_t blocks = (n - k) / 4;
#if defined(FIXQ_SIMD_NATIVE)
  detail::philox_blocks<Native>(seed, (first + k) >> 2, out + k, blocks);
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
