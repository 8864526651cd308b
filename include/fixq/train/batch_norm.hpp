// fixq/train/batch_norm.hpp - batch normalization for training.
//
// Training normalizes each channel (the last axis) with the mean and (biased)
// variance of the chunk being processed: with chunks smaller than the mini-batch
// this is "ghost batch normalization" (Hoffer et al., 2017), and it is what keeps
// a chunk's computation independent of the other chunks (train/network.hpp).
// The running statistics the inference layer uses follow each chunk in order:
// mean <- m * mean + (1 - m) * chunk mean, and the same for the unbiased variance
// (PyTorch's rule, m = 0.9).
#ifndef FIXQ_TRAIN_BATCH_NORM_HPP
#define FIXQ_TRAIN_BATCH_NORM_HPP

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fixq/layers/batch_norm.hpp>
#include <fixq/train/layer.hpp>

namespace fixq::train {

class BatchNorm : public Layer {
 public:
  explicit BatchNorm(std::string name, float eps = 1e-3f, float momentum = 0.9f)
      : Layer(std::move(name)), eps_(eps), momentum_(momentum) {
    if (!(eps > 0)) fail("eps must be > 0");
    if (!(momentum >= 0 && momentum < 1)) fail("momentum must be in [0, 1)");
  }
  /// A layer with given parameters (from an inference model).
  BatchNorm(std::string name, const BatchNormParams& p, float momentum = 0.9f)
      : BatchNorm(std::move(name), p.eps, momentum) {
    const auto c = static_cast<std::int64_t>(p.gamma.size());
    gamma_.value = NDArray<float>(Shape{c}, p.gamma);
    beta_.value = NDArray<float>(Shape{c}, p.beta);
    mean_ = p.mean;
    var_ = p.var;
  }
  std::string type() const override { return "BatchNorm"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<BatchNorm>(*this); }
  bool new_format() const override { return true; }
  std::vector<Param*> params() override { return {&gamma_, &beta_}; }
  BatchNormParams inference_params() const { return {gamma_.value.data, beta_.value.data, mean_, var_, eps_}; }

  Shape bind(const Shape& in, std::uint64_t) override {
    if (in.empty()) fail("needs a channel axis");
    const std::int64_t c = in.back();
    if (gamma_.value.size() == 0) {
      gamma_.value = NDArray<float>(Shape{c}, 1.0f);
      beta_.value = NDArray<float>(Shape{c});
      mean_.assign(static_cast<std::size_t>(c), 0.0f);
      var_.assign(static_cast<std::size_t>(c), 1.0f);
    } else if (gamma_.value.dim(0) != c) {
      fail("has " + std::to_string(gamma_.value.dim(0)) + " channels; input per-sample shape " + shape_text(in));
    }
    in_shape_ = out_shape_ = in;
    return out_shape_;
  }

  NDArray<float> forward(const NDArray<float>& x, Cache& cache, bool training) const override {
    const std::size_t C = channels(), rows = x.size() / C;
    NDArray<float> y(x.shape);
    const std::vector<float>& g = gamma_.used().data;
    const std::vector<float>& b = beta_.used().data;
    if (!training) {
      for (std::size_t c = 0; c < C; ++c) {
        const float inv = 1.0f / std::sqrt(var_[c] + eps_);
        for (std::size_t r = 0; r < rows; ++r) y.data[r * C + c] = (x.data[r * C + c] - mean_[c]) * inv * g[c] + b[c];
      }
      return y;
    }
    std::vector<double> mean(C, 0.0), var(C, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < C; ++c) mean[c] += x.data[r * C + c];
    for (double& m : mean) m /= static_cast<double>(rows);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < C; ++c) {
        const double d = x.data[r * C + c] - mean[c];
        var[c] += d * d;
      }
    NDArray<float> xhat(x.shape), stats(Shape{3, static_cast<std::int64_t>(C)});
    for (std::size_t c = 0; c < C; ++c) {
      var[c] /= static_cast<double>(rows);
      const auto inv = static_cast<float>(1.0 / std::sqrt(var[c] + eps_));
      stats.data[c] = inv;
      stats.data[C + c] = static_cast<float>(mean[c]);
      stats.data[2 * C + c] = static_cast<float>(rows > 1 ? var[c] * rows / (rows - 1) : var[c]);
      for (std::size_t r = 0; r < rows; ++r) {
        const float h = (x.data[r * C + c] - static_cast<float>(mean[c])) * inv;
        xhat.data[r * C + c] = h;
        y.data[r * C + c] = h * g[c] + b[c];
      }
    }
    cache.tensors = {std::move(xhat), std::move(stats)};
    return y;
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache& cache, std::span<NDArray<float>> grads,
                          bool need_dx) const override {
    const NDArray<float>& xhat = cache.tensors.at(0);
    const NDArray<float>& stats = cache.tensors.at(1);
    const std::size_t C = channels(), rows = dy.size() / C;
    std::vector<double> sum_dy(C, 0.0), sum_dy_xhat(C, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < C; ++c) {
        sum_dy[c] += dy.data[r * C + c];
        sum_dy_xhat[c] += static_cast<double>(dy.data[r * C + c]) * xhat.data[r * C + c];
      }
    for (std::size_t c = 0; c < C; ++c) {
      grads[0].data[c] += static_cast<float>(sum_dy_xhat[c]);
      grads[1].data[c] += static_cast<float>(sum_dy[c]);
    }
    if (!need_dx) return {};
    // dx = gamma * inv / m * (m * dy - sum(dy) - xhat * sum(dy * xhat))
    NDArray<float> dx(dy.shape);
    const std::vector<float>& g = gamma_.used().data;
    const auto m = static_cast<double>(rows);
    for (std::size_t c = 0; c < C; ++c) {
      const double k = g[c] * stats.data[c] / m;
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = r * C + c;
        dx.data[i] = static_cast<float>(k * (m * dy.data[i] - sum_dy[c] - xhat.data[i] * sum_dy_xhat[c]));
      }
    }
    return dx;
  }
  void after_step(std::span<const Cache* const> chunks) override {
    const std::size_t C = channels();
    for (const Cache* k : chunks) {
      const NDArray<float>& stats = k->tensors.at(1);
      for (std::size_t c = 0; c < C; ++c) {
        mean_[c] = momentum_ * mean_[c] + (1 - momentum_) * stats.data[C + c];
        var_[c] = momentum_ * var_[c] + (1 - momentum_) * stats.data[2 * C + c];
      }
    }
  }

  std::unique_ptr<fixq::Layer> to_inference(const Format& f) const override {
    return std::make_unique<fixq::BatchNorm>(name(), inference_params(), LinearFormats{f, f, {}, {}, QuantSpec{f}});
  }

 private:
  std::size_t channels() const { return gamma_.value.size(); }

  float eps_, momentum_;
  Param gamma_{"gamma", {}, {}, false}, beta_{"beta", {}, {}, false};
  std::vector<float> mean_, var_;
};

namespace detail {
template <>
struct BuiltinTwin<2> {
  using inference = fixq::BatchNorm;
  static std::unique_ptr<Layer> make(const fixq::BatchNorm& b) {
    return std::make_unique<BatchNorm>(b.name(), b.params());
  }
};
}  // namespace detail

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_BATCH_NORM_HPP
