// fixq/layers/conv2d.hpp - 2-D convolution: strides, padding (valid, same with
// TensorFlow's rule, explicit), dilation and groups (depthwise: groups = input
// channels).
//
// Input NHWC (batch, H, W, C), weights HWIO (kh, kw, C / groups, out) as in Keras
// and TensorFlow (PyTorch's OIHW: layers/layout.hpp), bias (out) or none. Output
// channel o belongs to group o / (out / groups) and sees input channels
// [g * C / groups, (g + 1) * C / groups). Every path gathers the same windows
// (layers/window.hpp: im2col, zero outside the input) and reduces them as
// layers/linear.hpp describes; the sim path first puts its input on the input grid.
#ifndef FIXQ_LAYERS_CONV2D_HPP
#define FIXQ_LAYERS_CONV2D_HPP

#include <array>
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
#include <fixq/layers/window.hpp>

namespace fixq {

class Conv2D : public Layer {
 public:
  static constexpr std::string_view type_name = "Conv2D";
  static constexpr bool trainable = true;
  struct Params {
    NDArray<float> weights;  ///< HWIO (kh, kw, C / groups, out)
    NDArray<float> bias;     ///< (out) or empty
    Window2D window;         ///< strides, dilation, padding (the size comes from the weights)
    int groups = 1;
    LinearFormats formats = detail::placeholder_linear();
  };
  static void describe(AttrVisitor& v, Params& p) {
    v.tensor("weights", "w", p.weights, TensorRole::Weights, false);
    v.tensor("bias", "b", p.bias, TensorRole::Bias, true);
    v.pair("strides", p.window.strides, 1, std::array<int, 2>{1, 1});
    v.padding("padding", p.window.padding);
    v.pair("dilation", p.window.dilation, 1, std::array<int, 2>{1, 1});
    v.integer("groups", p.groups, 1, 1 << 20, 1, AttrScope::FileAndManifest);
    v.linear(p.formats);
  }

  /// weights: (kh, kw, C / groups, out); bias: (out) or empty. window.size is taken
  /// from the weights.
  Conv2D(std::string name, NDArray<float> weights, NDArray<float> bias, Window2D window, int groups,
         LinearFormats formats)
      : Conv2D(std::move(name), Params{std::move(weights), std::move(bias), window, groups, std::move(formats)}) {}
  Conv2D(std::string name, Params p)
      : Layer(std::move(name)), w_(std::move(p.weights)), b_(std::move(p.bias)), window_(p.window), groups_(p.groups),
        formats_(std::move(p.formats)) {
    if (w_.rank() != 4) fail("weights must have shape (kh, kw, in / groups, out), got " + shape_text(w_.shape));
    if (groups_ < 1) fail("groups = " + std::to_string(groups_) + " must be >= 1");
    if (w_.dim(3) % groups_ != 0)
      fail(std::to_string(w_.dim(3)) + " output channels are not a multiple of groups = " + std::to_string(groups_));
    if (b_.size() != 0 && b_.shape != Shape{w_.dim(3)})
      fail("bias must have shape (" + std::to_string(w_.dim(3)) + ",), got " + shape_text(b_.shape));
    window_.size = {static_cast<int>(w_.dim(0)), static_cast<int>(w_.dim(1))};
  }
  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return {w_, b_, window_, groups_, formats_}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Conv2D>(*this); }
  const QuantSpec* output_quantization() const override { return &formats_.output; }
  const detail::LinearCore* linear_core() const override { return &core_; }
  const WindowGeometry* sliding_window() const override { return &geo_; }
  std::unique_ptr<Layer> with_quantized_weights() const override {
    if (!bound()) fail("with_quantized_weights needs a bound layer (the grids come from its input format)");
    auto [w, b] = detail::values_on_grid(core_, w_, b_);
    return std::make_unique<Conv2D>(name(), std::move(w), std::move(b), window_, groups_, formats_);
  }
  const LinearFormats& formats() const { return formats_; }
  const Window2D& window() const { return window_; }
  int groups() const { return groups_; }
  const NDArray<float>& weights() const { return w_; }
  const NDArray<float>& bias() const { return b_; }
  const detail::LinearCore& core() const { return core_; }
  const WindowGeometry& geometry() const { return geo_; }
  LayerInfo info() const override {
    const std::int64_t k = w_.dim(0) * w_.dim(1) * w_.dim(2);
    return {static_cast<std::int64_t>(geo_.out_h) * geo_.out_w * w_.dim(3) * k, core_.weight_bytes(),
            core_.accumulator_bits(), core_.exact_bits()};
  }

 protected:
  void on_bind() override {
    const Shape& s = input_shapes()[0];
    if (s.size() != 3) fail("expects NHWC inputs (batch, H, W, C), got per-sample shape " + shape_text(s));
    if (s[2] != w_.dim(2) * groups_)
      fail("expects " + std::to_string(w_.dim(2) * groups_) + " input channels (weights " + shape_text(w_.shape) +
           ", groups " + std::to_string(groups_) + "), got " + std::to_string(s[2]));
    if (input_formats()[0] != formats_.input)
      fail("its input format is " + formats_.input.name() + " but it receives " + input_formats()[0].name());
    std::string problem;
    geo_ = window_geometry(static_cast<int>(s[0]), static_cast<int>(s[1]), window_, problem);
    if (!problem.empty()) fail(problem);
    // HWIO is (K = kh * kw * C / groups) x out, the core's layout.
    const int K = static_cast<int>(w_.dim(0) * w_.dim(1) * w_.dim(2));
    core_.prepare([this](const std::string& what) { fail(what); }, formats_, groups_, K, static_cast<int>(w_.dim(3)),
                  w_.data, b_.data, w_.shape, "HWIO (kh, kw, in / groups, out)");
    set_output(formats_.output.format, Shape{geo_.out_h, geo_.out_w, w_.dim(3)});
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y(batched(in[0]->dim(0), output_shape()));
    const auto p = patches<float>(in[0]->data.data(), static_cast<int>(in[0]->dim(0)));
    core_.run_float(p, rows(in[0]->dim(0)), y.data.data());
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const override {
    NDArray<float> y(batched(in[0]->dim(0), output_shape()));
    std::vector<float> x(in[0]->size());
    quantize_span(in[0]->data.data(), x.data(), x.size(), QuantSpec{formats_.input});
    const auto p = patches<float>(x.data(), static_cast<int>(in[0]->dim(0)));
    core_.run_sim(p, rows(in[0]->dim(0)), y.data.data(), first);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const override {
    NDArray<std::int32_t> y(batched(in[0]->dim(0), output_shape()));
    const int n = static_cast<int>(in[0]->dim(0));
    if (formats_.input.word + (formats_.input.is_signed ? 0 : 1) <= 16) {  // the codes fit int16
      const auto p = patches<std::int16_t>(in[0]->data.data(), n);
      core_.run_int(std::span<const std::int16_t>(p), rows(n), y.data.data(), first);
    } else {
      const auto p = patches<std::int32_t>(in[0]->data.data(), n);
      core_.run_int(std::span<const std::int32_t>(p), rows(n), y.data.data(), first);
    }
    return y;
  }

 private:
  std::size_t rows(std::int64_t n) const { return static_cast<std::size_t>(n) * geo_.out_h * geo_.out_w; }
  /// The windows of every group, group after group (rows x K each).
  template <class U, class T>
  std::vector<U> patches(const T* x, int n) const {
    const int c = static_cast<int>(input_shapes()[0][2]), cg = c / groups_;
    const std::size_t K = static_cast<std::size_t>(w_.dim(0) * w_.dim(1)) * cg, r = rows(n);
    std::vector<U> p(static_cast<std::size_t>(groups_) * r * K);
    for (int g = 0; g < groups_; ++g)
      detail::im2col(x, n, c, g * cg, cg, geo_, U{0}, p.data() + static_cast<std::size_t>(g) * r * K);
    return p;
  }

  NDArray<float> w_, b_;
  Window2D window_;
  int groups_;
  LinearFormats formats_;
  WindowGeometry geo_;
  detail::LinearCore core_;
};

namespace detail {
template <>
struct BuiltinLayer<1> {
  using type = Conv2D;
};
}

}  // namespace fixq

#endif  // FIXQ_LAYERS_CONV2D_HPP
