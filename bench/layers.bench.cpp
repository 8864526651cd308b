// The three paths of the integer layers on the shapes of LeNet-5 and of a small
// CIFAR-10 CNN, batch 1 and 64, in one run: float (Eigen float GEMM), sim
// (fake-quant: values on their grids, exact sums, one rounding) and int (codes,
// exact integer GEMM, requantize). 8-bit activations and weights, one thread.
// Items are multiply-accumulates; compare items_per_second. Results: bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>

#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>

namespace {

using fixq::Format;
using fixq::NDArray;
using fixq::QuantSpec;
using fixq::Shape;

NDArray<float> random_array(std::mt19937& g, Shape s, float scale) {
  NDArray<float> x(std::move(s));
  std::normal_distribution<float> d(0.0f, scale);
  for (auto& v : x.data) v = d(g);
  return x;
}

fixq::LinearFormats formats8(const Format& in, const Format& out) {
  return fixq::LinearFormats{in, Format{8, 7}, {}, {}, QuantSpec{out}};
}

fixq::Model lenet5() {
  std::mt19937 g(1);
  const Format a{8, 4}, u{8, 8, false};
  fixq::Model m({28, 28, 1}, QuantSpec{u});
  m.add(fixq::Conv2D("conv1", random_array(g, {5, 5, 1, 6}, 0.2f), random_array(g, {6}, 0.1f),
                     fixq::Window2D{{}, {1, 1}, {1, 1}, fixq::Padding::same()}, 1, formats8(u, a)));
  m.add(fixq::ReLU("relu1"));
  m.add(fixq::MaxPool2D("pool1", {2, 2}));
  m.add(fixq::Conv2D("conv2", random_array(g, {5, 5, 6, 16}, 0.1f), random_array(g, {16}, 0.1f), fixq::Window2D{}, 1,
                     formats8(a, a)));
  m.add(fixq::ReLU("relu2"));
  m.add(fixq::MaxPool2D("pool2", {2, 2}));
  m.add(fixq::Flatten("flat"));
  m.add(fixq::Dense("fc1", random_array(g, {400, 120}, 0.05f), random_array(g, {120}, 0.1f), formats8(a, a)));
  m.add(fixq::ReLU("relu3"));
  m.add(fixq::Dense("fc2", random_array(g, {120, 84}, 0.1f), random_array(g, {84}, 0.1f), formats8(a, a)));
  m.add(fixq::ReLU("relu4"));
  m.add(fixq::Dense("fc3", random_array(g, {84, 10}, 0.1f), random_array(g, {10}, 0.1f), formats8(a, a)));
  return m;
}

fixq::Model cifar_cnn() {
  std::mt19937 g(2);
  const Format a{8, 4}, u{8, 8, false};
  const fixq::Window2D same{{}, {1, 1}, {1, 1}, fixq::Padding::same()};
  fixq::Model m({32, 32, 3}, QuantSpec{u});
  m.add(fixq::Conv2D("conv1", random_array(g, {3, 3, 3, 32}, 0.2f), random_array(g, {32}, 0.1f), same, 1, formats8(u, a)));
  m.add(fixq::ReLU("relu1"));
  m.add(fixq::Conv2D("conv2", random_array(g, {3, 3, 32, 32}, 0.05f), random_array(g, {32}, 0.1f), same, 1, formats8(a, a)));
  m.add(fixq::ReLU("relu2"));
  m.add(fixq::MaxPool2D("pool1", {2, 2}));
  m.add(fixq::Conv2D("conv3", random_array(g, {3, 3, 32, 64}, 0.05f), random_array(g, {64}, 0.1f), same, 1, formats8(a, a)));
  m.add(fixq::ReLU("relu3"));
  m.add(fixq::Conv2D("conv4", random_array(g, {3, 3, 64, 64}, 0.04f), random_array(g, {64}, 0.1f), same, 1, formats8(a, a)));
  m.add(fixq::ReLU("relu4"));
  m.add(fixq::MaxPool2D("pool2", {2, 2}));
  m.add(fixq::Flatten("flat"));
  m.add(fixq::Dense("fc1", random_array(g, {4096, 128}, 0.02f), random_array(g, {128}, 0.1f), formats8(a, a)));
  m.add(fixq::ReLU("relu5"));
  m.add(fixq::Dense("fc2", random_array(g, {128, 10}, 0.1f), random_array(g, {10}, 0.1f), formats8(a, a)));
  return m;
}

std::int64_t macs(const fixq::Model& m) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < m.size(); ++i) n += m.layer(i).info().macs;
  return n;
}

enum class Path { Float, Sim, Int };

template <Path P>
void BM_model(benchmark::State& state, fixq::Model (*make)()) {
  const fixq::Model m = make();
  const auto batch = state.range(0);
  fixq::set_threads(1);
  Eigen::setNbThreads(1);  // the float and sim paths' Eigen GEMM on one thread too
  std::mt19937 g(3);
  Shape s{batch};
  s.insert(s.end(), m.input_shape().begin(), m.input_shape().end());
  const auto x = random_array(g, s, 0.5f);
  const auto codes = m.input_codes(x);
  for (auto _ : state) {
    if constexpr (P == Path::Float) benchmark::DoNotOptimize(m.forward_float(x).data.data());
    if constexpr (P == Path::Sim) benchmark::DoNotOptimize(m.forward_sim(x).data.data());
    if constexpr (P == Path::Int) benchmark::DoNotOptimize(m.forward_int(codes).data.data());
  }
  fixq::set_threads(0);
  Eigen::setNbThreads(0);
  state.SetItemsProcessed(state.iterations() * batch * macs(m));
}

void BM_float(benchmark::State& s, fixq::Model (*make)()) { BM_model<Path::Float>(s, make); }
void BM_sim(benchmark::State& s, fixq::Model (*make)()) { BM_model<Path::Sim>(s, make); }
void BM_int(benchmark::State& s, fixq::Model (*make)()) { BM_model<Path::Int>(s, make); }

}  // namespace

BENCHMARK_CAPTURE(BM_float, lenet5/float, &lenet5)->Arg(1)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_sim, lenet5/sim, &lenet5)->Arg(1)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_int, lenet5/int, &lenet5)->Arg(1)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_float, cifar_cnn/float, &cifar_cnn)->Arg(1)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_sim, cifar_cnn/sim, &cifar_cnn)->Arg(1)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_int, cifar_cnn/int, &cifar_cnn)->Arg(1)->Arg(64)->UseRealTime();
