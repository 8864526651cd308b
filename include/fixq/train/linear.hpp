// fixq/train/linear.hpp - trainable Dense and Conv2D.
//
// Both are rows of inputs times a weight matrix, as in fixq/layers/linear.hpp:
// Dense's rows are samples, Conv2D's are the windows of its input (im2col, the
// same gathering as the inference layer: window.hpp), one weight block per group
// (HWIO weights: group g owns output columns [g * out / groups, (g + 1) * out / groups)).
// The GEMMs are Eigen's float GEMM:
//   forward   Y = P W + b
//   backward  dW += P^T dY,  db += column sums of dY,  dP = dY W^T  (then col2im for Conv2D)
#ifndef FIXQ_TRAIN_LINEAR_HPP
#define FIXQ_TRAIN_LINEAR_HPP

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fixq/layers/conv2d.hpp>
#include <fixq/layers/dense.hpp>
#include <fixq/layers/window.hpp>
#include <fixq/random/stream.hpp>
#include <fixq/train/layer.hpp>

namespace fixq::train {

namespace detail {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Strided = Eigen::OuterStride<>;
using MapC = Eigen::Map<const RowMat, 0, Strided>;
using Map = Eigen::Map<RowMat, 0, Strided>;

inline MapC view(const float* p, Eigen::Index rows, Eigen::Index cols, Eigen::Index stride) {
  return MapC(p, rows, cols, Strided(stride));
}
inline Map view(float* p, Eigen::Index rows, Eigen::Index cols, Eigen::Index stride) {
  return Map(p, rows, cols, Strided(stride));
}

/// The inverse gathering of fixq::detail::im2col for one group: adds each patch
/// entry back into the input cell it came from (cells in the padding are dropped).
inline void col2im_add(const float* cols, int n, int c, int c0, int cg, const WindowGeometry& g, float* dx) {
  const int kh = g.window.size[0], kw = g.window.size[1];
  const std::size_t row = static_cast<std::size_t>(kh) * kw * cg;
  std::size_t r = 0;
  for (int b = 0; b < n; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox, ++r) {
        const float* src = cols + r * row;
        for (int ky = 0; ky < kh; ++ky) {
          const int iy = g.in_y(oy, ky);
          for (int kx = 0; kx < kw; ++kx, src += cg) {
            const int ix = g.in_x(ox, kx);
            if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
            float* dst = dx + ((static_cast<std::size_t>(b) * g.in_h + iy) * g.in_w + ix) * c + c0;
            for (int ci = 0; ci < cg; ++ci) dst[ci] += src[ci];
          }
        }
      }
}

/// g[c] += sum over rows of dy(r, c): row after row (a plain loop, so that the
/// order of the additions never depends on the data's alignment, as Eigen's
/// vectorized reductions may).
inline void add_column_sums(const float* dy, Eigen::Index rows, Eigen::Index cols, Eigen::Index stride, float* g) {
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < cols; ++c) g[c] += dy[r * stride + c];
}

/// out (rows x cout) = in (rows x K) * w (K x cout) + bias.
inline void affine(const float* in, Eigen::Index rows, Eigen::Index K, const float* w, const float* bias,
                   Eigen::Index cout, Eigen::Index stride_in, Eigen::Index stride_w, float* out, Eigen::Index stride_out) {
  auto o = view(out, rows, cout, stride_out);
  o.noalias() = view(in, rows, K, stride_in) * view(w, K, cout, stride_w);
  if (bias) o.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias, cout);
}

}  // namespace detail

/// Fully connected: (n, in) -> (n, out); a (n, ...) input is read as (n, in).
class Dense : public Layer {
 public:
  /// A new layer, initialized at bind (He uniform weights, zero bias).
  Dense(std::string name, std::int64_t units, bool use_bias = true)
      : Layer(std::move(name)), units_(units), use_bias_(use_bias) {
    if (units < 1) fail("units must be >= 1");
  }
  /// A layer with given weights (in, out) and bias (out) or empty.
  Dense(std::string name, NDArray<float> weights, NDArray<float> bias)
      : Layer(std::move(name)), units_(weights.rank() == 2 ? weights.dim(1) : 0), use_bias_(bias.size() != 0) {
    if (weights.rank() != 2) fail("weights must have shape (in, out), got " + shape_text(weights.shape));
    w_ = Param{"weights", std::move(weights), {}, true};
    b_ = Param{"bias", use_bias_ ? std::move(bias) : NDArray<float>(Shape{units_}), {}, false};
  }
  std::string type() const override { return "Dense"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Dense>(*this); }
  bool new_format() const override { return true; }
  std::vector<Param*> params() override {
    if (use_bias_) return {&w_, &b_};
    return {&w_};
  }

  Shape bind(const Shape& in, std::uint64_t seed) override {
    const auto k = static_cast<std::int64_t>(shape_size(in));
    if (w_.value.size() == 0) {
      w_.value = train::detail::he_uniform(Shape{k, units_}, k, seed);
      b_.value = NDArray<float>(Shape{units_});
    } else if (w_.value.dim(0) != k) {
      fail("weights " + shape_text(w_.value.shape) + " do not take an input of " + std::to_string(k) + " features");
    }
    in_shape_ = in;
    out_shape_ = Shape{units_};
    return out_shape_;
  }

  NDArray<float> forward(const NDArray<float>& x, Cache& cache, bool training) const override {
    const Eigen::Index n = x.dim(0), k = w_.value.dim(0);
    NDArray<float> y(Shape{n, units_});
    detail::affine(x.data.data(), n, k, w_.used().data.data(), use_bias_ ? b_.used().data.data() : nullptr, units_, k,
                   units_, y.data.data(), units_);
    if (training) cache.tensors = {x};
    return y;
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache& cache, std::span<NDArray<float>> grads,
                          bool need_dx) const override {
    const NDArray<float>& x = cache.tensors.at(0);
    const Eigen::Index n = x.dim(0), k = w_.value.dim(0);
    const auto X = detail::view(x.data.data(), n, k, k);
    const auto DY = detail::view(dy.data.data(), n, units_, units_);
    detail::view(grads[0].data.data(), k, units_, units_).noalias() += X.transpose() * DY;
    if (use_bias_) detail::add_column_sums(dy.data.data(), n, units_, units_, grads[1].data.data());
    if (!need_dx) return {};
    NDArray<float> dx(x.shape);
    detail::view(dx.data.data(), n, k, k).noalias() =
        DY * detail::view(w_.used().data.data(), k, units_, units_).transpose();
    return dx;
  }

  std::unique_ptr<fixq::Layer> to_inference(const Format& f) const override {
    return std::make_unique<fixq::Dense>(name(), w_.value, use_bias_ ? b_.value : NDArray<float>{},
                                         LinearFormats{f, f, {}, {}, QuantSpec{f}});
  }

 private:
  std::int64_t units_;
  bool use_bias_;
  Param w_{"weights", {}, {}, true}, b_{"bias", {}, {}, false};
};

/// 2-D convolution over NHWC inputs: strides, padding, dilation, groups.
class Conv2D : public Layer {
 public:
  /// A new layer of `filters` outputs with a kh x kw window, initialized at bind.
  Conv2D(std::string name, std::int64_t filters, std::array<int, 2> kernel, Window2D window = {}, int groups = 1,
         bool use_bias = true)
      : Layer(std::move(name)), filters_(filters), window_(window), groups_(groups), use_bias_(use_bias) {
    window_.size = kernel;
    if (filters < 1 || groups < 1 || filters % groups != 0)
      fail("filters (" + std::to_string(filters) + ") must be a positive multiple of groups (" +
           std::to_string(groups) + ")");
  }
  /// A layer with given weights (kh, kw, in / groups, out) and bias (out) or empty.
  Conv2D(std::string name, NDArray<float> weights, NDArray<float> bias, Window2D window, int groups)
      : Layer(std::move(name)), filters_(weights.rank() == 4 ? weights.dim(3) : 0), window_(window), groups_(groups),
        use_bias_(bias.size() != 0) {
    if (weights.rank() != 4) fail("weights must have shape (kh, kw, in / groups, out), got " + shape_text(weights.shape));
    window_.size = {static_cast<int>(weights.dim(0)), static_cast<int>(weights.dim(1))};
    w_ = Param{"weights", std::move(weights), {}, true};
    b_ = Param{"bias", use_bias_ ? std::move(bias) : NDArray<float>(Shape{filters_}), {}, false};
  }
  std::string type() const override { return "Conv2D"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Conv2D>(*this); }
  bool new_format() const override { return true; }
  std::vector<Param*> params() override {
    if (use_bias_) return {&w_, &b_};
    return {&w_};
  }
  const WindowGeometry& geometry() const { return geo_; }

  Shape bind(const Shape& in, std::uint64_t seed) override {
    if (in.size() != 3) fail("expects NHWC inputs, got per-sample shape " + shape_text(in));
    if (in[2] % groups_ != 0)
      fail(std::to_string(in[2]) + " input channels are not a multiple of groups = " + std::to_string(groups_));
    const std::int64_t cg = in[2] / groups_, kh = window_.size[0], kw = window_.size[1];
    if (w_.value.size() == 0) {
      w_.value = train::detail::he_uniform(Shape{kh, kw, cg, filters_}, kh * kw * cg, seed);
      b_.value = NDArray<float>(Shape{filters_});
    } else if (w_.value.dim(2) != cg) {
      fail("weights " + shape_text(w_.value.shape) + " do not take " + std::to_string(in[2]) + " input channels in " +
           std::to_string(groups_) + " groups");
    }
    std::string problem;
    geo_ = window_geometry(static_cast<int>(in[0]), static_cast<int>(in[1]), window_, problem);
    if (!problem.empty()) fail(problem);
    in_shape_ = in;
    out_shape_ = Shape{geo_.out_h, geo_.out_w, filters_};
    return out_shape_;
  }

  NDArray<float> forward(const NDArray<float>& x, Cache& cache, bool training) const override {
    const int n = static_cast<int>(x.dim(0)), c = static_cast<int>(in_shape_[2]), cg = c / groups_;
    const Eigen::Index rows = static_cast<Eigen::Index>(n) * geo_.out_h * geo_.out_w, K = kdim(),
                       og = filters_ / groups_;
    NDArray<float> y(train::detail::batched(n, out_shape_));
    NDArray<float> cols(Shape{groups_, rows, K});
    for (int g = 0; g < groups_; ++g) {
      float* p = cols.data.data() + static_cast<std::size_t>(g) * rows * K;
      fixq::detail::im2col(x.data.data(), n, c, g * cg, cg, geo_, 0.0f, p);
      detail::affine(p, rows, K, w_.used().data.data() + g * og, use_bias_ ? b_.used().data.data() + g * og : nullptr,
                     og, K, filters_, y.data.data() + g * og, filters_);
    }
    if (training) cache.tensors = {std::move(cols)};
    return y;
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache& cache, std::span<NDArray<float>> grads,
                          bool need_dx) const override {
    const NDArray<float>& cols = cache.tensors.at(0);
    const Eigen::Index rows = cols.dim(1), K = kdim(), og = filters_ / groups_;
    const int n = static_cast<int>(rows / (static_cast<Eigen::Index>(geo_.out_h) * geo_.out_w));
    const int c = static_cast<int>(in_shape_[2]), cg = c / groups_;
    NDArray<float> dx;
    if (need_dx) dx = NDArray<float>(train::detail::batched(n, in_shape_));
    RowMat dcols;
    for (int g = 0; g < groups_; ++g) {
      const auto P = detail::view(cols.data.data() + static_cast<std::size_t>(g) * rows * K, rows, K, K);
      const auto DY = detail::view(dy.data.data() + g * og, rows, og, filters_);
      detail::view(grads[0].data.data() + g * og, K, og, filters_).noalias() += P.transpose() * DY;
      if (use_bias_) detail::add_column_sums(dy.data.data() + g * og, rows, og, filters_, grads[1].data.data() + g * og);
      if (!need_dx) continue;
      dcols.noalias() = DY * detail::view(w_.used().data.data() + g * og, K, og, filters_).transpose();
      detail::col2im_add(dcols.data(), n, c, g * cg, cg, geo_, dx.data.data());
    }
    return dx;
  }

  std::unique_ptr<fixq::Layer> to_inference(const Format& f) const override {
    return std::make_unique<fixq::Conv2D>(name(), w_.value, use_bias_ ? b_.value : NDArray<float>{}, window_, groups_,
                                          LinearFormats{f, f, {}, {}, QuantSpec{f}});
  }

 private:
  using RowMat = detail::RowMat;
  Eigen::Index kdim() const { return static_cast<Eigen::Index>(window_.size[0]) * window_.size[1] * (in_shape_[2] / groups_); }

  std::int64_t filters_;
  Window2D window_;
  int groups_;
  bool use_bias_;
  Param w_{"weights", {}, {}, true}, b_{"bias", {}, {}, false};
  WindowGeometry geo_;
};

namespace detail {
template <>
struct BuiltinTwin<0> {
  using inference = fixq::Dense;
  static std::unique_ptr<Layer> make(const fixq::Dense& d) {
    return std::make_unique<Dense>(d.name(), d.weights(), d.bias());
  }
};
template <>
struct BuiltinTwin<1> {
  using inference = fixq::Conv2D;
  static std::unique_ptr<Layer> make(const fixq::Conv2D& c) {
    return std::make_unique<Conv2D>(c.name(), c.weights(), c.bias(), c.window(), c.groups());
  }
};
}  // namespace detail

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_LINEAR_HPP
