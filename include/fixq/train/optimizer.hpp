// fixq/train/optimizer.hpp - SGD with momentum and Adam, weight decay, and the
// learning-rate schedule.
//
//   SGD   v <- momentum * v + (g + wd * w);  w <- w - lr * v   (Nesterov: w <- w - lr * (g + wd * w + momentum * v))
//   Adam  m, v moments of g, bias-corrected; w <- w - lr * (m^ / (sqrt(v^) + eps) + wd * w)
//         (weight decay decoupled from the gradient: AdamW, Loshchilov and Hutter)
// Weight decay applies only to Params with decay set (weights, not biases or
// batch-norm parameters). Updates are on the float master copies; a frozen
// element (Param::frozen) is not updated, nor are its moments.
#ifndef FIXQ_TRAIN_OPTIMIZER_HPP
#define FIXQ_TRAIN_OPTIMIZER_HPP

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fixq/train/layer.hpp>

namespace fixq::train {

enum class OptimizerKind { SGD, Adam };

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Adam;
  double lr = 1e-3;            ///< the peak learning rate (the schedule scales it)
  double weight_decay = 0;
  double momentum = 0.9;       ///< SGD
  bool nesterov = false;       ///< SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  ///< Adam
};

/// The learning rate over training: a linear warm-up, then constant, cosine decay
/// to final_fraction * lr, or a step decay by `gamma` every `step_epochs`.
struct Schedule {
  enum class Kind { Constant, Cosine, Step };
  Kind kind = Kind::Cosine;
  double warmup_epochs = 0;
  double final_fraction = 0;  ///< Cosine: the last learning rate as a fraction of the peak
  double step_epochs = 1, gamma = 0.1;  ///< Step

  /// The factor at `epoch` (fractional: step / steps per epoch) of `epochs`.
  double factor(double epoch, double epochs) const {
    if (warmup_epochs > 0 && epoch < warmup_epochs) return (epoch + 1e-9) / warmup_epochs;
    switch (kind) {
      case Kind::Constant:
        return 1.0;
      case Kind::Cosine: {
        const double span = std::max(epochs - warmup_epochs, 1e-9), t = std::min((epoch - warmup_epochs) / span, 1.0);
        return final_fraction + (1 - final_fraction) * 0.5 * (1 + std::cos(std::numbers::pi * t));
      }
      case Kind::Step:
        return std::pow(gamma, std::floor(epoch / step_epochs));
    }
    return 1.0;
  }
};

class Optimizer {
 public:
  explicit Optimizer(OptimizerSpec spec) : spec_(spec) {
    if (!(spec.lr > 0) || !(spec.weight_decay >= 0) || !(spec.momentum >= 0 && spec.momentum < 1) ||
        !(spec.beta1 >= 0 && spec.beta1 < 1) || !(spec.beta2 >= 0 && spec.beta2 < 1) || !(spec.eps > 0))
      throw std::invalid_argument("fixq::train::Optimizer: lr > 0, weight_decay >= 0, momentum and betas in [0, 1) "
                                  "and eps > 0 are required");
  }
  const OptimizerSpec& spec() const { return spec_; }

  /// One update of every param with its gradient, at learning rate lr.
  void step(std::span<Param* const> params, std::span<const NDArray<float>* const> grads, double lr) {
    if (m_.empty()) {
      for (const Param* p : params) {
        m_.emplace_back(p->value.size(), 0.0f);
        v_.emplace_back(spec_.kind == OptimizerKind::Adam ? p->value.size() : 0, 0.0f);
      }
    }
    if (m_.size() != params.size()) throw std::logic_error("fixq::train::Optimizer: the parameters changed");
    ++t_;
    const double wd = spec_.weight_decay;
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::vector<float>& w = params[i]->value.data;
      const std::vector<float>& g = grads[i]->data;
      const double d = params[i]->decay ? wd : 0.0;
      std::vector<float>& m = m_[i];
      const std::vector<std::uint8_t>& frozen = params[i]->frozen;
      if (!frozen.empty() && frozen.size() != w.size())
        throw std::logic_error("fixq::train::Optimizer: param '" + params[i]->name + "' has " +
                               std::to_string(frozen.size()) + " frozen flags for " + std::to_string(w.size()) +
                               " elements");
      const std::uint8_t* fz = frozen.empty() ? nullptr : frozen.data();
      if (spec_.kind == OptimizerKind::SGD) {
        const auto mu = static_cast<float>(spec_.momentum);
        for (std::size_t k = 0; k < w.size(); ++k) {
          if (fz && fz[k]) continue;
          const float gk = g[k] + static_cast<float>(d) * w[k];
          m[k] = mu * m[k] + gk;
          w[k] -= static_cast<float>(lr) * (spec_.nesterov ? gk + mu * m[k] : m[k]);
        }
      } else {
        std::vector<float>& v = v_[i];
        const auto b1 = static_cast<float>(spec_.beta1), b2 = static_cast<float>(spec_.beta2);
        const double c1 = 1 - std::pow(spec_.beta1, static_cast<double>(t_));
        const double c2 = 1 - std::pow(spec_.beta2, static_cast<double>(t_));
        const auto step = static_cast<float>(lr / c1), root_c2 = static_cast<float>(std::sqrt(c2));
        const auto eps = static_cast<float>(spec_.eps), decay = static_cast<float>(lr * d);
        for (std::size_t k = 0; k < w.size(); ++k) {
          if (fz && fz[k]) continue;
          m[k] = b1 * m[k] + (1 - b1) * g[k];
          v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
          w[k] -= step * m[k] / (std::sqrt(v[k]) / root_c2 + eps) + decay * w[k];
        }
      }
    }
  }

 private:
  OptimizerSpec spec_;
  std::vector<std::vector<float>> m_, v_;
  std::int64_t t_ = 0;
};

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_OPTIMIZER_HPP
