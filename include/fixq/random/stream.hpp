// fixq/random/stream.hpp - the random words of stochastic rounding.
//
// fixq's convention, shared by the scalar type and the array kernels: the random
// word of element i under a 64-bit seed is
//
//   random_u32(seed, i) = H(0, i) << 16 | H(1, i)
//   H(s, i) = halfword i mod 8 of ARS-7 block (counter {lo32(i / 8), hi32(i / 8), s, 0},
//                                              key {lo32(seed), hi32(seed), 0, 0})
//
// (halfword h = bits 16 h .. 16 h + 15 of the block, word 0 least significant).
// Every word is uniform on 32 bits, and the cost is that of a 32-bit-per-element
// generator (two blocks per 8 words), but stream 0 alone holds the top 16 bits of
// every element's word: stochastic rounding compares the random word with the bits
// of the value being rounded from the top, so the top halfword decides 65535
// times in 65536 and the array kernels generate stream 0 only, in registers
// (simd/quantize_f32.hpp). The rounding probabilities are those of the full word.
//
// There is no hidden global stream: every stochastic rounding names its seed
// (an array call) or its RandomStream (a scalar conversion). For fresh,
// reproducible noise at every training step, derive the seed from a run seed,
// the step and the tensor: fixq::derive_seed(run_seed, step, tensor_id).
#ifndef FIXQ_RANDOM_STREAM_HPP
#define FIXQ_RANDOM_STREAM_HPP

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>

#include <fixq/random/ars.hpp>

namespace fixq {

namespace detail {
/// Halfword `stream` of random_u32(seed, index): 0 the top 16 bits, 1 the bottom.
constexpr std::uint32_t random_half(std::uint64_t seed, std::uint64_t index, std::uint32_t stream) {
  return detail::ars::halfword(detail::ars::block(detail::ars::counter_of_block(index / 8, stream), detail::ars::key_of(seed)), static_cast<int>(index % 8));
}

}  // namespace detail

/// The random 32-bit word of element `index` under `seed` (two ARS blocks).
constexpr std::uint32_t random_u32(std::uint64_t seed, std::uint64_t index) {
  return detail::random_half(seed, index, 0) << 16 | detail::random_half(seed, index, 1);
}

/// A sequential view of the same numbers: draw k returns random_u32(seed, start + k).
/// Stochastic conversions of the scalar type take one draw each (even when the
/// value needs no rounding), so converting x[i] with RandomStream(seed, i)
/// reproduces element i of fixq::quantize(x, {..., .round = Round::Stochastic, .seed = seed}).
/// A standard uniform random bit generator (32 bits), so <random> accepts it too.
class RandomStream {
 public:
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<std::uint32_t>::max(); }

  constexpr explicit RandomStream(std::uint64_t seed, std::uint64_t start_index = 0)
      : seed_(seed), index_(start_index) {}

  constexpr std::uint32_t next() {
    const std::uint64_t b = index_ / detail::ars::halves_per_block;
    if (!cached_ || b != block_) {  // two blocks per 8 draws
      const detail::ars::Key key = detail::ars::key_of(seed_);
      high_ = detail::ars::block(detail::ars::counter_of_block(b, 0), key);
      low_ = detail::ars::block(detail::ars::counter_of_block(b, 1), key);
      block_ = b;
      cached_ = true;
    }
    const int h = static_cast<int>(index_ % detail::ars::halves_per_block);
    ++index_;
    return detail::ars::halfword(high_, h) << 16 | detail::ars::halfword(low_, h);
  }
  constexpr std::uint32_t operator()() { return next(); }

  constexpr std::uint64_t seed() const { return seed_; }
  /// Index of the next draw.
  constexpr std::uint64_t index() const { return index_; }

 private:
  std::uint64_t seed_;
  std::uint64_t index_;
  std::uint64_t block_ = 0;
  detail::ars::Block high_{}, low_{};
  bool cached_ = false;
};

/// A seed for one use of stochastic rounding, mixed from any number of 64-bit
/// parts (SplitMix64's finalizer, chained): derive_seed(run_seed, step, tensor)
/// gives every (step, tensor) its own stream, the same in every run with the
/// same run_seed. ARS keys are independent for distinct seeds, so any distinct
/// seeds would do; mixing keeps seeds distinct when the parts are small counters.
constexpr std::uint64_t derive_seed(std::span<const std::uint64_t> parts) {
  std::uint64_t h = 0x6A09E667F3BCC908ull;  // sqrt(2)
  for (const std::uint64_t p : parts) {
    std::uint64_t z = h ^ (p + 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    h = z ^ (z >> 31);
  }
  return h;
}
constexpr std::uint64_t derive_seed(std::initializer_list<std::uint64_t> parts) {
  return derive_seed(std::span<const std::uint64_t>(parts.begin(), parts.size()));
}
template <class... Parts>
constexpr std::uint64_t derive_seed(Parts... parts) {
  return derive_seed({static_cast<std::uint64_t>(parts)...});
}

}  // namespace fixq

#endif  // FIXQ_RANDOM_STREAM_HPP
