// fixq/train/activation.hpp - ReLU (optionally capped: ReLU6) and Flatten for
// training. ReLU's gradient passes where 0 < x < cap.
#ifndef FIXQ_TRAIN_ACTIVATION_HPP
#define FIXQ_TRAIN_ACTIVATION_HPP

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include <fixq/layers/activation.hpp>
#include <fixq/layers/flatten.hpp>
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

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_ACTIVATION_HPP
