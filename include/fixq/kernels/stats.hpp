// fixq/kernels/stats.hpp - what quantizing an array does to it.
//
//   fixq::QuantStats s = fixq::quantize_stats(x, spec);
//
// count            elements of x
// saturated_high   elements whose rounded value is above the largest code kept
//                  by the overflow mode (they saturate, wrap, become 0 or throw)
// saturated_low    the same below (for SaturateSymmetric the bound is -max)
// nan_count        NaN elements (they become 0); +-inf count as saturated
// max_abs_error    max |x - q| over the finite elements
// mse              mean of (x - q)^2 over the finite elements
// sqnr_db          10 log10(sum x^2 / sum (x - q)^2) over the finite elements;
//                  +inf when the error is zero
// q is exactly what fixq::quantize returns for the same arguments (same seed,
// same flat indices). Under Overflow::Throw the statistics are those of
// Saturate (nothing is thrown), so they can tell beforehand whether it would.
//
// operator<< writes every field on one line, in the order above; for
// x = {0.3f, 1, -0.5, 2.5} and Format{4, 2}:
//   count=4 saturated_high=1 saturated_low=0 nan_count=0 max_abs_error=0.75 mse=0.14125 sqnr_db=11.2819
// The doubles take the stream's precision and flags (std::setprecision(17) for every bit).
#ifndef FIXQ_KERNELS_STATS_HPP
#define FIXQ_KERNELS_STATS_HPP

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <vector>

#include <fixq/core/convert.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/random/stream.hpp>
#include <fixq/kernels/quantize_span.hpp>

namespace fixq {

struct QuantStats {
  std::size_t count = 0;
  std::size_t saturated_high = 0;
  std::size_t saturated_low = 0;
  std::size_t nan_count = 0;
  double max_abs_error = 0;
  double mse = 0;
  double sqnr_db = std::numeric_limits<double>::infinity();
};

/// One line, every field as name=value (no newline); the doubles are formatted
/// by the stream's settings.
inline std::ostream& operator<<(std::ostream& os, const QuantStats& s) {
  return os << "count=" << s.count << " saturated_high=" << s.saturated_high
            << " saturated_low=" << s.saturated_low << " nan_count=" << s.nan_count
            << " max_abs_error=" << s.max_abs_error << " mse=" << s.mse << " sqnr_db=" << s.sqnr_db;
}

/// Statistics of quantizing n contiguous values by `spec`, whose flat indices
/// start at first_index. Under Overflow::Throw the values are those of Saturate
/// (nothing throws: the statistics count what would overflow).
template <class T>
  requires std::floating_point<T>
QuantStats quantize_stats_span(const T* x, std::size_t n, const QuantSpec& spec, std::uint64_t first_index = 0) {
  spec.validate();
  const Format& fmt = spec.format;
  const Round round = spec.round;
  const Overflow overflow = spec.overflow;
  const std::uint64_t seed = spec.stream_seed();
  QuantSpec values_spec = spec;
  if (overflow == Overflow::Throw) values_spec.overflow = Overflow::Saturate;
  QuantStats s;
  s.count = n;
  const int128 hi = fmt.max_code_wide();
  const int128 lo = overflow == Overflow::SaturateSymmetric && fmt.is_signed ? -hi : fmt.min_code_wide();
  std::vector<T> q(std::min(n, detail::kChunk));  // T: exactly what quantize returns
  double signal = 0, noise = 0;
  std::size_t finite = 0;
  for (std::size_t begin = 0; begin < n; begin += detail::kChunk) {
    const std::size_t len = std::min(detail::kChunk, n - begin);
    quantize_span(x + begin, q.data(), len, values_spec, first_index + begin);
    detail::dispatch_round(round, [&]<Round R>() {
      for (std::size_t i = 0; i < len; ++i) {
        const T v = x[begin + i];
        if (std::isnan(v)) {
          ++s.nan_count;
          continue;
        }
        // The rounded code before overflow handling decides "saturated".
        const std::uint32_t u = R == Round::Stochastic ? random_u32(seed, first_index + begin + i) : 0;
        int128 rounded;
        if (std::isinf(v)) {
          rounded = v > 0 ? detail::pow2_i128(126) : -detail::pow2_i128(126);
        } else {
          const detail::Decomposed d = detail::decompose(v);
          rounded = detail::round_scaled<R>(d.mant, d.exp + fmt.frac, u);
        }
        s.saturated_high += rounded > hi;
        s.saturated_low += rounded < lo;
        if (std::isinf(v)) continue;
        const double xv = static_cast<double>(v), err = xv - static_cast<double>(q[i]);
        ++finite;
        s.max_abs_error = std::max(s.max_abs_error, std::fabs(err));
        signal += xv * xv;
        noise += err * err;
      }
    });
  }
  s.mse = finite > 0 ? noise / static_cast<double>(finite) : 0.0;
  s.sqnr_db = noise > 0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
  return s;
}

/// Statistics of fixq::quantize(x, spec) for an Eigen expression.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
QuantStats quantize_stats(const Eigen::DenseBase<Derived>& x, const QuantSpec& spec) {
  const typename Derived::PlainObject plain = x;  // flat indices in storage order, as quantize
  return quantize_stats_span(plain.data(), static_cast<std::size_t>(plain.size()), spec);
}

}  // namespace fixq

#endif  // FIXQ_KERNELS_STATS_HPP
