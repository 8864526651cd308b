// fixq/kernels/quantize_span.hpp - the quantization engine on contiguous spans.
//
// quantize_span(in, out, n, spec, first_index) writes, for every element, what
// the scalar core computes for it:
//   out[i] = the code of in[i] in spec.format under (spec.round, spec.overflow),
//            with random word random_u32(seed, first_index + i) under Round::Stochastic
// as a code (integer Out) or as its value (floating Out, correctly rounded).
//
// How: the modes become template arguments once per call (dispatch), the call
// picks a path from the format (kernels/span_paths.hpp: float, double or exact),
// and the span is cut into chunks that may run on several threads
// (kernels/parallel.hpp); the result never depends on the thread count. The float
// path runs in vector registers where the target has AVX2 or AVX-512
// (simd/quantize_f32.hpp). Overflow::Throw checks each chunk first
// (kernels/throw_check.hpp). Compiling the kernels once per program:
// kernels/instantiate.hpp.
#ifndef FIXQ_KERNELS_QUANTIZE_SPAN_HPP
#define FIXQ_KERNELS_QUANTIZE_SPAN_HPP

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fixq/core/convert.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/overflow.hpp>
#include <fixq/core/rounding.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/parallel.hpp>
#include <fixq/kernels/span_paths.hpp>
#include <fixq/kernels/throw_check.hpp>
#include <fixq/simd/native.hpp>
#include <fixq/simd/quantize_f32.hpp>
#include <fixq/simd/random_fill.hpp>

namespace fixq {

namespace detail {

/// Throws std::invalid_argument unless every code of f fits the integer type Int.
template <class Int>
void check_code_type(const Format& f) {
  static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
  f.validate();
  const bool fits = static_cast<int128>(std::numeric_limits<Int>::min()) <= f.min_code_wide() &&
                    f.max_code_wide() <= static_cast<int128>(std::numeric_limits<Int>::max());
  if (!fits)
    throw std::invalid_argument("fixq: the codes of " + f.name() + " do not fit a " +
                                std::to_string(sizeof(Int) * 8) + "-bit " +
                                (std::is_signed_v<Int> ? "signed" : "unsigned") + " integer");
}

inline constexpr std::size_t kChunk = 4096;  // elements per chunk of the portable paths
// The vector float path needs no buffer of random words and pays a fixed cost
// per call (constants, generator keys, the stochastic head and tail), so its
// chunks are larger (tuned: bench/RESULTS.md).
inline constexpr std::size_t kSimdChunk = std::size_t{1} << 15;
// Arrays (input and output together) at least this large are taken to come from
// memory rather than cache; the stochastic vector loop then prefetches.
inline constexpr std::size_t kPrefetchBytes = std::size_t{16} << 20;

/// How one call runs: the path, whether the vector float kernel takes it, and
/// the chunking.
struct SpanSchedule {
  Path path;
  bool vector_float;  // simd/quantize_f32.hpp runs the float path
  bool prefetch;      // the arrays come from memory
  std::size_t chunk;
  bool parallel;
};

template <Round R, Overflow O, class In, class Out>
SpanSchedule schedule_span(const Format& f, std::size_t n) {
  constexpr bool stochastic = R == Round::Stochastic;
  SpanSchedule s{choose_path<In, Out>(f, path_overflow(O)), false, false, kChunk, false};
#if defined(FIXQ_SIMD_NATIVE)
  s.vector_float = s.path == Path::Float && (!stochastic || (simd::Native::has_ars && simd::stochastic_lanes_fit(f)));
  s.prefetch = n * (sizeof(In) + sizeof(Out)) >= kPrefetchBytes;
#endif
  // (A Throw chunk may go to the exact path, whose random words are kChunk long.)
  if (s.vector_float && O != Overflow::Throw) s.chunk = kSimdChunk;
  // Throw must be able to throw, which OpenMP regions cannot: it runs on one thread.
  s.parallel = O != Overflow::Throw && n >= parallel_min(s.path == Path::Float, s.path == Path::Double, stochastic);
  return s;
}

/// One chunk of quantize_span on the path of the schedule.
template <Round R, Overflow O, class In, class Out>
void quantize_chunk(const In* src, Out* dst, std::size_t len, const SpanSchedule& s, const SpanPlan& plan,
                    const ThrowLimits& throw_limits, std::uint64_t seed, std::uint64_t first_index) {
  constexpr Overflow K = path_overflow(O);  // the mode the float and double paths compute
  constexpr bool stochastic = R == Round::Stochastic;
  constexpr bool float_path_compiles = std::same_as<In, float> &&
                                       (std::same_as<Out, float> || std::integral<Out>) &&
                                       (K == Overflow::Saturate || K == Overflow::SaturateZero);
  // Throw: a chunk where an element might overflow goes to the exact path.
  const bool fast = s.path != Path::Exact && (O != Overflow::Throw || scaled_within(src, len, throw_limits));
#if defined(FIXQ_SIMD_NATIVE)
  if constexpr (float_path_compiles) {
    if (s.vector_float && fast) {
      simd::quantize_f32<simd::Native, R, K>(src, dst, len, float_plan(plan), static_cast<float>(plan.lsb), seed,
                                             first_index, s.prefetch);
      return;
    }
  }
#endif
  // Random words only for Round::Stochastic (filled before use).
  std::array<std::uint32_t, stochastic ? kChunk : 1> random{};
  if constexpr (stochastic) simd::random_u32_fill(seed, first_index, random.data(), len);
  if constexpr (float_path_compiles) {
    if (s.path == Path::Float && fast) return float_path_chunk<R, K>(src, dst, len, plan, random.data());
  }
  if constexpr (std::same_as<In, float> || std::same_as<In, double>) {
    if (s.path == Path::Double && fast) return double_path_chunk<R, K>(src, dst, len, plan, random.data());
  }
  // The exact path, and Throw chunks that may overflow (this throws at the first one).
  for (std::size_t i = 0; i < len; ++i)
    dst[i] = exact_element<R, O, In, Out>(src[i], plan.f, stochastic ? random[stochastic ? i : 0] : 0);
}

template <Round R, Overflow O, class In, class Out>
void quantize_span_impl(const In* in, Out* out, std::size_t n, const Format& f, std::uint64_t seed,
                        std::uint64_t first_index) {
  const SpanPlan plan = make_plan(f, O);  // [lo, hi]: -max under SaturateSymmetric
  const ThrowLimits throw_limits(plan);   // used under Throw only
  const SpanSchedule s = schedule_span<R, O, In, Out>(f, n);
  const std::size_t chunks = (n + s.chunk - 1) / s.chunk;
  for_each_chunk(chunks, s.parallel, [&](std::size_t c) {
    const std::size_t begin = c * s.chunk, len = std::min(s.chunk, n - begin);
    quantize_chunk<R, O>(in + begin, out + begin, len, s, plan, throw_limits, seed, first_index + begin);
  });
}

/// quantize_span with the modes fixed at compile time (spec.round == R and
/// spec.overflow == O): compiles one kernel instead of every mode's.
template <Round R, Overflow O, class In, class Out>
void quantize_span_static(const In* in, Out* out, std::size_t n, const QuantSpec& spec, std::uint64_t first_index) {
  spec.validate();
  if constexpr (std::integral<Out>) check_code_type<Out>(spec.format);
  quantize_span_impl<R, O>(in, out, n, spec.format, spec.stream_seed(), first_index);
}

}  // namespace detail

/// Quantize n contiguous values by `spec`. Out is float/double (the quantized
/// values, "fake quantization") or an integer type (the codes; every code of the
/// format must fit Out). Under Round::Stochastic element i uses
/// random_u32(*spec.seed, first_index + i). `in` and `out` may be the same buffer.
/// Throws std::invalid_argument for an invalid spec (or codes that do not fit
/// Out) and fixq::overflow_error under Overflow::Throw.
template <class In, class Out>
  requires std::floating_point<In> && (std::floating_point<Out> || std::integral<Out>)
void quantize_span(const In* in, Out* out, std::size_t n, const QuantSpec& spec, std::uint64_t first_index = 0) {
  spec.validate();
  if constexpr (std::integral<Out>) detail::check_code_type<Out>(spec.format);
  detail::dispatch_round(spec.round, [&]<Round R>() {
    detail::dispatch_overflow(spec.overflow, [&]<Overflow O>() {
      detail::quantize_span_impl<R, O>(in, out, n, spec.format, spec.stream_seed(), first_index);
    });
  });
}

/// Values of n codes: out[i] = code[i] * 2^-frac, correctly rounded to Out.
template <class Int, class Out>
  requires std::integral<Int> && std::floating_point<Out>
void dequantize_span(const Int* codes, Out* out, std::size_t n, const Format& fmt) {
  fmt.validate();
  if constexpr (std::numeric_limits<Int>::digits <= 53) {
    // code * 2^-frac is exact in double (the LSB is a normal double), then one rounding to Out.
    const double lsb = Format::pow2(-fmt.frac);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(static_cast<double>(codes[i]) * lsb);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = detail::to_floating<Out>(static_cast<int128>(codes[i]), fmt.frac);
  }
}

}  // namespace fixq

#include <fixq/kernels/instantiate.hpp>

#endif  // FIXQ_KERNELS_QUANTIZE_SPAN_HPP
