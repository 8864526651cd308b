// fixq/layers/leaky_relu.hpp - LeakyReLU with a fixed-point slope.
//
// y = x for x >= 0, a * x for x < 0, where a is the slope put on its own grid
// (slope_format, NearestEven, Saturate) once when the layer is built: a hardware
// implementation multiplies by the slope's code. The product of an input code c
// (frac fin) and the slope code s (frac fs) is exact at frac fin + fs; the output
// is that exact value (x itself for x >= 0) rounded once into the output format by
// the layer's rounding and overflow modes:
//   int  c >= 0: c << max(fs, 0); c < 0: (c * s) << (max(fs, 0) - fs), both at frac
//        F = fin + max(fs, 0) in int64, then requantized (kernels/requantize.hpp);
//   sim  the value on the input grid times the slope's value in double (exact: at
//        most 24 + 24 significant bits), rounded by quantize_span.
// Both round the same rational with the same random word, so int == sim in every
// mode. The float path multiplies by the float slope.
#ifndef FIXQ_LAYERS_LEAKY_RELU_HPP
#define FIXQ_LAYERS_LEAKY_RELU_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/requantize.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

class LeakyReLU : public Layer {
 public:
  static constexpr std::string_view type_name = "LeakyReLU";
  static constexpr bool trainable = true;
  struct Params {
    double slope = 0.01;                                ///< PyTorch's default negative_slope
    Format slope_format = detail::placeholder_format(); ///< the slope's grid
    QuantSpec output{detail::placeholder_format()};
  };
  static void describe(AttrVisitor& v, Params& p) {
    v.number("slope", p.slope, std::nullopt, AttrScope::FileAndManifest);
    const float value = static_cast<float>(p.slope);
    v.param_format("slope_format", p.slope_format, std::span<const float>(&value, 1));
    v.output(p.output);
  }

  LeakyReLU(std::string name, Params p) : Layer(std::move(name)), p_(std::move(p)) {
    if (!std::isfinite(p_.slope)) fail("the slope must be finite");
    p_.slope_format.validate();
    if (p_.slope_format.word > max_word)
      fail("the slope format has " + std::to_string(p_.slope_format.word) + " bits; at most " + std::to_string(max_word) +
           " (its value is held as a float32)");
    if (p_.slope_format.frac > 149 || p_.slope_format.frac < -104)
      fail("the slope format's frac " + std::to_string(p_.slope_format.frac) + " is outside [-104, 149]");
    p_.output.validate();
    const float s = static_cast<float>(p_.slope);
    std::int64_t code = 0;
    quantize_span(&s, &code, 1, QuantSpec{p_.slope_format});
    slope_code_ = code;
  }
  LeakyReLU(std::string name, double slope, Format slope_format, QuantSpec output)
      : LeakyReLU(std::move(name), Params{slope, slope_format, std::move(output)}) {}

  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return p_; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<LeakyReLU>(*this); }
  const QuantSpec* output_quantization() const override { return &p_.output; }
  std::vector<LayerNote> notes() const override {
    return {{"slope_code", slope_code_}, {"accumulator_frac", static_cast<std::int64_t>(acc_frac_)}};
  }
  double slope() const { return p_.slope; }
  const Format& slope_format() const { return p_.slope_format; }
  /// The slope's code on its grid, and its value.
  std::int64_t slope_code() const { return slope_code_; }
  double slope_value() const { return static_cast<double>(slope_code_) * p_.slope_format.lsb(); }
  LayerInfo info() const override {
    return {static_cast<std::int64_t>(shape_size(input_shapes()[0])), (p_.slope_format.word + 7) / 8, 64, 0};
  }

 protected:
  void on_bind() override {
    const Format& in = input_formats()[0];
    const int fs = p_.slope_format.frac;
    pos_shift_ = std::max(fs, 0);
    neg_shift_ = std::max(fs, 0) - fs;
    acc_frac_ = in.frac + pos_shift_;
    // |c * s| < 2^(24 + 24); shifted left by at most 104 more bits it must stay
    // below 2^63.
    if (in.word + p_.slope_format.word + std::max(pos_shift_, neg_shift_) > 62)
      fail("the input format " + in.name() + " and the slope format " + p_.slope_format.name() +
           " are too far apart for an exact 64-bit product");
    set_output(p_.output.format, input_shapes()[0]);
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y = *in[0];
    const auto a = static_cast<float>(p_.slope);
    for (float& v : y.data) v = v >= 0 ? v : a * v;
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const override {
    std::vector<float> x(in[0]->size());
    quantize_span(in[0]->data.data(), x.data(), x.size(), QuantSpec{input_formats()[0]});
    const double a = slope_value();
    std::vector<double> v(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) v[i] = x[i] >= 0 ? static_cast<double>(x[i]) : static_cast<double>(x[i]) * a;
    NDArray<float> y(in[0]->shape);
    quantize_span(v.data(), y.data.data(), y.size(), p_.output, first);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const override {
    const auto& c = in[0]->data;
    std::vector<std::int64_t> acc(c.size());
    for (std::size_t i = 0; i < c.size(); ++i) {
      const std::int64_t x = c[i];
      acc[i] = x >= 0 ? x * (std::int64_t{1} << pos_shift_) : x * slope_code_ * (std::int64_t{1} << neg_shift_);
    }
    NDArray<std::int32_t> y(in[0]->shape);
    const int frac[] = {acc_frac_};
    requantize_span(acc.data(), y.data.data(), y.size(), std::span<const int>(frac), p_.output, first);
    return y;
  }

 private:
  Params p_;
  std::int64_t slope_code_ = 0;
  int pos_shift_ = 0, neg_shift_ = 0, acc_frac_ = 0;
};

namespace detail {
template <>
struct BuiltinLayer<10> {
  using type = LeakyReLU;
};
}

}  // namespace fixq

#endif  // FIXQ_LAYERS_LEAKY_RELU_HPP
