// fixq/train/loss.hpp - softmax cross-entropy over logits (n, classes).
#ifndef FIXQ_TRAIN_LOSS_HPP
#define FIXQ_TRAIN_LOSS_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include <fixq/layers/ndarray.hpp>

namespace fixq::train {

/// The loss and accuracy of a chunk, and the gradient of the loss.
struct LossResult {
  double loss_sum = 0;     ///< sum over the chunk's samples of -log softmax(logits)[label]
  std::int64_t correct = 0;  ///< samples whose largest logit is the label's (first one on ties)
  NDArray<float> grad;     ///< d(scale * loss_sum) / d logits
};

/// Softmax cross-entropy of logits (n, classes) against labels; the gradient is
/// scaled by `scale` (1 / mini-batch size gives the mean's gradient). Throws
/// std::invalid_argument for a label outside [0, classes).
inline LossResult softmax_cross_entropy(const NDArray<float>& logits, std::span<const std::uint8_t> labels,
                                        double scale) {
  if (logits.rank() != 2 || static_cast<std::size_t>(logits.dim(0)) != labels.size())
    throw std::invalid_argument("fixq::train::softmax_cross_entropy: logits " + shape_text(logits.shape) + " for " +
                                std::to_string(labels.size()) + " labels");
  const std::size_t n = labels.size(), k = static_cast<std::size_t>(logits.dim(1));
  LossResult r;
  r.grad = NDArray<float>(logits.shape);
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = logits.data.data() + i * k;
    if (labels[i] >= k)
      throw std::invalid_argument("fixq::train::softmax_cross_entropy: label " + std::to_string(labels[i]) +
                                  " is not below " + std::to_string(k) + " classes");
    const std::size_t arg = static_cast<std::size_t>(std::max_element(z, z + k) - z);
    const double m = z[arg];
    double s = 0;
    for (std::size_t j = 0; j < k; ++j) s += std::exp(static_cast<double>(z[j]) - m);
    r.loss_sum += std::log(s) - (static_cast<double>(z[labels[i]]) - m);
    r.correct += arg == labels[i];
    for (std::size_t j = 0; j < k; ++j) {
      const double p = std::exp(static_cast<double>(z[j]) - m) / s;
      r.grad.data[i * k + j] = static_cast<float>(scale * (p - (j == labels[i] ? 1.0 : 0.0)));
    }
  }
  return r;
}

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_LOSS_HPP
