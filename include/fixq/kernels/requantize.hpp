// fixq/kernels/requantize.hpp - exact integer accumulators to output codes.
//
//   fixq::requantize_span(acc, out, n, acc_frac, spec, first_index);
//
// Every integer layer ends the same way: an exact accumulator `acc` at fractional
// length F (its value is acc * 2^-F) becomes a code of spec.format, rounded by
// spec.round (a rounding shift by F - spec.format.frac bits, or a left shift
// when that is negative) and narrowed by spec.overflow. This is the scalar core's
// Fixed-to-Fixed conversion (core/convert.hpp) applied to integers, and the tests
// compare the two element by element. Per-channel accumulator fractions (one per
// output channel, channels innermost as in NHWC and (batch, out)) are supported:
// acc_frac has one entry, or one per channel and n is a multiple of their count.
// Round::Stochastic keys element i with random_u32(seed, first_index + i), as the
// array quantizers do, so an integer layer and its float simulation draw the same
// words for the same output element.
#ifndef FIXQ_KERNELS_REQUANTIZE_HPP
#define FIXQ_KERNELS_REQUANTIZE_HPP

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fixq/core/convert.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/overflow.hpp>
#include <fixq/core/rounding.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/simd/random_fill.hpp>

namespace fixq {

namespace detail {

/// The code of acc * 2^-from_frac in `to` under (R, O): in int64 when the
/// shifted accumulator provably fits (|acc| < 2^62 and no left shift past it),
/// else in 128 bits. Equals code_from_code<R, O> for every input.
template <Round R, Overflow O, class Acc>
inline std::int64_t requantize_one(Acc acc, int from_frac, const Format& to, std::uint32_t u) {
  const int shift = to.frac - from_frac;
  const auto a = static_cast<std::int64_t>(acc);
  constexpr std::int64_t limit = std::int64_t{1} << 61;
  if (shift <= 0 ? (a > -limit && a < limit) : (shift < 61 && a > -(limit >> shift) && a < (limit >> shift)))
    return code_from_code_in<R, O, std::int64_t>(a, shift, to, u);
  return static_cast<std::int64_t>(code_from_code<R, O>(static_cast<int128>(a), from_frac, to, u));
}

template <Round R, Overflow O, class Acc, class Out>
void requantize_impl(const Acc* acc, Out* out, std::size_t n, std::span<const int> acc_frac, const Format& to,
                     std::uint64_t seed, std::uint64_t first_index) {
  const std::size_t channels = acc_frac.size();
  std::array<std::uint32_t, R == Round::Stochastic ? kChunk : 1> random{};
  for (std::size_t begin = 0; begin < n; begin += kChunk) {
    const std::size_t len = std::min(kChunk, n - begin);
    if constexpr (R == Round::Stochastic) simd::random_u32_fill(seed, first_index + begin, random.data(), len);
    for (std::size_t i = 0; i < len; ++i) {
      const std::size_t k = begin + i;
      const int frac = channels == 1 ? acc_frac[0] : acc_frac[k % channels];
      const std::uint32_t u = R == Round::Stochastic ? random[R == Round::Stochastic ? i : 0] : 0;
      out[k] = static_cast<Out>(requantize_one<R, O>(acc[k], frac, to, u));
    }
  }
}

}  // namespace detail

/// Codes of spec.format for n exact accumulators (acc[i] * 2^-F, F = acc_frac[0]
/// or acc_frac[i % acc_frac.size()]): out[i] is what converting that value into
/// spec.format gives. Out must hold every code of the format. Throws
/// std::invalid_argument for an invalid spec, an empty acc_frac, or n not a
/// multiple of the channel count; fixq::overflow_error under Overflow::Throw.
template <class Acc, class Out>
  requires std::integral<Acc> && std::integral<Out>
void requantize_span(const Acc* acc, Out* out, std::size_t n, std::span<const int> acc_frac, const QuantSpec& spec,
                     std::uint64_t first_index = 0) {
  static_assert(sizeof(Acc) <= 8, "fixq::requantize_span: accumulators of at most 64 bits");
  spec.validate();
  detail::check_code_type<Out>(spec.format);
  if (acc_frac.empty()) throw std::invalid_argument("fixq::requantize_span: acc_frac is empty");
  if (n % acc_frac.size() != 0)
    throw std::invalid_argument("fixq::requantize_span: n = " + std::to_string(n) + " is not a multiple of the " +
                                std::to_string(acc_frac.size()) + " channels");
  detail::dispatch_round(spec.round, [&]<Round R>() {
    detail::dispatch_overflow(spec.overflow, [&]<Overflow O>() {
      detail::requantize_impl<R, O>(acc, out, n, acc_frac, spec.format, spec.stream_seed(), first_index);
    });
  });
}

}  // namespace fixq

#endif  // FIXQ_KERNELS_REQUANTIZE_HPP
