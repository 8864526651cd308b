// fixq/kernels/span_paths.hpp - the portable element loops of quantize_span.
//
// The engine (kernels/quantize_span.hpp) picks one of three exact paths per call:
//  - float path: float input, float or integer output, a saturating mode,
//    0 <= frac < 127, codes within +-2^30 (+-2^24 for float output). With AVX-512
//    or AVX2 it runs in vector registers (simd/quantize_f32.hpp); otherwise the
//    branch-free float code here (float_path_chunk), which compilers vectorize;
//  - double path: codes within +-2^62 (and at most 53 bits for a floating
//    output): the same branch-free scheme in double/int64, for every rounding and
//    every overflow mode (double_path_chunk). The rare inputs it cannot do
//    exactly (a value that underflows when scaled, |value| >= 2^62 LSBs under
//    Wrap) are flagged and redone by the exact path;
//  - exact path: everything else (64-bit words, long double input), the scalar
//    core element by element (exact_element).
// Both loops are compiled for three overflow modes only (path_overflow):
// SaturateSymmetric is Saturate with the lower limit -max, and Throw is
// Saturate on the chunks where no element can overflow (kernels/throw_check.hpp).
#ifndef FIXQ_KERNELS_SPAN_PATHS_HPP
#define FIXQ_KERNELS_SPAN_PATHS_HPP

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <fixq/core/convert.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/rounding.hpp>

namespace fixq::detail {

enum class Path { Float, Double, Exact };

/// The overflow mode of the float and double paths that compute O's codes (see
/// the top of kernels/span_paths.hpp): Saturate for SaturateSymmetric and Throw.
constexpr Overflow path_overflow(Overflow o) {
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

template <class In, class Out>
Path choose_path(const Format& f, Overflow o) {
  if constexpr (!(std::same_as<In, float> || std::same_as<In, double>)) {
    return Path::Exact;
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
      return Path::Float;
    const bool out_exact = !std::is_floating_point_v<Out> || f.word <= 53;
    if (out_exact && f.max_code() < lim62 && neg_min < lim62) return Path::Double;
    return Path::Exact;
  }
}

/// The float path' constants of a plan (codes within +-2^30).
inline BranchFreePlan<float> float_plan(const SpanPlan& p) {
  return {static_cast<float>(p.scale), static_cast<std::int32_t>(p.lo), static_cast<std::int32_t>(p.hi)};
}

template <Round R, Overflow O, class Out>
void float_path_chunk(const float* in, Out* out, std::size_t n, const SpanPlan& p, const std::uint32_t* random) {
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
void double_path_chunk(const In* in, Out* out, std::size_t n, const SpanPlan& plan,
                        const std::uint32_t* random) {
  static_assert(O == path_overflow(O));
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

}  // namespace fixq::detail

#endif  // FIXQ_KERNELS_SPAN_PATHS_HPP
