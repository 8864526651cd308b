// fixq/layers/dense.hpp - a fully connected layer: y = x W + b.
//
// Input (batch, in), weights (in, out) as in Keras (PyTorch's Linear stores
// (out, in): transpose it, see layers/layout.hpp), bias (out) or none. Formats in
// LinearFormats; the three paths and their exactness in layers/linear.hpp. The
// sim path first puts its input on the input grid (NearestEven, Saturate), which
// leaves a value already on it unchanged.
#ifndef FIXQ_LAYERS_DENSE_HPP
#define FIXQ_LAYERS_DENSE_HPP

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/linear.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

class Dense : public Layer {
 public:
  static constexpr std::string_view type_name = "Dense";
  static constexpr bool trainable = true;
  struct Params {
    NDArray<float> weights;  ///< (in, out)
    NDArray<float> bias;     ///< (out) or empty
    LinearFormats formats = detail::placeholder_linear();
  };
  static void describe(AttrVisitor& v, Params& p) {
    v.tensor("weights", "w", p.weights, TensorRole::Weights, false);
    v.tensor("bias", "b", p.bias, TensorRole::Bias, true);
    v.linear(p.formats);
  }

  /// weights: (in, out); bias: (out) or an empty array for none.
  Dense(std::string name, NDArray<float> weights, NDArray<float> bias, LinearFormats formats)
      : Dense(std::move(name), Params{std::move(weights), std::move(bias), std::move(formats)}) {}
  Dense(std::string name, Params p)
      : Layer(std::move(name)), w_(std::move(p.weights)), b_(std::move(p.bias)), formats_(std::move(p.formats)) {
    if (w_.rank() != 2) fail("weights must have shape (in, out), got " + shape_text(w_.shape));
    if (b_.size() != 0 && b_.shape != Shape{w_.dim(1)})
      fail("bias must have shape (" + std::to_string(w_.dim(1)) + ",), got " + shape_text(b_.shape));
  }
  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return {w_, b_, formats_}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Dense>(*this); }
  const QuantSpec* output_quantization() const override { return &formats_.output; }
  const detail::LinearCore* linear_core() const override { return &core_; }
  std::unique_ptr<Layer> with_quantized_weights() const override {
    if (!bound()) fail("with_quantized_weights needs a bound layer (the grids come from its input format)");
    auto [w, b] = detail::values_on_grid(core_, w_, b_);
    return std::make_unique<Dense>(name(), std::move(w), std::move(b), formats_);
  }
  const LinearFormats& formats() const { return formats_; }
  const NDArray<float>& weights() const { return w_; }
  const NDArray<float>& bias() const { return b_; }
  const detail::LinearCore& core() const { return core_; }
  LayerInfo info() const override {
    return {w_.dim(0) * w_.dim(1), core_.weight_bytes(), core_.accumulator_bits(), core_.exact_bits()};
  }

 protected:
  void on_bind() override {
    const Shape& s = input_shapes()[0];
    if (s != Shape{w_.dim(0)}) fail("expects inputs of shape (batch, " + std::to_string(w_.dim(0)) + "), got (batch" +
                                     (s.empty() ? "" : ", ") + shape_text(s).substr(1));
    if (input_formats()[0] != formats_.input)
      fail("its input format is " + formats_.input.name() + " but it receives " + input_formats()[0].name());
    core_.prepare([this](const std::string& what) { fail(what); }, formats_, 1, static_cast<int>(w_.dim(0)),
                  static_cast<int>(w_.dim(1)), w_.data, b_.data, w_.shape, "(in, out)");
    set_output(formats_.output.format, Shape{w_.dim(1)});
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y(batched(in[0]->dim(0), output_shape()));
    core_.run_float(in[0]->data, static_cast<std::size_t>(in[0]->dim(0)), y.data.data());
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const override {
    NDArray<float> y(batched(in[0]->dim(0), output_shape()));
    std::vector<float> x(in[0]->size());  // the input on its grid (unchanged when it is already)
    quantize_span(in[0]->data.data(), x.data(), x.size(), QuantSpec{formats_.input});
    core_.run_sim(x, static_cast<std::size_t>(in[0]->dim(0)), y.data.data(), first);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const override {
    NDArray<std::int32_t> y(batched(in[0]->dim(0), output_shape()));
    core_.run_int(std::span<const std::int32_t>(in[0]->data), static_cast<std::size_t>(in[0]->dim(0)), y.data.data(),
                  first);
    return y;
  }

 private:
  NDArray<float> w_, b_;
  LinearFormats formats_;
  detail::LinearCore core_;
};

namespace detail {
template <>
struct BuiltinLayer<0> {
  using type = Dense;
};
}

}  // namespace fixq

#endif  // FIXQ_LAYERS_DENSE_HPP
