// fixq/model/calibrate.hpp - dynamic fixed point for a whole model: every tensor's
// fractional length chosen from data.
//
//   fixq::Model q = fixq::calibrate(model, calibration_batch, {.activation_bits = 8, .weight_bits = 8});
//
// The float path runs on the calibration data; then, layer by layer, the model is
// rebuilt with the same structure: the input and every new-format layer output get
// `activation_bits`-bit codes with the fraction choose_frac picks from the float
// values (MaxAbs, OverflowRate or MinMSE, as in Ristretto's dynamic fixed point and
// Courbariaux et al.'s), weights get `weight_bits`-bit codes with the fraction picked
// from the weights (per tensor, or per output channel), biases the default (32 bits
// at the product's fraction). Signedness, rounding and overflow modes and seeds are
// kept from the model given unless the spec overrides them: `round` for the input
// and every new-format output, `weight_round` for weights (Round::Stochastic
// rounds each weight once, with a seed derived from `seed`), `layer_weight_bits`
// for the weight word of named layers. Layers that keep their input's format
// (ReLU, MaxPool2D, Flatten) are copied. Each layer is rebuilt from its
// description (layers/describe.hpp): its output spec, linear formats and
// parameter formats (a LeakyReLU's slope) are what calibration replaces, so a new
// layer type needs nothing here.
#ifndef FIXQ_MODEL_CALIBRATE_HPP
#define FIXQ_MODEL_CALIBRATE_HPP

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/frac_select.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/random/stream.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>

namespace fixq {

/// How calibrate chooses the formats.
struct CalibrationSpec {
  int activation_bits = 8;                 ///< word of the input and of every new-format output
  int weight_bits = 8;                     ///< word of the weights (and BatchNorm's scales)
  FracMethod method = FracMethod::MaxAbs;  ///< for activations and weights
  double overflow_rate = 0;                ///< FracMethod::OverflowRate only
  bool per_channel = false;                ///< one weight fraction per output channel
  /// Choose the signedness of the input and of every new-format output from the
  /// data (unsigned when every calibration value is >= 0: one more bit of
  /// magnitude) instead of keeping the model's.
  bool choose_signedness = false;
  /// Rounding of the input and of every new-format output (default: the model's).
  std::optional<Round> round = {};
  /// Rounding of weights onto their grid (default: the model's). Round::Stochastic
  /// rounds each weight once, element k of layer i's weights with random word k of
  /// derive_seed(seed, i + 1, 1).
  std::optional<Round> weight_round = {};
  /// The run seed of Round::Stochastic: the input's stream is derive_seed(seed, 0),
  /// layer i's derive_seed(seed, i + 1) (as a model file's seed).
  std::uint64_t seed = 0;
  /// Weight words of particular layers, by name (others: weight_bits).
  std::map<std::string, int> layer_weight_bits = {};
};

namespace detail {

inline FracSpec frac_spec(const CalibrationSpec& c, int word, bool is_signed) {
  return FracSpec{word, is_signed, c.method, c.method == FracMethod::OverflowRate ? c.overflow_rate : 0.0};
}

/// The fraction for values x (any layout) as `word`-bit codes.
inline int calibrated_frac(const std::vector<float>& x, const CalibrationSpec& c, int word, bool is_signed) {
  const Eigen::Map<const Eigen::ArrayXf> m(x.data(), static_cast<Eigen::Index>(x.size()));
  return choose_frac(m, frac_spec(c, word, is_signed));
}

/// An activation's fraction for `word`-bit codes, within what float32 holds exactly
/// (Layer::activation_problem); it moves only for activations near float32's limits.
inline int activation_frac(const std::vector<float>& x, const CalibrationSpec& c, int word, bool is_signed) {
  return std::clamp(calibrated_frac(x, c, word, is_signed), word - 128, 149);
}

/// The weight format(s) of `bits`-bit weights whose output channel is the last axis.
inline void calibrate_weights(const std::vector<float>& w, std::int64_t out, const CalibrationSpec& c, int bits,
                              bool is_signed, LinearFormats& f) {
  f.weight = Format{bits, calibrated_frac(w, c, bits, is_signed), is_signed};
  f.weight_frac.clear();
  if (c.per_channel) {
    const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(
        w.data(), static_cast<Eigen::Index>(w.size() / static_cast<std::size_t>(out)), out);
    f.weight_frac = choose_frac_per_channel(m, Axis::Cols, frac_spec(c, bits, is_signed));
  }
}

/// w (output channel last) rounded stochastically onto the grids of f, as values;
/// element k uses random word k of `seed`.
inline std::vector<float> stochastic_weights(const std::vector<float>& w, std::int64_t out, const LinearFormats& f,
                                             std::uint64_t seed) {
  std::vector<float> q(w.size());
  const auto channels = static_cast<std::size_t>(out);
  for (std::size_t k = 0; k < w.size(); ++k) {
    const std::size_t ch = k % channels;
    const Format wf{f.weight.word, f.weight_frac.empty() ? f.weight.frac : f.weight_frac[ch], f.weight.is_signed};
    quantize_span(&w[k], &q[k], 1, QuantSpec{wf, Round::Stochastic, Overflow::Saturate, seed}, k);
  }
  return q;
}

/// Gives one layer's description the calibrated formats. First pass: the output
/// spec, the linear formats (weights from the bound layer's core) and parameter
/// formats; second pass: weights rounded stochastically onto their new grids when
/// asked (then kept: NearestEven leaves values on the grid as they are), and a
/// derived weight (BatchNorm's scale) rounded to nearest.
class CalibrateVisitor final : public AttrVisitor {
 public:
  using OutSpec = std::function<QuantSpec(QuantSpec)>;
  CalibrateVisitor(const CalibrationSpec& c, const Layer& layer, Format input, int weight_bits, OutSpec out_spec,
                   std::uint64_t weight_seed)
      : c_(c), layer_(layer), input_(input), bits_(weight_bits), out_spec_(std::move(out_spec)), seed_(weight_seed) {}
  int passes() const override { return 2; }
  void start_pass(int pass) override { pass_ = pass; }
  void tensor(const char*, const char*, NDArray<float>& t, TensorRole role, bool) override {
    if (pass_ == 1 && role == TensorRole::Weights && linear_ && linear_->weight_round == Round::Stochastic)
      t.data = stochastic_weights(t.data, t.shape.back(), *linear_, seed_);
  }
  void vector(const char*, const char*, std::vector<float>&) override {}
  void integer(const char*, int&, int, int, std::optional<int>, AttrScope) override {}
  void number(const char*, double&, std::optional<double>, AttrScope) override {}
  void pair(const char*, std::array<int, 2>&, int, std::optional<std::array<int, 2>>) override {}
  void padding(const char*, Padding&) override {}
  void param_format(const char*, Format& f, std::span<const float> values) override {
    if (pass_ == 0)
      f = Format{bits_, calibrated_frac(std::vector<float>(values.begin(), values.end()), c_, bits_, f.is_signed),
                 f.is_signed};
  }
  void output(QuantSpec& s) override {
    if (pass_ == 0) s = out_spec_(s);
  }
  void linear(LinearFormats& f) override {
    if (pass_ == 1) {
      if (f.weight_round == Round::Stochastic) f.weight_round = Round::NearestEven;
      return;
    }
    const LinearCore* core = layer_.linear_core();
    if (!core) throw std::logic_error("fixq::calibrate: layer '" + layer_.name() + "' describes linear formats but has no linear core");
    f.input = input_;
    f.bias.reset();
    if (c_.weight_round) f.weight_round = *c_.weight_round;
    calibrate_weights(core->float_weights(), core->output_channels(), c_, bits_, f.weight.is_signed, f);
    f.output = out_spec_(f.output);
    linear_ = &f;
  }

 private:
  const CalibrationSpec& c_;
  const Layer& layer_;
  Format input_;
  int bits_;
  OutSpec out_spec_;
  std::uint64_t seed_;
  int pass_ = 0;
  LinearFormats* linear_ = nullptr;
};

}  // namespace detail

/// The model rebuilt with formats chosen from `data` (batch first, the model's
/// per-sample input shape): every layer through its description (layers/describe.hpp).
inline Model calibrate(const Model& model, const NDArray<float>& data, const CalibrationSpec& c) {
  const int max = Layer::max_word;
  if (c.activation_bits < 1 || c.activation_bits > max || c.weight_bits < 1 || c.weight_bits > max)
    throw std::invalid_argument("fixq::calibrate: activation_bits and weight_bits must be in [1, " + std::to_string(max) +
                                "]");
  const auto acts = model.forward_float_all(data);
  const auto is_signed = [&](const std::vector<float>& x, bool given) {
    return c.choose_signedness ? std::any_of(x.begin(), x.end(), [](float v) { return v < 0; }) : given;
  };
  for (const auto& [name, bits] : c.layer_weight_bits)
    if (bits < 1 || bits > max)
      throw std::invalid_argument("fixq::calibrate: layer_weight_bits['" + name + "'] = " + std::to_string(bits) +
                                  " is not in [1, " + std::to_string(max) + "]");
  const auto with_round = [&](QuantSpec s, std::uint64_t position) {
    if (c.round) s.round = *c.round;
    if (c.round == Round::Stochastic) s.seed = derive_seed(c.seed, position);
    return s;
  };
  QuantSpec in = with_round(model.input_spec(), 0);
  const bool in_signed = is_signed(data.data, in.format.is_signed);
  in.format = Format{c.activation_bits, detail::activation_frac(data.data, c, c.activation_bits, in_signed), in_signed};
  Model q(model.input_shape(), in);
  std::vector<Format> out_format;  // new output format of each layer
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& l = model.layer(i);
    std::vector<std::string> names;
    std::vector<Format> ins;
    for (const int j : model.layer_inputs(i)) {
      names.push_back(j < 0 ? std::string("input") : model.layer(static_cast<std::size_t>(j)).name());
      ins.push_back(j < 0 ? in.format : out_format[static_cast<std::size_t>(j)]);
    }
    const auto out_spec = [&](QuantSpec s) {
      s = with_round(std::move(s), i + 1);
      const bool sgn = is_signed(acts[i].data, s.format.is_signed);
      s.format = Format{c.activation_bits, detail::activation_frac(acts[i].data, c, c.activation_bits, sgn), sgn};
      return s;
    };
    const auto it = c.layer_weight_bits.find(l.name());
    const int weight_bits = it == c.layer_weight_bits.end() ? c.weight_bits : it->second;
    detail::CalibrateVisitor v(c, l, ins[0], weight_bits, out_spec, derive_seed(c.seed, i + 1, 1));
    q.add_layer(layer_type_of(l).rebuild(l, v), names);
    out_format.push_back(q.layer(i).output_format());
  }
  q.set_outputs(model.outputs());
  return q;
}

/// The model with float activations and quantized weights: every layer with
/// weights (Dense, Conv2D, BatchNorm) of q (a calibrated model) gets them as their
/// values on q's grids (as q's paths use them; Layer::with_quantized_weights), so
/// that q's float path measures the effect of quantizing the weights alone.
inline Model with_quantized_weights(const Model& q) {
  Model m(q.input_shape(), q.input_spec());
  for (std::size_t i = 0; i < q.size(); ++i) {
    std::vector<std::string> names;
    for (const int j : q.layer_inputs(i))
      names.push_back(j < 0 ? std::string("input") : q.layer(static_cast<std::size_t>(j)).name());
    m.add_layer(q.layer(i).with_quantized_weights(), names);
  }
  m.set_outputs(q.outputs());
  return m;
}

}  // namespace fixq

#endif  // FIXQ_MODEL_CALIBRATE_HPP
