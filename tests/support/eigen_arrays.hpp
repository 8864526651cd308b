// tests/support/eigen_arrays.hpp - small Eigen column arrays written inline, and
// the special values, for the kernel tests.
#ifndef FIXQ_TESTS_SUPPORT_EIGEN_ARRAYS_HPP
#define FIXQ_TESTS_SUPPORT_EIGEN_ARRAYS_HPP

#include <Eigen/Core>
#include <initializer_list>
#include <limits>

namespace fixq_test {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

/// A column array of the given values: arr({1.0, -2.5}), arr<float>({...}).
template <class T = double>
Eigen::Array<T, Eigen::Dynamic, 1> arr(std::initializer_list<T> values) {
  Eigen::Array<T, Eigen::Dynamic, 1> a(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (T v : values) a(i++) = v;
  return a;
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_EIGEN_ARRAYS_HPP
