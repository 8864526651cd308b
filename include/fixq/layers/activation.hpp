// fixq/layers/activation.hpp - ReLU and the clipped ReLU (ReLU6), in the input's format.
//
// ReLU: max(x, 0). ClippedReLU(cap): min(max(x, 0), c) with c the largest value of
// the input format not above `cap` (cap itself when it is on the grid, as 6 is
// for every frac >= -1): the codes max(code, 0) and min(.., floor(cap * 2^frac)),
// also capped by the largest code. Both keep the input format.
#ifndef FIXQ_LAYERS_ACTIVATION_HPP
#define FIXQ_LAYERS_ACTIVATION_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

/// ReLU, or with a cap the clipped ReLU (ReLU6: cap = 6).
class ReLU : public Layer {
 public:
  static constexpr std::string_view type_name = "ReLU";
  static constexpr bool trainable = true;
  struct Params {
    double cap = std::numeric_limits<double>::infinity();  ///< none when infinite
  };
  static void describe(AttrVisitor& v, Params& p) {
    v.number("cap", p.cap, std::numeric_limits<double>::infinity(), AttrScope::FileAndManifest);
  }

  explicit ReLU(std::string name, double cap = std::numeric_limits<double>::infinity())
      : Layer(std::move(name)), cap_(cap) {
    if (!(cap_ > 0)) fail("the cap must be > 0");
  }
  ReLU(std::string name, Params p) : ReLU(std::move(name), p.cap) {}
  std::string type() const override { return cap_ == 6.0 ? "ReLU6" : "ReLU"; }
  Params attributes() const { return {cap_}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ReLU>(*this); }
  /// The largest output code (the format's largest without a cap).
  std::vector<LayerNote> notes() const override { return {{"cap_code", cap_code_}}; }
  double cap() const { return cap_; }
  /// The cap's code in the bound input format.
  std::int64_t cap_code() const { return cap_code_; }

 protected:
  void on_bind() override {
    const Format& f = input_formats()[0];
    const auto max_code = static_cast<std::int64_t>(std::min<std::uint64_t>(f.max_code(), std::uint64_t{1} << 62));
    if (std::isinf(cap_)) {
      cap_code_ = max_code;
    } else {
      const long double c = std::floor(std::ldexp(static_cast<long double>(cap_), f.frac));
      cap_code_ = c >= static_cast<long double>(max_code) ? max_code : static_cast<std::int64_t>(c);
    }
    set_output(f, input_shapes()[0]);
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y = *in[0];
    for (float& v : y.data) v = std::min(std::max(v, 0.0f), static_cast<float>(cap_));
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t) const override {
    const Format& f = input_formats()[0];
    NDArray<float> y(in[0]->shape);
    quantize_span(in[0]->data.data(), y.data.data(), y.size(), QuantSpec{f});
    const auto cap_value = static_cast<float>(static_cast<double>(cap_code_) * f.lsb());
    for (float& v : y.data) v = std::min(std::max(v, 0.0f), cap_value);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t) const override {
    NDArray<std::int32_t> y = *in[0];
    const auto cap = static_cast<std::int32_t>(std::min<std::int64_t>(cap_code_, std::numeric_limits<std::int32_t>::max()));
    for (std::int32_t& c : y.data) c = std::min(std::max(c, std::int32_t{0}), cap);
    return y;
  }

 private:
  double cap_;
  std::int64_t cap_code_ = 0;
};

namespace detail {
template <>
struct BuiltinLayer<6> {
  using type = ReLU;
  // "ReLU6" in a model file: a ReLU capped at 6 (written back as ReLU with "cap": 6).
  static constexpr std::string_view alias = "ReLU6";
  static std::unique_ptr<Layer> make_alias(const std::string& name) { return std::make_unique<ReLU>(name, 6.0); }
};

}  // namespace detail

}  // namespace fixq

#endif  // FIXQ_LAYERS_ACTIVATION_HPP
