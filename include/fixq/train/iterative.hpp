// fixq/train/iterative.hpp - iterative (incremental) quantization: in stages, the
// largest-magnitude share of each Dense/Conv2D layer's weights is put on its
// fixed-point grid and frozen, and the rest keep training in float (Zhou et al.
// 2017, "Incremental Network Quantization", with fixed-point grids instead of
// powers of two).
//
//   fixq::train::IterativeQuantizer iq({.word = 4, .per_channel = true});   // stages 50, 75, 87.5, 100%
//   o.before_step = iq.schedule(net);    // the first stages during the run
//   fixq::train::fit(net, x, y, o);
//   iq.finish(net);                      // the last stage: every weight on its grid
//
// The grid of a layer's weights (its format, or one per channel) is chosen by the
// Quantizer from the weights at the first stage and kept: a frozen weight never
// moves, neither by the optimizer (Param::frozen) nor by a later stage. Ties in
// magnitude go to the lower index, so a stage freezes the same weights on any
// machine. With `stages` s_1 < ... < s_m = 1, a run of S steps freezes s_k before
// step k * S / m; finish() freezes whatever is left.
#ifndef FIXQ_TRAIN_ITERATIVE_HPP
#define FIXQ_TRAIN_ITERATIVE_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fixq/kernels/quantize_span.hpp>
#include <fixq/random/stream.hpp>
#include <fixq/train/network.hpp>
#include <fixq/train/quantizer.hpp>

namespace fixq::train {

class IterativeQuantizer {
 public:
  /// q: the grid (word, fraction or FracMethod, per_channel) and the rounding of a
  /// weight as it is frozen; stages: the shares frozen after each stage, strictly
  /// increasing in (0, 1], the last one 1.
  explicit IterativeQuantizer(Quantizer q, std::vector<double> stages = {0.5, 0.75, 0.875, 1.0}, std::uint64_t seed = 1)
      : q_(q), stages_(std::move(stages)), seed_(seed) {
    if (stages_.empty() || stages_.back() != 1.0)
      throw std::invalid_argument("fixq::train::IterativeQuantizer: the last stage must be 1 (every weight frozen)");
    for (std::size_t k = 0; k < stages_.size(); ++k)
      if (!(stages_[k] > 0 && stages_[k] <= 1) || (k > 0 && !(stages_[k] > stages_[k - 1])))
        throw std::invalid_argument("fixq::train::IterativeQuantizer: stage " + std::to_string(k) + " = " +
                                    std::to_string(stages_[k]) + ": stages must increase strictly within (0, 1]");
  }

  const std::vector<double>& stages() const { return stages_; }
  /// The stages done so far.
  std::size_t done() const { return done_; }

  /// Freezes the next stage: in each Dense/Conv2D layer, the largest-magnitude
  /// weights not yet frozen, until stages()[done()] of them are.
  void next(Network& net) {
    if (done_ >= stages_.size()) throw std::logic_error("fixq::train::IterativeQuantizer: every stage is done");
    const double share = stages_[done_];
    for (std::size_t i = 0; i < net.size(); ++i) {
      Layer& l = net.layer(i);
      if (l.type() != "Dense" && l.type() != "Conv2D") continue;
      for (Param* p : l.params())
        if (p->name == "weights") freeze(*p, i, share);
    }
    ++done_;
  }
  /// Every stage left (after training: all weights on their grids).
  void finish(Network& net) {
    while (done_ < stages_.size()) next(net);
  }
  /// A TrainOptions::before_step that runs the stages but the last at even
  /// intervals of the run: stage k (from 0) before step (k + 1) * S / m. It refers
  /// to this object and to net: both must outlive the run (and stay in place).
  std::function<void(std::uint64_t, std::uint64_t)> schedule(Network& net) {
    return [this, &net](std::uint64_t step, std::uint64_t steps) {
      const std::uint64_t m = stages_.size();
      while (done_ + 1 < m && step >= (done_ + 1) * steps / m) next(net);
    };
  }

  /// The grid chosen for layer i's weights (one format, or one per channel);
  /// empty before the first stage.
  std::vector<Format> grid(std::size_t layer) const {
    const auto g = find_grid(layer);
    return g == grids_.end() ? std::vector<Format>{} : g->formats;
  }

 private:
  struct Grid {
    std::size_t layer;
    std::vector<Format> formats;
  };

  std::vector<Grid>::const_iterator find_grid(std::size_t layer) const {
    return std::find_if(grids_.begin(), grids_.end(), [&](const Grid& g) { return g.layer == layer; });
  }

  void freeze(Param& p, std::size_t layer, double share) {
    const std::size_t n = p.value.size();
    if (n == 0) return;
    if (p.frozen.size() != n) p.frozen.assign(n, 0);
    if (find_grid(layer) == grids_.end()) {
      NDArray<float> copy = p.value;
      grids_.push_back({layer, q_.apply(copy, 0)});
    }
    const std::vector<Format>& formats = find_grid(layer)->formats;
    const std::size_t channels = formats.size();
    const auto target = static_cast<std::size_t>(std::ceil(share * static_cast<double>(n) - 1e-9));
    std::vector<std::size_t> open;
    for (std::size_t k = 0; k < n; ++k)
      if (!p.frozen[k]) open.push_back(k);
    const std::size_t already = n - open.size();
    if (target <= already) return;
    const std::size_t count = std::min(target - already, open.size());
    const auto larger = [&](std::size_t a, std::size_t b) {
      const float x = std::fabs(p.value.data[a]), y = std::fabs(p.value.data[b]);
      return x > y || (x == y && a < b);
    };
    std::nth_element(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(count - 1), open.end(), larger);
    const std::uint64_t seed = derive_seed(seed_, stream_tag, layer, done_);
    for (std::size_t j = 0; j < count; ++j) {
      const std::size_t k = open[j];
      const Format& f = formats[channels == 1 ? 0 : k % channels];
      float& w = p.value.data[k];
      quantize_span(&w, &w, 1, QuantSpec{f, q_.round, q_.overflow, seed}, k);
      p.frozen[k] = 1;
    }
  }

  static constexpr std::uint64_t stream_tag = 0x494E51;  // "INQ": its own streams of the seed
  Quantizer q_;
  std::vector<double> stages_;
  std::uint64_t seed_;
  std::size_t done_ = 0;
  std::vector<Grid> grids_;
};

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_ITERATIVE_HPP
