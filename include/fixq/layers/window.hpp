// fixq/layers/window.hpp - the geometry of sliding windows (Conv2D and the pools),
// written once for all three paths so that they cannot disagree about it.
//
// Output size and padding per spatial axis, with an effective window
// e = (k - 1) * dilation + 1:
//   valid     out = floor((in - e) / stride) + 1, no padding (in >= e required)
//   same      out = ceil(in / stride); total padding max((out - 1) * stride + e - in, 0),
//             floor(total / 2) before (top / left), the rest after (TensorFlow's rule:
//             the extra row or column goes to the bottom / right)
//   explicit  out = floor((in + before + after - e) / stride) + 1
// The effective window and the padded input are at most 2^30 cells along each axis
// (input positions are ints). Loops over a window visit only its cells inside the
// input (rows_inside, cols_inside), however far the window reaches into the padding.
#ifndef FIXQ_LAYERS_WINDOW_HPP
#define FIXQ_LAYERS_WINDOW_HPP

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace fixq {

/// How a window meets the border: Padding::valid(), Padding::same(), or explicit
/// amounts Padding::explicit_pads(top, bottom, left, right).
struct Padding {
  enum class Kind { Valid, Same, Explicit };
  Kind kind = Kind::Valid;
  int top = 0, bottom = 0, left = 0, right = 0;

  static constexpr Padding valid() { return {}; }
  static constexpr Padding same() { return {Kind::Same}; }
  static constexpr Padding explicit_pads(int top, int bottom, int left, int right) {
    return {Kind::Explicit, top, bottom, left, right};
  }
  friend bool operator==(const Padding&, const Padding&) = default;
};

/// A 2-D window: size, strides, dilation and padding.
struct Window2D {
  std::array<int, 2> size{1, 1};      ///< (height, width)
  std::array<int, 2> strides{1, 1};
  std::array<int, 2> dilation{1, 1};
  Padding padding = Padding::valid();
};

/// The window applied to an input of (height, width): output size and the
/// padding before each axis (the padding after follows from them).
struct WindowGeometry {
  int in_h = 0, in_w = 0, out_h = 0, out_w = 0, pad_top = 0, pad_left = 0;
  Window2D window;

  /// Input row of output row oy and window row ky (may be outside [0, in_h)).
  int in_y(int oy, int ky) const { return oy * window.strides[0] + ky * window.dilation[0] - pad_top; }
  int in_x(int ox, int kx) const { return ox * window.strides[1] + kx * window.dilation[1] - pad_left; }
  /// The window rows [first, last) of output row oy whose input rows lie inside the
  /// input (first >= last: none), so that loops skip the padding without visiting it.
  std::pair<int, int> rows_inside(int oy) const {
    return inside(in_y(oy, 0), window.size[0], window.dilation[0], in_h);
  }
  std::pair<int, int> cols_inside(int ox) const {
    return inside(in_x(ox, 0), window.size[1], window.dilation[1], in_w);
  }

  /// The j in [0, k) with 0 <= start + j * step < n, as [first, last).
  static std::pair<int, int> inside(int start, int k, int step, int n) {
    const long long first = start >= 0 ? 0 : (-static_cast<long long>(start) + step - 1) / step;
    const long long last = start >= n ? 0 : (static_cast<long long>(n) - 1 - start) / step + 1;
    return {static_cast<int>(std::min<long long>(first, k)), static_cast<int>(std::min<long long>(last, k))};
  }
};

namespace detail {
/// Output size and padding before, for one axis; "" or the problem.
inline std::string window_axis(int in, int k, int stride, int dilation, const Padding& p, int before_given,
                               int after_given, int& out, int& before) {
  if (k < 1 || stride < 1 || dilation < 1) return "window, strides and dilation must be >= 1";
  if (before_given < 0 || after_given < 0) return "explicit padding must be >= 0";
  const long long e = static_cast<long long>(k - 1) * dilation + 1;
  // Positions in the padded input (in_y, in_x) are ints: the window with dilation
  // and the padded input are limited to 2^30 cells, so that they cannot overflow.
  constexpr long long max_span = 1LL << 30;
  if (e > max_span) return "the window spans " + std::to_string(e) + " cells with dilation, more than 2^30";
  const long long pads = p.kind == Padding::Kind::Explicit ? static_cast<long long>(before_given) + after_given : 0;
  const long long padded = in + pads;
  if (padded > max_span) return "the padded input spans " + std::to_string(padded) + " cells, more than 2^30";
  switch (p.kind) {
    case Padding::Kind::Valid:
      if (in < e) return "the window (" + std::to_string(e) + " with dilation) is larger than the input (" +
                         std::to_string(in) + ") under 'valid' padding";
      out = static_cast<int>((in - e) / stride + 1);
      before = 0;
      return "";
    case Padding::Kind::Same: {
      out = (in + stride - 1) / stride;
      const long long total = std::max<long long>((static_cast<long long>(out) - 1) * stride + e - in, 0);
      before = static_cast<int>(total / 2);
      return "";
    }
    case Padding::Kind::Explicit: {
      const long long span = static_cast<long long>(in) + before_given + after_given;
      if (span < e) return "the window is larger than the padded input";
      out = static_cast<int>((span - e) / stride + 1);
      before = before_given;
      return "";
    }
  }
  return "unknown padding";
}
}  // namespace detail

/// The geometry of `w` on an input of in_h x in_w; "" in `problem` or what is wrong.
inline WindowGeometry window_geometry(int in_h, int in_w, const Window2D& w, std::string& problem) {
  WindowGeometry g;
  g.in_h = in_h;
  g.in_w = in_w;
  g.window = w;
  problem = detail::window_axis(in_h, w.size[0], w.strides[0], w.dilation[0], w.padding, w.padding.top,
                                w.padding.bottom, g.out_h, g.pad_top);
  if (problem.empty())
    problem = detail::window_axis(in_w, w.size[1], w.strides[1], w.dilation[1], w.padding, w.padding.left,
                                  w.padding.right, g.out_w, g.pad_left);
  return g;
}

namespace detail {
/// im2col for one group: rows (n, oy, ox) of the patches of x (NHWC, c channels),
/// each holding the window's values in (ky, kx, ci) order for channels
/// [c0, c0 + cg), `pad` outside the input. out has n * out_h * out_w rows of
/// kh * kw * cg entries.
template <class T, class U>
void im2col(const T* x, int n, int c, int c0, int cg, const WindowGeometry& g, U pad, U* out) {
  const int kh = g.window.size[0], kw = g.window.size[1];
  const std::size_t row = static_cast<std::size_t>(kh) * kw * cg;
  std::size_t r = 0;
  for (int b = 0; b < n; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox, ++r) {
        U* dst = out + r * row;
        // The columns of a window row are contiguous in the input when there is no
        // dilation along x, the window row lies inside the input and one group has
        // every channel: one run of kw * c values.
        const int ix0 = g.in_x(ox, 0), ix1 = g.in_x(ox, kw - 1);
        const bool row_run = g.window.dilation[1] == 1 && cg == c && ix0 >= 0 && ix1 < g.in_w;
        for (int ky = 0; ky < kh; ++ky) {
          const int iy = g.in_y(oy, ky);
          if (row_run && iy >= 0 && iy < g.in_h) {
            const T* src = x + ((static_cast<std::size_t>(b) * g.in_h + iy) * g.in_w + ix0) * c;
            const std::size_t len = static_cast<std::size_t>(kw) * c;
            for (std::size_t i = 0; i < len; ++i) dst[i] = static_cast<U>(src[i]);
            dst += len;
            continue;
          }
          for (int kx = 0; kx < kw; ++kx, dst += cg) {
            const int ix = g.in_x(ox, kx);
            if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
              std::fill(dst, dst + cg, pad);
            } else {
              const T* src = x + ((static_cast<std::size_t>(b) * g.in_h + iy) * g.in_w + ix) * c + c0;
              for (int ci = 0; ci < cg; ++ci) dst[ci] = static_cast<U>(src[ci]);
            }
          }
        }
      }
}
}  // namespace detail

}  // namespace fixq

#endif  // FIXQ_LAYERS_WINDOW_HPP
