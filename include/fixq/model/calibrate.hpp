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
// (ReLU, MaxPool2D, Flatten) are copied.
#ifndef FIXQ_MODEL_CALIBRATE_HPP
#define FIXQ_MODEL_CALIBRATE_HPP

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <utility>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
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

}  // namespace detail

/// The model rebuilt with formats chosen from `data` (batch first, the model's
/// per-sample input shape). Throws std::invalid_argument for an unknown layer type.
inline Model calibrate(const Model& model, const NDArray<float>& data, const CalibrationSpec& c) {
  if (c.activation_bits < 1 || c.activation_bits > 24 || c.weight_bits < 1 || c.weight_bits > 24)
    throw std::invalid_argument("fixq::calibrate: activation_bits and weight_bits must be in [1, 24]");
  const auto acts = model.forward_float_all(data);
  const auto is_signed = [&](const std::vector<float>& x, bool given) {
    return c.choose_signedness ? std::any_of(x.begin(), x.end(), [](float v) { return v < 0; }) : given;
  };
  for (const auto& [name, bits] : c.layer_weight_bits)
    if (bits < 1 || bits > 24)
      throw std::invalid_argument("fixq::calibrate: layer_weight_bits['" + name + "'] = " + std::to_string(bits) +
                                  " is not in [1, 24]");
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
    const auto linear = [&](LinearFormats f, const std::vector<float>& w, std::int64_t out) {
      f.input = ins[0];
      f.bias.reset();
      if (c.weight_round) f.weight_round = *c.weight_round;
      detail::calibrate_weights(w, out, c, weight_bits, f.weight.is_signed, f);
      f.output = out_spec(f.output);
      return f;
    };
    // Weights rounded stochastically once here, then kept (NearestEven leaves values
    // on the grid as they are).
    const auto weights = [&](LinearFormats& f, const NDArray<float>& w, std::int64_t out) {
      if (f.weight_round != Round::Stochastic) return w;
      f.weight_round = Round::NearestEven;
      return NDArray<float>(w.shape, detail::stochastic_weights(w.data, out, f, derive_seed(c.seed, i + 1, 1)));
    };
    if (const auto* d = dynamic_cast<const Dense*>(&l)) {
      LinearFormats f = linear(d->formats(), d->weights().data, d->weights().dim(1));
      NDArray<float> w = weights(f, d->weights(), d->weights().dim(1));
      q.add(Dense(d->name(), std::move(w), d->bias(), f), names);
    } else if (const auto* cv = dynamic_cast<const Conv2D*>(&l)) {
      LinearFormats f = linear(cv->formats(), cv->weights().data, cv->weights().dim(3));
      NDArray<float> w = weights(f, cv->weights(), cv->weights().dim(3));
      q.add(Conv2D(cv->name(), std::move(w), cv->bias(), cv->window(), cv->groups(), f), names);
    } else if (const auto* bn = dynamic_cast<const BatchNorm*>(&l)) {
      const auto [s, t] = bn->params().affine();
      LinearFormats f = linear(bn->formats(), s, static_cast<std::int64_t>(s.size()));
      if (f.weight_round == Round::Stochastic) f.weight_round = Round::NearestEven;  // the scale is derived, not stored
      q.add(BatchNorm(bn->name(), bn->params(), f), names);
    } else if (const auto* gp = dynamic_cast<const GlobalAvgPool2D*>(&l)) {
      q.add(GlobalAvgPool2D(gp->name(), out_spec(gp->output_spec())), names);
    } else if (const auto* ap = dynamic_cast<const AvgPool2D*>(&l)) {
      q.add(AvgPool2D(ap->name(), ap->window().size, out_spec(ap->output_spec()), ap->window().strides,
                      ap->window().padding),
            names);
    } else if (const auto* add = dynamic_cast<const Add*>(&l)) {
      q.add(Add(add->name(), out_spec(add->output_spec())), names);
    } else if (const auto* cat = dynamic_cast<const Concat*>(&l)) {
      q.add(Concat(cat->name(), out_spec(cat->output_spec())), names);
    } else if (const auto* r = dynamic_cast<const ReLU*>(&l)) {
      q.add(ReLU(*r), names);
    } else if (const auto* mp = dynamic_cast<const MaxPool2D*>(&l)) {
      q.add(MaxPool2D(*mp), names);
    } else if (const auto* fl = dynamic_cast<const Flatten*>(&l)) {
      q.add(Flatten(*fl), names);
    } else {
      throw std::invalid_argument("fixq::calibrate: layer '" + l.name() + "' of type " + l.type() +
                                  " cannot be calibrated");
    }
    out_format.push_back(q.layer(i).output_format());
  }
  q.set_outputs(model.outputs());
  return q;
}

/// The model with float activations and quantized weights: every Dense, Conv2D
/// and BatchNorm of q (a calibrated model) gets its weights and bias as their
/// values on q's grids (as q's paths use them), so that q's float path measures
/// the effect of quantizing the weights alone. A BatchNorm's quantized scale s and
/// offset t come back as parameters (gamma = s * sqrt(var + eps), beta = t + mean * s),
/// which reproduce them up to float rounding.
inline Model with_quantized_weights(const Model& q) {
  // values of w (output channel last) on the grids of `formats`, one per channel
  const auto on_grid = [](const std::vector<float>& w, const std::vector<Format>& formats, Round r) {
    std::vector<float> v(w.size());
    const std::size_t channels = formats.size();
    for (std::size_t k = 0; k < w.size(); ++k)
      quantize_span(&w[k], &v[k], 1, QuantSpec{formats[k % channels], r, Overflow::Saturate});
    return v;
  };
  const auto linear = [&](const NDArray<float>& w, const NDArray<float>& b, const LinearFormats& f,
                          const detail::LinearCore& core) {
    NDArray<float> wq(w.shape, on_grid(w.data, core.weight_formats(), f.weight_round));
    NDArray<float> bq = b.size() ? NDArray<float>(b.shape, on_grid(b.data, core.bias_formats(), f.weight_round)) : b;
    return std::pair{std::move(wq), std::move(bq)};
  };
  Model m(q.input_shape(), q.input_spec());
  for (std::size_t i = 0; i < q.size(); ++i) {
    const Layer& l = q.layer(i);
    std::vector<std::string> names;
    for (const int j : q.layer_inputs(i))
      names.push_back(j < 0 ? std::string("input") : q.layer(static_cast<std::size_t>(j)).name());
    if (const auto* d = dynamic_cast<const Dense*>(&l)) {
      auto [w, b] = linear(d->weights(), d->bias(), d->formats(), d->core());
      m.add(Dense(d->name(), std::move(w), std::move(b), d->formats()), names);
    } else if (const auto* cv = dynamic_cast<const Conv2D*>(&l)) {
      auto [w, b] = linear(cv->weights(), cv->bias(), cv->formats(), cv->core());
      m.add(Conv2D(cv->name(), std::move(w), std::move(b), cv->window(), cv->groups(), cv->formats()), names);
    } else if (const auto* bn = dynamic_cast<const BatchNorm*>(&l)) {
      BatchNormParams p = bn->params();
      const auto& core = bn->core();
      for (std::size_t c = 0; c < p.gamma.size(); ++c) {
        const double s = static_cast<double>(core.weight_codes()[c]) * core.weight_formats()[c].lsb();
        const double t = static_cast<double>(core.bias_codes()[c]) * core.bias_formats()[c].lsb();
        p.gamma[c] = static_cast<float>(s * std::sqrt(static_cast<double>(p.var[c]) + p.eps));
        p.beta[c] = static_cast<float>(t + static_cast<double>(p.mean[c]) * s);
      }
      m.add(BatchNorm(bn->name(), std::move(p), bn->formats()), names);
    } else if (const auto* gp = dynamic_cast<const GlobalAvgPool2D*>(&l)) {
      m.add(GlobalAvgPool2D(*gp), names);
    } else if (const auto* ap = dynamic_cast<const AvgPool2D*>(&l)) {
      m.add(AvgPool2D(*ap), names);
    } else if (const auto* add = dynamic_cast<const Add*>(&l)) {
      m.add(Add(*add), names);
    } else if (const auto* cat = dynamic_cast<const Concat*>(&l)) {
      m.add(Concat(*cat), names);
    } else if (const auto* r = dynamic_cast<const ReLU*>(&l)) {
      m.add(ReLU(*r), names);
    } else if (const auto* mp = dynamic_cast<const MaxPool2D*>(&l)) {
      m.add(MaxPool2D(*mp), names);
    } else if (const auto* fl = dynamic_cast<const Flatten*>(&l)) {
      m.add(Flatten(*fl), names);
    } else {
      throw std::invalid_argument("fixq::with_quantized_weights: layer '" + l.name() + "' of type " + l.type() +
                                  " is not supported");
    }
  }
  m.set_outputs(q.outputs());
  return m;
}

}  // namespace fixq

#endif  // FIXQ_MODEL_CALIBRATE_HPP
