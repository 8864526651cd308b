// The layers other than Dense and Conv2D: MaxPool2D, AvgPool2D, GlobalAvgPool2D,
// ReLU / ReLU6, Flatten, Add, Concat, BatchNorm, and the layout helpers. For each:
// int == sim bit for bit over random shapes, formats and every mode, and the int
// codes equal a reference written here from the definition (support/int128_reference.hpp
// for the modes).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/layers.hpp>
#include <fixq/random.hpp>

#include "support/int128_reference.hpp"
#include "support/random_layers.hpp"

using fixq::Format;
using fixq::NDArray;
using fixq::Overflow;
using fixq::QuantSpec;
using fixq::Round;
using fixq::Shape;
using fixq_test::i128;
using fixq_test::random_format;
using fixq_test::Rng;

namespace {

NDArray<float> random_input(Rng& r, Shape s, float scale) {
  NDArray<float> x(std::move(s));
  for (auto& v : x.data) v = r.normal(scale);
  return x;
}

/// The reference's code of num / den (den > 0) in spec, element k; nullopt: throws.
std::optional<i128> ref_code(i128 num, i128 den, const QuantSpec& spec, std::size_t k) {
  const std::uint32_t u = spec.round == Round::Stochastic ? fixq::random_u32(*spec.seed, k) : 0;
  const Format& o = spec.format;
  const fixq_test::Target t{o, spec.round, spec.overflow, fixq_test::lo_code(o.word, o.is_signed),
                            fixq_test::hi_code(o.word, o.is_signed)};
  return fixq_test::ref_narrow(fixq_test::ref_round(num, den, spec.round, u), t);
}
/// code * 2^-from in `to`'s LSBs as num / den.
std::pair<i128, i128> rescale(i128 code, int from, int to) {
  return to >= from ? std::pair{code * fixq_test::p2(to - from), i128{1}} : std::pair{code, fixq_test::p2(from - to)};
}

/// int == sim for a bound layer; returns the int codes, or nullopt when both threw.
std::optional<NDArray<std::int32_t>> int_equals_sim(const fixq::Layer& layer, const std::vector<NDArray<float>>& xs) {
  std::vector<NDArray<std::int32_t>> codes;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    codes.emplace_back(xs[i].shape);
    fixq::quantize_span(xs[i].data.data(), codes.back().data.data(), codes.back().size(),
                        QuantSpec{layer.input_formats()[i]});
  }
  std::vector<const NDArray<float>*> pf;
  std::vector<const NDArray<std::int32_t>*> pi;
  for (const auto& x : xs) pf.push_back(&x);
  for (const auto& c : codes) pi.push_back(&c);
  std::optional<NDArray<std::int32_t>> yi;
  std::optional<NDArray<float>> ys;
  bool int_threw = false, sim_threw = false;
  try {
    yi = layer.forward_int(pi);
  } catch (const fixq::overflow_error&) {
    int_threw = true;
  }
  try {
    ys = layer.forward_sim(pf);
  } catch (const fixq::overflow_error&) {
    sim_threw = true;
  }
  REQUIRE(int_threw == sim_threw);
  if (int_threw) return std::nullopt;
  REQUIRE(yi->shape == ys->shape);
  const double lsb = layer.output_format().lsb();
  for (std::size_t k = 0; k < yi->size(); ++k) {
    INFO(layer.name() << " element " << k);
    REQUIRE(static_cast<double>(yi->data[k]) * lsb == static_cast<double>(ys->data[k]));
  }
  (void)layer.forward_float(pf);  // runs; its values are checked elsewhere
  return yi;
}

std::vector<std::int32_t> codes_of(const NDArray<float>& x, const Format& f) {
  std::vector<std::int32_t> c(x.size());
  fixq::quantize_span(x.data.data(), c.data(), c.size(), QuantSpec{f});
  return c;
}

}  // namespace

TEST_CASE("pools: int == sim == reference (max, average with exact division, global)", "[layers][pool]") {
  Rng r(4);
  for (Round round : fixq::all_rounds)
    for (Overflow overflow : fixq::all_overflows)
      for (int rep = 0; rep < 4; ++rep) {
        const int H = r.uniform(1, 7), W = r.uniform(1, 7), C = r.uniform(1, 3), N = r.uniform(1, 2);
        fixq::Window2D win;
        win.size = {r.uniform(1, std::min(H, 3)), r.uniform(1, std::min(W, 3))};
        win.strides = {r.uniform(1, 3), r.uniform(1, 3)};
        win.padding = r.coin() ? fixq::Padding::same() : fixq::Padding::valid();
        const Format in = random_format(r, 2, 12);
        QuantSpec out{random_format(r, 2, 14), round, overflow};
        if (round == Round::Stochastic) out.seed = 11;
        const auto x = random_input(r, {N, H, W, C}, 3.0f);
        const auto xc = codes_of(x, in);
        // Reference geometry (TensorFlow's rule for "same").
        const bool same = win.padding == fixq::Padding::same();
        const int Ho = same ? (H + win.strides[0] - 1) / win.strides[0] : (H - win.size[0]) / win.strides[0] + 1;
        const int Wo = same ? (W + win.strides[1] - 1) / win.strides[1] : (W - win.size[1]) / win.strides[1] + 1;
        const int pt = same ? std::max((Ho - 1) * win.strides[0] + win.size[0] - H, 0) / 2 : 0;
        const int pl = same ? std::max((Wo - 1) * win.strides[1] + win.size[1] - W, 0) / 2 : 0;
        const auto window_cells = [&](int n, int oy, int ox, int c) {
          std::vector<i128> v;
          for (int ky = 0; ky < win.size[0]; ++ky)
            for (int kx = 0; kx < win.size[1]; ++kx) {
              const int iy = oy * win.strides[0] + ky - pt, ix = ox * win.strides[1] + kx - pl;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) v.push_back(xc[static_cast<std::size_t>(((n * H + iy) * W + ix) * C + c)]);
            }
          return v;
        };
        fixq::MaxPool2D mp("max", win.size, win.strides, win.padding);
        mp.bind({in}, {{H, W, C}});
        REQUIRE(mp.output_shape() == Shape{Ho, Wo, C});
        const auto ym = int_equals_sim(mp, {x});
        REQUIRE(ym);
        fixq::AvgPool2D ap("avg", win.size, out, win.strides, win.padding);
        ap.bind({in}, {{H, W, C}});
        const auto ya = int_equals_sim(ap, {x});
        std::size_t k = 0;
        bool overflowed = false;
        for (int n = 0; n < N; ++n)
          for (int oy = 0; oy < Ho; ++oy)
            for (int ox = 0; ox < Wo; ++ox)
              for (int c = 0; c < C; ++c, ++k) {
                const auto cells = window_cells(n, oy, ox, c);
                REQUIRE(!cells.empty());
                REQUIRE(ym->data[k] == *std::max_element(cells.begin(), cells.end()));
                i128 s = 0;
                for (const i128 v : cells) s += v;
                auto [num, den] = rescale(s, in.frac, out.format.frac);
                const auto want = ref_code(num, den * static_cast<i128>(cells.size()), out, k);
                if (!want) {
                  overflowed = true;
                  continue;
                }
                if (ya) REQUIRE(ya->data[k] == *want);
              }
        CHECK(overflowed == !ya.has_value());
        // Global average: one window of H x W.
        fixq::GlobalAvgPool2D gp("gap", out);
        gp.bind({in}, {{H, W, C}});
        REQUIRE(gp.output_shape() == Shape{C});
        const auto yg = int_equals_sim(gp, {x});
        if (yg)
          for (int n = 0; n < N; ++n)
            for (int c = 0; c < C; ++c) {
              i128 s = 0;
              for (int i = 0; i < H * W; ++i) s += xc[static_cast<std::size_t>((n * H * W + i) * C + c)];
              auto [num, den] = rescale(s, in.frac, out.format.frac);
              REQUIRE(yg->data[static_cast<std::size_t>(n * C + c)] ==
                      *ref_code(num, den * H * W, out, static_cast<std::size_t>(n * C + c)));
            }
      }
}

TEST_CASE("pools: a window of 9 is a true division, rounded by the layer's mode", "[layers][pool]") {
  // Nine codes summing to 14 in Fixed<8,0>: 14 / 9 = 1.555...: 2 to nearest, 1 by Floor.
  NDArray<std::int32_t> x(Shape{1, 3, 3, 1}, std::vector<std::int32_t>{2, 2, 2, 2, 2, 1, 1, 1, 1});
  for (auto [round, want] : {std::pair{Round::NearestEven, 2}, std::pair{Round::Floor, 1}, std::pair{Round::Ceil, 2}}) {
    fixq::AvgPool2D p("avg", {3, 3}, QuantSpec{Format{8, 0}, round});
    p.bind({Format{8, 0}}, {{3, 3, 1}});
    CHECK(p.forward_int(x).data[0] == want);
  }
  // 9 / 2^3 would be the shift a hardware shortcut uses: 14 >> 3 = 1 (not 14 / 9).
}

TEST_CASE("ReLU and ReLU6 keep the input format; the cap is the largest grid value <= 6", "[layers][activation]") {
  Rng r(5);
  for (int rep = 0; rep < 30; ++rep) {
    const Format in = random_format(r, 2, 16);
    const auto x = random_input(r, {2, 5, 3}, 8.0f);
    const auto xc = codes_of(x, in);
    fixq::ReLU relu("relu");
    relu.bind({in}, {{5, 3}});
    fixq::ReLU relu6("relu6", 6.0);
    relu6.bind({in}, {{5, 3}});
    CHECK(relu.output_format() == in);
    const auto y = int_equals_sim(relu, {x});
    const auto y6 = int_equals_sim(relu6, {x});
    const i128 cap = std::min<i128>(fixq_test::hi_code(in.word, in.is_signed),
                                    static_cast<i128>(std::floor(std::ldexp(6.0, in.frac))));
    for (std::size_t k = 0; k < xc.size(); ++k) {
      REQUIRE(y->data[k] == std::max(xc[k], 0));
      REQUIRE(y6->data[k] == std::min<i128>(std::max(xc[k], 0), cap));
    }
  }
}

TEST_CASE("Flatten, Add and Concat: formats aligned exactly", "[layers][merge]") {
  Rng r(6);
  for (Round round : fixq::all_rounds)
    for (Overflow overflow : fixq::all_overflows)
      for (int rep = 0; rep < 4; ++rep) {
        const Format fa = random_format(r, 2, 12), fb = random_format(r, 2, 12);
        QuantSpec out{random_format(r, 2, 16), round, overflow};
        if (round == Round::Stochastic) out.seed = 3;
        const auto a = random_input(r, {2, 3, 2, 2}, 4.0f), b = random_input(r, {2, 3, 2, 2}, 4.0f);
        const auto ac = codes_of(a, fa), bc = codes_of(b, fb);
        fixq::Add add("add", out);
        add.bind({fa, fb}, {{3, 2, 2}, {3, 2, 2}});
        const auto ys = int_equals_sim(add, {a, b});
        const int F = std::max(fa.frac, fb.frac);
        bool overflowed = false;
        for (std::size_t k = 0; k < ac.size(); ++k) {
          const i128 s = static_cast<i128>(ac[k]) * fixq_test::p2(F - fa.frac) + static_cast<i128>(bc[k]) * fixq_test::p2(F - fb.frac);
          auto [num, den] = rescale(s, F, out.format.frac);
          const auto want = ref_code(num, den, out, k);
          if (!want) overflowed = true;
          else if (ys) REQUIRE(ys->data[k] == *want);
        }
        CHECK(overflowed == !ys.has_value());

        fixq::Concat cat("cat", out);
        const auto c = random_input(r, {2, 3, 2, 1}, 4.0f);
        cat.bind({fa, fb}, {{3, 2, 2}, {3, 2, 1}});
        REQUIRE(cat.output_shape() == Shape{3, 2, 3});
        const auto yc = int_equals_sim(cat, {a, c});
        const auto cc = codes_of(c, fb);
        if (yc)
          for (std::size_t row = 0; row < 12; ++row)
            for (int j = 0; j < 3; ++j) {
              const std::size_t k = row * 3 + static_cast<std::size_t>(j);
              const i128 code = j < 2 ? ac[row * 2 + static_cast<std::size_t>(j)] : cc[row];
              auto [num, den] = rescale(code, j < 2 ? fa.frac : fb.frac, out.format.frac);
              REQUIRE(yc->data[k] == *ref_code(num, den, out, k));
            }

        fixq::Flatten flat("flat");
        flat.bind({fa}, {{3, 2, 2}});
        REQUIRE(flat.output_shape() == Shape{12});
        const auto yf = int_equals_sim(flat, {a});
        REQUIRE(std::vector<std::int32_t>(yf->data) == ac);
      }
}

TEST_CASE("BatchNorm: kept as a fixed-point affine layer, or folded into Dense / Conv2D", "[layers][batch_norm]") {
  Rng r(7);
  fixq::BatchNormParams bn{{1.5f, 0.5f, -2.0f}, {0.1f, -0.3f, 1.0f}, {0.2f, 0.0f, -1.0f}, {1.0f, 4.0f, 0.25f}};
  const auto [s, t] = bn.affine();
  CHECK(s[1] == Approx(0.5 / std::sqrt(4.001)));
  CHECK(t[2] == Approx(1.0 - (-1.0) * (-2.0 / std::sqrt(0.251))));
  for (Round round : fixq::all_rounds) {
    const Format in{8, 4};
    QuantSpec out{Format{10, 4}, round, Overflow::Saturate};
    if (round == Round::Stochastic) out.seed = 9;
    const fixq::LinearFormats f{in, Format{8, 5}, {}, {}, out};
    fixq::BatchNorm layer("bn", bn, f);
    layer.bind({in}, {{4, 3}});
    const auto x = random_input(r, {2, 4, 3}, 3.0f);
    const auto y = int_equals_sim(layer, {x});
    REQUIRE(y);
    // Reference: x code * s code at frac 4 + 5, plus t code (32 bits, same frac), rounded into out.
    const auto xc = codes_of(x, in);
    for (std::size_t k = 0; k < xc.size(); ++k) {
      const std::size_t c = k % 3;
      std::int32_t sc, tc;
      fixq::quantize_span(&s[c], &sc, 1, QuantSpec{Format{8, 5}});
      fixq::quantize_span(&t[c], &tc, 1, QuantSpec{Format{32, 9}});
      auto [num, den] = rescale(static_cast<i128>(xc[k]) * sc + tc, 9, 4);
      REQUIRE(y->data[k] == *ref_code(num, den, out, k));
    }
  }
  // Folding: Dense then BN equals the folded Dense in float.
  NDArray<float> w(Shape{4, 3}), b(Shape{3});
  for (auto& v : w.data) v = r.normal(1.0f);
  for (auto& v : b.data) v = r.normal(1.0f);
  const fixq::LinearFormats lf{Format{8, 4}, Format{8, 5}, {}, {}, QuantSpec{Format{16, 8}}};
  fixq::Dense d("d", w, b, lf);
  d.bind({lf.input}, {{4}});
  fixq::Dense folded = fixq::fold_batch_norm(d, bn, lf);
  folded.bind({lf.input}, {{4}});
  const auto x = random_input(r, {5, 4}, 1.0f);
  const auto y1 = d.forward_float(x), y2 = folded.forward_float(x);
  for (std::size_t k = 0; k < y1.size(); ++k) CHECK(y2.data[k] == Approx(y1.data[k] * s[k % 3] + t[k % 3]).margin(1e-5));
  CHECK_THROWS_AS(fixq::BatchNorm("bad", fixq::BatchNormParams{{1.0f}, {0.0f}, {0.0f}, {-1.0f}}, lf), fixq::layer_error);
}

TEST_CASE("Layouts: PyTorch's NCHW / OIHW / (out, in) to fixq's NHWC / HWIO / (in, out)", "[layers][layout]") {
  NDArray<int> x(Shape{2, 3, 4, 5});
  for (std::size_t i = 0; i < x.size(); ++i) x.data[i] = static_cast<int>(i);
  const auto y = fixq::nchw_to_nhwc(x);
  REQUIRE(y.shape == Shape{2, 4, 5, 3});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 4; ++h)
        for (int w = 0; w < 5; ++w)
          REQUIRE(y.data[static_cast<std::size_t>(((n * 4 + h) * 5 + w) * 3 + c)] == ((n * 3 + c) * 4 + h) * 5 + w);
  CHECK(fixq::nhwc_to_nchw(y) == x);
  const auto hwio = fixq::oihw_to_hwio(x);  // (O, I, H, W) = (2, 3, 4, 5) -> (4, 5, 3, 2)
  REQUIRE(hwio.shape == Shape{4, 5, 3, 2});
  CHECK(hwio.data[static_cast<std::size_t>(((1 * 5 + 2) * 3 + 1) * 2 + 1)] == ((1 * 3 + 1) * 4 + 1) * 5 + 2);
  NDArray<int> lin(Shape{2, 3}, std::vector<int>{1, 2, 3, 4, 5, 6});
  CHECK(fixq::out_in_to_in_out(lin) == NDArray<int>(Shape{3, 2}, std::vector<int>{1, 4, 2, 5, 3, 6}));
  CHECK_THROWS_AS(fixq::nchw_to_nhwc(lin), std::invalid_argument);
}
