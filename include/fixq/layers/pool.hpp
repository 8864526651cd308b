// fixq/layers/pool.hpp - MaxPool2D, AvgPool2D, GlobalAvgPool2D on NHWC inputs.
//
// MaxPool2D keeps its input's format: the maximum of the codes (int path) or of the
// values (sim path) over the window's cells inside the input (padding never wins,
// as in TensorFlow). AvgPool2D and GlobalAvgPool2D make a new format: the exact sum
// S of the window's codes over its n cells inside the input (TensorFlow's "same"
// average excludes the padding) divided by n exactly and rounded once by the
// layer's mode: code = round(S * 2^(fout - fin) / n), then the overflow mode. A
// window of 9 cells is a true division, not a shift. The sim path computes the same
// quotient from the sum of the values (exact in double for words <= 24 and windows
// of fewer than 2^29 cells) as an exact rational.
#ifndef FIXQ_LAYERS_POOL_HPP
#define FIXQ_LAYERS_POOL_HPP

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fixq/core/convert.hpp>
#include <fixq/core/overflow.hpp>
#include <fixq/core/rounding.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>
#include <fixq/layers/window.hpp>
#include <fixq/random/stream.hpp>

namespace fixq {

namespace detail {

/// Visits, for every output element (n, oy, ox, c) in NHWC order, the input cells
/// of its window inside the input: f(out_index, visit) where visit(g) calls
/// g(in_index) for each cell.
template <class F>
void for_each_window(int batch, int channels, const WindowGeometry& geo, F&& f) {
  std::size_t k = 0;
  for (int b = 0; b < batch; ++b)
    for (int oy = 0; oy < geo.out_h; ++oy)
      for (int ox = 0; ox < geo.out_w; ++ox)
        for (int c = 0; c < channels; ++c, ++k) {
          const auto visit = [&](auto&& g) {
            const auto [ky0, ky1] = geo.rows_inside(oy);
            const auto [kx0, kx1] = geo.cols_inside(ox);
            for (int ky = ky0; ky < ky1; ++ky) {
              const int iy = geo.in_y(oy, ky);
              for (int kx = kx0; kx < kx1; ++kx) {
                const int ix = geo.in_x(ox, kx);
                g(((static_cast<std::size_t>(b) * geo.in_h + iy) * geo.in_w + ix) * channels + c);
              }
            }
          };
          f(k, visit);
        }
}

/// round(s * 2^(to.frac - from_frac) / n) under (R, O) into `to`: the average of n
/// codes whose sum is s, rounded once.
template <Round R, Overflow O>
std::int64_t average_code(int128 s, std::int64_t n, int from_frac, const Format& to, std::uint32_t u) {
  const int shift = to.frac - from_frac;  // |shift| <= 60, checked when the layer is bound
  int128 num = s, den = n;
  if (shift >= 0)
    num = s << shift;
  else
    den = den << (-shift);
  return static_cast<std::int64_t>(narrow<O>(round_div<R>(num, den, u), to));
}

}  // namespace detail

/// Maximum over each window; output format = input format.
class MaxPool2D : public Layer {
 public:
  static constexpr std::string_view type_name = "MaxPool2D";
  static constexpr bool trainable = true;
  struct Params {
    std::array<int, 2> pool{1, 1};
    std::array<int, 2> strides{1, 1};
    Padding padding = Padding::valid();
  };
  static void describe(AttrVisitor& v, Params& p) {
    v.pair("pool", p.pool, 1, std::nullopt);
    v.pair("strides", p.strides, 1, p.pool);
    v.padding("padding", p.padding);
  }

  /// Strides default to the pool size (Keras' rule).
  MaxPool2D(std::string name, std::array<int, 2> pool, std::optional<std::array<int, 2>> strides = {},
            Padding padding = Padding::valid())
      : Layer(std::move(name)), window_{pool, strides.value_or(pool), {1, 1}, padding} {}
  // (a template, so that MaxPool2D("pool", {2, 2}) means the pool size, not a Params)
  template <std::same_as<Params> P>
  MaxPool2D(std::string name, P p) : MaxPool2D(std::move(name), p.pool, p.strides, p.padding) {}
  std::string type() const override { return std::string(type_name); }
  Params attributes() const { return {window_.size, window_.strides, window_.padding}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<MaxPool2D>(*this); }
  const WindowGeometry* sliding_window() const override { return &geo_; }
  const Window2D& window() const { return window_; }
  const WindowGeometry& geometry() const { return geo_; }

 protected:
  void on_bind() override {
    const Shape& s = input_shapes()[0];
    if (s.size() != 3) fail("expects NHWC inputs (batch, H, W, C), got per-sample shape " + shape_text(s));
    std::string problem;
    geo_ = window_geometry(static_cast<int>(s[0]), static_cast<int>(s[1]), window_, problem);
    if (!problem.empty()) fail(problem);
    set_output(input_formats()[0], Shape{geo_.out_h, geo_.out_w, s[2]});
  }
  template <class T>
  NDArray<T> pool(const NDArray<T>& x) const {
    NDArray<T> y(batched(x.dim(0), output_shape()));
    const std::size_t C = static_cast<std::size_t>(output_shape()[2]);
    T* o = y.data.data();
    for (int b = 0; b < static_cast<int>(x.dim(0)); ++b)
      for (int oy = 0; oy < geo_.out_h; ++oy)
        for (int ox = 0; ox < geo_.out_w; ++ox, o += C) {
          bool any = false;  // the maximum over the window's cells, all channels at once
          const auto [ky0, ky1] = geo_.rows_inside(oy);
          const auto [kx0, kx1] = geo_.cols_inside(ox);
          for (int ky = ky0; ky < ky1; ++ky) {
            const int iy = geo_.in_y(oy, ky);
            for (int kx = kx0; kx < kx1; ++kx) {
              const int ix = geo_.in_x(ox, kx);
              const T* src = x.data.data() + ((static_cast<std::size_t>(b) * geo_.in_h + iy) * geo_.in_w + ix) * C;
              if (!any)
                std::copy(src, src + C, o);
              else
                for (std::size_t c = 0; c < C; ++c) o[c] = std::max(o[c], src[c]);
              any = true;
            }
          }
          if (!any) fail("a window lies entirely in the padding");
        }
    return y;
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override { return pool(*in[0]); }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t) const override {
    NDArray<float> x(in[0]->shape);
    quantize_span(in[0]->data.data(), x.data.data(), x.size(), QuantSpec{input_formats()[0]});
    return pool(x);
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t) const override {
    return pool(*in[0]);
  }

 private:
  Window2D window_;
  WindowGeometry geo_;
};

/// Average over each window's cells inside the input, rounded once into `output`.
class AvgPool2D : public Layer {
 public:
  static constexpr std::string_view type_name = "AvgPool2D";
  static constexpr bool trainable = true;
  struct Params {
    std::array<int, 2> pool{1, 1};
    std::array<int, 2> strides{1, 1};
    Padding padding = Padding::valid();
    QuantSpec output{detail::placeholder_format()};
  };
  static void describe(AttrVisitor& v, Params& p) {
    v.pair("pool", p.pool, 1, std::nullopt);
    v.pair("strides", p.strides, 1, p.pool);
    v.padding("padding", p.padding);
    v.output(p.output);
  }

  /// Strides default to the pool size (Keras' rule).
  AvgPool2D(std::string name, std::array<int, 2> pool, QuantSpec output,
            std::optional<std::array<int, 2>> strides = {}, Padding padding = Padding::valid())
      : Layer(std::move(name)), window_{pool, strides.value_or(pool), {1, 1}, padding}, spec_(std::move(output)) {
    spec_.validate();
  }
  AvgPool2D(std::string name, Params p) : AvgPool2D(std::move(name), p.pool, std::move(p.output), p.strides, p.padding) {}
  std::string type() const override { return global_ ? "GlobalAvgPool2D" : "AvgPool2D"; }
  Params attributes() const { return {window_.size, window_.strides, window_.padding, spec_}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<AvgPool2D>(*this); }
  const QuantSpec* output_quantization() const override { return &spec_; }
  const WindowGeometry* sliding_window() const override { return &geo_; }
  std::vector<LayerNote> notes() const override {
    return {{"divisor", std::string("the number of the window's cells inside the input")}};
  }
  const Window2D& window() const { return window_; }
  const WindowGeometry& geometry() const { return geo_; }
  const QuantSpec& output_spec() const { return spec_; }

 protected:
  bool global_ = false;

  void on_bind() override {
    const Shape& s = input_shapes()[0];
    if (s.size() != 3) fail("expects NHWC inputs (batch, H, W, C), got per-sample shape " + shape_text(s));
    if (std::abs(spec_.format.frac - input_formats()[0].frac) > 60)
      fail("the output frac " + std::to_string(spec_.format.frac) + " is more than 60 from the input frac " +
           std::to_string(input_formats()[0].frac));
    if (global_) window_ = Window2D{{static_cast<int>(s[0]), static_cast<int>(s[1])}, {1, 1}, {1, 1}, Padding::valid()};
    std::string problem;
    geo_ = window_geometry(static_cast<int>(s[0]), static_cast<int>(s[1]), window_, problem);
    if (!problem.empty()) fail(problem);
    // The sim path's double sum of a window's values is exact for fewer than 2^29
    // cells of words <= 24 (the int path's sum always is).
    const long long cells = static_cast<long long>(std::min(geo_.window.size[0], geo_.in_h)) *
                            std::min(geo_.window.size[1], geo_.in_w);
    if (cells >= (1LL << 29))
      fail("a window covers up to " + std::to_string(cells) + " cells of the input; at most 2^29 - 1 (the sim path " +
           "sums them exactly in double)");
    set_output(spec_.format, global_ ? Shape{s[2]} : Shape{geo_.out_h, geo_.out_w, s[2]});
  }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override {
    const NDArray<float>& x = *in[0];
    NDArray<float> y(batched(x.dim(0), output_shape()));
    detail::for_each_window(static_cast<int>(x.dim(0)), static_cast<int>(input_shapes()[0][2]), geo_,
                            [&](std::size_t k, auto&& visit) {
                              double s = 0;
                              int n = 0;
                              visit([&](std::size_t i) { s += x.data[i], ++n; });
                              y.data[k] = static_cast<float>(n ? s / n : 0.0);
                            });
    return y;
  }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t first) const override {
    NDArray<float> x(in[0]->shape);
    const Format& f = input_formats()[0];
    quantize_span(in[0]->data.data(), x.data.data(), x.size(), QuantSpec{f});
    const double scale = Format::pow2(f.frac);
    NDArray<std::int32_t> codes = average(x, first, [&](double sum) { return static_cast<int128>(sum * scale); });
    NDArray<float> y(codes.shape);
    const double lsb = spec_.format.lsb();
    for (std::size_t i = 0; i < y.size(); ++i) y.data[i] = static_cast<float>(codes.data[i] * lsb);
    return y;
  }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t first) const override {
    return average(*in[0], first, [](std::int64_t sum) { return static_cast<int128>(sum); });
  }

 private:
  /// The averages' codes; `to_sum` turns the window's sum (of values: a double,
  /// exact; of codes: an int64) into the sum of the codes.
  template <class T, class ToSum>
  NDArray<std::int32_t> average(const NDArray<T>& x, std::uint64_t first, ToSum to_sum) const {
    using Sum = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
    NDArray<std::int32_t> y(batched(x.dim(0), output_shape()));
    const int from = input_formats()[0].frac;
    detail::dispatch_round(spec_.round, [&]<Round R>() {
      detail::dispatch_overflow(spec_.overflow, [&]<Overflow O>() {
        detail::for_each_window(static_cast<int>(x.dim(0)), static_cast<int>(input_shapes()[0][2]), geo_,
                                [&](std::size_t k, auto&& visit) {
                                  Sum s = 0;
                                  std::int64_t n = 0;
                                  visit([&](std::size_t i) { s += static_cast<Sum>(x.data[i]), ++n; });
                                  if (n == 0) fail("a window lies entirely in the padding");
                                  const std::uint32_t u =
                                      R == Round::Stochastic ? random_u32(spec_.stream_seed(), first + k) : 0;
                                  y.data[k] = static_cast<std::int32_t>(
                                      detail::average_code<R, O>(to_sum(s), n, from, spec_.format, u));
                                });
      });
    });
    return y;
  }

  Window2D window_;
  QuantSpec spec_;
  WindowGeometry geo_;
};

/// The average over all of H x W per channel: (batch, H, W, C) -> (batch, C).
class GlobalAvgPool2D : public AvgPool2D {
 public:
  static constexpr std::string_view type_name = "GlobalAvgPool2D";
  static constexpr bool trainable = true;
  struct Params {
    QuantSpec output{detail::placeholder_format()};
  };
  static void describe(AttrVisitor& v, Params& p) { v.output(p.output); }

  GlobalAvgPool2D(std::string name, QuantSpec output) : AvgPool2D(std::move(name), {1, 1}, std::move(output)) {
    global_ = true;
  }
  GlobalAvgPool2D(std::string name, Params p) : GlobalAvgPool2D(std::move(name), std::move(p.output)) {}
  Params attributes() const { return {output_spec()}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<GlobalAvgPool2D>(*this); }
};

namespace detail {
template <>
struct BuiltinLayer<3> {
  using type = MaxPool2D;
};
template <>
struct BuiltinLayer<4> {
  using type = AvgPool2D;
};
template <>
struct BuiltinLayer<5> {
  using type = GlobalAvgPool2D;
};
}  // namespace detail

}  // namespace fixq

#endif  // FIXQ_LAYERS_POOL_HPP
