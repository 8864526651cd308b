// fixq/kernels/quantize_span.hpp - the quantization engine on contiguous spans.
//
// quantize_span(in, out, n, format, round, overflow, seed, first_index) writes,
// for every element, what the scalar core computes for it:
//   out[i] = code_from_floating<round, overflow>(in[i], format, random_u32(seed, first_index + i))
// as a code (integer Out) or as its value (floating Out, correctly rounded).
//
// Three lanes, chosen per call from the format and modes, each exact:
//  - float lanes: float input, float or integer output, a saturating mode,
//    0 <= frac < 127 and codes within +-2^30 (+-2^24 for float output): with
//    AVX-512 or AVX2, simd/quantize_f32.hpp in vector registers (immediate-mode
//    rounding; for Round::Stochastic, when codes are within 2^24 and the target
//    has AES instructions, the top halfword of each random word generated in
//    registers);
//    otherwise the branch-free float code of core/convert.hpp (code_branch_free;
//    stochastic_to_int in double), which compilers vectorize for the target;
//  - double lanes: codes within +-2^62 (and at most 53 bits for a floating
//    output): the same branch-free scheme in double/int64, for every rounding
//    (stochastic included, with ARS words from simd/random_fill.hpp) and every
//    overflow mode. The rare inputs it cannot do exactly (a value that
//    underflows when scaled, |value| >= 2^62 LSBs under Wrap) are flagged and
//    redone by the exact path;
//  - exact lanes: everything else (64-bit words, long double input), the
//    scalar core element by element.
// The float and double lanes are compiled for three overflow modes only
// (lane_overflow): SaturateSymmetric is Saturate with the lower limit -max, and
// Throw is Saturate on the chunks where no element can overflow (checked first,
// scaled_within); a chunk where one might goes to the exact path, which throws
// at the first overflow. That keeps the instantiations per (In, Out) at 10 x 3
// lane kernels instead of 10 x 5 (compile time).
// Chunks of kChunk elements may run on several threads (kernels/parallel.hpp);
// the result never depends on the thread count.
#ifndef FIXQ_KERNELS_QUANTIZE_SPAN_HPP
#define FIXQ_KERNELS_QUANTIZE_SPAN_HPP

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
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
#include <fixq/core/random.hpp>
#include <fixq/core/rounding.hpp>
#include <fixq/kernels/parallel.hpp>
#include <fixq/simd/native.hpp>
#include <fixq/simd/random_fill.hpp>
#include <fixq/simd/quantize_f32.hpp>

namespace fixq {

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

namespace detail {

inline constexpr std::size_t kChunk = 4096;  // elements per chunk (and per thread task)
// The explicit-SIMD float lanes need no buffer of random words and pay a fixed
// cost per call (constants, generator keys, the stochastic head and tail): larger chunks
// (measured in cache, one thread: 2^12 -> 2^15 made Stochastic 12% and
// NearestEven 7% faster). 2^15 still gives the parallel thresholds below >= 2 chunks.
inline constexpr std::size_t kSimdChunk = std::size_t{1} << 15;
// Arrays (input and output together) at least this large are taken to come from
// memory rather than cache (the L3 caches of this class of machine are 16-32 MiB).
inline constexpr std::size_t kPrefetchBytes = std::size_t{16} << 20;
enum class Lanes { Float, Double, Exact };

/// Below this many elements a call runs on one thread: an OpenMP fork/join costs
/// about 4 us on the 2-vCPU machine of bench/RESULTS.md, so the threshold grows
/// with the speed of the lanes (crossovers measured there: float lanes 2^17-2^18,
/// stochastic float lanes 2^16-2^17 with the ARS kernel, back-to-back calls:
/// 11.3 G elem/s on one thread and 10.1 on two at 2^16, 11.0 and 13.9 at 2^17;
/// double lanes 2^13-2^14).
inline constexpr std::size_t parallel_min(Lanes lanes, bool stochastic) {
  if (lanes == Lanes::Float) return stochastic ? std::size_t{1} << 17 : std::size_t{1} << 18;
  return lanes == Lanes::Double ? std::size_t{1} << 14 : std::size_t{1} << 12;
}

/// Stochastic rounding of y (|y| < 2^62) with random word u, branch-free:
/// up iff f >= 1 - u / 2^32 with f = y - floor(y), decided by the sign of an
/// exactly-signed double difference (see round_to_int for the idea).
inline std::int64_t stochastic_to_int(double y, std::uint32_t u) {
  const auto t = static_cast<std::int64_t>(y);
  const double r = y - static_cast<double>(t);
  const auto rb = std::bit_cast<std::int64_t>(r);
  const std::int64_t neg = (rb < 0) & ((rb & 0x7fffffffffffffff) != 0);
  const double threshold = static_cast<double>(1 - neg) - static_cast<double>(u) * 0x1p-32;
  const std::int64_t up = std::bit_cast<std::int64_t>(static_cast<double>(r - threshold)) >= 0;
  return t - neg + up;
}

/// The overflow mode of the float and double lanes that compute O's codes (see
/// the top of this file): Saturate for SaturateSymmetric and Throw.
constexpr Overflow lane_overflow(Overflow o) {
  return o == Overflow::SaturateSymmetric || o == Overflow::Throw ? Overflow::Saturate : o;
}

/// Constants of one call, hoisted out of the element loops.
struct SpanPlan {
  Format f;
  double scale;     // 2^frac
  double lsb;       // 2^-frac
  std::int64_t lo;  // lowest code the overflow mode keeps (-max for SaturateSymmetric)
  std::int64_t hi;
};

inline SpanPlan make_plan(const Format& f, Overflow o) {
  SpanPlan p{f, Format::pow2(f.frac), Format::pow2(-f.frac), 0, 0};
  p.hi = static_cast<std::int64_t>(std::min<std::uint64_t>(f.max_code(), std::uint64_t{1} << 62));
  p.lo = o == Overflow::SaturateSymmetric && f.is_signed ? -p.hi : f.min_code();
  return p;
}

/// The overflow mode applied to an int64 code c (|c| <= 2^62 + 1), branch-free;
/// Saturate and SaturateSymmetric clamp to the plan's [lo, hi].
template <Overflow O>
inline std::int64_t apply_overflow(std::int64_t c, const SpanPlan& p) {
  if constexpr (O == Overflow::SaturateZero) return ((c < p.lo) | (c > p.hi)) ? 0 : c;
  if constexpr (O == Overflow::Wrap) {
    const int drop = 64 - p.f.word;
    return p.f.is_signed ? static_cast<std::int64_t>(static_cast<std::uint64_t>(c) << drop) >> drop
                         : static_cast<std::int64_t>(static_cast<std::uint64_t>(c) & (~std::uint64_t{0} >> drop));
  }
  return c < p.lo ? p.lo : (c > p.hi ? p.hi : c);
}

template <class Out>
inline Out store_code(std::int64_t c, double lsb) {
  if constexpr (std::is_floating_point_v<Out>)
    return static_cast<Out>(static_cast<double>(c) * lsb);  // exact in double, one rounding to Out
  else
    return static_cast<Out>(c);
}

/// A code of any width as Out: its value, correctly rounded, or the code itself.
template <class Out>
inline Out store_exact_code(int128 c, const Format& f) {
  if constexpr (std::is_floating_point_v<Out>)
    return to_floating<Out>(c, f.frac);
  else
    return static_cast<Out>(c);
}

/// The exact path for one element.
template <Round R, Overflow O, class In, class Out>
inline Out exact_element(In v, const Format& f, std::uint32_t u) {
  return store_exact_code<Out>(code_from_floating<R, O>(v, f, u), f);
}

template <class In, class Out>
Lanes choose_lanes(const Format& f, Overflow o) {
  if constexpr (!(std::same_as<In, float> || std::same_as<In, double>)) {
    return Lanes::Exact;
  } else {
    const bool saturating =
        o == Overflow::Saturate || o == Overflow::SaturateSymmetric || o == Overflow::SaturateZero;
    constexpr std::uint64_t lim30 = std::uint64_t{1} << 30, lim62 = std::uint64_t{1} << 62;
    const auto neg_min = static_cast<std::uint64_t>(-static_cast<int128>(f.min_code()));
    // Codes strictly within the tame() limits, so a tamed value stays out of range.
    // A float output also needs codes within 2^24 (each converts to float exactly).
    constexpr std::uint64_t lim_out = std::is_floating_point_v<Out> ? std::uint64_t{1} << 24 : lim30 - 1;
    if (std::same_as<In, float> && (std::same_as<Out, float> || std::integral<Out>) && saturating &&
        f.frac >= 0 && f.frac < 127 && f.max_code() <= lim_out && neg_min <= lim_out)
      return Lanes::Float;
    const bool out_exact = !std::is_floating_point_v<Out> || f.word <= 53;
    if (out_exact && f.max_code() < lim62 && neg_min < lim62) return Lanes::Double;
    return Lanes::Exact;
  }
}

/// The float lanes' constants of a plan (codes within +-2^30).
inline BranchFreePlan<float> float_plan(const SpanPlan& p) {
  return {static_cast<float>(p.scale), static_cast<std::int32_t>(p.lo), static_cast<std::int32_t>(p.hi)};
}

template <Round R, Overflow O, class Out>
void chunk_float_lanes(const float* in, Out* out, std::size_t n, const SpanPlan& p, const std::uint32_t* random) {
  // Local copies: stores through an int8_t* may alias anything the loop reads.
  const BranchFreePlan<float> plan = float_plan(p);
  const auto lsb = static_cast<float>(p.lsb);
  for (std::size_t i = 0; i < n; ++i) {
    std::int32_t c;
    if constexpr (R == Round::Stochastic) {
      // in double: exact (|y| <= 2^30) and branch-free
      c = static_cast<std::int32_t>(stochastic_to_int(static_cast<double>(tame(in[i] * plan.scale)), random[i]));
      if constexpr (O == Overflow::SaturateZero)
        c = ((c < plan.lo) | (c > plan.hi)) ? 0 : c;
      else
        c = c < plan.lo ? plan.lo : (c > plan.hi ? plan.hi : c);
    } else {
      c = code_branch_free<R, O>(in[i], plan);
    }
    if constexpr (std::is_floating_point_v<Out>)
      out[i] = static_cast<Out>(static_cast<float>(c) * lsb);
    else
      out[i] = static_cast<Out>(c);
  }
}

template <Round R, Overflow O, class In, class Out>
void chunk_double_lanes(const In* in, Out* out, std::size_t n, const SpanPlan& plan,
                        const std::uint32_t* random) {
  static_assert(O == lane_overflow(O));
  // Tests on bit patterns (integer compares), not FP compares, so that the
  // loop has no control flow and compilers vectorize it. Local copies of the
  // constants, since stores through an int8_t* may alias them.
  const SpanPlan p = plan;
  constexpr std::int64_t mag = 0x7fffffffffffffff;
  constexpr std::int64_t inf_bits = 0x7ff0000000000000, huge_bits = 0x43d0000000000000;  // 2^62
  constexpr std::int64_t min_normal_bits = 0x0010000000000000;
  constexpr bool guard_huge = O == Overflow::Wrap;  // low bits of |y| >= 2^62 are needed
  const bool guard_tiny = p.f.frac < 0;              // v * 2^frac may underflow
  std::int64_t redo = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(in[i]);
    const double y = v * p.scale;
    const std::int64_t ym = std::bit_cast<std::int64_t>(y) & mag;
    if constexpr (guard_huge) redo |= (ym >= huge_bits) & (ym <= inf_bits);
    redo |= guard_tiny & (ym < min_normal_bits) & ((std::bit_cast<std::int64_t>(v) & mag) != 0);
    const double yt = tame(y);
    std::int64_t c;
    if constexpr (R == Round::Stochastic)
      c = stochastic_to_int(yt, random[i]);
    else
      c = round_to_int<R>(yt);
    out[i] = store_code<Out>(apply_overflow<O>(c, p), p.lsb);
  }
  if (redo) {  // rare: redo the elements the branch-free scheme cannot do exactly
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(in[i]);
      const double y = v * p.scale;
      const bool huge = guard_huge && !(std::fabs(y) < 0x1p62) && y == y;
      const bool tiny = guard_tiny && std::fabs(y) < 0x1p-1022 && v != 0;
      if (huge || tiny) {
        std::uint32_t u = 0;
        if constexpr (R == Round::Stochastic) u = random[i];
        // the exact code under O, within the plan's [lo, hi] (SaturateSymmetric's -max)
        int128 c = code_from_floating<R, O>(in[i], p.f, u);
        if constexpr (O == Overflow::Saturate) c = c < p.lo ? int128{p.lo} : (c > p.hi ? int128{p.hi} : c);
        out[i] = store_exact_code<Out>(c, p.f);
      }
    }
  }
}

/// Overflow::Throw: whether every element v of a chunk has y = v 2^frac within
/// [lo, hi] (the limits as doubles rounded inward; NaN is not within), where no
/// rounding can overflow: the code lies between floor(y) and ceil(y).
struct ThrowLimits {
  double scale, lo, hi;
  explicit ThrowLimits(const SpanPlan& p) : scale(p.scale), lo(static_cast<double>(p.lo)), hi(static_cast<double>(p.hi)) {
    // |lo|, |hi| <= 2^62 (lanes other than exact): the conversions back are exact
    if (static_cast<std::int64_t>(hi) > p.hi) hi = std::nextafter(hi, 0.0);
    if (static_cast<std::int64_t>(lo) < p.lo) lo = std::nextafter(lo, 0.0);
  }
};
template <class In>
bool scaled_within(const In* in, std::size_t n, const ThrowLimits& t) {
  bool outside = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double y = static_cast<double>(in[i]) * t.scale;  // inf beyond double's range
    outside |= !(y >= t.lo) | !(y <= t.hi);
  }
  return !outside;
}

template <Round R, Overflow O, class In, class Out>
void quantize_span_impl(const In* in, Out* out, std::size_t n, const Format& f, std::uint64_t seed,
                        std::uint64_t first_index) {
  constexpr Overflow K = lane_overflow(O);  // the float and double lanes' mode
  const SpanPlan plan = make_plan(f, O);      // [lo, hi]: -max under SaturateSymmetric
  const Lanes lanes = choose_lanes<In, Out>(f, K);
  constexpr bool stochastic = R == Round::Stochastic;
  constexpr bool float_lanes = std::same_as<In, float> && (std::same_as<Out, float> || std::integral<Out>) &&
                               (K == Overflow::Saturate || K == Overflow::SaturateZero);
  const ThrowLimits throw_limits(plan);  // used under Throw only
#if defined(FIXQ_SIMD_NATIVE)
  // explicit SIMD (simd/quantize_f32.hpp); random halfwords generated in registers
  const bool simd_lanes = float_lanes && lanes == Lanes::Float &&
                          (!stochastic || (simd::Native::has_ars && simd::stochastic_lanes_fit(f)));
  // Round::Stochastic prefetches when the arrays come from memory (in cache the
  // prefetch instructions only cost).
  const bool prefetch = n * (sizeof(In) + sizeof(Out)) >= kPrefetchBytes;
#else
  constexpr bool simd_lanes = false;
#endif
  // (A Throw chunk may go to the exact path, whose random words are kChunk long.)
  const std::size_t chunk = simd_lanes && O != Overflow::Throw ? kSimdChunk : kChunk;
  const std::size_t chunks = (n + chunk - 1) / chunk;
  // Throw must be able to throw, which OpenMP regions cannot: run it on one thread.
  const bool parallel = n >= parallel_min(lanes, stochastic) && O != Overflow::Throw;
  for_each_chunk(chunks, parallel, [&](std::size_t c) {
    const std::size_t begin = c * chunk, len = std::min(chunk, n - begin);
    const In* src = in + begin;
    Out* dst = out + begin;
    // Throw: a chunk where an element might overflow goes to the exact path.
    const bool lanes_apply =
        lanes != Lanes::Exact && (O != Overflow::Throw || scaled_within(src, len, throw_limits));
#if defined(FIXQ_SIMD_NATIVE)
    if constexpr (float_lanes) {
      if (simd_lanes && lanes_apply) {
        simd::quantize_f32<simd::Native, R, K>(src, dst, len, float_plan(plan), static_cast<float>(plan.lsb), seed,
                                               first_index + begin, prefetch);
        return;
      }
    }
#endif
    // Random words only for Round::Stochastic (filled before use); a zeroed
    // placeholder otherwise, never read.
    std::array<std::uint32_t, stochastic ? kChunk : 1> random;
    if constexpr (stochastic)
      simd::random_u32_fill(seed, first_index + begin, random.data(), len);
    else
      random[0] = 0;
    if constexpr (float_lanes) {
      if (lanes == Lanes::Float && lanes_apply) {
        chunk_float_lanes<R, K>(src, dst, len, plan, random.data());
        return;
      }
    }
    if constexpr (std::same_as<In, float> || std::same_as<In, double>) {
      if (lanes == Lanes::Double && lanes_apply) {
        chunk_double_lanes<R, K>(src, dst, len, plan, random.data());
        return;
      }
    }
    // Exact lanes, and Throw chunks that may overflow (this throws at the first one).
    for (std::size_t i = 0; i < len; ++i)
      dst[i] = exact_element<R, O, In, Out>(src[i], f, stochastic ? random[stochastic ? i : 0] : 0);
  });
}

}  // namespace detail

/// Quantize n contiguous values. Out is float/double (the quantized values,
/// "fake quantization") or an integer type (the codes; every code of fmt must
/// fit Out). Element i uses random_u32(seed, first_index + i) under
/// Round::Stochastic. `in` and `out` may be the same buffer.
template <class In, class Out>
  requires std::floating_point<In> && (std::floating_point<Out> || std::integral<Out>)
void quantize_span(const In* in, Out* out, std::size_t n, const Format& fmt,
                   Round round = Round::NearestEven, Overflow overflow = Overflow::Saturate,
                   std::uint64_t seed = 0, std::uint64_t first_index = 0) {
  fmt.validate();
  if constexpr (std::integral<Out>) check_code_type<Out>(fmt);
  dispatch_round(round, [&]<Round R>() {
    dispatch_overflow(overflow, [&]<Overflow O>() {
      detail::quantize_span_impl<R, O>(in, out, n, fmt, seed, first_index);
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
    for (std::size_t i = 0; i < n; ++i) out[i] = to_floating<Out>(static_cast<int128>(codes[i]), fmt.frac);
  }
}

}  // namespace fixq

// ---- Compiling the kernels once per program (opt-in; README "Compile time").
// Every translation unit that calls quantize_span (through quantize,
// quantize_codes, quantize_stats, choose_frac, the tensor overloads) with
// run-time modes compiles 10 roundings x 3 lane kernels for each (In, Out) pair
// it uses, about 4 s per pair. With FIXQ_SEPARATE_KERNELS defined, the pairs
// below are declared `extern template`: such translation units compile none of
// them, and one .cpp of the program (compiled with the same flags, which choose
// the SIMD code) defines them, at namespace scope, with
//   FIXQ_INSTANTIATE_KERNELS();                    every pair below, or
//   FIXQ_INSTANTIATE_KERNEL(float, std::int8_t);  one pair (a pair that is used but
//                                                   never defined fails to link).
// Pairs not in the list are compiled where they are used, as without the macro.
#define FIXQ_KERNEL_PAIRS(X)                                                                      \
  X(float, float) X(float, std::int8_t) X(float, std::uint8_t) X(float, std::int16_t)             \
  X(float, std::uint16_t) X(float, std::int32_t) X(float, std::uint32_t) X(double, double)        \
  X(double, std::int8_t) X(double, std::uint8_t) X(double, std::int16_t) X(double, std::uint16_t) \
  X(double, std::int32_t) X(double, std::uint32_t) X(double, std::int64_t) X(double, std::uint64_t)
#define FIXQ_DETAIL_KERNEL_SIGNATURE(In, Out)                                                        \
  void fixq::quantize_span<In, Out>(const In*, Out*, std::size_t, const fixq::Format&, fixq::Round, \
                                    fixq::Overflow, std::uint64_t, std::uint64_t)
#define FIXQ_INSTANTIATE_KERNEL(In, Out) template FIXQ_DETAIL_KERNEL_SIGNATURE(In, Out)
#define FIXQ_DETAIL_INSTANTIATE_KERNEL(In, Out) FIXQ_INSTANTIATE_KERNEL(In, Out);
// (the static_assert takes the caller's semicolon)
#define FIXQ_INSTANTIATE_KERNELS() FIXQ_KERNEL_PAIRS(FIXQ_DETAIL_INSTANTIATE_KERNEL) static_assert(true)
#if defined(FIXQ_SEPARATE_KERNELS)
#define FIXQ_DETAIL_EXTERN_KERNEL(In, Out) extern template FIXQ_DETAIL_KERNEL_SIGNATURE(In, Out);
FIXQ_KERNEL_PAIRS(FIXQ_DETAIL_EXTERN_KERNEL)
#undef FIXQ_DETAIL_EXTERN_KERNEL
#endif

#endif  // FIXQ_KERNELS_QUANTIZE_SPAN_HPP
