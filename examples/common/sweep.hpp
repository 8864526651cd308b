// examples/common/sweep.hpp - what the examples measure: the accuracy of a model
// quantized to dynamic fixed point at a word width and rounding mode (weights
// only, weights and activations simulated, integer-only), the number of test
// images whose integer logits differ from the simulated ones, and the
// Ristretto-style search for the smallest width per layer group.
#ifndef FIXQ_EXAMPLES_SWEEP_HPP
#define FIXQ_EXAMPLES_SWEEP_HPP

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <fixq/fixq.hpp>
#include <fixq/model/calibrate.hpp>
#include <fixq/model/model.hpp>

namespace fixq_examples {

using fixq::Model;
using fixq::NDArray;

/// Runs job(i) for i in [0, n) on fixq::threads() threads (OpenMP), then
/// finished(i) under a lock; rethrows the first failure. Each job runs the kernels
/// on its own thread (nested parallel regions run serially).
inline void for_each_job(std::size_t n, const std::function<void(std::size_t)>& job,
                         const std::function<void(std::size_t)>& finished) {
  std::vector<std::exception_ptr> errors(n);
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(fixq::threads())
#endif
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(n); ++i) {
    const auto k = static_cast<std::size_t>(i);
    try {
      job(k);
    } catch (...) {
      errors[k] = std::current_exception();
    }
#if defined(_OPENMP)
#pragma omp critical(fixq_examples_finished)
#endif
    finished(k);
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

/// The test set as the model's inputs (preprocessed floats) with labels.
struct Labeled {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  std::size_t size() const { return y.size(); }
};

inline std::size_t argmax(const float* z, std::size_t k) {
  return static_cast<std::size_t>(std::max_element(z, z + k) - z);
}

/// Rows [first, first + n) of x.
inline NDArray<float> rows(const NDArray<float>& x, std::size_t first, std::size_t n) {
  const std::size_t per = x.size() / static_cast<std::size_t>(x.dim(0));
  fixq::Shape s = x.shape;
  s[0] = static_cast<std::int64_t>(n);
  return NDArray<float>(s, std::vector<float>(x.data.begin() + static_cast<std::ptrdiff_t>(first * per),
                                              x.data.begin() + static_cast<std::ptrdiff_t>((first + n) * per)));
}

/// Calls f(first, batch) over the set in batches (whole-network activations of a
/// batch stay in memory; pass `first` to the model so that stochastic rounding keys
/// each sample by its index in the set).
inline void for_batches(const Labeled& d, std::size_t batch, const std::function<void(std::size_t, const NDArray<float>&)>& f) {
  for (std::size_t first = 0; first < d.size(); first += batch) f(first, rows(d.x, first, std::min(batch, d.size() - first)));
}

/// Accuracy of the float path of m.
inline double float_accuracy(const Model& m, const Labeled& d, std::size_t batch = 500) {
  std::size_t right = 0;
  for_batches(d, batch, [&](std::size_t first, const NDArray<float>& x) {
    const NDArray<float> z = m.forward_float(x);
    const std::size_t k = z.size() / static_cast<std::size_t>(x.dim(0));
    for (std::int64_t i = 0; i < x.dim(0); ++i) right += argmax(z.data.data() + i * k, k) == d.y[first + i];
  });
  return static_cast<double>(right) / static_cast<double>(d.size());
}

/// What one quantized model measured.
struct Eval {
  double weights_only = 0;       ///< float activations, weights on their grids
  double sim = 0;                ///< fake-quant simulation
  double integer = 0;            ///< integer-only network
  std::int64_t mismatches = 0;   ///< test images whose integer logits * lsb != simulated logits
};

/// Runs q (calibrated) on the set: the int path, the sim path unless !sim (then
/// sim and mismatches are not measured), and (weights_only) the float path with q's
/// quantized weights.
inline Eval evaluate(const Model& q, const Labeled& d, bool weights_only = true, bool sim = true,
                     std::size_t batch = 500) {
  const Model wq = weights_only ? fixq::with_quantized_weights(q) : Model(q.input_shape(), q.input_spec());
  std::size_t right_w = 0, right_s = 0, right_i = 0;
  std::int64_t bad = 0;
  const double lsb = q.layer(q.size() - 1).output_format().lsb();
  for_batches(d, batch, [&](std::size_t first, const NDArray<float>& x) {
    const std::size_t n = static_cast<std::size_t>(x.dim(0));
    const NDArray<std::int32_t> c = q.forward_int(q.input_codes(x, first), first);
    const NDArray<float> s = sim ? q.forward_sim(x, first) : NDArray<float>{};
    const std::size_t k = c.size() / n;
    NDArray<float> w;
    if (weights_only) w = wq.forward_float(x);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t label = d.y[first + i];
      std::vector<float> iv(k);
      bool same = true;
      for (std::size_t j = 0; j < k; ++j) {
        const double v = static_cast<double>(c.data[i * k + j]) * lsb;
        iv[j] = static_cast<float>(v);
        if (sim) same = same && v == static_cast<double>(s.data[i * k + j]);
      }
      if (sim) right_s += argmax(s.data.data() + i * k, k) == label;
      bad += !same;
      right_i += argmax(iv.data(), k) == label;
      if (weights_only) right_w += argmax(w.data.data() + i * k, k) == label;
    }
  });
  const auto share = [&](std::size_t r) { return static_cast<double>(r) / static_cast<double>(d.size()); };
  return {weights_only ? share(right_w) : 0.0, share(right_s), share(right_i), bad};
}

/// How the sweep quantizes: the calibration spec of a row.
inline fixq::CalibrationSpec spec_for(int act_bits, int weight_bits, fixq::Round r, std::uint64_t seed,
                                      bool per_channel) {
  fixq::CalibrationSpec c;
  c.per_channel = per_channel;
  c.activation_bits = act_bits;
  c.weight_bits = weight_bits;
  c.round = r;
  c.weight_round = r;
  c.seed = seed;
  c.choose_signedness = true;  // a float model says nothing about signedness
  return c;
}

/// One row of the sweep.
struct Row {
  int bits = 0;
  fixq::Round round = fixq::Round::NearestEven;
  Eval eval;
  double seconds = 0;
};

/// The layer groups of the search.
enum class Group { ConvWeights, DenseWeights, Activations };
inline const char* group_name(Group g) {
  switch (g) {
    case Group::ConvWeights: return "conv_weights";
    case Group::DenseWeights: return "dense_weights";
    case Group::Activations: return "activations";
  }
  return "";
}

/// The calibration spec with `bits` for the conv weights, the dense weights and
/// the activations (and BatchNorm's scales with the conv weights).
inline fixq::CalibrationSpec group_spec(const Model& m, int conv, int dense, int act, std::uint64_t seed,
                                        bool per_channel) {
  fixq::CalibrationSpec c = spec_for(act, conv, fixq::Round::NearestEven, seed, per_channel);
  for (std::size_t i = 0; i < m.size(); ++i)
    if (m.layer(i).type() == "Dense") c.layer_weight_bits[m.layer(i).name()] = dense;
  return c;
}

/// The result of the search.
struct SearchResult {
  int conv = 0, dense = 0, act = 0;   ///< the smallest width of each group alone (others at 16 bits)
  Eval combined;                      ///< all three at once
  double float_accuracy = 0, margin = 0;
};

/// Ristretto's search for dynamic fixed point: for each group alone (the others
/// at 16 bits), the smallest width in `widths` whose integer-only accuracy is within
/// `margin` of float (the int path alone: the candidates' simulation is not run);
/// then the three together (with the simulation and its bit-exact check).
inline SearchResult search(const Model& m, const NDArray<float>& calib, const Labeled& test, double float_acc,
                           double margin, const std::vector<int>& widths, std::uint64_t seed, bool per_channel) {
  SearchResult r;
  r.float_accuracy = float_acc;
  r.margin = margin;
  const auto smallest = [&](Group g) {
    for (const int w : widths) {
      const int conv = g == Group::ConvWeights ? w : 16, dense = g == Group::DenseWeights ? w : 16,
                act = g == Group::Activations ? w : 16;
      const Eval e = evaluate(fixq::calibrate(m, calib, group_spec(m, conv, dense, act, seed, per_channel)), test, false, false);
      if (e.integer >= float_acc - margin) return w;
    }
    return widths.empty() ? 16 : widths.back();
  };
  // The three groups' searches run side by side (each a sequence of widths).
  const Group groups[] = {Group::ConvWeights, Group::DenseWeights, Group::Activations};
  int found[3] = {16, 16, 16};
  for_each_job(3, [&](std::size_t g) { found[g] = smallest(groups[g]); }, [](std::size_t) {});
  r.conv = found[0];
  r.dense = found[1];
  r.act = found[2];
  r.combined = evaluate(fixq::calibrate(m, calib, group_spec(m, r.conv, r.dense, r.act, seed, per_channel)), test, false);
  return r;
}

}  // namespace fixq_examples

#endif  // FIXQ_EXAMPLES_SWEEP_HPP
