// Model: a graph of layers (a residual Add included), the three paths over it,
// verify_bit_exact on every layer and every mode, and that verify_bit_exact
// finds a wrong element (a layer whose int path is off by one LSB somewhere).
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/layers.hpp>
#include <fixq/model/calibrate.hpp>
#include <fixq/model/model.hpp>

using fixq::Format;
using fixq::NDArray;
using fixq::Overflow;
using fixq::QuantSpec;
using fixq::Round;
using fixq::Shape;

namespace {

NDArray<float> random_array(std::mt19937& g, Shape s, float scale) {
  NDArray<float> x(std::move(s));
  std::normal_distribution<float> d(0.0f, scale);
  for (auto& v : x.data) v = d(g);
  return x;
}

/// A small CNN with a residual connection: conv -> relu -> maxpool -> conv ->
/// add(relu path) -> bn -> global average -> dense.
fixq::Model small_cnn(Round round, Overflow overflow, std::mt19937& g) {
  const auto spec = [&](Format f) {
    QuantSpec s{f, round, overflow};
    if (round == Round::Stochastic) s.seed = 2024;
    return s;
  };
  fixq::Model m({8, 8, 2}, QuantSpec{Format{8, 7, false}});
  const Format a{8, 4};
  m.add(fixq::Conv2D("conv1", random_array(g, {3, 3, 2, 4}, 0.5f), random_array(g, {4}, 0.5f),
                     fixq::Window2D{{}, {1, 1}, {1, 1}, fixq::Padding::same()}, 1,
                     fixq::LinearFormats{Format{8, 7, false}, Format{8, 6}, {}, {}, spec(a)}));
  m.add(fixq::ReLU("relu1"));
  m.add(fixq::MaxPool2D("pool1", {2, 2}));  // strides = the pool size
  m.add(fixq::Conv2D("conv2", random_array(g, {3, 3, 1, 4}, 0.5f), {}, fixq::Window2D{{}, {1, 1}, {1, 1}, fixq::Padding::same()},
                     4, fixq::LinearFormats{a, Format{6, 5}, {5, 4, 5, 3}, {}, spec(Format{10, 5})}));
  m.add(fixq::Add("res", spec(Format{10, 4})), {"conv2", "pool1"});
  m.add(fixq::BatchNorm("bn", fixq::BatchNormParams{{1.0f, 0.5f, 2.0f, 1.0f}, {0.0f, 0.1f, -0.2f, 0.3f},
                                                    {0.1f, 0.0f, 0.2f, -0.1f}, {1.0f, 2.0f, 0.5f, 1.0f}},
                        fixq::LinearFormats{Format{10, 4}, Format{8, 6}, {}, {}, spec(Format{10, 4})}));
  m.add(fixq::GlobalAvgPool2D("gap", spec(Format{12, 8})));
  m.add(fixq::Dense("fc", random_array(g, {4, 3}, 0.5f), random_array(g, {3}, 0.5f),
                    fixq::LinearFormats{Format{12, 8}, Format{8, 6}, {}, Format{16, 10}, spec(Format{16, 10})}));
  return m;
}

/// A layer whose int path is off by one LSB at element 5 (to see verify fail).
class OffByOne : public fixq::Layer {
 public:
  OffByOne() : Layer("wrong") {}
  std::string type() const override { return "OffByOne"; }
  std::unique_ptr<fixq::Layer> clone() const override { return std::make_unique<OffByOne>(*this); }

 protected:
  void on_bind() override { set_output(input_formats()[0], input_shapes()[0]); }
  NDArray<float> run_float(std::span<const NDArray<float>* const> in) const override { return *in[0]; }
  NDArray<float> run_sim(std::span<const NDArray<float>* const> in, std::uint64_t) const override { return *in[0]; }
  NDArray<std::int32_t> run_int(std::span<const NDArray<std::int32_t>* const> in, std::uint64_t) const override {
    auto y = *in[0];
    if (y.size() > 5) y.data[5] += 1;
    return y;
  }
};

}  // namespace

TEST_CASE("Model: a residual CNN is bit-exact in every mode", "[model]") {
  std::mt19937 g(1);
  for (Round round : fixq::all_rounds)
    for (Overflow overflow : {Overflow::Saturate, Overflow::SaturateSymmetric, Overflow::SaturateZero, Overflow::Wrap}) {
      const fixq::Model m = small_cnn(round, overflow, g);
      const auto x = random_array(g, {3, 8, 8, 2}, 0.6f);
      const fixq::VerifyReport r = m.verify_bit_exact(x);
      INFO(fixq::to_string(round) << " " << fixq::to_string(overflow) << ": " << r.text());
      REQUIRE(r.ok);
      CHECK(r.layers_checked == m.size());
      CHECK(r.elements_checked == 3 * (8 * 8 * 4 * 2 + 4 * 4 * 4 * 4 + 4 + 3));
      const auto logits = m.forward_int(m.input_codes(x));
      CHECK(logits.shape == Shape{3, 3});
      const auto sim = m.forward_sim(x);
      for (std::size_t k = 0; k < logits.size(); ++k) CHECK(logits.data[k] * m.layer("fc").output_format().lsb() == sim.data[k]);
      CHECK(m.forward_float(x).shape == Shape{3, 3});
    }
}

TEST_CASE("Model: verify_bit_exact reports the first wrong element", "[model]") {
  fixq::Model m({4, 3}, QuantSpec{Format{8, 4}});
  m.add(fixq::ReLU("relu"));
  m.add_layer(std::make_unique<OffByOne>());
  std::mt19937 g(2);
  const auto r = m.verify_bit_exact(random_array(g, {2, 4, 3}, 2.0f));
  REQUIRE_FALSE(r.ok);
  CHECK(r.layer == "wrong");
  CHECK(r.index == 5);
  CHECK(r.int_value == r.sim_value + 1.0 / 16);
  CHECK(r.text().find("mismatch in layer 'wrong' at element 5") != std::string::npos);
}

TEST_CASE("Model: errors name the layer and the problem", "[model]") {
  fixq::Model m({4, 4, 1}, QuantSpec{Format{8, 4}});
  m.add(fixq::ReLU("relu"));
  CHECK_THROWS_WITH(m.add(fixq::ReLU("relu")), Catch::Matchers::Contains("'relu'"));
  CHECK_THROWS_WITH(m.add(fixq::Add("sum", QuantSpec{Format{8, 4}}), {"relu", "nope"}), Catch::Matchers::Contains("'nope'"));
  CHECK_THROWS_WITH(m.add(fixq::Dense("fc", NDArray<float>(Shape{16, 2}), {},
                                      fixq::LinearFormats{Format{8, 4}, Format{8, 6}, {}, {}, QuantSpec{Format{8, 4}}})),
                    Catch::Matchers::Contains("layer 'fc'") && Catch::Matchers::Contains("(batch, 16)"));
  CHECK_THROWS_WITH(m.forward_sim(NDArray<float>(Shape{2, 4, 4, 2})), Catch::Matchers::Contains("(2, 4, 4, 1)"));
  m.add(fixq::Flatten("flat"));
  m.add(fixq::Dense("fc", NDArray<float>(Shape{16, 2}), {},
                    fixq::LinearFormats{Format{8, 4}, Format{8, 6}, {}, {}, QuantSpec{Format{8, 4}}}));
  m.set_outputs({"flat", "fc"});
  CHECK(m.outputs() == std::vector<std::string>{"flat", "fc"});
  CHECK(m.forward_sim(NDArray<float>(Shape{2, 4, 4, 1})).shape == Shape{2, 16});
  CHECK(m.layer("fc").info().macs == 32);
}

TEST_CASE("Model: an Overflow::Throw at run time names the layer and the sample in the whole input", "[model]") {
  fixq::Model m({2}, QuantSpec{Format{8, 4}});
  m.add(fixq::Dense("fc", NDArray<float>({2, 1}, {1.0f, 1.0f}), {},
                    fixq::LinearFormats{Format{8, 4}, Format{8, 6}, {}, {}, {.format = {6, 4}, .overflow = Overflow::Throw}}));
  m.add(fixq::ReLU("relu"));
  // Sums 0.5, 1.0, 2.5 (> the largest value 1.9375 of <6, 4>), 0.25.
  const NDArray<float> x({4, 2}, {0.25f, 0.25f, 0.5f, 0.5f, 1.25f, 1.25f, 0.125f, 0.125f});
  for (const bool sim : {false, true}) {
    INFO((sim ? "sim" : "int") << " path");
    try {
      if (sim) (void)m.forward_sim_all(x, 10);
      else (void)m.forward_int_all(m.input_codes(x, 10), 10);
      FAIL("no overflow");
    } catch (const fixq::layer_error& e) {
      CHECK(e.layer() == "fc");
      REQUIRE(e.sample());
      CHECK(*e.sample() == 12);  // the third sample of a batch that starts at sample 10
      CHECK_THAT(e.what(), Catch::Contains("layer 'fc'") && Catch::Contains("sample 12") && Catch::Contains("overflows"));
      CHECK_THAT(e.what(), !Catch::Contains("fixq: fixq:") && !Catch::Contains(": fixq: "));
    }
  }
  // The model input itself: sample 2, element 1 (0.25 + 8 does not fit <8, 4>).
  fixq::Model in({2}, QuantSpec{Format{8, 4}, Round::NearestEven, Overflow::Throw});
  in.add(fixq::ReLU("relu"));
  NDArray<float> big = x;
  big.data[5] = 8.25f;
  try {
    (void)in.input_codes(big, 100);
    FAIL("no overflow");
  } catch (const fixq::layer_error& e) {
    CHECK(e.layer() == "input");
    REQUIRE(e.sample());
    CHECK(*e.sample() == 102);
    CHECK_THAT(e.what(), Catch::Contains("sample 102, element 1"));
  }
}

TEST_CASE("calibrate: formats from data, bit-exact, closer to float with more bits", "[model][calibrate]") {
  std::mt19937 g(4);
  const fixq::Model m = small_cnn(Round::NearestEven, Overflow::Saturate, g);
  auto data = random_array(g, {16, 8, 8, 2}, 0.6f);
  for (float& v : data.data) v = std::fabs(v);  // the model's input format is unsigned
  const auto test = random_array(g, {8, 8, 8, 2}, 0.6f);
  const auto reference = m.forward_float(data);
  double previous_error = 1e30;
  for (int bits : {4, 8, 12, 16}) {
    const fixq::Model q = fixq::calibrate(m, data, {.activation_bits = bits, .weight_bits = bits});
    INFO(bits << " bits");
    REQUIRE(q.size() == m.size());
    CHECK(q.input_spec().format.word == bits);
    REQUIRE(q.verify_bit_exact(test).ok);
    // MaxAbs: nothing saturates on the calibration data, so each new-format output's
    // largest float value fits its format (up to one LSB of rounding).
    const auto acts = q.forward_float_all(data);
    for (std::size_t i = 0; i < q.size(); ++i) {
      const Format f = q.layer(i).output_format();
      CHECK(f.word == bits);
      for (float v : acts[i].data) REQUIRE(v <= f.max_value() + f.lsb());
    }
    const auto dense = dynamic_cast<const fixq::Dense*>(&q.layer("fc"));
    REQUIRE(dense);
    CHECK(dense->formats().weight.word == bits);
    // On the calibration data (nothing saturates there) the simulated logits
    // approach the float ones as the width grows.
    const auto sim = q.forward_sim(data);
    double error = 0;
    for (std::size_t k = 0; k < sim.size(); ++k) error = std::max(error, std::fabs(double(sim.data[k]) - reference.data[k]));
    CHECK(error < previous_error);
    previous_error = error;
  }
  CHECK(previous_error < 0.01);
  // Per-channel weight fractions: one per output channel.
  const fixq::Model pc = fixq::calibrate(m, data, {.activation_bits = 8, .weight_bits = 6, .per_channel = true});
  const auto conv1 = dynamic_cast<const fixq::Conv2D*>(&pc.layer("conv1"));
  REQUIRE(conv1);
  CHECK(conv1->formats().weight_frac.size() == 4);
  CHECK(pc.verify_bit_exact(test).ok);
}
