// fixq/train/layer.hpp - what every trainable layer is: a forward pass that keeps
// what its backward pass needs, and a backward pass.
//
// Training layers are the float twins of fixq's inference layers (fixq/layers/):
// the same shapes and layouts (NHWC activations, HWIO conv weights, (in, out)
// dense weights), so that Network::to_model() hands the trained weights to a
// fixq::Model unchanged. A layer's parameters are Params: the float master value
// and, during quantization-aware training, the quantized copy the forward pass
// uses ("dual copy"); the gradient with respect to the copy updates the master
// (straight-through).
//
// A mini-batch is cut into fixed chunks of samples (train/network.hpp). Each
// chunk's forward and backward passes are independent of the others: a layer keeps
// its per-chunk state in a Cache and adds its gradients into per-chunk buffers, so
// chunks may run on different threads and the result never depends on which.
#ifndef FIXQ_TRAIN_LAYER_HPP
#define FIXQ_TRAIN_LAYER_HPP

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>
#include <fixq/random/stream.hpp>

namespace fixq::train {

/// A trainable tensor: the float master value, the copy the forward pass uses
/// (empty: the master itself), whether weight decay applies to it, and which of
/// its elements are frozen (iterative quantization: train/iterative.hpp).
struct Param {
  std::string name;           ///< "weights", "bias", "gamma", "beta"
  NDArray<float> value;       ///< the float master copy, which the optimizer updates
  NDArray<float> quantized;   ///< the quantized copy of quantization-aware training, or empty
  bool decay = true;          ///< weight decay applies (weights: yes; biases, BN: no)
  /// One flag per element of value (or empty: none): the optimizer leaves an
  /// element with a non-zero flag exactly as it is.
  std::vector<std::uint8_t> frozen = {};

  const NDArray<float>& used() const { return quantized.size() ? quantized : value; }
  /// Puts the frozen elements of `from` (a copy of value) back into `to`.
  void keep_frozen(std::vector<float>& to, const std::vector<float>& from) const {
    for (std::size_t e = 0; e < frozen.size(); ++e)
      if (frozen[e]) to[e] = from[e];
  }
};

/// What a layer's forward pass keeps for its backward pass, per chunk.
struct Cache {
  std::vector<NDArray<float>> tensors;
  std::vector<std::int32_t> indices;
  void clear() {
    tensors.clear();
    indices.clear();
  }
};

/// Thrown for a training layer or network that cannot be built: names the layer.
class train_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = default;

  const std::string& name() const { return name_; }
  virtual std::string type() const = 0;
  virtual std::unique_ptr<Layer> clone() const = 0;

  /// Fixes the per-sample input shape, returns the output shape; creates the
  /// parameters (initialized from `seed`) unless they were given.
  virtual Shape bind(const Shape& in, std::uint64_t seed) = 0;
  const Shape& input_shape() const { return in_shape_; }
  const Shape& output_shape() const { return out_shape_; }

  virtual std::vector<Param*> params() { return {}; }
  std::vector<const Param*> params() const {
    std::vector<const Param*> p;
    for (Param* q : const_cast<Layer*>(this)->params()) p.push_back(q);
    return p;
  }
  /// Whether the layer produces a new value grid in the inference model (Dense,
  /// Conv2D, BatchNorm, AvgPool: their outputs get a format of their own), which
  /// is where activation quantization applies.
  virtual bool new_format() const { return false; }

  /// x (n, input shape) -> y (n, output shape). `training`: batch statistics and
  /// caching for backward.
  virtual NDArray<float> forward(const NDArray<float>& x, Cache& cache, bool training) const = 0;
  /// dy -> dx (when need_dx), adding parameter gradients into grads (one per
  /// params() entry, same shapes).
  virtual NDArray<float> backward(const NDArray<float>& dy, const Cache& cache, std::span<NDArray<float>> grads,
                                  bool need_dx) const = 0;
  /// After an optimizer step: the chunks' caches in order (BatchNorm's running
  /// statistics).
  virtual void after_step(std::span<const Cache* const>) {}

  /// The float inference layer (fixq/layers/) with these weights; `placeholder` is
  /// the format every format slot gets (a float model).
  virtual std::unique_ptr<fixq::Layer> to_inference(const Format& placeholder) const = 0;

 protected:
  [[noreturn]] void fail(const std::string& what) const {
    throw train_error("fixq::train: layer '" + name_ + "' (" + type() + "): " + what);
  }
  Shape in_shape_, out_shape_;

 private:
  std::string name_;
};

namespace detail {

/// The training twin of a built-in inference layer type, named in the training
/// layer's header by a specialization with N unique in [0, 64) (the inference
/// type's BuiltinLayer number):
///   template <> struct BuiltinTwin<0> {
///     using inference = fixq::Dense;
///     static std::unique_ptr<Layer> make(const fixq::Dense& d) { ... }
///   };
/// train/twins.hpp registers every one on first use.
template <int N>
struct BuiltinTwin {};

/// Uniform in [-limit, limit) from the random words of `seed` (fixq's counter-based
/// generator: the same numbers everywhere).
inline void fill_uniform(std::vector<float>& v, double limit, std::uint64_t seed) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double u = (static_cast<double>(random_u32(seed, i)) + 0.5) / 4294967296.0;  // (0, 1)
    v[i] = static_cast<float>((2 * u - 1) * limit);
  }
}

/// He (Kaiming) uniform initialization for layers followed by ReLU: variance 2 / fan_in.
inline NDArray<float> he_uniform(Shape shape, std::int64_t fan_in, std::uint64_t seed) {
  NDArray<float> w(std::move(shape));
  fill_uniform(w.data, std::sqrt(6.0 / static_cast<double>(fan_in)), seed);
  return w;
}

inline Shape batched(std::int64_t n, const Shape& s) {
  Shape b{n};
  b.insert(b.end(), s.begin(), s.end());
  return b;
}

}  // namespace detail

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_LAYER_HPP
