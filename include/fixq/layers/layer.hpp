// fixq/layers/layer.hpp - what every layer is: three forward paths over one geometry.
//
// A layer has a name, takes one input (Add and Concat: several) and computes
//  - forward_float: plain float, no quantization;
//  - forward_sim:   the fake-quant simulation: values on their grids as floats,
//                   the layer computed exactly in floating point (float32 where a
//                   bound proves every partial sum exact, else double, else
//                   integers), the result rounded once into the output format;
//  - forward_int:   integer codes in, integer codes out, integer arithmetic only.
// The promise, for every layer: forward_int(codes(x)) * lsb(out) == forward_sim(x),
// bit for bit, in every rounding mode and every overflow mode. Under
// Round::Stochastic both paths key output element e of sample s (counted from the
// start of the whole input, `first_sample` being the batch's first) with
// random_u32(seed, s * elements_per_sample + e), so results do not depend on how
// an input is cut into batches.
//
// A layer also describes itself, so that code above it needs no list of layer
// types: clone(), how it rounds into a format of its own (output_quantization),
// its weighted sum (linear_core), its sliding window (sliding_window), facts
// hardware needs (notes) and, through the registry (layers/registry.hpp), its
// attributes and tensors.
//
// A layer is bound to the formats and shapes of its inputs once (bind), which
// checks them, fixes its output format and shape and prepares what the paths
// share (weights on their grids, weight and bias codes, accumulator widths).
// Shapes exclude the batch axis: (H, W, C) or (features).
#ifndef FIXQ_LAYERS_LAYER_HPP
#define FIXQ_LAYERS_LAYER_HPP

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/layers/ndarray.hpp>
#include <fixq/layers/window.hpp>

namespace fixq {

namespace detail {
class LinearCore;
}

/// Thrown for a layer that cannot be built or bound, or whose run fails (an
/// Overflow::Throw: Model names the sample). what() is
/// "fixq: layer 'NAME' (TYPE): PROBLEM"; the parts are fields, so that a caller
/// (the model file reader) can put them in its own message. Model-level problems
/// (a name used twice, an unknown input) carry only the message.
class layer_error : public std::invalid_argument {
 public:
  layer_error(std::string layer, std::string type, std::string problem, std::optional<std::uint64_t> sample = {})
      : std::invalid_argument("fixq: layer '" + layer + "' (" + type + "): " + problem),
        layer_(std::move(layer)), type_(std::move(type)), problem_(std::move(problem)), sample_(sample) {}
  explicit layer_error(const std::string& what) : std::invalid_argument(what), problem_(what) {}
  /// The layer's name and type ("" for a model-level problem), and the problem alone.
  const std::string& layer() const { return layer_; }
  const std::string& type() const { return type_; }
  const std::string& problem() const { return problem_; }
  /// The sample (its index in the whole input) a run-time error happened on.
  const std::optional<std::uint64_t>& sample() const { return sample_; }

 private:
  std::string layer_, type_, problem_;
  std::optional<std::uint64_t> sample_;
};

/// A fact about a bound layer that an implementation in hardware needs besides its
/// formats, weights and window (the export's manifest lists them), e.g. ReLU's
/// largest output code.
struct LayerNote {
  std::string key;
  std::variant<std::int64_t, double, std::string> value;
};

/// What `fixq info` and the benchmarks report about a bound layer.
struct LayerInfo {
  std::int64_t macs = 0;          ///< multiply-accumulates per sample
  std::int64_t weight_bytes = 0;  ///< bytes of weight and bias codes (at their word widths)
  int accumulator_bits = 0;       ///< 32 or 64 for layers that accumulate, else 0
  int exact_sum_bits = 0;         ///< bits the exact sum needs (sign included), else 0
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = default;

  /// The widest activation word (layer inputs and outputs, the model's input): the
  /// sim path holds values as float32, whose 24-bit significand holds every code.
  static constexpr int max_word = 24;
  /// "" when every value of f is a float32 (the sim path holds activations as
  /// float32), else why not: a word of at most 24 bits, an LSB no finer than
  /// float32's smallest subnormal 2^-149 (frac <= 149) and values below 2^128
  /// (word - frac <= 128).
  static std::string activation_problem(const Format& f) {
    const std::string why = " (the sim path holds activations as float32)";
    if (f.word > max_word)
      return "has " + std::to_string(f.word) + " bits; activations have at most " + std::to_string(max_word) + why;
    if (f.frac > 149) return "has frac " + std::to_string(f.frac) + "; activations have frac <= 149" + why;
    if (f.word - f.frac > 128)
      return "has " + std::to_string(f.word - f.frac) + " integer bits; activations have at most 128" + why;
    return "";
  }

  const std::string& name() const { return name_; }
  /// The type's display name (the registry's name, or a more specific one: a ReLU
  /// capped at 6 says "ReLU6").
  virtual std::string type() const = 0;
  /// Number of inputs: 1, or 0 for "two or more".
  virtual int arity() const { return 1; }
  /// A copy of the same dynamic type (bound if this one is).
  virtual std::unique_ptr<Layer> clone() const = 0;
  /// How the layer rounds into an output format of its own; nullptr for a layer
  /// that keeps its input's format (ReLU, MaxPool2D, Flatten).
  virtual const QuantSpec* output_quantization() const { return nullptr; }
  /// The weighted sum of a Dense, Conv2D or BatchNorm layer (weight and bias codes,
  /// accumulator and requantization); nullptr for other layers.
  virtual const detail::LinearCore* linear_core() const { return nullptr; }
  /// The window and its geometry on the bound input (Conv2D and the pools).
  virtual const WindowGeometry* sliding_window() const { return nullptr; }
  /// Facts an implementation needs beyond the above (see LayerNote).
  virtual std::vector<LayerNote> notes() const { return {}; }
  /// The layer (bound) with its float weights and bias replaced by their values on
  /// their grids (the float path then measures weight quantization alone); the
  /// result is unbound. Layers without weights return a copy.
  virtual std::unique_ptr<Layer> with_quantized_weights() const { return clone(); }

  /// Fixes the input formats and shapes (per sample); throws layer_error.
  void bind(std::vector<Format> in_formats, std::vector<Shape> in_shapes) {
    const int a = arity();
    if ((a > 0 && static_cast<int>(in_formats.size()) != a) || (a == 0 && in_formats.size() < 2) ||
        in_formats.size() != in_shapes.size())
      fail("takes " + (a > 0 ? std::to_string(a) : std::string("two or more")) + " inputs, got " +
           std::to_string(in_formats.size()));
    for (const Format& f : in_formats)
      if (const std::string p = activation_problem(f); !p.empty()) fail("its input format " + p + ": " + f.name());
    in_formats_ = std::move(in_formats);
    in_shapes_ = std::move(in_shapes);
    on_bind();
    if (const std::string p = activation_problem(output_format()); !p.empty())
      fail("its output format " + p + ": " + output_format().name());
    bound_ = true;
  }
  bool bound() const { return bound_; }
  const std::vector<Format>& input_formats() const { return in_formats_; }
  const std::vector<Shape>& input_shapes() const { return in_shapes_; }
  const Format& output_format() const { return out_format_.at(0); }
  const Shape& output_shape() const { return out_shape_; }
  virtual LayerInfo info() const { return {}; }

  /// The three paths; `first_sample` is the index of the batch's first sample in
  /// the whole input (it keys Round::Stochastic, see the top of this file).
  NDArray<float> forward_float(std::span<const NDArray<float>* const> in) const {
    check_inputs(in);
    return run_float(in);
  }
  NDArray<float> forward_sim(std::span<const NDArray<float>* const> in, std::uint64_t first_sample = 0) const {
    check_inputs(in);
    return run_sim(in, first_element(first_sample));
  }
  NDArray<std::int32_t> forward_int(std::span<const NDArray<std::int32_t>* const> in,
                                    std::uint64_t first_sample = 0) const {
    check_inputs(in);
    return run_int(in, first_element(first_sample));
  }
  // One-input conveniences.
  NDArray<float> forward_float(const NDArray<float>& x) const {
    const NDArray<float>* p = &x;
    return forward_float(std::span<const NDArray<float>* const>(&p, 1));
  }
  NDArray<float> forward_sim(const NDArray<float>& x, std::uint64_t first_sample = 0) const {
    const NDArray<float>* p = &x;
    return forward_sim(std::span<const NDArray<float>* const>(&p, 1), first_sample);
  }
  NDArray<std::int32_t> forward_int(const NDArray<std::int32_t>& x, std::uint64_t first_sample = 0) const {
    const NDArray<std::int32_t>* p = &x;
    return forward_int(std::span<const NDArray<std::int32_t>* const>(&p, 1), first_sample);
  }

 protected:
  [[noreturn]] void fail(const std::string& what) const { throw layer_error(name_, type(), what); }
  /// Sets the output format and per-sample shape (called from on_bind).
  void set_output(const Format& f, Shape s) {
    out_format_.assign(1, f);
    out_shape_ = std::move(s);
  }
  /// Batch size of an input whose per-sample shape is in_shapes_[i].
  template <class T>
  std::int64_t batch_of(const NDArray<T>& x) const {
    return x.shape.empty() ? 0 : x.shape[0];
  }
  Shape batched(std::int64_t n, const Shape& s) const {
    Shape b{n};
    b.insert(b.end(), s.begin(), s.end());
    return b;
  }

  virtual void on_bind() = 0;
  /// `first` is the index, in the whole input, of the batch's first output element
  /// (the stochastic rounding's counter offset).
  virtual NDArray<float> run_float(std::span<const NDArray<float>* const> in) const = 0;
  virtual NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const = 0;
  virtual NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const = 0;

 private:
  std::uint64_t first_element(std::uint64_t first_sample) const {
    return first_sample * static_cast<std::uint64_t>(shape_size(out_shape_));
  }
  template <class T>
  void check_inputs(std::span<const NDArray<T>* const> in) const {
    if (!bound_) fail("is not bound to input formats and shapes (call bind, or add it to a Model)");
    if (in.size() != in_shapes_.size())
      fail("takes " + std::to_string(in_shapes_.size()) + " inputs, got " + std::to_string(in.size()));
    std::int64_t n = -1;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const Shape want = batched(batch_of(*in[i]), in_shapes_[i]);
      if (in[i]->shape != want)
        fail("input " + std::to_string(i) + " has shape " + shape_text(in[i]->shape) + ", expected " +
             shape_text(want) + " (batch first)");
      if (n >= 0 && in[i]->shape[0] != n) fail("inputs have different batch sizes");
      n = in[i]->shape[0];
    }
  }

  std::string name_;
  std::vector<Format> in_formats_;
  std::vector<Shape> in_shapes_;
  std::vector<Format> out_format_;  // one element once bound (Format has no default)
  Shape out_shape_;
  bool bound_ = false;
};

}  // namespace fixq

#endif  // FIXQ_LAYERS_LAYER_HPP
