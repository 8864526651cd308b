// fixq/eigen/num_traits.hpp - fixq::Fixed as an Eigen scalar.
//
// With this header, Eigen::Array<fixq::Fixed<...>, ...> works for storage,
// casts from and to float/double arrays (each element converted exactly as
// the scalar type does), element-wise + - * with the exact bit-growth result
// type (Array<Fixed<8,4>> + Array<Fixed<8,4>> is an expression of Fixed<9,4>),
// element-wise comparisons, min/max coefficients and printing. Reductions that
// must keep the element type (sum, prod, matrix products) are not provided:
// the exact sum of two Fixed is a wider Fixed. Cast to a wide enough format and
// use fixq's integer kernels instead.
#ifndef FIXQ_EIGEN_NUM_TRAITS_HPP
#define FIXQ_EIGEN_NUM_TRAITS_HPP

#include <Eigen/Core>

#include <fixq/core/arithmetic.hpp>
#include <fixq/core/fixed.hpp>
#include <fixq/core/io.hpp>
#include <fixq/core/limits.hpp>

namespace Eigen {

template <int W, int F, fixq::Round R, fixq::Overflow O, bool S>
struct NumTraits<fixq::Fixed<W, F, R, O, S>> : GenericNumTraits<fixq::Fixed<W, F, R, O, S>> {
  using T = fixq::Fixed<W, F, R, O, S>;
  using Real = T;
  using NonInteger = T;
  using Literal = T;
  using Nested = T;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = S,
    RequireInitialization = 0,
    ReadCost = 1,
    AddCost = 1,
    MulCost = 2
  };
  static constexpr T epsilon() { return std::numeric_limits<T>::epsilon(); }
  static constexpr T dummy_precision() { return std::numeric_limits<T>::epsilon(); }
  static constexpr T highest() { return T::max(); }
  static constexpr T lowest() { return T::min(); }
  static constexpr int digits10() { return std::numeric_limits<T>::digits10; }
  static constexpr int digits() { return std::numeric_limits<T>::digits; }
};

// Element-wise arithmetic between Fixed arrays yields the exact result type.
// Two specializations per operation: one for operands of different formats, one
// for the same format (it must beat Eigen's own ScalarBinaryOpTraits<T, T, Op>).
#define FIXQ_EIGEN_BINARY_TRAITS(OP, EXPR)                                                      \
  template <int W1, int F1, fixq::Round R1, fixq::Overflow O1, bool S1, int W2, int F2,         \
            fixq::Round R2, fixq::Overflow O2, bool S2>                                         \
  struct ScalarBinaryOpTraits<                                                                  \
      fixq::Fixed<W1, F1, R1, O1, S1>, fixq::Fixed<W2, F2, R2, O2, S2>,                         \
      internal::OP<fixq::Fixed<W1, F1, R1, O1, S1>, fixq::Fixed<W2, F2, R2, O2, S2>>> {         \
    using ReturnType = decltype(std::declval<fixq::Fixed<W1, F1, R1, O1, S1>>()                 \
                                    EXPR std::declval<fixq::Fixed<W2, F2, R2, O2, S2>>());      \
  };                                                                                            \
  template <int W, int F, fixq::Round R, fixq::Overflow O, bool S>                              \
  struct ScalarBinaryOpTraits<fixq::Fixed<W, F, R, O, S>, fixq::Fixed<W, F, R, O, S>,           \
                              internal::OP<fixq::Fixed<W, F, R, O, S>, fixq::Fixed<W, F, R, O, S>>> { \
    using ReturnType = decltype(std::declval<fixq::Fixed<W, F, R, O, S>>()                      \
                                    EXPR std::declval<fixq::Fixed<W, F, R, O, S>>());           \
  };
FIXQ_EIGEN_BINARY_TRAITS(scalar_sum_op, +)
FIXQ_EIGEN_BINARY_TRAITS(scalar_difference_op, -)
FIXQ_EIGEN_BINARY_TRAITS(scalar_product_op, *)
#undef FIXQ_EIGEN_BINARY_TRAITS

}  // namespace Eigen

#endif  // FIXQ_EIGEN_NUM_TRAITS_HPP
