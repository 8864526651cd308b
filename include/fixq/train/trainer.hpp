// fixq/train/trainer.hpp - the training loop: epochs of shuffled mini-batches,
// optional augmentation, the learning-rate schedule, quantization hooks, and a
// progress callback.
//
//   fixq::train::TrainOptions o;
//   o.epochs = 10;
//   o.optimizer = {.kind = fixq::train::OptimizerKind::Adam, .lr = 1e-3};
//   auto history = fixq::train::fit(net, x_train, y_train, o);
//   double acc = fixq::train::accuracy(net, x_test, y_test);
//
// Reproducible: the shuffle of epoch e comes from derive_seed(seed, e), the
// augmentation of step t from derive_seed(seed, t, 1), stochastic rounding in the
// hooks from the seed and the step; chunks make the arithmetic independent of the
// thread count (train/network.hpp).
#ifndef FIXQ_TRAIN_TRAINER_HPP
#define FIXQ_TRAIN_TRAINER_HPP

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fixq/random/stream.hpp>
#include <fixq/train/network.hpp>
#include <fixq/train/optimizer.hpp>
#include <fixq/train/quantizer.hpp>

namespace fixq::train {

/// Where training is (passed to TrainOptions::on_progress).
struct Progress {
  int epoch = 0, epochs = 0;             ///< epoch counts from 0
  std::int64_t step = 0, steps = 0;      ///< step within the epoch (done so far), steps per epoch
  double loss = 0, accuracy = 0;         ///< running means over the epoch so far
  double images_per_second = 0;
  double eta_seconds = 0;                ///< for the whole run
  double lr = 0;
  bool epoch_end = false;
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< at epoch end, with validation data
};

/// What one epoch measured.
struct EpochRecord {
  int epoch = 0;
  double loss = 0, accuracy = 0;
  double seconds = 0;  ///< training alone (the validation is not counted)
  double lr = 0;
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
};

struct TrainOptions {
  int epochs = 10;
  std::size_t batch = 64;
  std::size_t chunk = 32;    ///< samples per independent chunk (train/network.hpp)
  int threads = 0;           ///< 0: fixq::threads()
  std::uint64_t seed = 1;
  OptimizerSpec optimizer = {};
  Schedule schedule = {};
  QuantHooks hooks = {};
  /// Called on each mini-batch before the step, with a seed for it.
  std::function<void(NDArray<float>& batch, std::uint64_t seed)> augment = {};
  /// Called about every `progress_every` steps and at the end of each epoch.
  std::function<void(const Progress&)> on_progress = {};
  std::int64_t progress_every = 50;
  /// Called before each step with the step's number counted over the whole run
  /// and the run's number of steps (e.g. iterative quantization's stages:
  /// train/iterative.hpp).
  std::function<void(std::uint64_t step, std::uint64_t steps)> before_step = {};
  /// Evaluated at the end of each epoch when set (its accuracy goes to the record),
  /// with the Activations hooks applied (Network::predict).
  const NDArray<float>* val_x = nullptr;
  std::span<const std::uint8_t> val_y = {};
};

/// The share of samples whose largest output is the label (hooks: Network::predict).
inline double accuracy(const Network& net, const NDArray<float>& x, std::span<const std::uint8_t> y, int threads = 0,
                       const QuantHooks& hooks = {}) {
  if (static_cast<std::size_t>(x.dim(0)) != y.size())
    throw std::invalid_argument("fixq::train::accuracy: " + std::to_string(x.dim(0)) + " samples, " +
                                std::to_string(y.size()) + " labels");
  const NDArray<float> out = net.predict(x, 256, threads, hooks);
  const std::size_t k = out.size() / std::max<std::size_t>(y.size(), 1);
  std::size_t right = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const float* z = out.data.data() + i * k;
    right += static_cast<std::size_t>(std::max_element(z, z + k) - z) == y[i];
  }
  return y.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(y.size());
}

/// The order of n samples in epoch `epoch` (Fisher-Yates with fixq's random words).
inline std::vector<std::size_t> shuffled(std::size_t n, std::uint64_t seed, int epoch) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::uint64_t s = derive_seed(seed, static_cast<std::uint64_t>(epoch));
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>((static_cast<std::uint64_t>(random_u32(s, i)) * i) >> 32);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

/// Trains net (built) on x (batch first) with labels y; returns one record per epoch.
inline std::vector<EpochRecord> fit(Network& net, const NDArray<float>& x, std::span<const std::uint8_t> y,
                                    const TrainOptions& o) {
  if (!net.built()) throw train_error("fixq::train::fit: build the network first");
  const std::size_t n = static_cast<std::size_t>(x.dim(0));
  if (n == 0 || y.size() != n)
    throw std::invalid_argument("fixq::train::fit: " + std::to_string(n) + " samples, " + std::to_string(y.size()) +
                                " labels");
  if (o.batch == 0 || o.chunk == 0 || o.epochs < 0)
    throw std::invalid_argument("fixq::train::fit: batch and chunk must be >= 1 and epochs >= 0");
  Optimizer opt(o.optimizer);
  const std::size_t per = x.size() / n;
  const std::int64_t steps = static_cast<std::int64_t>((n + o.batch - 1) / o.batch);
  std::vector<EpochRecord> history;
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  std::uint64_t global_step = 0;
  for (int e = 0; e < o.epochs; ++e) {
    const auto epoch_start = clock::now();
    const std::vector<std::size_t> order = shuffled(n, o.seed, e);
    double loss_sum = 0;
    std::int64_t right = 0, seen = 0;
    double lr = 0;
    for (std::int64_t s = 0; s < steps; ++s, ++global_step) {
      const std::size_t first = static_cast<std::size_t>(s) * o.batch, count = std::min(o.batch, n - first);
      Shape shape = x.shape;
      shape[0] = static_cast<std::int64_t>(count);
      NDArray<float> b(shape);
      std::vector<std::uint8_t> labels(count);
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t src = order[first + i];
        std::copy_n(x.data.begin() + static_cast<std::ptrdiff_t>(src * per), per,
                    b.data.begin() + static_cast<std::ptrdiff_t>(i * per));
        labels[i] = y[src];
      }
      if (o.augment) o.augment(b, derive_seed(o.seed, global_step, 1));
      if (o.before_step) o.before_step(global_step, static_cast<std::uint64_t>(steps) * static_cast<std::uint64_t>(o.epochs));
      lr = o.optimizer.lr * o.schedule.factor(e + static_cast<double>(s) / static_cast<double>(steps), o.epochs);
      const StepResult r = net.train_step(b, labels, opt, lr, o.hooks, derive_seed(o.seed, 2), global_step, o.chunk, o.threads);
      loss_sum += r.loss * static_cast<double>(count);
      right += r.correct;
      seen += static_cast<std::int64_t>(count);
      const bool last = s + 1 == steps;
      const double epoch_seconds = std::chrono::duration<double>(clock::now() - epoch_start).count();
      if (o.on_progress && (last || (s + 1) % std::max<std::int64_t>(o.progress_every, 1) == 0)) {
        const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        const double done = static_cast<double>(e) * static_cast<double>(n) + static_cast<double>(first + count);
        Progress p;
        p.epoch = e;
        p.epochs = o.epochs;
        p.step = s + 1;
        p.steps = steps;
        p.loss = loss_sum / static_cast<double>(seen);
        p.accuracy = static_cast<double>(right) / static_cast<double>(seen);
        p.images_per_second = done / std::max(elapsed, 1e-9);
        p.eta_seconds = (static_cast<double>(o.epochs) * static_cast<double>(n) - done) / std::max(p.images_per_second, 1e-9);
        p.lr = lr;
        if (last) {
          p.epoch_end = true;
          if (o.val_x) p.val_accuracy = accuracy(net, *o.val_x, o.val_y, o.threads, o.hooks);
        }
        o.on_progress(p);
        if (last) history.push_back({e, p.loss, p.accuracy, epoch_seconds, lr, p.val_accuracy});
        continue;
      }
      if (last) {
        EpochRecord rec{e, loss_sum / static_cast<double>(seen), static_cast<double>(right) / static_cast<double>(seen),
                        epoch_seconds, lr};
        if (o.val_x) rec.val_accuracy = accuracy(net, *o.val_x, o.val_y, o.threads, o.hooks);
        history.push_back(rec);
      }
    }
  }
  return history;
}

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_TRAINER_HPP
