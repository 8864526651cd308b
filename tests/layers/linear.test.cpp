// Dense and Conv2D: over random layers, shapes, strides, paddings, dilations,
// groups, formats and every rounding and overflow mode,
//   (1) the int path equals the sim path bit for bit: int codes * lsb == sim values;
//   (2) both equal a naive reference written here in exact 128-bit arithmetic from
//       the definition (direct convolution loops, TensorFlow's padding rule, the
//       contract of the modes in support/int128_reference.hpp), sharing no code
//       with the library's layers or kernels;
//   (3) the float path is close to the reference's unquantized sum.
// Overflow::Throw: both paths throw exactly when the reference overflows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/layers/conv2d.hpp>
#include <fixq/layers/dense.hpp>
#include <fixq/random.hpp>

#include "support/int128_reference.hpp"
#include "support/random_layers.hpp"

using fixq::Format;
using fixq::NDArray;
using fixq::Overflow;
using fixq::QuantSpec;
using fixq::Round;
using fixq_test::i128;
using fixq_test::random_format;
using fixq_test::Rng;

namespace {

/// Codes of x on format f (NearestEven, Saturate), by the reference's contract.
std::vector<std::int32_t> input_codes(const std::vector<float>& x, const Format& f) {
  const fixq_test::Target t{f, Round::NearestEven, Overflow::Saturate, fixq_test::lo_code(f.word, f.is_signed),
                            fixq_test::hi_code(f.word, f.is_signed)};
  std::vector<std::int32_t> c(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    // x * 2^frac = m * 2^e exactly (float: 24-bit m)
    int e = 0;
    const double fr = std::frexp(static_cast<double>(x[i]), &e);
    const auto m = static_cast<i128>(std::ldexp(fr, 30));  // exact: 24 bits
    const int s = e - 30 + f.frac;
    const i128 v = s >= 0 ? fixq_test::ref_round(m * fixq_test::p2(s), 1, Round::NearestEven)
                          : fixq_test::ref_round(m, fixq_test::p2(-s), Round::NearestEven);
    c[i] = static_cast<std::int32_t>(*fixq_test::ref_narrow(v, t));
  }
  return c;
}

/// The reference's code of the exact value s * 2^-F in spec, or nullopt (throws).
std::optional<i128> reference_code(i128 s, int F, const QuantSpec& spec, std::uint64_t index) {
  const Format& o = spec.format;
  const std::uint32_t u = spec.round == Round::Stochastic ? fixq::random_u32(*spec.seed, index) : 0;
  const i128 v = o.frac >= F ? fixq_test::ref_round(s * fixq_test::p2(o.frac - F), 1, spec.round, u)
                             : fixq_test::ref_round(s, fixq_test::p2(F - o.frac), spec.round, u);
  const fixq_test::Target t{o, spec.round, spec.overflow, fixq_test::lo_code(o.word, o.is_signed),
                            fixq_test::hi_code(o.word, o.is_signed)};
  return fixq_test::ref_narrow(v, t);
}

/// One random layer's formats.
fixq::LinearFormats random_formats(Rng& r, int cout, Round round, Overflow overflow) {
  // (words up to 16: the int path keeps codes that fit int16 in int16, the others in int32)
  fixq::LinearFormats f{random_format(r, 2, 16), random_format(r, 2, 16), {}, {},
                        QuantSpec{random_format(r, 2, 16), round, overflow}};
  if (round == Round::Stochastic) f.output.seed = static_cast<std::uint64_t>(r.uniform(0, 1000));
  if (r.coin())
    for (int c = 0; c < cout; ++c) f.weight_frac.push_back(r.uniform(-2, f.weight.word + 4));
  if (r.coin()) f.bias = Format{r.uniform(8, 32), r.uniform(-2, 20), true};
  f.weight.frac = r.uniform(-2, f.weight.word + 4);
  return f;
}

/// The weight/bias codes the layer uses must be the reference's too.
std::int32_t weight_code(float w, const Format& f) { return input_codes({w}, f)[0]; }

struct Case {
  std::string what;
  fixq::LinearFormats formats;
};

/// Checks (1)-(3) for a bound layer on input x (batch first) against the reference
/// sums s (one per output element, at fraction F[channel]).
void check_paths(const fixq::Layer& layer, const NDArray<float>& x, const std::vector<i128>& s,
                 const std::vector<int>& F, const std::vector<double>& float_ref, const QuantSpec& out,
                 const Format& in_fmt, const std::string& what) {
  INFO(what);
  const auto codes = input_codes(x.data, in_fmt);
  const NDArray<std::int32_t> xc(x.shape, codes);
  const std::size_t cout = F.size();
  // Expected codes, or throws.
  bool any_overflow = false;
  std::vector<i128> want(s.size());
  for (std::size_t k = 0; k < s.size(); ++k) {
    const auto c = reference_code(s[k], F[k % cout], out, k);
    if (!c) {
      any_overflow = true;
      break;
    }
    want[k] = *c;
  }
  if (any_overflow) {
    CHECK_THROWS_AS(layer.forward_int(xc), fixq::overflow_error);
    CHECK_THROWS_AS(layer.forward_sim(x), fixq::overflow_error);
    return;
  }
  const auto yi = layer.forward_int(xc);
  const auto ys = layer.forward_sim(x);
  REQUIRE(yi.size() == s.size());
  REQUIRE(ys.size() == s.size());
  const double lsb = out.format.lsb();
  for (std::size_t k = 0; k < s.size(); ++k) {
    INFO("element " << k);
    REQUIRE(static_cast<i128>(yi[k]) == want[k]);
    REQUIRE(static_cast<double>(yi[k]) * lsb == static_cast<double>(ys[k]));
  }
  const auto yf = layer.forward_float(x);
  for (std::size_t k = 0; k < s.size(); ++k) REQUIRE(std::fabs(yf[k] - float_ref[k]) <= 1e-3 * (1 + std::fabs(float_ref[k])));
}

/// The exact sum of a channel from codes: products at fin + fw, bias at fb, at F.
struct ChannelFormats {
  std::vector<Format> w, b;
  std::vector<int> F;
};
ChannelFormats channel_formats(const fixq::LinearFormats& f, int cout) {
  ChannelFormats c;
  for (int o = 0; o < cout; ++o) {
    const Format wf{f.weight.word, f.weight_frac.empty() ? f.weight.frac : f.weight_frac[static_cast<std::size_t>(o)],
                    f.weight.is_signed};
    const Format bf = f.bias ? *f.bias : Format{32, f.input.frac + wf.frac, true};
    c.w.push_back(wf);
    c.b.push_back(bf);
    c.F.push_back(std::max(f.input.frac + wf.frac, bf.frac));
  }
  return c;
}

}  // namespace

TEST_CASE("Dense: int == sim == exact reference, every mode", "[layers][dense]") {
  Rng r(1);
  for (Round round : fixq::all_rounds)
    for (Overflow overflow : fixq::all_overflows)
      for (int rep = 0; rep < 6; ++rep) {
        const int in = r.uniform(1, 40), out = r.uniform(1, 9), batch = r.uniform(1, 3);
        auto f = random_formats(r, out, round, overflow);
        NDArray<float> w(fixq::Shape{in, out}), b(fixq::Shape{out}), x(fixq::Shape{batch, in});
        for (auto& v : w.data) v = r.normal(0.7f);
        for (auto& v : b.data) v = r.normal(2.0f);
        for (auto& v : x.data) v = r.normal(3.0f);
        fixq::Dense layer("d", w, r.coin() ? b : NDArray<float>{}, f);
        const bool has_bias = layer.bias().size() != 0;
        try {
          layer.bind({f.input}, {{in}});
        } catch (const fixq::layer_error& e) {
          // only for sums beyond 64 bits, which these widths cannot reach
          FAIL(e.what());
        }
        const auto cf = channel_formats(f, out);
        const auto xc = input_codes(x.data, f.input);
        std::vector<i128> s(static_cast<std::size_t>(batch * out));
        std::vector<double> fref(s.size());
        for (int n = 0; n < batch; ++n)
          for (int o = 0; o < out; ++o) {
            const std::size_t oi = static_cast<std::size_t>(o);
            const int fa = f.input.frac + cf.w[oi].frac;
            i128 acc = 0;
            double fl = 0;
            for (int i = 0; i < in; ++i) {
              const float wv = w.data[static_cast<std::size_t>(i * out + o)];
              acc += static_cast<i128>(xc[static_cast<std::size_t>(n * in + i)]) * weight_code(wv, cf.w[oi]);
              fl += static_cast<double>(x.data[static_cast<std::size_t>(n * in + i)]) * wv;
            }
            const i128 bc = has_bias ? weight_code(b.data[oi], cf.b[oi]) : 0;
            s[static_cast<std::size_t>(n * out + o)] = acc * fixq_test::p2(cf.F[oi] - fa) + bc * fixq_test::p2(cf.F[oi] - cf.b[oi].frac);
            fref[static_cast<std::size_t>(n * out + o)] = fl + (has_bias ? b.data[oi] : 0.0);
          }
        check_paths(layer, x, s, cf.F, fref, f.output, f.input,
                    "Dense " + std::to_string(in) + "->" + std::to_string(out) + " " + std::string(fixq::to_string(round)) +
                        " " + std::string(fixq::to_string(overflow)) + " in " + f.input.name() + " w " +
                        f.weight.name() + " out " + f.output.format.name());
      }
}

TEST_CASE("Conv2D: int == sim == exact reference over shapes, strides, padding, dilation, groups", "[layers][conv2d]") {
  Rng r(2);
  for (Round round : fixq::all_rounds)
    for (Overflow overflow : fixq::all_overflows)
      for (int rep = 0; rep < 4; ++rep) {
        const int groups = r.uniform(1, 3);
        const int cin = groups * r.uniform(1, 3), cout = groups * r.uniform(1, 3);
        const int kh = r.uniform(1, 3), kw = r.uniform(1, 3);
        fixq::Window2D win;
        win.strides = {r.uniform(1, 3), r.uniform(1, 3)};
        win.dilation = {r.uniform(1, 2), r.uniform(1, 2)};
        const int pk = r.uniform(0, 2);
        win.padding = pk == 0   ? fixq::Padding::valid()
                      : pk == 1 ? fixq::Padding::same()
                                : fixq::Padding::explicit_pads(r.uniform(0, 2), r.uniform(0, 2), r.uniform(0, 2),
                                                               r.uniform(0, 2));
        const int H = r.uniform((kh - 1) * win.dilation[0] + 1, 8), W = r.uniform((kw - 1) * win.dilation[1] + 1, 8);
        const int batch = r.uniform(1, 2);
        auto f = random_formats(r, cout, round, overflow);
        NDArray<float> w(fixq::Shape{kh, kw, cin / groups, cout}), b(fixq::Shape{cout}), x(fixq::Shape{batch, H, W, cin});
        for (auto& v : w.data) v = r.normal(0.7f);
        for (auto& v : b.data) v = r.normal(2.0f);
        for (auto& v : x.data) v = r.normal(3.0f);
        const bool has_bias = r.coin();
        fixq::Conv2D layer("c", w, has_bias ? b : NDArray<float>{}, win, groups, f);
        layer.bind({f.input}, {{H, W, cin}});
        // The reference geometry, from the definition.
        const int eh = (kh - 1) * win.dilation[0] + 1, ew = (kw - 1) * win.dilation[1] + 1;
        int Ho, Wo, pt, pl;
        if (pk == 0) {
          Ho = (H - eh) / win.strides[0] + 1, Wo = (W - ew) / win.strides[1] + 1, pt = pl = 0;
        } else if (pk == 1) {
          Ho = (H + win.strides[0] - 1) / win.strides[0];
          Wo = (W + win.strides[1] - 1) / win.strides[1];
          pt = std::max((Ho - 1) * win.strides[0] + eh - H, 0) / 2;
          pl = std::max((Wo - 1) * win.strides[1] + ew - W, 0) / 2;
        } else {
          Ho = (H + win.padding.top + win.padding.bottom - eh) / win.strides[0] + 1;
          Wo = (W + win.padding.left + win.padding.right - ew) / win.strides[1] + 1;
          pt = win.padding.top, pl = win.padding.left;
        }
        REQUIRE(layer.output_shape() == fixq::Shape{Ho, Wo, cout});
        const auto cf = channel_formats(f, cout);
        const auto xc = input_codes(x.data, f.input);
        const int cg = cin / groups, og = cout / groups;
        std::vector<i128> s(static_cast<std::size_t>(batch * Ho * Wo * cout));
        std::vector<double> fref(s.size());
        std::size_t k = 0;
        for (int n = 0; n < batch; ++n)
          for (int oy = 0; oy < Ho; ++oy)
            for (int ox = 0; ox < Wo; ++ox)
              for (int o = 0; o < cout; ++o, ++k) {
                const std::size_t oi = static_cast<std::size_t>(o);
                const int g = o / og;
                i128 acc = 0;
                double fl = 0;
                for (int ky = 0; ky < kh; ++ky)
                  for (int kx = 0; kx < kw; ++kx)
                    for (int ci = 0; ci < cg; ++ci) {
                      const int iy = oy * win.strides[0] + ky * win.dilation[0] - pt;
                      const int ix = ox * win.strides[1] + kx * win.dilation[1] - pl;
                      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                      const std::size_t xi = static_cast<std::size_t>(((n * H + iy) * W + ix) * cin + g * cg + ci);
                      const float wv = w.data[static_cast<std::size_t>(((ky * kw + kx) * cg + ci) * cout + o)];
                      acc += static_cast<i128>(xc[xi]) * weight_code(wv, cf.w[oi]);
                      fl += static_cast<double>(x.data[xi]) * wv;
                    }
                const i128 bc = has_bias ? weight_code(b.data[oi], cf.b[oi]) : 0;
                const int fa = f.input.frac + cf.w[oi].frac;
                s[k] = acc * fixq_test::p2(cf.F[oi] - fa) + bc * fixq_test::p2(cf.F[oi] - cf.b[oi].frac);
                fref[k] = fl + (has_bias ? b.data[oi] : 0.0);
              }
        check_paths(layer, x, s, cf.F, fref, f.output, f.input,
                    "Conv2D " + fixq::shape_text(w.shape) + " on " + fixq::shape_text(x.shape) + " groups " +
                        std::to_string(groups) + " strides " + std::to_string(win.strides[0]) +
                        std::to_string(win.strides[1]) + " dil " + std::to_string(win.dilation[0]) +
                        std::to_string(win.dilation[1]) + " pad kind " + std::to_string(pk) + " " +
                        std::string(fixq::to_string(round)) + " " + std::string(fixq::to_string(overflow)));
      }
}

TEST_CASE("Linear layers: accumulator width from the widths and the reduction length", "[layers]") {
  // 8-bit signed x 8-bit signed, K = 100: |sum| <= 100 * 128 * 128 = 1638400: int32.
  const fixq::LinearFormats f8{Format{8, 4}, Format{8, 6}, {}, {}, QuantSpec{Format{8, 3}}};
  fixq::Dense small("small", NDArray<float>(fixq::Shape{100, 2}, 0.1f), {}, f8);
  small.bind({f8.input}, {{100}});
  CHECK(small.info().accumulator_bits == 32);
  CHECK(small.info().exact_sum_bits == 33);  // bias 32 bits at the product frac dominates: 2^31 + 1638400
  // 16 x 16 bits, K = 4096: 4096 * 2^15 * 2^15 = 2^42: int64.
  const fixq::LinearFormats f16{Format{16, 8}, Format{16, 12}, {}, Format{16, 20}, QuantSpec{Format{16, 8}}};
  fixq::Dense wide("wide", NDArray<float>(fixq::Shape{4096, 1}, 0.01f), {}, f16);
  wide.bind({f16.input}, {{4096}});
  CHECK(wide.info().accumulator_bits == 64);
  CHECK(wide.info().exact_sum_bits == 44);
  // A bias far finer than the products: the shifted sum needs more than 64 bits.
  const fixq::LinearFormats far{Format{16, 0}, Format{16, 0}, {}, Format{32, 60}, QuantSpec{Format{16, 8}}};
  fixq::Dense bad("bad", NDArray<float>(fixq::Shape{4, 1}, 1.0f), {}, far);
  CHECK_THROWS_WITH(bad.bind({far.input}, {{4}}), Catch::Matchers::Contains("layer 'bad'") &&
                                                     Catch::Matchers::Contains("bits"));
  // Wrong input format or shape: a clear error naming the layer.
  CHECK_THROWS_WITH(small.bind({Format{8, 3}}, {{100}}), Catch::Matchers::Contains("small") &&
                                                             Catch::Matchers::Contains("Fixed<8,3>"));
  CHECK_THROWS_WITH(small.bind({f8.input}, {{99}}), Catch::Matchers::Contains("(batch, 100)"));
}

TEST_CASE("The Ristretto case: a half-to-even simulation next to a truncating integer port", "[layers]") {
  // The classic mismatch: the float simulation rounds the output half-to-even,
  // the integer port shifts right (Floor). They differ by one LSB on many outputs;
  // the same Round in both paths removes every difference.
  Rng r(8);
  NDArray<float> w(fixq::Shape{64, 10}), x(fixq::Shape{32, 64});
  for (auto& v : w.data) v = r.normal(0.3f);
  for (auto& v : x.data) v = r.normal(1.0f);
  const auto make = [&](Round round) {
    const fixq::LinearFormats f{Format{8, 5}, Format{8, 7}, {}, {}, QuantSpec{Format{8, 4}, round}};
    fixq::Dense d("fc", w, {}, f);
    d.bind({f.input}, {{64}});
    return d;
  };
  const fixq::Dense sim_layer = make(Round::NearestEven), port = make(Round::Floor);
  const auto codes = input_codes(x.data, Format{8, 5});
  const NDArray<std::int32_t> xc(x.shape, codes);
  const auto sim = sim_layer.forward_sim(x);
  const auto floor_port = port.forward_int(xc);
  const auto even_port = sim_layer.forward_int(xc);
  int differ = 0, same_mode_differ = 0;
  for (std::size_t k = 0; k < sim.size(); ++k) {
    differ += floor_port.data[k] * (1.0 / 16) != sim.data[k];
    same_mode_differ += even_port.data[k] * (1.0 / 16) != sim.data[k];
    REQUIRE(std::abs(floor_port.data[k] * (1.0 / 16) - sim.data[k]) <= 1.0 / 16);  // one LSB at most
  }
  CHECK(differ > 100);  // about half of the 320 outputs
  CHECK(same_mode_differ == 0);
}
