// fixq/train/pool.hpp - trainable-network pools: MaxPool2D, AvgPool2D and
// GlobalAvgPool2D, with the windows of the inference pools (layers/pool.hpp:
// cells in the padding are skipped; an average divides by the cells inside).
//   MaxPool2D  backward routes dy to the window's first maximum
//   AvgPool2D  backward spreads dy / cells over the window
#ifndef FIXQ_TRAIN_POOL_HPP
#define FIXQ_TRAIN_POOL_HPP

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fixq/layers/pool.hpp>
#include <fixq/layers/window.hpp>
#include <fixq/train/layer.hpp>

namespace fixq::train {

namespace detail {
inline WindowGeometry bind_window(const Shape& in, const Window2D& w, std::string& problem) {
  if (in.size() != 3) {
    problem = "expects NHWC inputs, got per-sample shape " + shape_text(in);
    return {};
  }
  return window_geometry(static_cast<int>(in[0]), static_cast<int>(in[1]), w, problem);
}
}  // namespace detail

class MaxPool2D : public Layer {
 public:
  /// Strides default to the pool size (Keras' rule).
  MaxPool2D(std::string name, std::array<int, 2> pool, std::optional<std::array<int, 2>> strides = {},
            Padding padding = Padding::valid())
      : Layer(std::move(name)), window_{pool, strides.value_or(pool), {1, 1}, padding} {}
  std::string type() const override { return "MaxPool2D"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<MaxPool2D>(*this); }

  Shape bind(const Shape& in, std::uint64_t) override {
    std::string problem;
    geo_ = detail::bind_window(in, window_, problem);
    if (!problem.empty()) fail(problem);
    in_shape_ = in;
    out_shape_ = Shape{geo_.out_h, geo_.out_w, in[2]};
    return out_shape_;
  }
  NDArray<float> forward(const NDArray<float>& x, Cache& cache, bool training) const override {
    // Loops with the channels innermost (contiguous in NHWC), the window's cells
    // inside the input only; the first maximum wins, as in the inference layer.
    const int n = static_cast<int>(x.dim(0)), C = static_cast<int>(in_shape_[2]);
    NDArray<float> y(train::detail::batched(n, out_shape_));
    std::vector<std::int32_t> arg(y.size(), -1);
    std::size_t o = 0;
    for (int b = 0; b < n; ++b)
      for (int oy = 0; oy < geo_.out_h; ++oy)
        for (int ox = 0; ox < geo_.out_w; ++ox, o += static_cast<std::size_t>(C)) {
          const auto [ky0, ky1] = geo_.rows_inside(oy);
          const auto [kx0, kx1] = geo_.cols_inside(ox);
          if (ky0 >= ky1 || kx0 >= kx1) fail("a window lies entirely in the padding");
          float* ym = y.data.data() + o;
          std::int32_t* am = arg.data() + o;
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx) {
              const std::size_t i = ((static_cast<std::size_t>(b) * geo_.in_h + geo_.in_y(oy, ky)) * geo_.in_w +
                                     geo_.in_x(ox, kx)) * static_cast<std::size_t>(C);
              const float* xs = x.data.data() + i;
              for (int c = 0; c < C; ++c)
                if (am[c] < 0 || xs[c] > ym[c]) ym[c] = xs[c], am[c] = static_cast<std::int32_t>(i) + c;
            }
        }
    if (training) cache.indices = std::move(arg);
    return y;
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache& cache, std::span<NDArray<float>>,
                          bool need_dx) const override {
    if (!need_dx) return {};
    NDArray<float> dx(train::detail::batched(dy.dim(0), in_shape_));
    for (std::size_t k = 0; k < dy.size(); ++k) dx.data[static_cast<std::size_t>(cache.indices[k])] += dy.data[k];
    return dx;
  }
  std::unique_ptr<fixq::Layer> to_inference(const Format&) const override {
    return std::make_unique<fixq::MaxPool2D>(name(), window_.size, window_.strides, window_.padding);
  }

 private:
  Window2D window_;
  WindowGeometry geo_;
};

class AvgPool2D : public Layer {
 public:
  /// Strides default to the pool size (Keras' rule).
  AvgPool2D(std::string name, std::array<int, 2> pool, std::optional<std::array<int, 2>> strides = {},
            Padding padding = Padding::valid())
      : Layer(std::move(name)), window_{pool, strides.value_or(pool), {1, 1}, padding} {}
  std::string type() const override { return global_ ? "GlobalAvgPool2D" : "AvgPool2D"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<AvgPool2D>(*this); }
  bool new_format() const override { return true; }

  Shape bind(const Shape& in, std::uint64_t) override {
    if (global_ && in.size() == 3) window_ = Window2D{{static_cast<int>(in[0]), static_cast<int>(in[1])}, {1, 1}};
    std::string problem;
    geo_ = detail::bind_window(in, window_, problem);
    if (!problem.empty()) fail(problem);
    in_shape_ = in;
    out_shape_ = global_ ? Shape{in[2]} : Shape{geo_.out_h, geo_.out_w, in[2]};
    return out_shape_;
  }
  NDArray<float> forward(const NDArray<float>& x, Cache&, bool) const override {
    NDArray<float> y(train::detail::batched(x.dim(0), out_shape_));
    fixq::detail::for_each_window(static_cast<int>(x.dim(0)), static_cast<int>(in_shape_[2]), geo_,
                                  [&](std::size_t k, auto&& visit) {
                                    double s = 0;
                                    int n = 0;
                                    visit([&](std::size_t i) { s += x.data[i], ++n; });
                                    if (n == 0) fail("a window lies entirely in the padding");
                                    y.data[k] = static_cast<float>(s / n);
                                  });
    return y;
  }
  NDArray<float> backward(const NDArray<float>& dy, const Cache&, std::span<NDArray<float>>,
                          bool need_dx) const override {
    if (!need_dx) return {};
    NDArray<float> dx(train::detail::batched(dy.dim(0), in_shape_));
    fixq::detail::for_each_window(static_cast<int>(dy.dim(0)), static_cast<int>(in_shape_[2]), geo_,
                                  [&](std::size_t k, auto&& visit) {
                                    int n = 0;
                                    visit([&](std::size_t) { ++n; });
                                    const float g = dy.data[k] / static_cast<float>(n);
                                    visit([&](std::size_t i) { dx.data[i] += g; });
                                  });
    return dx;
  }
  std::unique_ptr<fixq::Layer> to_inference(const Format& f) const override {
    if (global_) return std::make_unique<fixq::GlobalAvgPool2D>(name(), QuantSpec{f});
    return std::make_unique<fixq::AvgPool2D>(name(), window_.size, QuantSpec{f}, window_.strides, window_.padding);
  }

 protected:
  bool global_ = false;

 private:
  Window2D window_;
  WindowGeometry geo_;
};

/// The average over all of H x W per channel: (n, H, W, C) -> (n, C).
class GlobalAvgPool2D : public AvgPool2D {
 public:
  explicit GlobalAvgPool2D(std::string name) : AvgPool2D(std::move(name), {1, 1}) { global_ = true; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<GlobalAvgPool2D>(*this); }
};

namespace detail {
template <>
struct BuiltinTwin<3> {
  using inference = fixq::MaxPool2D;
  static std::unique_ptr<Layer> make(const fixq::MaxPool2D& p) {
    return std::make_unique<MaxPool2D>(p.name(), p.window().size, p.window().strides, p.window().padding);
  }
};
template <>
struct BuiltinTwin<4> {
  using inference = fixq::AvgPool2D;
  static std::unique_ptr<Layer> make(const fixq::AvgPool2D& p) {
    return std::make_unique<AvgPool2D>(p.name(), p.window().size, p.window().strides, p.window().padding);
  }
};
template <>
struct BuiltinTwin<5> {
  using inference = fixq::GlobalAvgPool2D;
  static std::unique_ptr<Layer> make(const fixq::GlobalAvgPool2D& p) {
    return std::make_unique<GlobalAvgPool2D>(p.name());
  }
};
}  // namespace detail

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_POOL_HPP
