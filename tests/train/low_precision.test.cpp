// Low-precision training: weights stored in fixed point (StoredWeights), per-channel
// weight fractions, iterative quantization (frozen weights), evaluation with the
// activation quantizers, and reproducibility on one thread or two. The grid checks
// work on the values alone (v * 2^frac an integer code within the word), not
// through the library's quantizer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <fixq/train.hpp>

namespace train = fixq::train;
using fixq::NDArray;
using fixq::Shape;

namespace {

/// Whether v is a code of <word, frac> (signed): v * 2^frac an integer in range.
bool on_grid(float v, int word, int frac) {
  const double code = std::ldexp(static_cast<double>(v), frac);
  const double lo = -std::ldexp(1.0, word - 1), hi = std::ldexp(1.0, word - 1) - 1;
  return code == std::floor(code) && code >= lo && code <= hi;
}

/// n samples of 16 features in [0, 1), labels from which quarter holds the most mass.
void task(std::size_t n, std::uint32_t seed, NDArray<float>& x, std::vector<std::uint8_t>& y) {
  x = NDArray<float>({static_cast<std::int64_t>(n), 16});
  y.resize(n);
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(0, 1);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = static_cast<std::uint8_t>(g() % 4);
    for (std::size_t k = 0; k < 16; ++k) x.data[i * 16 + k] = u(g) * 0.5f + (k / 4 == y[i] ? 0.5f : 0.0f);
  }
}

train::Network mlp() {
  train::Network net({16});
  net.add(train::Dense("fc1", 12));
  net.add(train::ReLU("relu"));
  net.add(train::Dense("fc2", 4));
  return net;
}

std::vector<float> all_values(train::Network& net) {
  std::vector<float> w;
  for (train::Param* p : net.params()) w.insert(w.end(), p->value.data.begin(), p->value.data.end());
  return w;
}

train::QuantHooks stored(int word, int frac, fixq::Round round) {
  train::QuantHooks h;
  h.at = [=](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
    if ((p == train::HookPoint::StoredWeights || p == train::HookPoint::StoredBiases) && l && l->type() == "Dense")
      return train::Quantizer{.word = word, .frac = frac, .round = round};
    return std::nullopt;
  };
  return h;
}

}  // namespace

TEST_CASE("stored weights: weights and biases never leave their grid", "[train][low-precision]") {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  task(256, 1, x, y);
  for (const fixq::Round round : {fixq::Round::NearestEven, fixq::Round::Stochastic, fixq::Round::Floor}) {
    INFO(fixq::to_string(round));
    train::Network net = mlp();
    net.build(3);
    train::TrainOptions o;
    o.epochs = 2;
    o.batch = 32;
    o.chunk = 8;
    o.optimizer = {.kind = train::OptimizerKind::SGD, .lr = 0.1, .momentum = 0.5};
    o.hooks = stored(10, 6, round);
    std::int64_t checked = 0, off = 0;
    o.before_step = [&](std::uint64_t step, std::uint64_t) {
      if (step == 0) return;  // the initial weights are rounded by the first step
      for (train::Param* p : net.params())
        for (const float v : p->value.data) ++checked, off += !on_grid(v, 10, 6);
    };
    const std::vector<float> before = all_values(net);
    train::fit(net, x, y, o);
    for (train::Param* p : net.params())
      for (const float v : p->value.data) ++checked, off += !on_grid(v, 10, 6);
    CHECK(checked > 1000);
    CHECK(off == 0);
    CHECK(all_values(net) != before);
  }
}

TEST_CASE("stored weights: an update below half an LSB is lost to nearest and kept in expectation by stochastic",
          "[train][low-precision]") {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  task(16, 2, x, y);
  const int frac = 8;
  const double lsb = std::ldexp(1.0, -frac);
  train::Network start({16});
  start.add(train::Dense("fc", 4));
  start.build(5);
  // Weights on the grid, biases zero.
  for (train::Param* p : start.params())
    for (float& v : p->value.data) v = static_cast<float>(std::nearbyint(v / lsb) * lsb);
  // The float step's gradient, from a copy with no hooks and plain SGD at lr 1.
  std::vector<float> grad;
  {
    train::Network f = start;
    train::Optimizer sgd({.kind = train::OptimizerKind::SGD, .lr = 1, .momentum = 0});
    const std::vector<float> w0 = all_values(f);
    f.train_step(x, y, sgd, 1.0, {}, 1, 0, 16, 1);
    const std::vector<float> w1 = all_values(f);
    for (std::size_t k = 0; k < w0.size(); ++k) grad.push_back(w0[k] - w1[k]);
  }
  double largest = 0;
  for (const float g : grad) largest = std::max(largest, static_cast<double>(std::fabs(g)));
  REQUIRE(largest > 0);
  const double lr = 0.4 * lsb / largest;  // every update below 0.4 LSB
  const std::vector<float> w0 = all_values(start);
  const auto step = [&](fixq::Round round, std::uint64_t seed) {
    train::Network n = start;
    train::Optimizer sgd({.kind = train::OptimizerKind::SGD, .lr = lr, .momentum = 0});
    n.train_step(x, y, sgd, lr, stored(16, frac, round), seed, 0, 16, 1);
    return all_values(n);
  };
  CHECK(step(fixq::Round::NearestEven, 1) == w0);
  // Stochastic: each weight lands on one of the two neighbours of w0 - lr * g, and
  // the mean move over many seeds is -lr * g (within 5 standard errors).
  const int trials = 3000;
  std::vector<double> mean(w0.size(), 0.0);
  for (int t = 0; t < trials; ++t) {
    const std::vector<float> w = step(fixq::Round::Stochastic, 100 + static_cast<std::uint64_t>(t));
    for (std::size_t k = 0; k < w.size(); ++k) {
      const double moved = (static_cast<double>(w[k]) - w0[k]) / lsb;
      REQUIRE((moved == 0 || moved == (grad[k] > 0 ? -1 : 1)));
      mean[k] += moved / trials;
    }
  }
  int moving = 0;
  for (std::size_t k = 0; k < w0.size(); ++k) {
    const double expected = -lr * grad[k] / lsb;  // in LSBs, |expected| < 0.4
    const double p = std::fabs(expected), se = std::sqrt(std::max(p * (1 - p), 1e-12) / trials);
    INFO("element " << k << ": expected move " << expected << " LSB, mean " << mean[k]);
    CHECK(std::fabs(mean[k] - expected) < 5 * se + 1e-9);
    moving += p > 0.1;
  }
  CHECK(moving > 10);
}

TEST_CASE("per-channel quantizers: each output channel on the grid of its own range", "[train][low-precision]") {
  NDArray<float> w({3, 4});
  const float scale[4] = {0.01f, 0.3f, 2.5f, 40.0f};
  std::mt19937 g(9);
  std::uniform_real_distribution<float> u(-1, 1);
  for (std::size_t i = 0; i < w.size(); ++i) w.data[i] = u(g) * scale[i % 4];
  const train::Quantizer q{.word = 6, .per_channel = true};
  NDArray<float> t = w;
  const std::vector<fixq::Format> f = q.apply(t, 1);
  REQUIRE(f.size() == 4);
  for (std::size_t c = 0; c < 4; ++c) {
    // Per tensor on the channel's own values gives the same format and values.
    NDArray<float> col({3});
    for (std::size_t r = 0; r < 3; ++r) col.data[r] = w.data[r * 4 + c];
    const train::Quantizer one{.word = 6};
    const fixq::Format fc = one.apply(std::span<float>(col.data), fixq::derive_seed(1, c));
    CHECK(f[c] == fc);
    for (std::size_t r = 0; r < 3; ++r) {
      CHECK(t.data[r * 4 + c] == col.data[r]);
      CHECK(on_grid(t.data[r * 4 + c], 6, f[c].frac));
    }
  }
  CHECK(f[0].frac > f[3].frac + 8);
  // A bias (rank 1) has one format.
  NDArray<float> b({4}, {0.01f, 0.3f, 2.5f, 40.0f});
  CHECK(q.apply(b, 1).size() == 1);
  // Per channel is for weights: at an activation point it is refused.
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  task(8, 3, x, y);
  train::Network net = mlp();
  net.build(1);
  train::QuantHooks h;
  h.at = [](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
    if (p == train::HookPoint::Activations && l) return train::Quantizer{.word = 8, .per_channel = true};
    return std::nullopt;
  };
  train::Optimizer opt({});
  CHECK_THROWS_WITH(net.train_step(x, y, opt, 1e-3, h, 1, 0, 8, 1), Catch::Contains("per_channel"));
}

TEST_CASE("iterative quantization freezes exactly the largest weights on their grid", "[train][low-precision]") {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  task(256, 4, x, y);
  train::Network net = mlp();
  net.build(6);
  train::IterativeQuantizer iq({.word = 5, .per_channel = true});
  // The weights of fc1 (layer 0) and fc2 (layer 2): values and frozen flags.
  struct Snapshot {
    std::vector<std::vector<float>> values;
    std::vector<std::vector<std::uint8_t>> frozen;
  };
  const std::size_t layers[2] = {0, 2};
  const auto snap = [&] {
    Snapshot s;
    for (const std::size_t i : layers) {
      const train::Param& p = *net.layer(i).params()[0];
      REQUIRE(p.name == "weights");
      s.values.push_back(p.value.data);
      s.frozen.push_back(p.frozen.empty() ? std::vector<std::uint8_t>(p.value.size(), 0) : p.frozen);
    }
    return s;
  };
  // A stage: exactly ceil(share * n) frozen; the newly frozen ones had the largest
  // magnitudes among the open ones; frozen values on the layer's grid; the open
  // ones and the ones frozen before untouched.
  const auto check_stage = [&](const Snapshot& before, double share) {
    const Snapshot after = snap();
    for (std::size_t j = 0; j < 2; ++j) {
      const std::size_t n = after.values[j].size();
      std::size_t count = 0;
      float smallest_new = INFINITY, largest_open = 0;
      const std::vector<fixq::Format>& grid = iq.grid(layers[j]);
      REQUIRE(grid.size() == static_cast<std::size_t>(net.layer(layers[j]).params()[0]->value.shape.back()));
      for (std::size_t k = 0; k < n; ++k) {
        const float v0 = before.values[j][k], v1 = after.values[j][k];
        if (after.frozen[j][k]) {
          ++count;
          CHECK(on_grid(v1, 5, grid[k % grid.size()].frac));
          if (before.frozen[j][k])
            CHECK(v1 == v0);
          else
            smallest_new = std::min(smallest_new, std::fabs(v0));
        } else {
          CHECK(!before.frozen[j][k]);
          CHECK(v1 == v0);
          largest_open = std::max(largest_open, std::fabs(v0));
        }
      }
      CHECK(count == static_cast<std::size_t>(std::ceil(share * static_cast<double>(n))));
      CHECK(smallest_new >= largest_open);
    }
  };
  // Stage 1 by hand: half of each layer.
  Snapshot last = snap();
  iq.next(net);
  check_stage(last, 0.5);
  last = snap();
  // Stages 2 and 3 during a run of 3 epochs of 8 steps; frozen weights never move.
  train::TrainOptions o;
  o.epochs = 3;
  o.batch = 32;
  o.chunk = 8;
  o.threads = 1;
  const auto inner = iq.schedule(net);
  std::vector<std::uint64_t> stage_steps;
  std::int64_t moved = 0, kept = 0;
  o.before_step = [&](std::uint64_t step, std::uint64_t steps) {
    const Snapshot now = snap();
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < now.values[j].size(); ++k)
        if (last.frozen[j][k]) ++kept, moved += now.values[j][k] != last.values[j][k];
    const std::size_t done = iq.done();
    inner(step, steps);
    if (iq.done() != done) {
      stage_steps.push_back(step);
      check_stage(now, iq.stages()[iq.done() - 1]);
    }
    last = snap();
  };
  train::fit(net, x, y, o);
  CHECK(kept > 1000);
  CHECK(moved == 0);
  CHECK(stage_steps == std::vector<std::uint64_t>{12, 18});
  CHECK(iq.done() == 3);
  const Snapshot before_last = snap();
  iq.finish(net);
  check_stage(before_last, 1.0);
  CHECK_THROWS(iq.next(net));
  CHECK_THROWS_AS(train::IterativeQuantizer({}, {0.5, 0.4, 1.0}), std::invalid_argument);
  CHECK_THROWS_AS(train::IterativeQuantizer({}, {0.5}), std::invalid_argument);
}

TEST_CASE("frozen weights stay as they are under stored rounding and commit_quantized", "[train][low-precision]") {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  task(64, 7, x, y);
  train::Network net = mlp();
  net.build(9);
  train::IterativeQuantizer iq({.word = 6});
  iq.next(net);  // half of each layer frozen on a 6-bit grid
  std::vector<float> frozen_before;
  for (train::Param* p : net.params())
    for (std::size_t k = 0; k < p->frozen.size(); ++k)
      if (p->frozen[k]) frozen_before.push_back(p->value.data[k]);
  REQUIRE(frozen_before.size() > 50);
  // A coarser stored grid and a forward copy on yet another one.
  train::TrainOptions o;
  o.epochs = 2;
  o.batch = 16;
  o.chunk = 8;
  o.optimizer = {.kind = train::OptimizerKind::SGD, .lr = 0.1};
  o.hooks.at = [](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
    if (p == train::HookPoint::StoredWeights && l && l->type() == "Dense")
      return train::Quantizer{.word = 8, .frac = 3, .round = fixq::Round::Stochastic};
    if (p == train::HookPoint::Weights && l && l->type() == "Dense") return train::Quantizer{.word = 3};
    return std::nullopt;
  };
  train::fit(net, x, y, o);
  net.commit_quantized();
  std::vector<float> frozen_after;
  std::size_t open = 0;
  for (train::Param* p : net.params())
    for (std::size_t k = 0; k < p->frozen.size(); ++k) {
      if (p->frozen[k])
        frozen_after.push_back(p->value.data[k]);
      else
        ++open;
    }
  CHECK(frozen_after == frozen_before);
  CHECK(open > 50);
}

TEST_CASE("the optimizer leaves frozen elements exactly as they are", "[train][low-precision]") {
  train::Param p{"weights", NDArray<float>({4}, {1, 2, 3, 4}), {}, true};
  p.frozen = {0, 1, 0, 1};
  const NDArray<float> g({4}, {0.5f, 0.5f, 0.5f, 0.5f});
  for (const auto kind : {train::OptimizerKind::SGD, train::OptimizerKind::Adam}) {
    train::Param q = p;
    train::Optimizer opt({.kind = kind, .lr = 0.1, .weight_decay = 0.1});
    std::vector<train::Param*> ps{&q};
    std::vector<const NDArray<float>*> gs{&g};
    opt.step(ps, gs, 0.1);
    CHECK(q.value.data[1] == 2.0f);
    CHECK(q.value.data[3] == 4.0f);
    CHECK(q.value.data[0] < 1.0f);
    CHECK(q.value.data[2] < 3.0f);
  }
  train::Param bad = p;
  bad.frozen = {1};
  train::Optimizer opt({});
  std::vector<train::Param*> ps{&bad};
  std::vector<const NDArray<float>*> gs{&g};
  CHECK_THROWS_AS(opt.step(ps, gs, 0.1), std::logic_error);
}

TEST_CASE("low-precision runs are the same on one thread or two", "[train][low-precision]") {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  task(192, 5, x, y);
  const auto run = [&](int threads) {
    train::Network net = mlp();
    net.build(2);
    train::IterativeQuantizer iq({.word = 4});
    train::TrainOptions o;
    o.epochs = 2;
    o.batch = 48;
    o.chunk = 8;
    o.threads = threads;
    o.optimizer = {.kind = train::OptimizerKind::SGD, .lr = 0.05};
    o.hooks.at = [](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
      using train::HookPoint;
      if (p == HookPoint::StoredWeights && l && l->name() == "fc2")
        return train::Quantizer{.word = 12, .frac = 8, .round = fixq::Round::Stochastic};
      if (p == HookPoint::Weights && l && l->name() == "fc1")
        return train::Quantizer{.word = 4, .round = fixq::Round::Stochastic, .per_channel = true};
      if (p == HookPoint::Activations) return train::Quantizer{.word = 8, .is_signed = l != nullptr};
      if (p == HookPoint::ActivationGrads || p == HookPoint::WeightGrads)
        return train::Quantizer{.word = 10, .round = fixq::Round::Stochastic};
      return std::nullopt;
    };
    o.before_step = iq.schedule(net);
    train::fit(net, x, y, o);
    iq.finish(net);
    return all_values(net);
  };
  const std::vector<float> one = run(1), two = run(2);
  CHECK(one == two);
}

TEST_CASE("evaluation applies the activation quantizers, rounding to nearest", "[train][low-precision]") {
  NDArray<float> x;
  std::vector<std::uint8_t> y;
  task(64, 6, x, y);
  train::Network net = mlp();
  net.build(8);
  train::QuantHooks h;
  h.at = [](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
    if (p == train::HookPoint::Activations && l) return train::Quantizer{.word = 3, .round = fixq::Round::Stochastic};
    return std::nullopt;
  };
  train::QuantHooks nearest;
  nearest.at = [](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
    if (p == train::HookPoint::Activations && l) return train::Quantizer{.word = 3};
    return std::nullopt;
  };
  const NDArray<float> plain = net.predict(x, 16, 1);
  const NDArray<float> a = net.predict(x, 16, 1, h), b = net.predict(x, 16, 2, h);
  CHECK(a.data == b.data);
  CHECK(a.data == net.predict(x, 16, 1, nearest).data);
  CHECK(a.data != plain.data);
  // The last layer's outputs are on a 3-bit grid: at most 8 distinct values per chunk.
  std::vector<float> first(a.data.begin(), a.data.begin() + 16 * 4);
  std::sort(first.begin(), first.end());
  first.erase(std::unique(first.begin(), first.end()), first.end());
  CHECK(first.size() <= 8);
}
