// fixq/layers/merge.hpp - Add and Concat: layers of two or more inputs whose
// formats may differ, aligned exactly.
//
// Add: the exact sum of the inputs at the finest of their fractions F (each code
// shifted left by F - its frac, in int64), rounded once into the output format.
// Concat: along the last (channel) axis; each input's codes converted exactly into
// the output format (Fixed-to-Fixed conversion, kernels/requantize.hpp). Both use
// the output's modes and, under Round::Stochastic, the random word of each output
// element's index in the whole input (layers/layer.hpp).
#ifndef FIXQ_LAYERS_MERGE_HPP
#define FIXQ_LAYERS_MERGE_HPP

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/requantize.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

/// Element-wise sum of two or more inputs of one shape.
class Add : public Layer {
 public:
  static constexpr std::string_view type_name = "Add";
  static constexpr bool trainable = false;  // the trainer takes chains of layers
  struct Params {
    QuantSpec output{detail::placeholder_format()};
  };
  static void describe(AttrVisitor& v, Params& p) { v.output(p.output); }

  Add(std::string name, QuantSpec output) : Layer(std::move(name)), spec_(std::move(output)) { spec_.validate(); }
  Add(std::string name, Params p) : Add(std::move(name), std::move(p.output)) {}
  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return {spec_}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Add>(*this); }
  const QuantSpec* output_quantization() const override { return &spec_; }
  int arity() const override { return 0; }
  const QuantSpec& output_spec() const { return spec_; }

 protected:
  void on_bind() override {
    for (std::size_t i = 1; i < input_shapes().size(); ++i)
      if (input_shapes()[i] != input_shapes()[0])
        fail("inputs have shapes " + shape_text(input_shapes()[0]) + " and " + shape_text(input_shapes()[i]));
    F_ = input_formats()[0].frac;
    int max_int = 0;
    for (const Format& f : input_formats()) F_ = std::max(F_, f.frac);
    for (const Format& f : input_formats()) max_int = std::max(max_int, f.word + (F_ - f.frac));
    const int bits = max_int + 1 + static_cast<int>(std::bit_width(input_formats().size()));
    if (bits > 62) fail("the exact sum needs " + std::to_string(bits) + " bits (the fractions are too far apart)");
    sim_double_ = bits <= 53;
    set_output(spec_.format, input_shapes()[0]);
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y = *in[0];
    for (std::size_t i = 1; i < in.size(); ++i)
      for (std::size_t k = 0; k < y.size(); ++k) y.data[k] += in[i]->data[k];
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const override {
    if (!sim_double_) {  // no floating-point sum is exact: go through the codes
      std::vector<NDArray<std::int32_t>> codes;
      for (std::size_t i = 0; i < in.size(); ++i) {
        codes.emplace_back(in[i]->shape);
        quantize_span(in[i]->data.data(), codes.back().data.data(), codes.back().size(), QuantSpec{input_formats()[i]});
      }
      std::vector<const NDArray<std::int32_t>*> p;
      for (const auto& c : codes) p.push_back(&c);
      const NDArray<std::int32_t> yc = run_int(p, first);
      NDArray<float> y(yc.shape);
      for (std::size_t k = 0; k < y.size(); ++k) y.data[k] = static_cast<float>(yc.data[k] * spec_.format.lsb());
      return y;
    }
    std::vector<double> sum(in[0]->size(), 0.0);
    std::vector<float> q(in[0]->size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      quantize_span(in[i]->data.data(), q.data(), q.size(), QuantSpec{input_formats()[i]});
      for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += q[k];  // exact: <= 53 bits
    }
    NDArray<float> y(in[0]->shape);
    quantize_span(sum.data(), y.data.data(), y.size(), spec_, first);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const override {
    std::vector<std::int64_t> sum(in[0]->size(), 0);
    for (std::size_t i = 0; i < in.size(); ++i) {
      const int shift = F_ - input_formats()[i].frac;
      for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += static_cast<std::int64_t>(in[i]->data[k]) << shift;
    }
    NDArray<std::int32_t> y(in[0]->shape);
    const int frac[] = {F_};
    requantize_span(sum.data(), y.data.data(), y.size(), std::span<const int>(frac), spec_, first);
    return y;
  }

 private:
  QuantSpec spec_;
  int F_ = 0;
  bool sim_double_ = true;
};

/// Concatenation along the channel (last) axis.
class Concat : public Layer {
 public:
  static constexpr std::string_view type_name = "Concat";
  static constexpr bool trainable = false;  // the trainer takes chains of layers
  struct Params {
    QuantSpec output{detail::placeholder_format()};
  };
  static void describe(AttrVisitor& v, Params& p) { v.output(p.output); }

  Concat(std::string name, QuantSpec output) : Layer(std::move(name)), spec_(std::move(output)) { spec_.validate(); }
  Concat(std::string name, Params p) : Concat(std::move(name), std::move(p.output)) {}
  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return {spec_}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Concat>(*this); }
  const QuantSpec* output_quantization() const override { return &spec_; }
  int arity() const override { return 0; }
  const QuantSpec& output_spec() const { return spec_; }

 protected:
  void on_bind() override {
    Shape s = input_shapes()[0];
    if (s.empty()) fail("inputs must have at least one axis besides the batch");
    std::int64_t channels = 0;
    for (const Shape& t : input_shapes()) {
      if (t.size() != s.size() || !std::equal(t.begin(), t.end() - 1, s.begin()))
        fail("inputs " + shape_text(s) + " and " + shape_text(t) + " differ outside the last axis");
      channels += t.back();
    }
    s.back() = channels;
    set_output(spec_.format, s);
  }
  /// Calls put(input, source index, output index) for every element.
  template <class F>
  void scatter(std::int64_t batch, F&& put) const {
    const std::int64_t total = output_shape().back();
    const std::size_t rows = static_cast<std::size_t>(batch) * (shape_size(output_shape()) / static_cast<std::size_t>(total));
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < input_shapes().size(); ++i) {
      const std::int64_t c = input_shapes()[i].back();
      for (std::size_t r = 0; r < rows; ++r)
        for (std::int64_t j = 0; j < c; ++j)
          put(i, r * static_cast<std::size_t>(c) + static_cast<std::size_t>(j),
              r * static_cast<std::size_t>(total) + static_cast<std::size_t>(offset + j));
      offset += c;
    }
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    NDArray<float> y(batched(in[0]->dim(0), output_shape()));
    scatter(in[0]->dim(0), [&](std::size_t i, std::size_t from, std::size_t to) { y.data[to] = in[i]->data[from]; });
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const override {
    NDArray<float> x(batched(in[0]->dim(0), output_shape()));
    std::vector<std::vector<float>> q(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      q[i].resize(in[i]->size());
      quantize_span(in[i]->data.data(), q[i].data(), q[i].size(), QuantSpec{input_formats()[i]});
    }
    scatter(in[0]->dim(0), [&](std::size_t i, std::size_t from, std::size_t to) { x.data[to] = q[i][from]; });
    NDArray<float> y(x.shape);
    quantize_span(x.data.data(), y.data.data(), y.size(), spec_, first);  // values on their grids, exact in float
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const override {
    NDArray<std::int32_t> y(batched(in[0]->dim(0), output_shape()));
    scatter(in[0]->dim(0), [&](std::size_t i, std::size_t from, std::size_t to) {
      const int frac[] = {input_formats()[i].frac};
      requantize_span(&in[i]->data[from], &y.data[to], 1, std::span<const int>(frac), spec_, first + to);
    });
    return y;
  }

 private:
  QuantSpec spec_;
};

namespace detail {
template <>
struct BuiltinLayer<8> {
  using type = Add;
};
template <>
struct BuiltinLayer<9> {
  using type = Concat;
};
}  // namespace detail

}  // namespace fixq

#endif  // FIXQ_LAYERS_MERGE_HPP
