// fixq/core/random.hpp - the counter-based generator behind stochastic rounding.
//
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011), the generator of Random123, cuRAND, PyTorch and JAX.
// It is a keyed bijection of a 128-bit counter: no state, so element i of a
// tensor gets the same random word on every machine, thread count, SIMD width
// and evaluation order.
//
// fixq's convention, shared by the scalar type and the array kernels. Elements
// form groups of 64; group g owns Philox blocks 4g .. 4g+3 of four streams
// s = 0..3 (counter {lo32(b), hi32(b), s, 0}, key {lo32(seed), hi32(seed)}),
// that is 16 words w_s[0..15] per stream. Element i = 64 g + 16 k + l draws
//
//   random_u32(seed, i) = byte k of w_0[l] << 24 | byte k of w_1[l] << 16
//                       | byte k of w_2[l] << 8  | byte k of w_3[l]
//
// (byte k = bits 8k .. 8k+7). Every word is still a uniform 32-bit number, and the
// scalar cost is unchanged (16 blocks per 64 words), but each stream holds one
// byte of the word of every element: stochastic rounding compares the random word
// with the bits of the value being rounded from the top, and the first byte
// decides 255 times in 256, so the array kernels compute stream 0 only and the
// rest for the few elements that need it (simd/quantize_f32.hpp). The rounding
// probabilities are those of a full 32-bit word.
//
// Checked against the Random123 known-answer vectors in tests/core/random.test.cpp.
#ifndef FIXQ_CORE_RANDOM_HPP
#define FIXQ_CORE_RANDOM_HPP

#include <array>
#include <cstddef>
#include <cstdint>

namespace fixq {

namespace philox {
inline constexpr std::uint32_t M0 = 0xD2511F53u;  // round multipliers
inline constexpr std::uint32_t M1 = 0xCD9E8D57u;
inline constexpr std::uint32_t W0 = 0x9E3779B9u;  // key schedule (Weyl) increments
inline constexpr std::uint32_t W1 = 0xBB67AE85u;
inline constexpr int rounds = 10;

using Counter = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;

/// One Philox4x32-10 block: 128 random bits from (counter, key).
constexpr Counter block(Counter c, Key k) {
  for (int r = 0; r < rounds; ++r) {
    if (r > 0) {
      k[0] += W0;
      k[1] += W1;
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(M0) * c[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(M1) * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
  }
  return c;
}

constexpr Key key_of(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}
constexpr Counter counter_of_block(std::uint64_t block_index, std::uint32_t stream = 0) {
  return {static_cast<std::uint32_t>(block_index), static_cast<std::uint32_t>(block_index >> 32), stream,
          0};
}

inline constexpr int streams = 4;       // one byte of every random word each
inline constexpr int group_size = 64;   // elements per group
inline constexpr int group_words = 16;  // words per stream and group (4 blocks)

/// The 16 words of one stream for group g: w[4 j + t] = word t of block 4 g + j.
constexpr std::array<std::uint32_t, group_words> group_stream_words(std::uint64_t seed, std::uint64_t g,
                                                                    std::uint32_t stream) {
  std::array<std::uint32_t, group_words> w{};
  for (int j = 0; j < 4; ++j) {
    const Counter b = block(counter_of_block(4 * g + static_cast<std::uint64_t>(j), stream), key_of(seed));
    for (int t = 0; t < 4; ++t) w[static_cast<std::size_t>(4 * j + t)] = b[static_cast<std::size_t>(t)];
  }
  return w;
}

/// Where the bytes of element `index` live: word `word` of block `block` (of every
/// stream), bits `shift` .. `shift` + 7.
struct BytePosition {
  std::uint64_t block;
  int word, shift;
};
constexpr BytePosition byte_position(std::uint64_t index) {
  const int e = static_cast<int>(index % group_size), l = e % 16;
  return {4 * (index / group_size) + static_cast<std::uint64_t>(l / 4), l % 4, 8 * (e / 16)};
}

/// Byte k of each of w_0[l] .. w_3[l], most significant first: the word of element 16 k + l.
constexpr std::uint32_t compose_word(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2, std::uint32_t w3,
                                     int k) {
  const int sh = 8 * k;
  return ((w0 >> sh) & 0xFFu) << 24 | ((w1 >> sh) & 0xFFu) << 16 | ((w2 >> sh) & 0xFFu) << 8 | ((w3 >> sh) & 0xFFu);
}
}  // namespace philox

/// Byte `stream` (0 = most significant) of random_u32(seed, index): one Philox block.
constexpr std::uint32_t random_byte(std::uint64_t seed, std::uint64_t index, std::uint32_t stream) {
  const philox::BytePosition at = philox::byte_position(index);
  const philox::Counter b = philox::block(philox::counter_of_block(at.block, stream), philox::key_of(seed));
  return (b[static_cast<std::size_t>(at.word)] >> at.shift) & 0xFFu;
}

/// The random 32-bit word of element `index` under `seed` (four Philox blocks).
constexpr std::uint32_t random_u32(std::uint64_t seed, std::uint64_t index) {
  return random_byte(seed, index, 0) << 24 | random_byte(seed, index, 1) << 16 | random_byte(seed, index, 2) << 8 |
         random_byte(seed, index, 3);
}

/// A sequential view of the same numbers: draw k returns random_u32(seed, start + k).
/// Stochastic conversions of the scalar type take one draw each (even when the
/// value needs no rounding), so converting x[i] with RandomStream(seed, i)
/// reproduces element i of fixq::quantize(x, ..., Round::Stochastic, seed).
class RandomStream {
 public:
  constexpr explicit RandomStream(std::uint64_t seed = 0, std::uint64_t start_index = 0)
      : seed_(seed), index_(start_index) {}

  constexpr std::uint32_t next() {
    const std::uint64_t g = index_ / philox::group_size;
    if (!cached_ || g != group_) {  // 16 Philox blocks per 64 draws
      for (std::uint32_t s = 0; s < philox::streams; ++s) words_[s] = philox::group_stream_words(seed_, g, s);
      group_ = g;
      cached_ = true;
    }
    const int e = static_cast<int>(index_ % philox::group_size);
    const auto l = static_cast<std::size_t>(e % 16);
    ++index_;
    return philox::compose_word(words_[0][l], words_[1][l], words_[2][l], words_[3][l], e / 16);
  }
  constexpr std::uint32_t operator()() { return next(); }

  constexpr std::uint64_t seed() const { return seed_; }
  /// Index of the next draw.
  constexpr std::uint64_t index() const { return index_; }

 private:
  std::uint64_t seed_;
  std::uint64_t index_;
  std::uint64_t group_ = 0;
  std::array<std::array<std::uint32_t, philox::group_words>, philox::streams> words_{};
  bool cached_ = false;
};

/// The stream used by stochastic conversions that are not given one: one per
/// thread, seed 0, starting at index 0 when the thread first uses it. Reseed
/// with `fixq::default_random_stream() = fixq::RandomStream(seed);`.
inline RandomStream& default_random_stream() {
  thread_local RandomStream stream{0, 0};
  return stream;
}

}  // namespace fixq

#endif  // FIXQ_CORE_RANDOM_HPP
