// fixq/train/quantizer.hpp - quantization during training: a Quantizer puts a
// tensor on a fixed-point grid (a fixed format, or a fractional length chosen
// from the tensor each time: dynamic fixed point; per tensor or per output
// channel), and QuantHooks says which quantizer applies at each of the points of
// each layer that the fixed-point training simulators quantize (nics_fix,
// Courbariaux et al., Gupta et al.):
//
//   Weights          the copy of a Dense/Conv2D layer's weights the forward pass
//                    uses; the float master copy gets the update (dual copy)
//   StoredWeights    the weights of a Dense/Conv2D layer themselves, rounded
//                    after every update: weights stored in fixed point, no float
//                    master (Gupta et al. 2015). With Round::Stochastic an update
//                    below one LSB moves a weight with the right expectation; with
//                    round-to-nearest one below half an LSB is lost. Frozen
//                    elements (train/iterative.hpp) are left as they are
//   StoredBiases     the same for the layer's bias
//   WeightGrads      the gradient of those weights (the whole mini-batch's)
//   Activations      a layer's output in the forward pass (a layer that makes a
//                    new grid: Dense, Conv2D, BatchNorm, AvgPool; and the input)
//   ActivationGrads  the gradient a layer passes to its input in the backward pass
//
// Gradients pass the quantizers straight through (identity), except that an
// activation's gradient is zero where the quantizer saturated it. Stochastic
// rounding draws its noise from a seed derived from the run's seed, the step,
// the layer and the point, and element k of the mini-batch tensor uses word k, so
// noise is reproducible and independent of how the batch is cut into chunks. A
// dynamic fraction of an activation or its gradient is chosen from each chunk's
// values (the chunk is the unit of independence: train/network.hpp).
//
// Per channel (Quantizer::per_channel, for the Weights and StoredWeights points):
// the channel is the last axis (a conv's output filter in HWIO, a dense layer's
// output unit in (in, out)); each channel gets the fraction chosen from its own
// values, and under Round::Stochastic channel c's element j uses word j of
// derive_seed(seed, c). A tensor of rank below 2 (a bias) has one format.
#ifndef FIXQ_TRAIN_QUANTIZER_HPP
#define FIXQ_TRAIN_QUANTIZER_HPP

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/frac_select.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/layers/ndarray.hpp>
#include <fixq/random/stream.hpp>
#include <fixq/train/layer.hpp>

namespace fixq::train {

struct Quantizer {
  int word = 8;
  bool is_signed = true;
  std::optional<int> frac = {};             ///< fixed fraction; none: chosen from the tensor by `method`
  FracMethod method = FracMethod::MaxAbs;
  double overflow_rate = 0;                 ///< FracMethod::OverflowRate only
  Round round = Round::NearestEven;
  Overflow overflow = Overflow::Saturate;
  bool per_channel = false;                 ///< a fraction per output channel (weights; see the header)

  /// The format for values x (the fixed one, or the one chosen from x).
  Format format_for(std::span<const float> x) const {
    if (frac) return Format{word, *frac, is_signed};
    const Eigen::Map<const Eigen::ArrayXf> m(x.data(), static_cast<Eigen::Index>(x.size()));
    const FracSpec s{word, is_signed, method, method == FracMethod::OverflowRate ? overflow_rate : 0.0};
    return Format{word, choose_frac(m, s), is_signed};
  }
  /// x on the grid of `f`, in place: element i uses random word first_index + i
  /// of `seed` under Round::Stochastic. Returns the format.
  Format apply(std::span<float> x, const Format& f, std::uint64_t seed, std::uint64_t first_index = 0) const {
    quantize_span(x.data(), x.data(), x.size(), QuantSpec{f, round, overflow, seed}, first_index);
    return f;
  }
  Format apply(std::span<float> x, std::uint64_t seed, std::uint64_t first_index = 0) const {
    return apply(x, format_for(x), seed, first_index);
  }
  /// The same quantizer for evaluation: deterministic, a stochastic one rounding
  /// to nearest (even) instead.
  Quantizer deterministic() const {
    Quantizer q = *this;
    if (q.round == Round::Stochastic) q.round = Round::NearestEven;
    return q;
  }
  /// A parameter tensor on its grid, in place: per tensor, or per channel (the
  /// last axis) when per_channel is set and the rank is 2 or more. Returns the
  /// formats: one, or one per channel.
  std::vector<Format> apply(NDArray<float>& t, std::uint64_t seed) const {
    if (!per_channel || t.shape.size() < 2 || t.size() == 0) return {apply(std::span<float>(t.data), seed)};
    const std::size_t channels = static_cast<std::size_t>(t.shape.back()), rows = t.size() / channels;
    std::vector<Format> formats;
    formats.reserve(channels);
    std::vector<float> column(rows);
    for (std::size_t c = 0; c < channels; ++c) {
      for (std::size_t r = 0; r < rows; ++r) column[r] = t.data[r * channels + c];
      formats.push_back(apply(std::span<float>(column), derive_seed(seed, c)));
      for (std::size_t r = 0; r < rows; ++r) t.data[r * channels + c] = column[r];
    }
    return formats;
  }
};

enum class HookPoint { Weights = 0, WeightGrads = 1, Activations = 2, ActivationGrads = 3, StoredWeights = 4, StoredBiases = 5 };

/// Which quantizer applies where: at(layer, point), or nullopt for none. A null
/// layer stands for the network's input (point Activations only).
struct QuantHooks {
  std::function<std::optional<Quantizer>(const Layer* layer, HookPoint point)> at;
  bool active() const { return static_cast<bool>(at); }
  std::optional<Quantizer> operator()(const Layer* layer, HookPoint point) const {
    return at ? at(layer, point) : std::nullopt;
  }
};

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_QUANTIZER_HPP
