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
#include <vector>

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

/// The common case, branch-free so that compilers vectorize it: a deterministic
/// rounding, an overflow mode other than Throw, and right shifts 0 <= s <= 62
/// (s = from_frac - to.frac, one per channel). Works for every int64 accumulator.
template <Round R, Overflow O, class Acc, class Out>
void requantize_right_shifts(const Acc* acc, Out* out, std::size_t rows, std::size_t channels, const std::int64_t* shift,
                             const Format& to) {
  static_assert(R != Round::Stochastic && O != Overflow::Throw);
  const std::int64_t hi = static_cast<std::int64_t>(std::min<std::uint64_t>(to.max_code(), std::uint64_t{1} << 62));
  const std::int64_t lo = O == Overflow::SaturateSymmetric && to.is_signed ? -hi : to.min_code();
  const std::int64_t drop = 64 - to.word;
  std::vector<std::uint64_t> masks(channels), halves(channels);  // 2^s - 1 and 2^(s-1) (0 for s = 0)
  for (std::size_t c = 0; c < channels; ++c) {
    masks[c] = (std::uint64_t{1} << shift[c]) - 1;
    halves[c] = (std::uint64_t{1} << shift[c]) >> 1;
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const Acc* a = acc + r * channels;
    Out* o = out + r * channels;
    for (std::size_t c = 0; c < channels; ++c) {
      const auto x = static_cast<std::int64_t>(a[c]);
      const std::int64_t sh = shift[c];  // 64 bits, as the shifted values (vector shifts need it)
      const std::int64_t n = x >> sh;  // floor
      const std::uint64_t rem = static_cast<std::uint64_t>(x) & masks[c];
      const std::uint64_t half = halves[c];  // 0 when sh == 0 (rem is 0 then)
      const std::int64_t nonzero = rem != 0;
      std::int64_t up;
      if constexpr (R == Round::Floor) {
        up = 0;
      } else if constexpr (R == Round::Ceil) {
        up = nonzero;
      } else if constexpr (R == Round::TowardZero) {
        up = nonzero & static_cast<std::int64_t>(n < 0);
      } else {
        const std::int64_t above = rem > half, tie = nonzero & static_cast<std::int64_t>(rem == half);
        up = above | (tie & tie_rounds_up<R>(static_cast<std::int64_t>(n < 0), static_cast<std::int64_t>(n & 1)));
      }
      std::int64_t code = n + up;
      if constexpr (O == Overflow::SaturateZero) {
        code = (code < lo) | (code > hi) ? 0 : code;
      } else if constexpr (O == Overflow::Wrap) {
        code = to.word >= 64 ? code
               : to.is_signed ? static_cast<std::int64_t>(static_cast<std::uint64_t>(code) << drop) >> drop
                              : static_cast<std::int64_t>(static_cast<std::uint64_t>(code) & (~std::uint64_t{0} >> drop));
      } else {
        code = code < lo ? lo : (code > hi ? hi : code);
      }
      o[c] = static_cast<Out>(code);
    }
  }
}

template <Round R, Overflow O, class Acc, class Out>
void requantize_impl(const Acc* acc, Out* out, std::size_t n, std::span<const int> acc_frac, const Format& to,
                     std::uint64_t seed, std::uint64_t first_index) {
  const std::size_t channels = acc_frac.size();
  if constexpr (R != Round::Stochastic && O != Overflow::Throw) {
    std::vector<std::int64_t> shift(channels);
    bool right = true;
    for (std::size_t c = 0; c < channels; ++c) {
      shift[c] = acc_frac[c] - to.frac;
      right = right && shift[c] >= 0 && shift[c] <= 62;
    }
    if (right) return requantize_right_shifts<R, O>(acc, out, n / channels, channels, shift.data(), to);
  }
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

// FIXQ_SEPARATE_KERNELS (kernels/instantiate.hpp) also covers the integer layers'
// two requantize pairs (9 roundings x 5 overflow modes each): declared extern
// here, defined in one translation unit by FIXQ_INSTANTIATE_REQUANTIZE().
#define FIXQ_REQUANTIZE_PAIRS(X) X(std::int32_t, std::int32_t) X(std::int64_t, std::int32_t)
#define FIXQ_DETAIL_REQUANTIZE_SIGNATURE(Acc, Out)                                                        \
  void fixq::requantize_span<Acc, Out>(const Acc*, Out*, std::size_t, std::span<const int>, const fixq::QuantSpec&, \
                                       std::uint64_t)
#define FIXQ_DETAIL_INSTANTIATE_REQUANTIZE(Acc, Out) template FIXQ_DETAIL_REQUANTIZE_SIGNATURE(Acc, Out);
#define FIXQ_INSTANTIATE_REQUANTIZE() FIXQ_REQUANTIZE_PAIRS(FIXQ_DETAIL_INSTANTIATE_REQUANTIZE) static_assert(true)
#if defined(FIXQ_SEPARATE_KERNELS)
#define FIXQ_DETAIL_EXTERN_REQUANTIZE(Acc, Out) extern template FIXQ_DETAIL_REQUANTIZE_SIGNATURE(Acc, Out);
FIXQ_REQUANTIZE_PAIRS(FIXQ_DETAIL_EXTERN_REQUANTIZE)
#undef FIXQ_DETAIL_EXTERN_REQUANTIZE
#endif

#endif  // FIXQ_KERNELS_REQUANTIZE_HPP
