// fixq/kernels/frac_select.hpp - choosing the fractional length from data
// ("dynamic fixed point"), per tensor or per channel.
//
//   int frac = fixq::choose_frac(x, {.word = 8});                                      // MaxAbs
//   int frac = fixq::choose_frac(x, {.word = 8, .method = fixq::FracMethod::OverflowRate,
//                                    .overflow_rate = 1e-3});
//   int frac = fixq::choose_frac(x, {.word = 8, .method = fixq::FracMethod::MinMSE});
//   std::vector<int> fracs = fixq::choose_frac_per_channel(w, fixq::Axis::Rows, {.word = 8});
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
//  OverflowRate the largest frac for which at most floor(overflow_rate * n) of the n
//               finite elements are outside the range (Courbariaux, Bengio and
//               David, "Training deep neural networks with low precision
//               multiplications", 2014: dynamic fixed point with a maximum
//               overflow rate). overflow_rate = 0 gives MaxAbs.
//  MinMSE       the frac, among MaxAbs's and the `word` larger ones, whose
//               quantization (FracSpec::round, Saturate) has the smallest
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
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>

namespace fixq {

enum class FracMethod { MaxAbs, OverflowRate, MinMSE };

/// "MaxAbs", "OverflowRate", "MinMSE".
constexpr std::string_view to_string(FracMethod m) {
  switch (m) {
    case FracMethod::MaxAbs: return "MaxAbs";
    case FracMethod::OverflowRate: return "OverflowRate";
    case FracMethod::MinMSE: return "MinMSE";
  }
  return "?";
}
/// The method named as to_string names it; nullopt when unknown.
inline std::optional<FracMethod> parse_frac_method(std::string_view s) {
  for (const FracMethod m : {FracMethod::MaxAbs, FracMethod::OverflowRate, FracMethod::MinMSE})
    if (s == to_string(m)) return m;
  return std::nullopt;
}

/// What choose_frac looks for: a fractional length for `word`-bit codes by `method`.
struct FracSpec {
  int word = 0;                            ///< code width (required: 1..64)
  bool is_signed = true;
  FracMethod method = FracMethod::MaxAbs;
  double overflow_rate = 0;                ///< OverflowRate only: the fraction of finite elements allowed outside
  Round round = Round::NearestEven;        ///< MinMSE only: the (deterministic) rounding whose error is measured
};

/// Which index of a 2-D array is the channel: one result per row, or per column.
enum class Axis { Rows, Cols };

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

inline void check_frac_spec(const FracSpec& spec) {
  if (spec.word < 1 || spec.word > max_word)
    throw std::invalid_argument("fixq::choose_frac: word = " + std::to_string(spec.word) + " is out of range [1, 64]");
  if (spec.method == FracMethod::OverflowRate && !(spec.overflow_rate >= 0 && spec.overflow_rate <= 1))
    throw std::invalid_argument("fixq::choose_frac: overflow_rate = " + std::to_string(spec.overflow_rate) +
                                " is not in [0, 1]");
  if (spec.method != FracMethod::OverflowRate && spec.overflow_rate != 0)
    throw std::invalid_argument("fixq::choose_frac: overflow_rate = " + std::to_string(spec.overflow_rate) +
                                " is set, but only FracMethod::OverflowRate uses it");
  if (spec.method == FracMethod::MinMSE && spec.round == Round::Stochastic)
    throw std::invalid_argument("fixq::choose_frac: FracMethod::MinMSE measures a deterministic rounding, "
                                "not Round::Stochastic");
}

template <class T>
int choose_frac_span(const T* x, std::size_t n, const FracSpec& spec) {
  check_frac_spec(spec);
  const int word = spec.word;
  const bool is_signed = spec.is_signed;
  const double param = spec.overflow_rate;
  const int no_data = word - (is_signed ? 1 : 0);
  int maxabs = INT_MAX;
  std::vector<int> limits;  // every element's limit: OverflowRate only
  std::size_t finite = 0;
  if (spec.method == FracMethod::OverflowRate) {
    limits.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      finite += std::isfinite(x[i]) ? 1 : 0;
      const int l = element_frac_limit(x[i], word, is_signed);
      if (l != INT_MAX) limits.push_back(l);
    }
    if (!limits.empty()) maxabs = *std::min_element(limits.begin(), limits.end());
  } else {
    // An element's limit falls as its magnitude grows (for each sign), so the
    // smallest limit is that of the largest positive or the most negative value.
    T hi = 0, lo = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (std::isfinite(x[i])) {
        hi = std::max(hi, x[i]);
        lo = std::min(lo, x[i]);
      }
    if (hi > 0) maxabs = std::min(maxabs, element_frac_limit(hi, word, is_signed));
    if (lo < 0) maxabs = std::min(maxabs, element_frac_limit(lo, word, is_signed));
  }
  if (maxabs == INT_MAX) return clip_frac(no_data, word);
  switch (spec.method) {
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
        quantize_span(x, q.data(), n, QuantSpec{Format{word, f, is_signed}, spec.round, Overflow::Saturate});
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

/// The fractional length chosen from the data of x by `spec`.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
int choose_frac(const Eigen::DenseBase<Derived>& x, const FracSpec& spec) {
  const typename Derived::PlainObject plain = x;
  return detail::choose_frac_span(plain.data(), static_cast<std::size_t>(plain.size()), spec);
}

/// One fractional length per channel: per row (Axis::Rows) or per column (Axis::Cols) of x.
template <class Derived>
  requires std::floating_point<typename Derived::Scalar>
std::vector<int> choose_frac_per_channel(const Eigen::DenseBase<Derived>& x, Axis axis, const FracSpec& spec) {
  detail::check_frac_spec(spec);
  if (axis != Axis::Rows && axis != Axis::Cols)
    throw std::invalid_argument("fixq::choose_frac_per_channel: axis = " + std::to_string(static_cast<int>(axis)) +
                                " is neither Axis::Rows nor Axis::Cols");
  using Scalar = typename Derived::Scalar;
  const Eigen::Index channels = axis == Axis::Rows ? x.rows() : x.cols();
  std::vector<int> fracs(static_cast<std::size_t>(channels));
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> slice;
  for (Eigen::Index c = 0; c < channels; ++c) {
    if (axis == Axis::Rows)
      slice = x.derived().row(c).transpose();
    else
      slice = x.derived().col(c);
    fracs[static_cast<std::size_t>(c)] = detail::choose_frac_span(slice.data(), static_cast<std::size_t>(slice.size()), spec);
  }
  return fracs;
}

}  // namespace fixq

#endif  // FIXQ_KERNELS_FRAC_SELECT_HPP
