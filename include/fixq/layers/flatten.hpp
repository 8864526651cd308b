// fixq/layers/flatten.hpp - (batch, H, W, C) -> (batch, H * W * C) in row-major
// (Keras) order: the data do not move. Keeps the input format.
#ifndef FIXQ_LAYERS_FLATTEN_HPP
#define FIXQ_LAYERS_FLATTEN_HPP

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

class Flatten : public Layer {
 public:
  static constexpr std::string_view type_name = "Flatten";
  static constexpr bool trainable = true;
  struct Params {};
  static void describe(AttrVisitor&, Params&) {}

  explicit Flatten(std::string name) : Layer(std::move(name)) {}
  Flatten(std::string name, Params) : Layer(std::move(name)) {}
  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return {}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Flatten>(*this); }

 protected:
  void on_bind() override {
    set_output(input_formats()[0], Shape{static_cast<std::int64_t>(shape_size(input_shapes()[0]))});
  }
  template <class T>
  NDArray<T> flat(const NDArray<T>& x) const {
    return NDArray<T>(batched(x.dim(0), output_shape()), x.data);
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override { return flat(*in[0]); }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t) const override {
    NDArray<float> y = flat(*in[0]);
    quantize_span(y.data.data(), y.data.data(), y.size(), QuantSpec{input_formats()[0]});
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t) const override {
    return flat(*in[0]);
  }
};

namespace detail {
template <>
struct BuiltinLayer<7> {
  using type = Flatten;
};
}

}  // namespace fixq

#endif  // FIXQ_LAYERS_FLATTEN_HPP
