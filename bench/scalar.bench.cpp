// Scalar Fixed vs hand-written code doing the same work, in one run.
// Goal: the Fixed type costs nothing over hand-written code
// (time ratio <= 1.05). Results are recorded in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <fixq/core.hpp>

namespace {

constexpr std::size_t kN = 4096;  // 16 KiB of floats: in L1/L2, so the loop cost shows

std::vector<float> inputs(float scale) {
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(kN);
  for (auto& x : v) x = dist(gen);
  return v;
}

// --- float -> code, NearestEven + Saturate ------------------------------------

template <class Q>
void BM_fixed_from_float(benchmark::State& state) {
  const auto in = inputs(static_cast<float>(Q::max().to_double()) * 1.25f);
  std::vector<Q> out(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) out[i] = Q(in[i]);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}

// The loop a careful engineer writes by hand: scale, nearbyint (round half to
// even in the default FP environment), clamp, narrow.
template <class Int, int Frac>
void BM_hand_from_float(benchmark::State& state) {
  constexpr float scale = static_cast<float>(1 << Frac);
  constexpr float lo = static_cast<float>(std::numeric_limits<Int>::min());
  constexpr float hi = static_cast<float>(std::numeric_limits<Int>::max());
  const auto in = inputs(hi / scale * 1.25f);
  std::vector<Int> out(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i)
      out[i] = static_cast<Int>(std::clamp(std::nearbyint(in[i] * scale), lo, hi));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}

// --- exact add / multiply ---------------------------------------------------

using Q16 = fixq::Fixed<16, 8>;

std::vector<Q16> q16_inputs(unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-32768, 32767);
  std::vector<Q16> v(kN);
  for (auto& x : v) x = Q16::from_raw(dist(gen));
  return v;
}
std::vector<std::int16_t> raw_of(const std::vector<Q16>& v) {
  std::vector<std::int16_t> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) r[i] = v[i].raw();
  return r;
}

void BM_fixed_add(benchmark::State& state) {
  const auto a = q16_inputs(1), b = q16_inputs(2);
  std::vector<decltype(Q16{} + Q16{})> c(kN);  // Fixed<17,8>, int32 storage
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) c[i] = a[i] + b[i];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}
void BM_hand_add(benchmark::State& state) {
  const auto a = raw_of(q16_inputs(1)), b = raw_of(q16_inputs(2));
  std::vector<std::int32_t> c(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) c[i] = std::int32_t{a[i]} + std::int32_t{b[i]};
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}

void BM_fixed_mul(benchmark::State& state) {
  const auto a = q16_inputs(3), b = q16_inputs(4);
  std::vector<decltype(Q16{} * Q16{})> c(kN);  // Fixed<32,16>, int32 storage
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) c[i] = a[i] * b[i];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}
void BM_hand_mul(benchmark::State& state) {
  const auto a = raw_of(q16_inputs(3)), b = raw_of(q16_inputs(4));
  std::vector<std::int32_t> c(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) c[i] = std::int32_t{a[i]} * std::int32_t{b[i]};
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}

// Multiply-accumulate back into a saturating 16-bit format: the requantization
// step every fixed-point layer does (round half to even, saturate).
void BM_fixed_mul_requantize(benchmark::State& state) {
  const auto a = q16_inputs(5), b = q16_inputs(6);
  std::vector<Q16> c(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) c[i] = Q16(a[i] * b[i]);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}
void BM_hand_mul_requantize(benchmark::State& state) {
  const auto a = raw_of(q16_inputs(5)), b = raw_of(q16_inputs(6));
  std::vector<std::int16_t> c(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) {
      const std::int32_t p = std::int32_t{a[i]} * std::int32_t{b[i]};  // 16 fraction bits
      std::int32_t q = p >> 8;                                           // floor
      const std::int32_t rem = p & 0xFF;
      q += (rem > 0x80) || (rem == 0x80 && (q & 1));                     // half to even
      c[i] = static_cast<std::int16_t>(std::clamp(q, -32768, 32767));
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}

}  // namespace

BENCHMARK(BM_fixed_from_float<fixq::Fixed<8, 4>>)->Name("from_float/Fixed<8,4>/fixq");
BENCHMARK(BM_hand_from_float<std::int8_t, 4>)->Name("from_float/Fixed<8,4>/hand");
BENCHMARK(BM_fixed_from_float<fixq::Fixed<16, 8>>)->Name("from_float/Fixed<16,8>/fixq");
BENCHMARK(BM_hand_from_float<std::int16_t, 8>)->Name("from_float/Fixed<16,8>/hand");
BENCHMARK(BM_fixed_add)->Name("add/Fixed<16,8>/fixq");
BENCHMARK(BM_hand_add)->Name("add/Fixed<16,8>/hand");
BENCHMARK(BM_fixed_mul)->Name("mul/Fixed<16,8>/fixq");
BENCHMARK(BM_hand_mul)->Name("mul/Fixed<16,8>/hand");
BENCHMARK(BM_fixed_mul_requantize)->Name("mul_requantize/Fixed<16,8>/fixq");
BENCHMARK(BM_hand_mul_requantize)->Name("mul_requantize/Fixed<16,8>/hand");
