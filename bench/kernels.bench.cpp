// Array quantization kernels against memcpy of the same input bytes and a
// naive scalar loop (nearbyint + clamp, same compiler flags), in one run.
// Sizes: 256 KiB of float input (in cache) and 64 MiB (memory). Threads: 1, 2.
// Items are elements; compare items_per_second. Results: bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <Eigen/Core>

#include <fixq/kernels/quantize.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/simd/random_fill.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

constexpr std::int64_t kSmall = (256 << 10) / 4;  // floats in 256 KiB
constexpr std::int64_t kLarge = (64 << 20) / 4;   // floats in 64 MiB
const fixq::Format kFmt{8, 4};                     // [-8, 7.9375]

const std::vector<float>& input(std::size_t n) {
  static std::vector<float> data;
  if (data.size() < n) {
    std::mt19937 gen(7);
    std::normal_distribution<float> dist(0.0f, 3.0f);  // some saturation at +-8
    data.resize(n);
    for (auto& v : data) v = dist(gen);
  }
  return data;
}

void set_items(benchmark::State& state, std::int64_t n) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(float)));
}

// memcpy of the input bytes (on `threads` threads, each copying its share).
void BM_memcpy(benchmark::State& state) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const auto& in = input(static_cast<std::size_t>(n));
  std::vector<float> out(static_cast<std::size_t>(n));
  for (auto _ : state) {
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
      const std::int64_t begin = n * t / k, end = n * (t + 1) / k;
      std::memcpy(out.data() + begin, in.data() + begin, static_cast<std::size_t>(end - begin) * sizeof(float));
    }
#else
    (void)threads;
    std::memcpy(out.data(), in.data(), static_cast<std::size_t>(n) * sizeof(float));
#endif
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_items(state, n);
}

// The naive loop a user would write: scale, nearbyint, clamp (one thread).
template <class Out>
void BM_naive(benchmark::State& state) {
  const auto n = state.range(0);
  const auto& in = input(static_cast<std::size_t>(n));
  std::vector<Out> out(static_cast<std::size_t>(n));
  const float scale = 16.0f, lsb = 1.0f / 16.0f;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i) {
      const float c = std::clamp(std::nearbyint(in[static_cast<std::size_t>(i)] * scale), -128.0f, 127.0f);
      if constexpr (std::is_same_v<Out, float>)
        out[static_cast<std::size_t>(i)] = c * lsb;
      else
        out[static_cast<std::size_t>(i)] = static_cast<Out>(c);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_items(state, n);
}

template <fixq::Round R, class Out>
void BM_fixq(benchmark::State& state) {
  const auto n = state.range(0);
  fixq::set_threads(static_cast<int>(state.range(1)));
  const auto& in = input(static_cast<std::size_t>(n));
  std::vector<Out> out(static_cast<std::size_t>(n));
  for (auto _ : state) {
    fixq::quantize_span(in.data(), out.data(), static_cast<std::size_t>(n), {kFmt, R, fixq::Overflow::Saturate, 42});
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  fixq::set_threads(0);
  set_items(state, n);
}

// The line an Eigen user writes, y = fixq::quantize(x, spec), into an existing y
// (one thread): the expression writes into y's storage, so it should run as
// quantize_span does. fresh_array = true measures `ArrayXf y = quantize(...)`, a
// new array per call (allocation and page faults at 64 MiB), for comparison.
template <fixq::Round R, bool FreshArray>
void BM_eigen_line(benchmark::State& state) {
  const auto n = state.range(0);
  fixq::set_threads(1);
  const auto& in = input(static_cast<std::size_t>(n));
  const Eigen::Map<const Eigen::ArrayXf> x(in.data(), n);
  Eigen::ArrayXf y(n);
  const fixq::QuantSpec spec{kFmt, R, fixq::Overflow::Saturate, 42};
  for (auto _ : state) {
    if constexpr (FreshArray) {
      Eigen::ArrayXf fresh = fixq::quantize(x, spec);
      benchmark::DoNotOptimize(fresh.data());
    } else {
      y = fixq::quantize(x, spec);
      benchmark::DoNotOptimize(y.data());
    }
    benchmark::ClobberMemory();
  }
  fixq::set_threads(0);
  set_items(state, n);
}

// The random words of the double path's Round::Stochastic alone: ARS-7 words
// (both streams) into a buffer in cache.
void BM_ars_fill(benchmark::State& state) {
  const auto n = state.range(0);
  std::vector<std::uint32_t> out(static_cast<std::size_t>(n));
  std::uint64_t first = 0;
  for (auto _ : state) {
    fixq::detail::simd::random_u32_fill(42, first, out.data(), out.size());
    first += static_cast<std::uint64_t>(n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(fixq::detail::simd::ars_isa_name());
}

#if defined(FIXQ_SIMD_NATIVE)
// The generator work of the vector Round::Stochastic path alone: stream 0 only,
// one halfword per element, V::ars_in_flight vectors at a time as in
// simd/quantize_f32.hpp, stored to a buffer in L1. Items are elements: the cost
// of the random halfwords, a floor under the stochastic kernel's cost per element.
void BM_ars_stream0(benchmark::State& state) {
  using V = fixq::detail::simd::Native;
  if constexpr (V::has_ars) {
    constexpr int k = V::ars_in_flight;
    constexpr std::size_t step = static_cast<std::size_t>(k) * V::lanes;  // words (2 halfwords each) per step
    const auto n = state.range(0);
    const V::ArsKeys keys(42);
    std::vector<std::uint32_t> words(static_cast<std::size_t>(n) / 2);
    std::uint64_t block = 0;
    for (auto _ : state) {
      for (std::size_t w = 0; w + step <= words.size(); w += step, block += step / 4) {
        V::I v[k];
        V::ars<k>(keys, block, v, 0);
        for (int j = 0; j < k; ++j) V::store(words.data() + w + static_cast<std::size_t>(j) * V::lanes, v[j]);
      }
      benchmark::DoNotOptimize(words.data());
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.SetLabel(V::name);
  } else {
    state.SkipWithError("no AES instructions in this build");
  }
}
#endif

void sizes_threads(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {kSmall, kLarge})
    for (std::int64_t t : {1, 2}) b->Args({n, t});
  b->ArgNames({"n", "threads"})->UseRealTime();
}
void sizes_only(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {kSmall, kLarge}) b->Args({n, 1});
  b->ArgNames({"n", "threads"})->UseRealTime();
}

}  // namespace

using fixq::Round;
BENCHMARK(BM_memcpy)->Name("memcpy")->Apply(sizes_threads);
BENCHMARK(BM_ars_fill)->Name("ars_fill")->Arg(4096)->UseRealTime();
#if defined(FIXQ_SIMD_NATIVE)
BENCHMARK(BM_ars_stream0)->Name("ars_stream0_halves")->Arg(16384)->UseRealTime();
#endif
BENCHMARK(BM_naive<float>)->Name("naive_nearbyint/f32")->Apply(sizes_only);
BENCHMARK(BM_naive<std::int8_t>)->Name("naive_nearbyint/i8")->Apply(sizes_only);
BENCHMARK(BM_fixq<Round::NearestEven, float>)->Name("fixq/NearestEven/f32")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::Floor, float>)->Name("fixq/Floor/f32")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::NearestAway, float>)->Name("fixq/NearestAway/f32")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::Stochastic, float>)->Name("fixq/Stochastic/f32")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::NearestEven, std::int8_t>)->Name("fixq/NearestEven/i8")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::Floor, std::int8_t>)->Name("fixq/Floor/i8")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::NearestAway, std::int8_t>)->Name("fixq/NearestAway/i8")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::Stochastic, std::int8_t>)->Name("fixq/Stochastic/i8")->Apply(sizes_threads);
BENCHMARK(BM_fixq<Round::NearestOdd, float>)->Name("fixq/NearestOdd/f32")->Apply(sizes_only);
BENCHMARK(BM_fixq<Round::NearestTiesToPosInf, float>)->Name("fixq/NearestTiesToPosInf/f32")->Apply(sizes_only);
BENCHMARK(BM_eigen_line<Round::NearestEven, false>)->Name("eigen_assign/NearestEven/f32")->Apply(sizes_only);
BENCHMARK(BM_eigen_line<Round::NearestEven, true>)->Name("eigen_fresh_array/NearestEven/f32")->Apply(sizes_only);
BENCHMARK(BM_eigen_line<Round::Stochastic, false>)->Name("eigen_assign/Stochastic/f32")->Apply(sizes_only);
