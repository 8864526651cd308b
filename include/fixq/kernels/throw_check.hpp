// fixq/kernels/throw_check.hpp - Overflow::Throw on the fast paths.
//
// The float and double paths saturate; Throw runs them on a chunk only after
// checking that every element scales to within [min, max] LSBs, where no
// rounding can overflow. A chunk that fails goes to the exact path, which throws
// at its first overflowing element (with that element's value in the message).
#ifndef FIXQ_KERNELS_THROW_CHECK_HPP
#define FIXQ_KERNELS_THROW_CHECK_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>

#include <fixq/kernels/span_paths.hpp>

namespace fixq::detail {

/// Overflow::Throw: whether every element v of a chunk has y = v 2^frac within
/// [lo, hi] (the limits as doubles rounded inward; NaN is not within), where no
/// rounding can overflow: the code lies between floor(y) and ceil(y). y is exact
/// unless it underflows to 0 from a non-zero v: then floor or ceil is -1 or 1, which
/// fits only when the range reaches past 0 on both sides (else the element is outside).
struct ThrowLimits {
  double scale, lo, hi;
  bool zero_is_edge;  // lo == 0 or hi == 0: a value just off 0 may round out of range
  explicit ThrowLimits(const SpanPlan& p) : scale(p.scale), lo(static_cast<double>(p.lo)), hi(static_cast<double>(p.hi)) {
    // |lo|, |hi| <= 2^62 (paths other than exact): the conversions back are exact
    if (static_cast<std::int64_t>(hi) > p.hi) hi = std::nextafter(hi, 0.0);
    if (static_cast<std::int64_t>(lo) < p.lo) lo = std::nextafter(lo, 0.0);
    zero_is_edge = !(lo <= -1 && hi >= 1);
  }
};
template <class In>
bool scaled_within(const In* in, std::size_t n, const ThrowLimits& t) {
  bool outside = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(in[i]);
    const double y = v * t.scale;  // inf beyond double's range
    outside |= !(y >= t.lo) | !(y <= t.hi) | (t.zero_is_edge & (y == 0) & (v != 0));
  }
  return !outside;
}

}  // namespace fixq::detail

#endif  // FIXQ_KERNELS_THROW_CHECK_HPP
