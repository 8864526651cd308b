// fixq/train/network.hpp - a sequential network of training layers: forward and
// backward over a mini-batch, quantization hooks, and the trip to and from
// fixq::Model.
//
//   fixq::train::Network net({28, 28, 1});
//   net.add(fixq::train::Conv2D("conv1", 20, {5, 5}));
//   net.add(fixq::train::ReLU("relu1"));
//   ...
//   net.build(seed);                          // binds shapes, initializes weights
//   fixq::Model m = net.to_model();           // a float fixq model (calibrate it)
//
// Determinism. A mini-batch is cut into chunks of `chunk` samples. Each chunk's
// forward and backward passes run on one thread with single-threaded Eigen, into
// gradient buffers of its own; the chunks' gradients are then summed in chunk
// order. Which thread ran a chunk changes nothing, so the same seed gives the same
// weights on one thread or two. (Batch normalization uses each chunk's statistics:
// train/batch_norm.hpp.)
#ifndef FIXQ_TRAIN_NETWORK_HPP
#define FIXQ_TRAIN_NETWORK_HPP

#include <Eigen/Core>
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fixq/kernels/parallel.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>
#include <fixq/random/stream.hpp>
#include <fixq/train/activation.hpp>
#include <fixq/train/batch_norm.hpp>
#include <fixq/train/layer.hpp>
#include <fixq/train/linear.hpp>
#include <fixq/train/loss.hpp>
#include <fixq/train/optimizer.hpp>
#include <fixq/train/pool.hpp>
#include <fixq/train/quantizer.hpp>
#include <fixq/train/twins.hpp>

namespace fixq::train {

/// What one training step measured.
struct StepResult {
  double loss = 0;            ///< mean loss over the mini-batch
  std::int64_t correct = 0;   ///< samples classified right (before the update)
};

namespace detail {

/// Runs f(c) for c in [0, n) on up to `threads` threads (OpenMP when compiled
/// with it); rethrows the first chunk's exception.
template <class F>
void for_chunks(std::size_t n, int threads, F&& f) {
  std::vector<std::exception_ptr> errors(n);
  const auto run = [&](std::size_t c) {
    try {
      f(c);
    } catch (...) {
      errors[c] = std::current_exception();
    }
  };
#if defined(_OPENMP)
  if (threads > 1 && n > 1) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (std::int64_t c = 0; c < static_cast<std::int64_t>(n); ++c) run(static_cast<std::size_t>(c));
  } else {
    for (std::size_t c = 0; c < n; ++c) run(c);
  }
#else
  (void)threads;
  for (std::size_t c = 0; c < n; ++c) run(c);
#endif
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

/// Rows [first, first + count) of x (batch first).
inline NDArray<float> rows(const NDArray<float>& x, std::size_t first, std::size_t count) {
  const std::size_t per = x.size() / static_cast<std::size_t>(std::max<std::int64_t>(x.dim(0), 1));
  Shape s = x.shape;
  s[0] = static_cast<std::int64_t>(count);
  return NDArray<float>(s, std::vector<float>(x.data.begin() + static_cast<std::ptrdiff_t>(first * per),
                                              x.data.begin() + static_cast<std::ptrdiff_t>((first + count) * per)));
}

/// Eigen on one thread while alive (chunks are the unit of parallelism).
class EigenOneThread {
 public:
  EigenOneThread() : saved_(Eigen::nbThreads()) { Eigen::setNbThreads(1); }
  ~EigenOneThread() { Eigen::setNbThreads(saved_); }
  EigenOneThread(const EigenOneThread&) = delete;
  EigenOneThread& operator=(const EigenOneThread&) = delete;

 private:
  int saved_;
};

}  // namespace detail

class Network {
 public:
  /// input_shape: per sample, e.g. (28, 28, 1).
  explicit Network(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  Network(const Network& o) : input_shape_(o.input_shape_), built_(o.built_) {
    for (const auto& l : o.layers_) layers_.push_back(l->clone());
  }
  Network& operator=(const Network& o) {
    if (this != &o) *this = Network(o);
    return *this;
  }
  Network(Network&&) = default;
  Network& operator=(Network&&) = default;

  template <std::derived_from<Layer> L>
  L& add(L layer) {
    auto p = std::make_unique<L>(std::move(layer));
    L& ref = *p;
    add_layer(std::move(p));
    return ref;
  }
  Layer& add_layer(std::unique_ptr<Layer> layer) {
    for (const auto& l : layers_)
      if (l->name() == layer->name()) throw train_error("fixq::train::Network: layer name '" + l->name() + "' is used twice");
    layers_.push_back(std::move(layer));
    built_ = false;
    return *layers_.back();
  }

  /// Binds every layer to its input shape and initializes new weights: layer i's
  /// from derive_seed(seed, i).
  void build(std::uint64_t seed) {
    Shape s = input_shape_;
    for (std::size_t i = 0; i < layers_.size(); ++i) s = layers_[i]->bind(s, derive_seed(seed, i));
    built_ = true;
  }
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }
  std::size_t size() const { return layers_.size(); }
  Layer& layer(std::size_t i) { return *layers_.at(i); }
  const Layer& layer(std::size_t i) const { return *layers_.at(i); }
  std::vector<Param*> params() {
    std::vector<Param*> p;
    for (auto& l : layers_)
      for (Param* q : l->params()) p.push_back(q);
    return p;
  }
  std::size_t parameter_count() const {
    std::size_t n = 0;
    for (const auto& l : layers_)
      for (const Param* q : static_cast<const Layer&>(*l).params()) n += q->value.size();
    return n;
  }

  /// The float outputs of the last layer for x (batch first), evaluated in
  /// chunks of `chunk` samples on up to `threads` threads (0: all), with the
  /// weights the forward pass uses (quantized copies after quantization-aware
  /// training) and batch normalization's running statistics. With hooks, the
  /// Activations quantizers apply as in training, except that stochastic ones
  /// round to nearest (even) here: evaluation is deterministic.
  NDArray<float> predict(const NDArray<float>& x, std::size_t chunk = 256, int threads = 0,
                         const QuantHooks& hooks = {}) const {
    require_built();
    const std::size_t n = static_cast<std::size_t>(x.dim(0));
    const std::size_t chunks = (n + chunk - 1) / chunk;
    std::vector<NDArray<float>> out(chunks);
    std::vector<std::optional<Quantizer>> act_q = activation_quantizers(hooks);
    for (auto& q : act_q)
      if (q) q = q->deterministic();
    const detail::EigenOneThread one;
    detail::for_chunks(chunks, threads > 0 ? threads : fixq::threads(), [&](std::size_t c) {
      NDArray<float> a = detail::rows(x, c * chunk, std::min(chunk, n - c * chunk));
      Cache unused;
      if (act_q[0]) act_q[0]->apply(std::span<float>(a.data), 0);
      for (std::size_t i = 0; i < layers_.size(); ++i) {
        a = layers_[i]->forward(a, unused, false);
        if (act_q[i + 1]) act_q[i + 1]->apply(std::span<float>(a.data), 0);
      }
      out[c] = std::move(a);
    });
    Shape s = detail::batched(static_cast<std::int64_t>(n), layers_.empty() ? input_shape_ : layers_.back()->output_shape());
    NDArray<float> y(s);
    std::size_t at = 0;
    for (const auto& o : out) {
      std::copy(o.data.begin(), o.data.end(), y.data.begin() + static_cast<std::ptrdiff_t>(at));
      at += o.size();
    }
    return y;
  }

  /// One step on a mini-batch: forward, softmax cross-entropy, backward, hooks,
  /// optimizer update at learning rate lr. `step` and `seed` key stochastic
  /// rounding in the hooks.
  StepResult train_step(const NDArray<float>& x, std::span<const std::uint8_t> labels, Optimizer& opt, double lr,
                        const QuantHooks& hooks, std::uint64_t seed, std::uint64_t step, std::size_t chunk,
                        int threads) {
    require_built();
    const std::size_t n = static_cast<std::size_t>(x.dim(0));
    if (n == 0 || labels.size() != n) throw train_error("fixq::train::Network: a step needs as many labels as samples");
    const std::size_t chunks = (n + chunk - 1) / chunk, L = layers_.size();
    const detail::EigenOneThread one;
    std::vector<Param*> ps;
    std::vector<std::size_t> first_param(L + 1, 0);  // layer i owns ps[first_param[i] .. first_param[i + 1])
    for (std::size_t i = 0; i < L; ++i) {
      for (Param* p : layers_[i]->params()) ps.push_back(p);
      first_param[i + 1] = ps.size();
    }
    const auto key = [&](std::size_t layer, HookPoint point) {
      return derive_seed(seed, step, layer, static_cast<std::uint64_t>(point));
    };
    // StoredWeights, StoredBiases: the parameters themselves on their grid (a
    // no-op for values the previous step left there; the first step rounds the
    // initial ones). Frozen elements keep their values.
    const auto store = [&](std::uint64_t phase) {
      for (std::size_t i = 0; i < L; ++i)
        for (const HookPoint point : {HookPoint::StoredWeights, HookPoint::StoredBiases}) {
          const auto q = hooks(layers_[i].get(), point);
          if (!q) continue;
          for (std::size_t k = first_param[i]; k < first_param[i + 1]; ++k) {
            Param& p = *ps[k];
            if (p.name != (point == HookPoint::StoredWeights ? "weights" : "bias")) continue;
            const std::vector<float> before = p.frozen.empty() ? std::vector<float>{} : p.value.data;
            q->apply(p.value, derive_seed(key(i, point), k - first_param[i], phase));
            p.keep_frozen(p.value.data, before);
          }
        }
    };
    store(0);
    // Weights: the quantized copy the forward pass uses.
    for (std::size_t i = 0; i < L; ++i) {
      const auto q = hooks(layers_[i].get(), HookPoint::Weights);
      for (std::size_t k = first_param[i]; k < first_param[i + 1]; ++k) {
        Param& p = *ps[k];
        if (!q || p.name != "weights") {
          p.quantized = {};
          continue;
        }
        p.quantized = p.value;
        q->apply(p.quantized, key(i, HookPoint::Weights));
      }
    }
    // Per chunk: caches, gradient buffers, clip masks of quantized activations.
    if (grads_.size() < chunks) grads_.resize(chunks);
    caches_.assign(chunks, std::vector<Cache>(L));
    std::vector<double> loss(chunks, 0.0);
    std::vector<std::int64_t> correct(chunks, 0);
    const std::vector<std::optional<Quantizer>> act_q = activation_quantizers(hooks);
    std::vector<std::optional<Quantizer>> grad_q(L);
    for (std::size_t i = 0; i < L; ++i) {
      grad_q[i] = hooks(layers_[i].get(), HookPoint::ActivationGrads);
      if (grad_q[i] && grad_q[i]->per_channel)
        throw train_error("fixq::train::Network: layer '" + layers_[i]->name() +
                          "': per_channel quantizers are for weights, not activation gradients");
    }
    detail::for_chunks(chunks, threads > 0 ? threads : fixq::threads(), [&](std::size_t c) {
      const std::size_t first = c * chunk, count = std::min(chunk, n - first);
      std::vector<NDArray<float>>& g = grads_[c];
      g.resize(ps.size());
      for (std::size_t k = 0; k < ps.size(); ++k) {
        if (g[k].shape != ps[k]->value.shape) g[k] = NDArray<float>(ps[k]->value.shape);
        std::fill(g[k].data.begin(), g[k].data.end(), 0.0f);
      }
      std::vector<std::vector<std::uint8_t>> clipped(L + 1);
      const auto quantize_act = [&](std::size_t at, NDArray<float>& a) {
        if (!act_q[at]) return;
        const Quantizer& q = *act_q[at];
        const Format f = q.format_for(a.data);
        const double lo = f.min_value(), hi = f.max_value();
        clipped[at].resize(a.size());
        for (std::size_t k = 0; k < a.size(); ++k) clipped[at][k] = a.data[k] < lo || a.data[k] > hi;
        const std::size_t per = a.size() / count;
        q.apply(a.data, f, key(at, HookPoint::Activations), first * per);
      };
      NDArray<float> a = detail::rows(x, first, count);
      quantize_act(0, a);
      for (std::size_t i = 0; i < L; ++i) {
        a = layers_[i]->forward(a, caches_[c][i], true);
        quantize_act(i + 1, a);
      }
      LossResult r = softmax_cross_entropy(a, labels.subspan(first, count), 1.0 / static_cast<double>(n));
      loss[c] = r.loss_sum;
      correct[c] = r.correct;
      NDArray<float> d = std::move(r.grad);
      for (std::size_t i = L; i-- > 0;) {
        if (!clipped[i + 1].empty())
          for (std::size_t k = 0; k < d.size(); ++k)
            if (clipped[i + 1][k]) d.data[k] = 0.0f;
        const std::span<NDArray<float>> gi(g.data() + first_param[i], first_param[i + 1] - first_param[i]);
        d = layers_[i]->backward(d, caches_[c][i], gi, i > 0);
        if (i > 0 && grad_q[i]) {
          const std::size_t per = d.size() / count;
          grad_q[i]->apply(d.data, key(i, HookPoint::ActivationGrads), first * per);
        }
      }
    });
    // The mini-batch's gradient: the chunks' sums in chunk order.
    std::vector<NDArray<float>> total(ps.size());
    std::vector<const NDArray<float>*> gp(ps.size());
    for (std::size_t k = 0; k < ps.size(); ++k) {
      total[k] = std::move(grads_[0][k]);
      for (std::size_t c = 1; c < chunks; ++c)
        for (std::size_t e = 0; e < total[k].size(); ++e) total[k].data[e] += grads_[c][k].data[e];
      gp[k] = &total[k];
    }
    for (std::size_t i = 0; i < L; ++i) {
      const auto q = hooks(layers_[i].get(), HookPoint::WeightGrads);
      if (!q) continue;
      for (std::size_t k = first_param[i]; k < first_param[i + 1]; ++k)
        if (ps[k]->name == "weights") q->apply(total[k], key(i, HookPoint::WeightGrads));
    }
    opt.step(ps, gp, lr);
    store(1);
    for (std::size_t k = 0; k < ps.size(); ++k) grads_[0][k] = std::move(total[k]);  // keep the buffer
    for (std::size_t i = 0; i < L; ++i) {
      std::vector<const Cache*> cs;
      for (std::size_t c = 0; c < chunks; ++c) cs.push_back(&caches_[c][i]);
      layers_[i]->after_step(cs);
    }
    // The forward pass's copies follow the update at the next step; keep them for
    // predict() and commit_quantized() meanwhile: re-quantized from the new
    // masters, deterministically (a stochastic quantizer rounds to nearest here,
    // as evaluation does).
    for (std::size_t i = 0; i < L; ++i) {
      const auto hooked = hooks(layers_[i].get(), HookPoint::Weights);
      if (!hooked) continue;
      const Quantizer q = hooked->deterministic();
      for (std::size_t k = first_param[i]; k < first_param[i + 1]; ++k)
        if (ps[k]->name == "weights") {
          ps[k]->quantized = ps[k]->value;
          q.apply(ps[k]->quantized, 0);
        }
    }
    caches_.clear();
    StepResult s;
    for (std::size_t c = 0; c < chunks; ++c) s.loss += loss[c], s.correct += correct[c];
    s.loss /= static_cast<double>(n);
    return s;
  }

  /// Drops the quantized copies (the forward pass uses the masters again).
  void clear_quantized() {
    for (Param* p : params()) p->quantized = {};
  }
  /// Makes the quantized copies the masters (and drops the copies): to_model()
  /// then has the weights on their training grid (after a step, the copies are the
  /// updated masters quantized, stochastic quantizers rounding to nearest). Frozen
  /// elements keep their values.
  void commit_quantized() {
    for (Param* p : params()) {
      if (!p->quantized.size()) continue;
      p->keep_frozen(p->quantized.data, p->value.data);
      p->value = std::move(p->quantized);
      p->quantized = {};
    }
  }

  /// The float fixq::Model of these layers (master weights; every format slot the
  /// 8-bit placeholder a float model file has): run its float path, or calibrate it.
  Model to_model() const {
    require_built();
    const Format f{8, 0, true};
    Model m(input_shape_, QuantSpec{f});
    for (const auto& l : layers_) m.add_layer(l->to_inference(f));
    return m;
  }

  /// A network with the layers and weights of a chain-shaped fixq::Model (each
  /// layer takes the one before) whose layer types have training twins
  /// (train/twins.hpp). Throws train_error otherwise.
  static Network from_model(const Model& m) {
    Network net(m.input_shape());
    for (std::size_t i = 0; i < m.size(); ++i) {
      const fixq::Layer& l = m.layer(i);
      const auto& in = m.layer_inputs(i);
      if (in.size() != 1 || in[0] != static_cast<int>(i) - 1)
        throw train_error("fixq::train::Network::from_model: layer '" + l.name() +
                          "' does not take the previous layer's output (only chains can be trained)");
      const TwinFactory* twin = find_twin(l);
      if (!twin)
        throw train_error("fixq::train::Network::from_model: layer '" + l.name() + "' of type " + l.type() +
                          " has no training twin");
      net.add_layer((*twin)(l));
    }
    net.build(0);
    return net;
  }

 private:
  /// The Activations quantizer of the input (element 0) and of each layer's
  /// output (element i + 1; none unless the layer makes a new grid).
  std::vector<std::optional<Quantizer>> activation_quantizers(const QuantHooks& hooks) const {
    std::vector<std::optional<Quantizer>> q(layers_.size() + 1);
    q[0] = hooks(nullptr, HookPoint::Activations);
    for (std::size_t i = 0; i < layers_.size(); ++i)
      if (layers_[i]->new_format()) q[i + 1] = hooks(layers_[i].get(), HookPoint::Activations);
    for (std::size_t i = 0; i < q.size(); ++i)
      if (q[i] && q[i]->per_channel)
        throw train_error("fixq::train::Network: " + (i ? "layer '" + layers_[i - 1]->name() + "'" : std::string("the input")) +
                          ": per_channel quantizers are for weights, not activations");
    return q;
  }

  void require_built() const {
    if (!built_) throw train_error("fixq::train::Network: call build(seed) after adding the layers");
  }

  Shape input_shape_;
  std::vector<std::unique_ptr<Layer>> layers_;
  bool built_ = false;
  std::vector<std::vector<NDArray<float>>> grads_;  // per chunk, per param (reused)
  std::vector<std::vector<Cache>> caches_;
};

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_NETWORK_HPP
