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
// kept from the model given. Layers that keep their input's format (ReLU, MaxPool2D,
// Flatten) are copied.
#ifndef FIXQ_MODEL_CALIBRATE_HPP
#define FIXQ_MODEL_CALIBRATE_HPP

#include <Eigen/Core>
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/frac_select.hpp>
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

/// The weight format(s) of weights whose output channel is the last axis.
inline void calibrate_weights(const std::vector<float>& w, std::int64_t out, const CalibrationSpec& c,
                              bool is_signed, LinearFormats& f) {
  f.weight = Format{c.weight_bits, calibrated_frac(w, c, c.weight_bits, is_signed), is_signed};
  f.weight_frac.clear();
  if (c.per_channel) {
    const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(
        w.data(), static_cast<Eigen::Index>(w.size() / static_cast<std::size_t>(out)), out);
    f.weight_frac = choose_frac_per_channel(m, Axis::Cols, frac_spec(c, c.weight_bits, is_signed));
  }
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
  QuantSpec in = model.input_spec();
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
      const bool sgn = is_signed(acts[i].data, s.format.is_signed);
      s.format = Format{c.activation_bits, detail::activation_frac(acts[i].data, c, c.activation_bits, sgn), sgn};
      return s;
    };
    const auto linear = [&](LinearFormats f, const std::vector<float>& w, std::int64_t out) {
      f.input = ins[0];
      f.bias.reset();
      detail::calibrate_weights(w, out, c, f.weight.is_signed, f);
      f.output = out_spec(f.output);
      return f;
    };
    if (const auto* d = dynamic_cast<const Dense*>(&l)) {
      q.add(Dense(d->name(), d->weights(), d->bias(), linear(d->formats(), d->weights().data, d->weights().dim(1))),
            names);
    } else if (const auto* cv = dynamic_cast<const Conv2D*>(&l)) {
      q.add(Conv2D(cv->name(), cv->weights(), cv->bias(), cv->window(), cv->groups(),
                   linear(cv->formats(), cv->weights().data, cv->weights().dim(3))),
            names);
    } else if (const auto* bn = dynamic_cast<const BatchNorm*>(&l)) {
      const auto [s, t] = bn->params().affine();
      q.add(BatchNorm(bn->name(), bn->params(), linear(bn->formats(), s, static_cast<std::int64_t>(s.size()))), names);
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

}  // namespace fixq

#endif  // FIXQ_MODEL_CALIBRATE_HPP
