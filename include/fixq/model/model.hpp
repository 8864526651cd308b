// fixq/model/model.hpp - a graph of layers with three forward paths and a check
// that the integer network equals its simulation bit for bit.
//
//   fixq::Model m({28, 28, 1}, {.format = {8, 7, false}});   // per-sample input shape and format
//   m.add(fixq::Conv2D("conv1", w1, b1, window, 1, formats1));  // takes the previous output
//   m.add(fixq::ReLU("relu1"));
//   m.add(fixq::Add("sum", spec), {"relu1", "conv1"});           // names its inputs
//   auto logits = m.forward_int(m.input_codes(x));               // codes of the last layer
//   auto report = m.verify_bit_exact(x);                         // every layer, every element
//
// A layer without named inputs takes the previous layer's output ("input" is the
// model's input); the outputs are the last layer unless set_outputs names others.
// Layers are bound to their input formats and shapes when added, so a model that
// was built is consistent. The model's input is put on its grid by the input
// QuantSpec. Under Round::Stochastic the noise of every tensor is keyed by the
// sample's index in the whole input: the forward functions take the batch's
// `first_sample`, so that any cut of an input into batches gives the same bits.
// A Model is a value: copies clone the layers.
#ifndef FIXQ_MODEL_MODEL_HPP
#define FIXQ_MODEL_MODEL_HPP

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <iomanip>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

/// The outcome of Model::verify_bit_exact.
struct VerifyReport {
  bool ok = true;
  std::size_t layers_checked = 0;
  std::size_t elements_checked = 0;
  // The first mismatch (when !ok):
  std::string layer;
  std::size_t index = 0;      ///< flat index in the layer's output (batch first, NHWC)
  double sim_value = 0;       ///< the sim path's value
  std::int64_t int_code = 0;  ///< the int path's code
  double int_value = 0;       ///< int_code * lsb

  std::string text() const {
    std::ostringstream s;
    s.precision(17);
    if (ok)
      s << "bit-exact: " << elements_checked << " elements of " << layers_checked << " layers";
    else
      s << "mismatch in layer '" << layer << "' at element " << index << ": sim " << sim_value << ", int code "
        << int_code << " = " << int_value;
    return s.str();
  }
};

class Model {
 public:
  /// input_shape excludes the batch axis.
  Model(Shape input_shape, QuantSpec input) : input_shape_(std::move(input_shape)), input_(std::move(input)) {
    input_.validate();
    if (input_.format.word > Layer::max_word)
      throw std::invalid_argument("fixq::Model: the input format " + input_.format.name() + " has more than " +
                                  std::to_string(Layer::max_word) + " bits (the sim path holds values as float32)");
    if (const std::string p = Layer::activation_problem(input_.format); !p.empty())
      throw std::invalid_argument("fixq::Model: the input format " + input_.format.name() + " " + p);
    shape_size(input_shape_);
  }
  Model(const Model& m)
      : input_shape_(m.input_shape_), input_(m.input_), inputs_(m.inputs_), index_(m.index_), outputs_(m.outputs_) {
    layers_.reserve(m.layers_.size());
    for (const auto& l : m.layers_) layers_.push_back(l->clone());
  }
  Model& operator=(const Model& m) {
    if (this != &m) *this = Model(m);
    return *this;
  }
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;
  ~Model() = default;

  /// Adds and binds a layer; `inputs` names the layers it takes ("input" is the
  /// model's input), by default the previous layer. Throws layer_error.
  template <std::derived_from<Layer> L>
  L& add(L layer, std::vector<std::string> inputs = {}) {
    auto p = std::make_unique<L>(std::move(layer));
    L& ref = *p;
    add_layer(std::move(p), std::move(inputs));
    return ref;
  }
  Layer& add_layer(std::unique_ptr<Layer> layer, std::vector<std::string> inputs = {}) {
    const std::string& name = layer->name();
    if (name.empty() || name == "input" || index_.count(name))
      throw layer_error("fixq::Model: layer name '" + name + "' is empty, reserved or already used");
    if (inputs.empty()) inputs.push_back(layers_.empty() ? std::string("input") : layers_.back()->name());
    std::vector<int> from;
    std::vector<Format> formats;
    std::vector<Shape> shapes;
    for (const std::string& in : inputs) {
      if (in == "input") {
        from.push_back(-1);
        formats.push_back(input_.format);
        shapes.push_back(input_shape_);
      } else {
        const auto it = index_.find(in);
        if (it == index_.end())
          throw layer_error("fixq::Model: layer '" + name + "' takes '" + in + "', which is not an earlier layer");
        from.push_back(it->second);
        formats.push_back(layers_[static_cast<std::size_t>(it->second)]->output_format());
        shapes.push_back(layers_[static_cast<std::size_t>(it->second)]->output_shape());
      }
    }
    layer->bind(std::move(formats), std::move(shapes));
    index_[name] = static_cast<int>(layers_.size());
    inputs_.push_back(std::move(from));
    layers_.push_back(std::move(layer));
    return *layers_.back();
  }

  /// The layers whose outputs the model returns (default: the last one).
  void set_outputs(std::vector<std::string> names) {
    for (const std::string& n : names)
      if (!index_.count(n)) throw layer_error("fixq::Model: output '" + n + "' is not a layer");
    outputs_ = std::move(names);
  }
  std::vector<std::string> outputs() const {
    if (!outputs_.empty() || layers_.empty()) return outputs_;
    return {layers_.back()->name()};
  }

  std::size_t size() const { return layers_.size(); }
  const Layer& layer(std::size_t i) const { return *layers_.at(i); }
  const Layer& layer(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) throw std::out_of_range("fixq::Model: no layer '" + name + "'");
    return *layers_[static_cast<std::size_t>(it->second)];
  }
  /// Indices of the layers a layer takes (-1: the model input).
  const std::vector<int>& layer_inputs(std::size_t i) const { return inputs_.at(i); }
  const Shape& input_shape() const { return input_shape_; }
  const QuantSpec& input_spec() const { return input_; }
  /// Whether some rounding is Round::Stochastic (the input's or a layer's): its
  /// results depend on the seeds and on the samples' indices.
  bool stochastic() const {
    if (input_.round == Round::Stochastic) return true;
    for (const auto& l : layers_)
      if (const QuantSpec* s = l->output_quantization(); s && s->round == Round::Stochastic) return true;
    return false;
  }

  /// The model input's codes (the int path's input) and values on its grid; x is a
  /// batch whose first sample is sample `first_sample` of the whole input.
  NDArray<std::int32_t> input_codes(const NDArray<float>& x, std::uint64_t first_sample = 0) const {
    return quantize_input<std::int32_t>(x, first_sample);
  }
  NDArray<float> input_values(const NDArray<float>& x, std::uint64_t first_sample = 0) const {
    return quantize_input<float>(x, first_sample);
  }

  /// Every layer's output, in order; the input x (batch first) as it comes
  /// (float), on its grid (sim), or as codes (int).
  std::vector<NDArray<float>> forward_float_all(const NDArray<float>& x) const {
    check_input(x);
    return run<float>(x, 0, [](const Layer& l, auto in, std::uint64_t) { return l.forward_float(in); });
  }
  std::vector<NDArray<float>> forward_sim_all(const NDArray<float>& x, std::uint64_t first_sample = 0) const {
    return run<float>(input_values(x, first_sample), first_sample,
                      [](const Layer& l, auto in, std::uint64_t first) { return l.forward_sim(in, first); });
  }
  std::vector<NDArray<std::int32_t>> forward_int_all(const NDArray<std::int32_t>& codes,
                                                     std::uint64_t first_sample = 0) const {
    check_input(codes);
    return run<std::int32_t>(codes, first_sample,
                             [](const Layer& l, auto in, std::uint64_t first) { return l.forward_int(in, first); });
  }
  /// The first output of each path.
  NDArray<float> forward_float(const NDArray<float>& x) const { return first_output(forward_float_all(x)); }
  NDArray<float> forward_sim(const NDArray<float>& x, std::uint64_t first_sample = 0) const {
    return first_output(forward_sim_all(x, first_sample));
  }
  NDArray<std::int32_t> forward_int(const NDArray<std::int32_t>& codes, std::uint64_t first_sample = 0) const {
    return first_output(forward_int_all(codes, first_sample));
  }

  /// Runs the sim and the int path on x and compares every element of every
  /// layer: int code * lsb == sim value. Reports the first mismatch, or success.
  VerifyReport verify_bit_exact(const NDArray<float>& x, std::uint64_t first_sample = 0) const {
    const auto sim = forward_sim_all(x, first_sample);
    const auto ints = forward_int_all(input_codes(x, first_sample), first_sample);
    VerifyReport r;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const double lsb = layers_[i]->output_format().lsb();
      ++r.layers_checked;
      for (std::size_t k = 0; k < sim[i].size(); ++k) {
        ++r.elements_checked;
        const double iv = static_cast<double>(ints[i].data[k]) * lsb;
        if (iv != static_cast<double>(sim[i].data[k])) {
          r.ok = false;
          r.layer = layers_[i]->name();
          r.index = k;
          r.sim_value = sim[i].data[k];
          r.int_code = ints[i].data[k];
          r.int_value = iv;
          return r;
        }
      }
    }
    return r;
  }

 private:
  template <class T>
  void check_input(const NDArray<T>& x) const {
    Shape want{x.shape.empty() ? 0 : x.shape[0]};
    want.insert(want.end(), input_shape_.begin(), input_shape_.end());
    if (x.shape != want)
      throw std::invalid_argument("fixq::Model: the input has shape " + shape_text(x.shape) + ", expected " +
                                  shape_text(want) + " (batch first)");
  }
  /// The input on its grid; an Overflow::Throw names the sample (as a layer_error of
  /// the layer "input").
  template <class T>
  NDArray<T> quantize_input(const NDArray<float>& x, std::uint64_t first_sample) const {
    check_input(x);
    NDArray<T> y(x.shape);
    const std::size_t per_sample = shape_size(input_shape_);
    try {
      quantize_span(x.data.data(), y.data.data(), y.size(), input_, first_sample * per_sample);
    } catch (const overflow_error&) {
      for (std::size_t k = 0; k < x.size(); ++k) {
        T one;
        try {
          quantize_span(&x.data[k], &one, 1, input_, first_sample * per_sample + k);
        } catch (const overflow_error& e) {
          const std::uint64_t sample = first_sample + k / per_sample;
          throw layer_error("input", "model input",
                            "sample " + std::to_string(sample) + ", element " + std::to_string(k % per_sample) + ": " +
                                without_prefix(e.what()),
                            sample);
        }
      }
      throw;
    }
    return y;
  }
  static std::string without_prefix(std::string what) {
    if (what.starts_with("fixq: ")) what.erase(0, 6);
    return what;
  }

  template <class T, class F>
  std::vector<NDArray<T>> run(const NDArray<T>& x, std::uint64_t first_sample, F&& forward) const {
    std::vector<NDArray<T>> out;
    out.reserve(layers_.size());
    std::vector<const NDArray<T>*> in;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      in.clear();
      for (const int j : inputs_[i]) in.push_back(j < 0 ? &x : &out[static_cast<std::size_t>(j)]);
      try {
        out.push_back(forward(*layers_[i], std::span<const NDArray<T>* const>(in), first_sample));
      } catch (const overflow_error& e) {
        throw_located(*layers_[i], in, first_sample, forward, e);
      }
    }
    return out;
  }
  /// An Overflow::Throw in layer l on a batch: runs the batch's samples one by one
  /// to name the first that overflows (as a layer_error with the sample's index in
  /// the whole input).
  template <class T, class F>
  [[noreturn]] void throw_located(const Layer& l, const std::vector<const NDArray<T>*>& in, std::uint64_t first_sample,
                                  F& forward, const overflow_error& e) const {
    const std::int64_t n = in.empty() || in[0]->shape.empty() ? 0 : in[0]->shape[0];
    for (std::int64_t s = 0; s < n; ++s) {
      std::vector<NDArray<T>> one;
      for (const NDArray<T>* a : in) {
        Shape sh = a->shape;
        sh[0] = 1;
        const std::size_t size = shape_size(sh);
        one.emplace_back(sh, std::vector<T>(a->data.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(s) * size),
                                            a->data.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(s + 1) * size)));
      }
      std::vector<const NDArray<T>*> p;
      for (const auto& a : one) p.push_back(&a);
      const std::uint64_t sample = first_sample + static_cast<std::uint64_t>(s);
      try {
        (void)forward(l, std::span<const NDArray<T>* const>(p), sample);
      } catch (const overflow_error& one_error) {
        throw layer_error(l.name(), l.type(), "sample " + std::to_string(sample) + ": " + without_prefix(one_error.what()),
                          sample);
      }
    }
    throw layer_error(l.name(), l.type(), without_prefix(e.what()));
  }
  template <class T>
  NDArray<T> first_output(std::vector<NDArray<T>> all) const {
    if (layers_.empty()) throw std::logic_error("fixq::Model: no layers");
    return std::move(all[static_cast<std::size_t>(index_.at(outputs().front()))]);
  }

  Shape input_shape_;
  QuantSpec input_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::vector<int>> inputs_;
  std::unordered_map<std::string, int> index_;
  std::vector<std::string> outputs_;
};

/// Model::verify_bit_exact over a whole input taken in batches (`fixq verify`).
struct VerifySummary {
  bool ok = true;
  std::int64_t samples = 0;     ///< samples checked
  std::size_t layers = 0;
  std::size_t elements = 0;     ///< elements checked
  // The first mismatch (when !ok):
  std::string layer;
  Shape shape;                  ///< the layer's output shape (one sample)
  std::int64_t sample = 0;      ///< the sample's index in the whole input
  std::int64_t element = 0;     ///< the element's flat index in the sample's output (NHWC)
  double sim_value = 0;
  std::int64_t int_code = 0;
  double int_value = 0;

  /// One line: "bit-exact: ..." or "MISMATCH in layer ..." (no newline).
  std::string text() const {
    std::ostringstream s;
    if (ok) {
      s << "bit-exact: " << samples << " samples, " << layers << " layers, " << elements
        << " elements: int code * lsb == sim value for every one";
    } else {
      s << "MISMATCH in layer '" << layer << "' at sample " << sample << ", element " << element << " of "
        << shape_text(shape) << ": sim " << std::setprecision(17) << sim_value << ", int code " << int_code << " = "
        << int_value;
    }
    return s.str();
  }
};

/// Verifies samples [0, n) of an input, `batch` at a time (stochastic results are keyed
/// by the sample's index, so the batch size changes nothing): `values(first, count)`
/// returns samples [first, first + count) as model inputs. Stops at the first mismatch.
template <class Values>
VerifySummary verify_in_batches(const Model& m, std::int64_t n, std::int64_t batch, Values&& values) {
  if (batch < 1) throw std::invalid_argument("fixq::verify_in_batches: batch = " + std::to_string(batch) + " < 1");
  VerifySummary v;
  v.layers = m.size();
  for (std::int64_t first = 0; first < n; first += batch) {
    const std::int64_t count = std::min(batch, n - first);
    const VerifyReport r = m.verify_bit_exact(values(first, count), static_cast<std::uint64_t>(first));
    v.elements += r.elements_checked;
    if (!r.ok) {
      v.ok = false;
      v.layer = r.layer;
      v.shape = m.layer(r.layer).output_shape();
      const std::size_t per_sample = shape_size(v.shape);
      v.sample = first + static_cast<std::int64_t>(r.index / per_sample);
      v.element = static_cast<std::int64_t>(r.index % per_sample);
      v.sim_value = r.sim_value;
      v.int_code = r.int_code;
      v.int_value = r.int_value;
      return v;
    }
    v.samples = first + count;
  }
  return v;
}

}  // namespace fixq

#endif  // FIXQ_MODEL_MODEL_HPP
