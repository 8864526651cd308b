// Training steps of the MNIST example's LeNet (431,080 parameters) on mini-batches
// of 64 random images, on one and two threads: float (mode 0); quantization-aware
// (mode 1: 4-bit weights, 8-bit activations, dynamic fixed point); and
// low-precision training as Gupta et al. (mode 2: weights stored in <16,14> and
// rounded after every update, activations and both gradients in <16,14>, all
// with stochastic rounding). Items are images; compare items_per_second.
// Results: bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fixq/train.hpp>

#include "../examples/mnist/lenet.hpp"

namespace {

namespace train = fixq::train;

void BM_lenet_step(benchmark::State& state) {
#if defined(__GLIBC__)
  // As the examples do (examples/common/driver.hpp): freed activations stay in the
  // heap instead of returning to the kernel, whose fresh pages cost a fault each.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  const int threads = static_cast<int>(state.range(0));
  const int mode = static_cast<int>(state.range(1));
  constexpr std::int64_t batch = 64;
  train::Network net = fixq_examples::lenet();
  net.build(1);
  fixq::NDArray<float> x({batch, 28, 28, 1});
  std::vector<std::uint8_t> y(batch);
  std::mt19937 g(3);
  for (float& v : x.data) v = static_cast<float>(g() % 256) / 256.0f;
  for (auto& l : y) l = static_cast<std::uint8_t>(g() % 10);
  train::Optimizer opt({});
  train::QuantHooks hooks;
  if (mode == 1)
    hooks.at = [](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
      if (p == train::HookPoint::Weights && l && (l->type() == "Dense" || l->type() == "Conv2D"))
        return train::Quantizer{.word = 4};
      if (p == train::HookPoint::Activations) return train::Quantizer{.word = 8, .is_signed = l != nullptr};
      return std::nullopt;
    };
  if (mode == 2)
    hooks.at = [](const train::Layer* l, train::HookPoint p) -> std::optional<train::Quantizer> {
      const train::Quantizer q{.word = 16, .frac = 14, .round = fixq::Round::Stochastic};
      const bool weights = l && (l->type() == "Dense" || l->type() == "Conv2D");
      if (p == train::HookPoint::StoredWeights || p == train::HookPoint::StoredBiases ||
          p == train::HookPoint::WeightGrads)
        return weights ? std::optional<train::Quantizer>(q) : std::nullopt;
      if (p == train::HookPoint::Weights) return std::nullopt;
      return q;
    };
  std::uint64_t step = 0;
  for (auto _ : state) {
    const train::StepResult r = net.train_step(x, y, opt, 1e-4, hooks, 1, step++, 32, threads);
    benchmark::DoNotOptimize(r.loss);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_lenet_step)->ArgNames({"threads", "mode"})->ArgsProduct({{1, 2}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
