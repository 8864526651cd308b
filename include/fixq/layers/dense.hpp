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
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fixq/layers/layer.hpp>
#include <fixq/layers/linear.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

class Dense : public Layer {
 public:
  /// weights: (in, out); bias: (out) or an empty array for none.
  Dense(std::string name, NDArray<float> weights, NDArray<float> bias, LinearFormats formats)
      : Layer(std::move(name)), w_(std::move(weights)), b_(std::move(bias)), formats_(std::move(formats)) {
    if (w_.rank() != 2) fail("weights must have shape (in, out), got " + shape_text(w_.shape));
    if (b_.size() != 0 && b_.shape != Shape{w_.dim(1)})
      fail("bias must have shape (" + std::to_string(w_.dim(1)) + ",), got " + shape_text(b_.shape));
  }
  std::string type() const override { return "Dense"; }
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
    core_.prepare("fixq: layer '" + name() + "' (Dense): ", formats_, 1, static_cast<int>(w_.dim(0)),
                  static_cast<int>(w_.dim(1)), w_.data, b_.data);
    set_output(formats_.output.format, Shape{w_.dim(1)});
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y(batched(in[0]->dim(0), output_shape()));
    core_.run_float(in[0]->data, static_cast<std::size_t>(in[0]->dim(0)), y.data.data());
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y(batched(in[0]->dim(0), output_shape()));
    std::vector<float> x(in[0]->size());  // the input on its grid (unchanged when it is already)
    quantize_span(in[0]->data.data(), x.data(), x.size(), QuantSpec{formats_.input});
    core_.run_sim(x, static_cast<std::size_t>(in[0]->dim(0)), y.data.data(), 0);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in) const override {
    NDArray<std::int32_t> y(batched(in[0]->dim(0), output_shape()));
    core_.run_int(std::span<const std::int32_t>(in[0]->data), static_cast<std::size_t>(in[0]->dim(0)), y.data.data(), 0);
    return y;
  }

 private:
  NDArray<float> w_, b_;
  LinearFormats formats_;
  detail::LinearCore core_;
};

}  // namespace fixq

#endif  // FIXQ_LAYERS_DENSE_HPP
