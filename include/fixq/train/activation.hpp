// fixq/train/activation.hpp - ReLU (optionally capped: ReLU6), LeakyReLU and
// Flatten for training. ReLU's gradient passes where 0 < x < cap; LeakyReLU's is 1
// for x >= 0 and the slope below.
#ifndef FIXQ_TRAIN_ACTIVATION_HPP
#define FIXQ_TRAIN_ACTIVATION_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include <fixq/layers/activation.hpp>
#include <fixq/layers/flatten.hpp>
#include <fixq/layers/leaky_relu.hpp>
#include <fixq/train/layer.hpp>

namespace fixq::train {

class ReLU : public Layer {
 public:
  explicit ReLU(std::string name, double cap = std::numeric_limits<double>::infinity())
      : Layer(std::move(name)), cap_(cap) {
    if (!(cap_ > 0)) fail("the cap must be > 0");
  }
  std::string type() const override { return "ReLU"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ReLU>(*this); }
  Shape bind(const Shape& in, std::uint64_t) override {
    in_shape_ = out_shape_ = in;
    return out_shape_;
  }
  NDArray<float> forward(const NDArray<float>& x, Cache& cache, bool training) const override {
    NDArray<float> y = x;
    const auto cap = static_cast<float>(cap_);
    for (float& v : y.data) v = std::min(std::max(v, 0.0f), cap);
    if (training) cache.tensors = {y};
    return y;
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache& cache, std::span<NDArray<float>>,
                          bool need_dx) const override {
    if (!need_dx) return {};
    const NDArray<float>& y = cache.tensors.at(0);
    NDArray<float> dx = dy;
    const auto cap = static_cast<float>(cap_);
    for (std::size_t i = 0; i < dx.size(); ++i)
      if (!(y.data[i] > 0.0f && y.data[i] < cap)) dx.data[i] = 0.0f;
    return dx;
  }
  std::unique_ptr<fixq::Layer> to_inference(const Format&) const override {
    return std::make_unique<fixq::ReLU>(name(), cap_);
  }

 private:
  double cap_;
};

class LeakyReLU : public Layer {
 public:
  explicit LeakyReLU(std::string name, double slope = 0.01) : Layer(std::move(name)), slope_(slope) {
    if (!std::isfinite(slope_)) fail("the slope must be finite");
  }
  std::string type() const override { return "LeakyReLU"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<LeakyReLU>(*this); }
  bool new_format() const override { return true; }
  Shape bind(const Shape& in, std::uint64_t) override {
    in_shape_ = out_shape_ = in;
    return out_shape_;
  }
  NDArray<float> forward(const NDArray<float>& x, Cache& cache, bool training) const override {
    NDArray<float> y = x;
    const auto a = static_cast<float>(slope_);
    for (float& v : y.data) v = v >= 0 ? v : a * v;
    if (training) cache.tensors = {x};
    return y;
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache& cache, std::span<NDArray<float>>,
                          bool need_dx) const override {
    if (!need_dx) return {};
    const NDArray<float>& x = cache.tensors.at(0);
    NDArray<float> dx = dy;
    const auto a = static_cast<float>(slope_);
    for (std::size_t i = 0; i < dx.size(); ++i)
      if (!(x.data[i] >= 0.0f)) dx.data[i] *= a;
    return dx;
  }
  /// The slope's format in a float model is the placeholder; calibration chooses it.
  std::unique_ptr<fixq::Layer> to_inference(const Format& f) const override {
    return std::make_unique<fixq::LeakyReLU>(name(), slope_, f, QuantSpec{f});
  }
  double slope() const { return slope_; }

 private:
  double slope_;
};

class Flatten : public Layer {
 public:
  explicit Flatten(std::string name) : Layer(std::move(name)) {}
  std::string type() const override { return "Flatten"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Flatten>(*this); }
  Shape bind(const Shape& in, std::uint64_t) override {
    in_shape_ = in;
    out_shape_ = Shape{static_cast<std::int64_t>(shape_size(in))};
    return out_shape_;
  }
  NDArray<float> forward(const NDArray<float>& x, Cache&, bool) const override {
    return NDArray<float>(train::detail::batched(x.dim(0), out_shape_), x.data);
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache&, std::span<NDArray<float>>,
                          bool need_dx) const override {
    if (!need_dx) return {};
    return NDArray<float>(train::detail::batched(dy.dim(0), in_shape_), dy.data);
  }
  std::unique_ptr<fixq::Layer> to_inference(const Format&) const override {
    return std::make_unique<fixq::Flatten>(name());
  }
};

namespace detail {
template <>
struct BuiltinTwin<6> {
  using inference = fixq::ReLU;
  static std::unique_ptr<Layer> make(const fixq::ReLU& l) { return std::make_unique<ReLU>(l.name(), l.cap()); }
};
template <>
struct BuiltinTwin<10> {
  using inference = fixq::LeakyReLU;
  static std::unique_ptr<Layer> make(const fixq::LeakyReLU& l) { return std::make_unique<LeakyReLU>(l.name(), l.slope()); }
};
template <>
struct BuiltinTwin<7> {
  using inference = fixq::Flatten;
  static std::unique_ptr<Layer> make(const fixq::Flatten& l) { return std::make_unique<Flatten>(l.name()); }
};
}  // namespace detail

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_ACTIVATION_HPP
