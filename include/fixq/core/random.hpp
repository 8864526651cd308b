// fixq/core/random.hpp - the counter-based generator behind stochastic rounding.
//
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011), the generator of Random123, cuRAND, PyTorch and JAX.
// It is a keyed bijection of a 128-bit counter: no state, so element i of a
// tensor gets the same random word on every machine, thread count, SIMD width
// and evaluation order. fixq's convention, shared by the scalar type and the
// array kernels:
//
//   random_u32(seed, i) = word (i mod 4) of Philox4x32-10(counter = {lo32(i/4), hi32(i/4), 0, 0},
//                                                          key = {lo32(seed), hi32(seed)})
//
// Checked against the Random123 known-answer vectors in tests/core/random.test.cpp.
#ifndef FIXQ_CORE_RANDOM_HPP
#define FIXQ_CORE_RANDOM_HPP

#include <array>
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
constexpr Counter counter_of_block(std::uint64_t block_index) {
  return {static_cast<std::uint32_t>(block_index), static_cast<std::uint32_t>(block_index >> 32), 0,
          0};
}
}  // namespace philox

/// The random 32-bit word of element `index` under `seed`.
constexpr std::uint32_t random_u32(std::uint64_t seed, std::uint64_t index) {
  return philox::block(philox::counter_of_block(index >> 2), philox::key_of(seed))[index & 3];
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
    if ((index_ & 3) == 0 || !cached_) {
      words_ = philox::block(philox::counter_of_block(index_ >> 2), philox::key_of(seed_));
      cached_ = true;
    }
    const std::uint32_t r = words_[index_ & 3];
    ++index_;
    return r;
  }
  constexpr std::uint32_t operator()() { return next(); }

  constexpr std::uint64_t seed() const { return seed_; }
  /// Index of the next draw.
  constexpr std::uint64_t index() const { return index_; }

 private:
  std::uint64_t seed_;
  std::uint64_t index_;
  philox::Counter words_{};
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
