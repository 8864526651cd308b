// fixq/kernels/frac_select.hpp - choosing the fractional length from data
// ("dynamic fixed point"), per tensor or per channel.
//
//   int frac = fixq::choose_frac(x, 8);                                        // MaxAbs
//   int frac = fixq::choose_frac(x, 8, true, fixq::FracMethod::OverflowRate, 1e-3);
//   int frac = fixq::choose_frac(x, 8, true, fixq::FracMethod::MinMSE, 0, fixq::Round::NearestEven);
//   std::vector<int> fracs = fixq::choose_frac_per_channel(w, 0, 8);        // one per row of w
//
// Methods (x's NaN and +-inf are ignored; an x with no finite non-zero value
// gets frac = word - 1 when signed, word when unsigned, i.e. the range [-1, 1)
// or [0, 1)):
//  MaxAbs       the largest frac with which no finite element is outside
//               [min value, max value]: nothing saturates, whatever the
//               rounding. Ristretto (Gysel et al.) uses IL = ceil(log2(max|x|)) + 1,
//               frac = word - IL; the two agree except when the largest positive
//               element is an exact power of two (or within one LSB below one):
//               Ristretto's frac then saturates it by one LSB and fixq's is one
//               smaller. Negative elements are allowed down to -2^(word-1) LSBs.
//               For unsigned formats negative elements are ignored (they
//               saturate to 0 for every frac), as are positive ones for
//               Fixed<1, F> (its largest code is 0). OverflowRate and MinMSE
//               ignore the same elements.
//  OverflowRate the largest frac for which at most floor(param * n) of the n
//               finite elements are outside the range (Courbariaux, Bengio and
//               David, "Training deep neural networks with low precision
//               multiplications", 2014: dynamic fixed point with a maximum
//               overflow rate). param = 0 gives MaxAbs.
//  MinMSE       the frac, among MaxAbs's and the `word` larger ones, whose
//               quantization (given rounding, Saturate, seed 0) has the smallest
//               mean squared error; ties go to the smaller frac.
// The result is clipped to the format limits (frac <= 1022, word - frac <= 1023).
#ifndef FIXQ_KERNELS_FRAC_SELECT_HPP
#define FIXQ_KERNELS_FRAC_SELECT_HPP

#include <Eigen/Core>
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/kernels/quantize_span.hpp>

namespace fixq {

enum class FracMethod { MaxAbs, OverflowRate, MinMSE };

namespace detail {

/// The largest frac with which |value| = a (> 0, finite) is at most m LSBs:
/// a * 2^frac <= m. long double holds every m < 2^64 exactly.
inline int largest_frac_within(double a, std::uint64_t m) {
  const long double lm = static_cast<long double>(m);
  int f = std::ilogb(lm) - std::ilogb(a);
  while (std::ldexp(static_cast<long double>(a), f) > lm) --f;
  while (std::ldexp(static_cast<long double>(a), f + 1) <= lm) ++f;
  return f;
}

/// For each finite non-zero element, the largest frac that keeps it in range
/// (INT_MAX for zeros, NaN and infinities: they never constrain).
template <class T>
int element_frac_limit(T v, int word, bool is_signed) {
  if (!std::isfinite(v) || v == 0) return INT_MAX;
  const Format f{word, 0, is_signed};
  if (v > 0) {
    if (f.max_code() == 0) return INT_MAX;  // Fixed<1, F>: positives saturate to 0 at every frac
    return largest_frac_within(static_cast<double>(v), f.max_code());
  }
  if (!is_signed) return INT_MAX;
  return largest_frac_within(-static_cast<double>(v), std::uint64_t{1} << (word - 1));
}

inline int clip_frac(int frac, int word) {
  return std::clamp(frac, word - max_int_bits, max_frac);
}

template <class T>
int choose_frac_span(const T* x, std::size_t n, int word, bool is_signed, FracMethod method, double param,
                     Round round) {
  Format{word, 0, is_signed}.validate();
  if (method == FracMethod::OverflowRate && !(param >= 0 && param <= 1))
    throw std::invalid_argument("fixq::choose_frac: overflow rate param = " + std::to_string(param) +
                                " is not in [0, 1]");
  std::vector<int> limits;
  limits.reserve(n);
  std::size_t finite = 0;
  for (std::size_t i = 0; i < n; ++i) {
    finite += std::isfinite(x[i]) ? 1 : 0;
    const int l = element_frac_limit(x[i], word, is_signed);
    if (l != INT_MAX) limits.push_back(l);
  }
  const int no_data = word - (is_signed ? 1 : 0);
  if (limits.empty()) return clip_frac(no_data, word);
  const int maxabs = *std::min_element(limits.begin(), limits.end());
  switch (method) {
    case FracMethod::MaxAbs: return clip_frac(maxabs, word);
    case FracMethod::OverflowRate: {
      const auto allowed = static_cast<std::size_t>(std::floor(param * static_cast<double>(finite)));
      if (allowed >= limits.size()) return clip_frac(max_frac, word);
      std::nth_element(limits.begin(), limits.begin() + static_cast<std::ptrdiff_t>(allowed), limits.end());
      return clip_frac(limits[allowed], word);
    }
    case FracMethod::MinMSE: {
      std::vector<T> q(n);
      int best = clip_frac(maxabs, word);
      double best_mse = std::numeric_limits<double>::infinity();
      for (int f = clip_frac(maxabs, word); f <= clip_frac(maxabs + word, word); ++f) {
        quantize_span(x, q.data(), n, Format{word, f, is_signed}, round, Overflow::Saturate, 0, 0);
        double sse = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (std::isfinite(x[i])) {
            const double e = static_cast<double>(x[i]) - static_cast<double>(q[i]);
            sse += e * e;
          }
        if (sse < best_mse) {
          best_mse = sse;
          best = f;
        }
      }
      return best;
    }
  }
  throw std::invalid_argument("fixq::choose_frac: unknown method");
}

}  // namespace detail

/// The fractional length for `word`-bit codes chosen from the data of x.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
int choose_frac(const Eigen::DenseBase<Derived>& x, int word, bool is_signed = true,
                FracMethod method = FracMethod::MaxAbs, double param = 0.0, Round round = Round::NearestEven) {
  const typename Derived::PlainObject plain = x;
  return detail::choose_frac_span(plain.data(), static_cast<std::size_t>(plain.size()), word, is_signed, method,
                                  param, round);
}

/// One fractional length per channel: per row (axis 0) or per column (axis 1) of x.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
std::vector<int> choose_frac_per_channel(const Eigen::DenseBase<Derived>& x, int axis, int word, bool is_signed = true,
                                         FracMethod method = FracMethod::MaxAbs, double param = 0.0,
                                         Round round = Round::NearestEven) {
  if (axis != 0 && axis != 1)
    throw std::invalid_argument("fixq::choose_frac_per_channel: axis = " + std::to_string(axis) +
                                " is not 0 (rows) or 1 (columns)");
  using Scalar = typename Derived::Scalar;
  const Eigen::Index channels = axis == 0 ? x.rows() : x.cols();
  std::vector<int> fracs(static_cast<std::size_t>(channels));
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> slice;
  for (Eigen::Index c = 0; c < channels; ++c) {
    if (axis == 0)
      slice = x.derived().row(c).transpose();
    else
      slice = x.derived().col(c);
    fracs[static_cast<std::size_t>(c)] = detail::choose_frac_span(
        slice.data(), static_cast<std::size_t>(slice.size()), word, is_signed, method, param, round);
  }
  return fracs;
}

}  // namespace fixq

#endif  // FIXQ_KERNELS_FRAC_SELECT_HPP
