// The trainer: every backward pass against central differences of its forward
// pass (in double, through a plain re-implementation of the loss), optimizer
// updates against their formulas, determinism across thread counts, learning a
// task, the quantization hooks, and the trip to and from fixq::Model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <fixq/model/model.hpp>
#include <fixq/train.hpp>

namespace train = fixq::train;
using fixq::NDArray;
using fixq::Shape;

namespace {

NDArray<float> random_array(Shape s, std::uint32_t seed, float lo = -1, float hi = 1) {
  NDArray<float> a(std::move(s));
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (float& v : a.data) v = u(g);
  return a;
}

double dot(const NDArray<float>& a, const NDArray<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a.data[i]) * b.data[i];
  return s;
}

/// Checks layer's backward pass against central differences of L(x, params) =
/// sum(forward(x) * r) for a fixed random r: dx and every parameter's gradient.
/// `spaced`: inputs drawn from a grid of step 0.1 offset by 0.05 (never within
/// 0.05 of 0, 0.5 or each other), for layers with kinks (ReLU, MaxPool) where a
/// finite difference across a kink would be meaningless.
void check_gradients(train::Layer& layer, const Shape& in, std::int64_t n, std::uint32_t seed, bool spaced = false,
                     double tol = 2e-2) {
  layer.bind(in, seed);
  Shape xs{n};
  xs.insert(xs.end(), in.begin(), in.end());
  NDArray<float> x = random_array(xs, seed + 1);
  if (spaced) {
    for (std::size_t i = 0; i < x.size(); ++i) x.data[i] = -0.95f + 0.1f * static_cast<float>(i % 20) + 2.0f * static_cast<float>(i / 20);
    std::shuffle(x.data.begin(), x.data.end(), std::mt19937(seed));
  }
  train::Cache cache;
  const NDArray<float> y = layer.forward(x, cache, true);
  const NDArray<float> r = random_array(y.shape, seed + 2);
  std::vector<train::Param*> ps = layer.params();
  std::vector<NDArray<float>> grads;
  for (train::Param* p : ps) grads.emplace_back(p->value.shape);
  const NDArray<float> dx = layer.backward(r, cache, grads, true);
  const auto loss = [&] {
    train::Cache c;
    return dot(layer.forward(x, c, true), r);
  };
  const auto check = [&](std::vector<float>& v, const std::vector<float>& analytic, const char* what) {
    REQUIRE(v.size() == analytic.size());
    double worst = 0, scale = 1e-3;
    for (const float a : analytic) scale = std::max(scale, static_cast<double>(std::abs(a)));
    for (std::size_t i = 0; i < v.size(); i += 1 + v.size() / 61) {
      const float keep = v[i];
      const float h = 1e-2f * std::max(1.0f, std::abs(keep));
      v[i] = keep + h;
      const double up = loss();
      v[i] = keep - h;
      const double down = loss();
      v[i] = keep;
      const double numeric = (up - down) / (2.0 * h);
      worst = std::max(worst, std::abs(numeric - analytic[i]) / scale);
    }
    INFO(layer.type() << " " << what << ": worst error relative to the largest gradient " << worst);
    CHECK(worst < tol);
  };
  check(x.data, dx.data, "dx");
  for (std::size_t k = 0; k < ps.size(); ++k) check(ps[k]->value.data, grads[k].data, ps[k]->name.c_str());
}

train::Network small_net() {
  train::Network net({8, 8, 2});
  net.add(train::Conv2D("conv", 4, {3, 3}, fixq::Window2D{{3, 3}, {1, 1}, {1, 1}, fixq::Padding::same()}));
  net.add(train::BatchNorm("bn"));
  net.add(train::ReLU("relu"));
  net.add(train::MaxPool2D("pool", {2, 2}));
  net.add(train::Flatten("flat"));
  net.add(train::Dense("fc", 3));
  return net;
}

/// Three classes told apart by which quarter of the image is brightest.
void synthetic(std::size_t n, std::uint32_t seed, NDArray<float>& x, std::vector<std::uint8_t>& y) {
  x = random_array({static_cast<std::int64_t>(n), 8, 8, 2}, seed, 0, 0.5f);
  y.resize(n);
  std::mt19937 g(seed);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = static_cast<std::uint8_t>(g() % 3);
    const int oy = y[i] == 1 ? 4 : 0, ox = y[i] == 2 ? 4 : 0;
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        for (int c = 0; c < 2; ++c) x.data[((i * 8 + static_cast<std::size_t>(oy + a)) * 8 + static_cast<std::size_t>(ox + b)) * 2 + static_cast<std::size_t>(c)] += 0.6f;
  }
}

std::vector<float> all_weights(train::Network& net) {
  std::vector<float> w;
  for (train::Param* p : net.params()) w.insert(w.end(), p->value.data.begin(), p->value.data.end());
  return w;
}

}  // namespace

TEST_CASE("backward passes equal central differences of the forward passes", "[train]") {
  SECTION("Dense") {
    train::Dense d("d", 5);
    check_gradients(d, {7}, 3, 10);
  }
  SECTION("Dense over an image (read as features)") {
    train::Dense d("d", 4);
    check_gradients(d, {3, 2, 2}, 2, 11);
  }
  SECTION("Conv2D, valid") {
    train::Conv2D c("c", 3, {3, 3});
    check_gradients(c, {6, 5, 2}, 2, 12);
  }
  SECTION("Conv2D, same padding, stride 2") {
    train::Conv2D c("c", 4, {3, 3}, fixq::Window2D{{3, 3}, {2, 2}, {1, 1}, fixq::Padding::same()});
    check_gradients(c, {7, 6, 3}, 2, 13);
  }
  SECTION("Conv2D, groups 2, dilation 2, explicit padding") {
    train::Conv2D c("c", 4, {3, 2}, fixq::Window2D{{3, 2}, {1, 2}, {2, 1}, fixq::Padding::explicit_pads(1, 2, 0, 1)}, 2);
    check_gradients(c, {7, 6, 4}, 2, 14);
  }
  SECTION("depthwise Conv2D") {
    train::Conv2D c("c", 3, {3, 3}, {}, 3);
    check_gradients(c, {5, 5, 3}, 2, 15);
  }
  SECTION("MaxPool2D (distinct values: the maximum is unique)") {
    train::MaxPool2D p("p", {2, 2}, std::array<int, 2>{1, 1}, fixq::Padding::same());
    check_gradients(p, {5, 4, 2}, 2, 16, true);
  }
  SECTION("AvgPool2D with padding (windows averaging the cells inside)") {
    train::AvgPool2D p("p", {3, 3}, std::array<int, 2>{2, 2}, fixq::Padding::same());
    check_gradients(p, {5, 6, 2}, 2, 17);
  }
  SECTION("GlobalAvgPool2D") {
    train::GlobalAvgPool2D p("p");
    check_gradients(p, {3, 4, 5}, 2, 18);
  }
  SECTION("ReLU with a cap") {
    train::ReLU r("r", 0.5);
    check_gradients(r, {9}, 4, 19, true);
  }
  SECTION("BatchNorm in training mode (batch statistics)") {
    train::BatchNorm b("b");
    b.bind({3, 3, 4}, 0);
    for (train::Param* p : b.params()) p->value = random_array(p->value.shape, 20, 0.5f, 1.5f);
    check_gradients(b, {3, 3, 4}, 3, 21);
  }
  SECTION("Flatten") {
    train::Flatten f("f");
    check_gradients(f, {2, 3, 2}, 2, 22);
  }
}

TEST_CASE("softmax cross-entropy: loss and gradient", "[train]") {
  const NDArray<float> z({2, 3}, std::vector<float>{1, 2, 3, 0, 0, 0});
  const std::vector<std::uint8_t> y{2, 1};
  const train::LossResult r = train::softmax_cross_entropy(z, y, 0.5);
  const double p2 = std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK(r.loss_sum == Approx(-std::log(p2) + std::log(3.0)).epsilon(1e-12));
  CHECK(r.correct == 1);  // the second row ties: its first maximum (class 0) is not the label
  CHECK(r.grad.data[2] == Approx(0.5 * (p2 - 1)).epsilon(1e-6));
  CHECK(r.grad.data[4] == Approx(0.5 * (1.0 / 3 - 1)).epsilon(1e-6));
  CHECK_THROWS_WITH(train::softmax_cross_entropy(z, std::vector<std::uint8_t>{3, 0}, 1.0),
                    Catch::Contains("label 3 is not below 3 classes"));
}

TEST_CASE("optimizers follow their formulas", "[train]") {
  train::Param w{"weights", NDArray<float>({2}, std::vector<float>{1.0f, -2.0f}), {}, true};
  train::Param b{"bias", NDArray<float>({1}, std::vector<float>{0.5f}), {}, false};
  const NDArray<float> gw({2}, std::vector<float>{0.1f, 0.2f}), gb({1}, std::vector<float>{-0.3f});
  std::vector<train::Param*> ps{&w, &b};
  std::vector<const NDArray<float>*> gs{&gw, &gb};
  SECTION("SGD with momentum and (coupled) weight decay") {
    train::Optimizer opt({.kind = train::OptimizerKind::SGD, .lr = 0.1, .weight_decay = 0.01, .momentum = 0.9});
    opt.step(ps, gs, 0.1);
    CHECK(w.value.data[0] == Approx(1.0 - 0.1 * (0.1 + 0.01 * 1.0)));
    CHECK(b.value.data[0] == Approx(0.5 + 0.1 * 0.3));  // no decay on biases
    const float v0 = 0.1f + 0.01f * 1.0f, w1 = w.value.data[0];
    opt.step(ps, gs, 0.1);
    CHECK(w.value.data[0] == Approx(w1 - 0.1 * (0.9 * v0 + 0.1 + 0.01 * w1)));
  }
  SECTION("Adam's first step is lr * sign(g) (bias-corrected), weight decay decoupled") {
    train::Optimizer opt({.kind = train::OptimizerKind::Adam, .lr = 0.01, .weight_decay = 0.1});
    opt.step(ps, gs, 0.01);
    CHECK(w.value.data[0] == Approx(1.0 - 0.01 - 0.01 * 0.1 * 1.0).epsilon(1e-5));
    CHECK(w.value.data[1] == Approx(-2.0 - 0.01 + 0.01 * 0.1 * 2.0).epsilon(1e-5));
    CHECK(b.value.data[0] == Approx(0.5 + 0.01).epsilon(1e-5));
  }
  SECTION("schedules") {
    train::Schedule cos{.kind = train::Schedule::Kind::Cosine, .final_fraction = 0.1};
    CHECK(cos.factor(0, 10) == Approx(1.0));
    CHECK(cos.factor(5, 10) == Approx(0.55));
    CHECK(cos.factor(10, 10) == Approx(0.1));
    train::Schedule step{.kind = train::Schedule::Kind::Step, .step_epochs = 3, .gamma = 0.5};
    CHECK(step.factor(2.9, 10) == 1.0);
    CHECK(step.factor(3.0, 10) == 0.5);
    train::Schedule warm{.kind = train::Schedule::Kind::Constant, .warmup_epochs = 2};
    CHECK(warm.factor(1.0, 10) == Approx(0.5));
  }
}

TEST_CASE("training learns, and the same seed gives the same weights on one thread or two", "[train]") {
  NDArray<float> x, xt;
  std::vector<std::uint8_t> y, yt;
  synthetic(384, 1, x, y);
  synthetic(300, 2, xt, yt);
  const auto run = [&](int threads, std::uint64_t seed) {
    train::Network net = small_net();
    net.build(seed);
    train::TrainOptions o;
    o.epochs = 3;
    o.batch = 32;
    o.chunk = 8;
    o.threads = threads;
    o.seed = seed;
    o.optimizer.lr = 3e-3;
    o.augment = [](NDArray<float>& b, std::uint64_t s) { train::random_shift_flip(b, 1, false, s); };
    const auto history = train::fit(net, x, y, o);
    REQUIRE(history.size() == 3);
    CHECK(history.back().loss < history.front().loss);
    return net;
  };
  train::Network one = run(1, 7), two = run(2, 7), other = run(2, 8);
  CHECK(all_weights(one) == all_weights(two));
  CHECK(all_weights(one) != all_weights(other));
  CHECK(train::accuracy(one, xt, yt) > 0.95);
}

TEST_CASE("quantization hooks: the forward pass uses quantized weights, the masters take the updates", "[train]") {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  synthetic(64, 3, x, y);
  train::Network net = small_net();
  net.build(4);
  train::TrainOptions o;
  o.epochs = 1;
  o.batch = 32;
  o.chunk = 16;
  int calls = 0;
  o.hooks.at = [&](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
    ++calls;
    if (p == train::HookPoint::Weights && l && l->type() == "Dense") return train::Quantizer{.word = 3};
    if (p == train::HookPoint::Activations && !l) return train::Quantizer{.word = 4, .is_signed = false, .frac = 3};
    if (p == train::HookPoint::ActivationGrads)
      return train::Quantizer{.word = 8, .round = fixq::Round::Stochastic};
    return std::nullopt;
  };
  const std::vector<float> before = all_weights(net);
  train::fit(net, x, y, o);
  CHECK(calls > 0);
  const train::Param* w = net.layer(5).params()[0];
  REQUIRE(w->quantized.size() == w->value.size());
  // 3-bit codes: at most 8 distinct values on one grid, equal to the master
  // weights rounded there.
  std::vector<float> levels(w->quantized.data);
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  CHECK(levels.size() <= 8);
  CHECK(w->quantized.data != w->value.data);
  const train::Quantizer q{.word = 3};
  NDArray<float> again = w->value;
  q.apply(again.data, 0);
  CHECK(again.data == w->quantized.data);
  CHECK(all_weights(net) != before);
  // Same run again: stochastic gradient rounding is keyed by seed and step.
  train::Network net2 = small_net();
  net2.build(4);
  train::fit(net2, x, y, o);
  CHECK(all_weights(net2) == all_weights(net));
}

TEST_CASE("a network becomes a float fixq::Model and back", "[train]") {
  train::Network net = small_net();
  net.build(5);
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  synthetic(40, 6, x, y);
  train::TrainOptions o;
  o.epochs = 1;
  o.batch = 20;
  train::fit(net, x, y, o);  // BatchNorm gets running statistics
  const fixq::Model m = net.to_model();
  REQUIRE(m.size() == net.size());
  const NDArray<float> a = net.predict(x), b = m.forward_float(x);
  REQUIRE(a.shape == b.shape);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a.data[i] == Approx(b.data[i]).margin(1e-5));
  train::Network back = train::Network::from_model(m);
  CHECK(back.predict(x) == a);
  CHECK(all_weights(back) == all_weights(net));
}

TEST_CASE("augmentation: shifts and flips are reproducible and move pixels", "[train]") {
  NDArray<float> x({64, 4, 5, 1});
  for (std::size_t i = 0; i < x.size(); ++i) x.data[i] = static_cast<float>(i % 20 + 1);
  NDArray<float> a = x, b = x;
  train::random_shift_flip(a, 0, true, 9);
  train::random_shift_flip(b, 0, true, 9);
  CHECK(a == b);
  int flipped = 0;
  for (int i = 0; i < 64; ++i) {
    const float* p = a.data.data() + i * 20;
    const float* q = x.data.data() + i * 20;
    const bool same = std::equal(p, p + 20, q);
    bool mirrored = true;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 5; ++c) mirrored = mirrored && p[r * 5 + c] == q[r * 5 + 4 - c];
    CHECK((same || mirrored));
    flipped += mirrored;
  }
  CHECK(flipped > 16);
  CHECK(flipped < 48);
  NDArray<float> s = x;
  train::random_shift_flip(s, 2, false, 10, -1.0f);
  CHECK(s != x);
  CHECK(std::count(s.data.begin(), s.data.end(), -1.0f) > 0);
}
