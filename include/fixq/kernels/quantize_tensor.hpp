// fixq/kernels/quantize_tensor.hpp - quantize, quantize_codes, dequantize and
// quantize_inplace for Eigen::Tensor and Eigen::TensorMap of any rank.
//
// The flat element index used by stochastic rounding is the tensor's linear
// index in its own layout (column-major unless Eigen::RowMajor), i.e. the
// position in memory, as for Eigen arrays.
#ifndef FIXQ_KERNELS_QUANTIZE_TENSOR_HPP
#define FIXQ_KERNELS_QUANTIZE_TENSOR_HPP

#include <concepts>
#include <cstdint>
#include <type_traits>
#include <unsupported/Eigen/CXX11/Tensor>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>

namespace fixq {

namespace detail {
template <class T>
struct is_eigen_tensor : std::false_type {};
template <class S, int N, int Opt, class I>
struct is_eigen_tensor<Eigen::Tensor<S, N, Opt, I>> : std::true_type {};
template <class S, int N, int Opt, class I, int MapOpt, template <class> class MakePointer>
struct is_eigen_tensor<Eigen::TensorMap<Eigen::Tensor<S, N, Opt, I>, MapOpt, MakePointer>> : std::true_type {};

/// A Tensor or TensorMap (of a Tensor): contiguous storage with data() and size().
template <class T>
concept DenseTensor = is_eigen_tensor<std::remove_cvref_t<T>>::value;

/// The plain Tensor type of a tensor or map, with another scalar type.
template <class T, class Scalar>
struct tensor_with_scalar;
template <class S, int N, int Opt, class I, class Scalar>
struct tensor_with_scalar<Eigen::Tensor<S, N, Opt, I>, Scalar> {
  using type = Eigen::Tensor<Scalar, N, Opt, I>;
};
template <class S, int N, int Opt, class I, int MapOpt, template <class> class MakePointer, class Scalar>
struct tensor_with_scalar<Eigen::TensorMap<Eigen::Tensor<S, N, Opt, I>, MapOpt, MakePointer>, Scalar> {
  using type = Eigen::Tensor<Scalar, N, Opt, I>;
};
template <class T, class Scalar>
using tensor_with_scalar_t = typename tensor_with_scalar<std::remove_cvref_t<T>, Scalar>::type;
template <class T>
using tensor_scalar_t = std::remove_const_t<typename std::remove_cvref_t<T>::Scalar>;
}  // namespace detail

/// Fake-quantized copy of a tensor by `spec` (same rank, dimensions, layout and
/// scalar). Element k (in the tensor's storage order) uses random_u32(seed, k).
template <detail::DenseTensor X>
  requires std::floating_point<detail::tensor_scalar_t<X>>
detail::tensor_with_scalar_t<X, detail::tensor_scalar_t<X>> quantize(const X& x, const QuantSpec& spec) {
  detail::tensor_with_scalar_t<X, detail::tensor_scalar_t<X>> y(x.dimensions());
  quantize_span(x.data(), y.data(), static_cast<std::size_t>(x.size()), spec);
  return y;
}

/// Integer codes of a tensor.
template <class Int, detail::DenseTensor X>
  requires std::integral<Int> && std::floating_point<detail::tensor_scalar_t<X>>
detail::tensor_with_scalar_t<X, Int> quantize_codes(const X& x, const QuantSpec& spec) {
  spec.validate();
  detail::check_code_type<Int>(spec.format);
  detail::tensor_with_scalar_t<X, Int> y(x.dimensions());
  quantize_span(x.data(), y.data(), static_cast<std::size_t>(x.size()), spec);
  return y;
}

/// Values of a tensor of integer codes.
template <class Out = float, detail::DenseTensor X>
  requires std::integral<detail::tensor_scalar_t<X>> && std::floating_point<Out>
detail::tensor_with_scalar_t<X, Out> dequantize(const X& codes, const Format& fmt) {
  detail::tensor_with_scalar_t<X, Out> y(codes.dimensions());
  dequantize_span(codes.data(), y.data(), static_cast<std::size_t>(codes.size()), fmt);
  return y;
}

/// Quantize a tensor or a (non-const) tensor map in place.
template <detail::DenseTensor X>
  requires std::floating_point<typename std::remove_cvref_t<X>::Scalar>
void quantize_inplace(X&& x, const QuantSpec& spec) {
  quantize_span(x.data(), x.data(), static_cast<std::size_t>(x.size()), spec);
}

}  // namespace fixq

#endif  // FIXQ_KERNELS_QUANTIZE_TENSOR_HPP
