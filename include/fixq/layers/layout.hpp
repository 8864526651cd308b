// fixq/layers/layout.hpp - PyTorch's layouts to fixq's (Keras / TensorFlow) ones.
//
// fixq: activations NHWC, conv weights HWIO (kh, kw, in / groups, out), dense
// weights (in, out). PyTorch: activations NCHW, conv weights OIHW
// (out, in / groups, kh, kw), Linear weights (out, in).
#ifndef FIXQ_LAYERS_LAYOUT_HPP
#define FIXQ_LAYERS_LAYOUT_HPP

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <fixq/layers/ndarray.hpp>

namespace fixq {

namespace detail {
/// y[perm applied] = x: y's axis i is x's axis perm[i].
template <class T, std::size_t R>
NDArray<T> transpose(const NDArray<T>& x, std::array<int, R> perm, const char* what) {
  if (x.rank() != static_cast<int>(R))
    throw std::invalid_argument(std::string("fixq::") + what + ": expected rank " + std::to_string(R) + ", got " +
                                shape_text(x.shape));
  Shape ys(R);
  for (std::size_t i = 0; i < R; ++i) ys[i] = x.shape[static_cast<std::size_t>(perm[i])];
  NDArray<T> y(ys);
  std::array<std::size_t, R> xstride{}, idx{};
  std::size_t s = 1;
  for (std::size_t i = R; i-- > 0;) {
    xstride[i] = s;
    s *= static_cast<std::size_t>(x.shape[i]);
  }
  for (std::size_t k = 0; k < y.size(); ++k) {
    std::size_t from = 0;
    for (std::size_t i = 0; i < R; ++i) from += idx[i] * xstride[static_cast<std::size_t>(perm[i])];
    y.data[k] = x.data[from];
    for (std::size_t i = R; i-- > 0;) {  // next index of y, last axis fastest
      if (++idx[i] < static_cast<std::size_t>(ys[i])) break;
      idx[i] = 0;
    }
  }
  return y;
}
}  // namespace detail

/// NCHW -> NHWC (PyTorch activations to fixq's).
template <class T>
NDArray<T> nchw_to_nhwc(const NDArray<T>& x) { return detail::transpose<T, 4>(x, {0, 2, 3, 1}, "nchw_to_nhwc"); }
/// NHWC -> NCHW.
template <class T>
NDArray<T> nhwc_to_nchw(const NDArray<T>& x) { return detail::transpose<T, 4>(x, {0, 3, 1, 2}, "nhwc_to_nchw"); }
/// OIHW -> HWIO (PyTorch conv weights to fixq's).
template <class T>
NDArray<T> oihw_to_hwio(const NDArray<T>& w) { return detail::transpose<T, 4>(w, {2, 3, 1, 0}, "oihw_to_hwio"); }
/// (out, in) -> (in, out) (PyTorch Linear weights to fixq's Dense).
template <class T>
NDArray<T> out_in_to_in_out(const NDArray<T>& w) { return detail::transpose<T, 2>(w, {1, 0}, "out_in_to_in_out"); }

}  // namespace fixq

#endif  // FIXQ_LAYERS_LAYOUT_HPP
