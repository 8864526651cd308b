// fixq/layers/batch_norm.hpp - batch normalization, folded or kept.
//
// y = (x - mean) / sqrt(var + eps) * gamma + beta per channel (the last axis) is
// the affine map y = x * s + t with s = gamma / sqrt(var + eps), t = beta - mean * s.
//  - Directly after a Dense or Conv2D it is folded into that layer before
//    quantization (fold_batch_norm): w' = w * s per output channel, b' = b * s + t.
//  - Elsewhere (e.g. Conv -> ReLU -> BN) it stays a layer: a per-channel
//    fixed-point affine map, s on the "weight" grid (per tensor or per channel),
//    t on the "bias" grid, computed exactly as a 1 x 1 depthwise weighted sum
//    (layers/linear.hpp: groups = channels, reduction length 1) and rounded once
//    into the output format.
#ifndef FIXQ_LAYERS_BATCH_NORM_HPP
#define FIXQ_LAYERS_BATCH_NORM_HPP

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/layers/conv2d.hpp>
#include <fixq/layers/dense.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/linear.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

/// The float parameters of a batch normalization over C channels.
struct BatchNormParams {
  std::vector<float> gamma, beta, mean, var;
  float eps = 1e-3f;  ///< Keras' default (PyTorch's is 1e-5)

  /// s and t of y = x * s + t; throws std::invalid_argument for mismatched sizes
  /// or a negative variance.
  std::pair<std::vector<float>, std::vector<float>> affine() const {
    const std::size_t c = gamma.size();
    if (beta.size() != c || mean.size() != c || var.size() != c)
      throw std::invalid_argument("fixq::BatchNormParams: gamma, beta, mean and var must have one entry per channel");
    std::vector<float> s(c), t(c);
    for (std::size_t i = 0; i < c; ++i) {
      if (!(var[i] >= 0)) throw std::invalid_argument("fixq::BatchNormParams: var[" + std::to_string(i) + "] < 0");
      const double si = static_cast<double>(gamma[i]) / std::sqrt(static_cast<double>(var[i]) + eps);
      s[i] = static_cast<float>(si);
      t[i] = static_cast<float>(beta[i] - mean[i] * si);
    }
    return {s, t};
  }
};

/// Batch normalization kept as a layer (see the top of this file).
class BatchNorm : public Layer {
 public:
  static constexpr std::string_view type_name = "BatchNorm";
  static constexpr bool trainable = true;
  struct Params {
    BatchNormParams bn;
    LinearFormats formats = detail::placeholder_linear();
  };
  static void describe(AttrVisitor& v, Params& p) {
    v.vector("gamma", "gamma", p.bn.gamma);
    v.vector("beta", "beta", p.bn.beta);
    v.vector("mean", "mean", p.bn.mean);
    v.vector("var", "var", p.bn.var);
    // required: Keras' and PyTorch's defaults differ
    double eps = p.bn.eps;
    v.number("eps", eps, std::nullopt, AttrScope::FileOnly);
    p.bn.eps = static_cast<float>(eps);
    v.linear(p.formats);
  }

  /// formats.weight is the grid of s, formats.bias (default 32 bits at input frac +
  /// s frac) the grid of t.
  BatchNorm(std::string name, BatchNormParams params, LinearFormats formats)
      : BatchNorm(std::move(name), Params{std::move(params), std::move(formats)}) {}
  BatchNorm(std::string name, Params p)
      : Layer(std::move(name)), params_(std::move(p.bn)), formats_(std::move(p.formats)) {
    if (!(params_.eps > 0)) fail("\"eps\" must be > 0");
    try {
      std::tie(s_, t_) = params_.affine();
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
  }
  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return {params_, formats_}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<BatchNorm>(*this); }
  const QuantSpec* output_quantization() const override { return &formats_.output; }
  const detail::LinearCore* linear_core() const override { return &core_; }
  /// The quantized scale s and offset t come back as parameters
  /// (gamma = s * sqrt(var + eps), beta = t + mean * s), which reproduce them up to
  /// float rounding.
  std::unique_ptr<Layer> with_quantized_weights() const override {
    if (!bound()) fail("with_quantized_weights needs a bound layer (the grids come from its input format)");
    BatchNormParams p = params_;
    for (std::size_t c = 0; c < p.gamma.size(); ++c) {
      const double sc = static_cast<double>(core_.weight_values()[c]);
      const double t = core_.bias_values()[c];
      p.gamma[c] = static_cast<float>(sc * std::sqrt(static_cast<double>(p.var[c]) + p.eps));
      p.beta[c] = static_cast<float>(t + static_cast<double>(p.mean[c]) * sc);
    }
    return std::make_unique<BatchNorm>(name(), std::move(p), formats_);
  }
  const BatchNormParams& params() const { return params_; }
  const LinearFormats& formats() const { return formats_; }
  const detail::LinearCore& core() const { return core_; }
  LayerInfo info() const override {
    return {static_cast<std::int64_t>(shape_size(input_shapes()[0])), core_.weight_bytes(), core_.accumulator_bits(),
            core_.exact_bits()};
  }

 protected:
  void on_bind() override {
    const Shape& s = input_shapes()[0];
    if (s.empty() || s.back() != static_cast<std::int64_t>(s_.size()))
      fail("has " + std::to_string(s_.size()) + " channels; input per-sample shape " + shape_text(s));
    if (input_formats()[0] != formats_.input)
      fail("its input format is " + formats_.input.name() + " but it receives " + input_formats()[0].name());
    const int c = static_cast<int>(s_.size());
    core_.prepare([this](const std::string& what) { fail(what); }, formats_, c, 1, c, s_, t_,
                  Shape{static_cast<std::int64_t>(c)}, "(C,) scale per channel");
    set_output(formats_.output.format, s);
  }
  /// Channel-major copy: group c holds x[r * C + c] for every row r.
  template <class T, class U = T>
  std::vector<U> by_channel(const std::vector<T>& x) const {
    const std::size_t c = s_.size(), rows = x.size() / c;
    std::vector<U> p(x.size());
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < c; ++j) p[j * rows + r] = static_cast<U>(x[r * c + j]);
    return p;
  }
  std::size_t rows(std::size_t n) const { return n / s_.size(); }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y(in[0]->shape);
    core_.run_float(by_channel(in[0]->data), rows(in[0]->size()), y.data.data());
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const override {
    std::vector<float> x(in[0]->size());
    quantize_span(in[0]->data.data(), x.data(), x.size(), QuantSpec{formats_.input});
    NDArray<float> y(in[0]->shape);
    core_.run_sim(by_channel(x), rows(x.size()), y.data.data(), first);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const override {
    NDArray<std::int32_t> y(in[0]->shape);
    core_.run_int(std::span<const std::int32_t>(by_channel(in[0]->data)), rows(in[0]->size()), y.data.data(), first);
    return y;
  }

 private:
  BatchNormParams params_;
  LinearFormats formats_;
  std::vector<float> s_, t_;
  detail::LinearCore core_;
};

namespace detail {
template <>
struct BuiltinLayer<2> {
  using type = BatchNorm;
};

inline void fold_into(std::vector<float>& w, std::vector<float>& b, std::size_t out, const BatchNormParams& bn) {
  const auto [s, t] = bn.affine();
  if (s.size() != out)
    throw std::invalid_argument("fixq::fold_batch_norm: " + std::to_string(s.size()) + " channels for a layer of " +
                                std::to_string(out) + " outputs");
  for (std::size_t i = 0; i < w.size(); ++i) w[i] *= s[i % out];  // output channel innermost
  if (b.empty()) b.assign(out, 0.0f);
  for (std::size_t o = 0; o < out; ++o) b[o] = b[o] * s[o] + t[o];
}
}  // namespace detail

/// The Dense or Conv2D layer with a following batch normalization folded in
/// (before quantization: choose the weight and bias formats for the folded values).
inline Dense fold_batch_norm(const Dense& d, const BatchNormParams& bn, LinearFormats formats) {
  NDArray<float> w = d.weights(), b = d.bias();
  detail::fold_into(w.data, b.data, static_cast<std::size_t>(w.dim(1)), bn);
  b.shape = Shape{w.dim(1)};
  return Dense(d.name(), std::move(w), std::move(b), std::move(formats));
}
inline Conv2D fold_batch_norm(const Conv2D& c, const BatchNormParams& bn, LinearFormats formats) {
  NDArray<float> w = c.weights(), b = c.bias();
  detail::fold_into(w.data, b.data, static_cast<std::size_t>(w.dim(3)), bn);
  b.shape = Shape{w.dim(3)};
  return Conv2D(c.name(), std::move(w), std::move(b), c.window(), c.groups(), std::move(formats));
}

}  // namespace fixq

#endif  // FIXQ_LAYERS_BATCH_NORM_HPP
