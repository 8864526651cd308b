// The integer GEMM of the layers (fixq::gemm_i16: VNNI vpdpwssd or AVX2 vpmaddwd,
// exact) against gemmlowp (exact, uint8 with offsets) and oneDNN's int8 matmul
// (u8 x s8 -> s32), on the GEMM shapes of LeNet-5's and a small CIFAR-10 CNN's
// layers (im2col rows x output channels x window size), one thread, in one run.
// gemmlowp and oneDNN are compared only where CMake finds them (Debian
// libgemmlowp-dev, libdnnl-dev). Items are multiply-accumulates. Results:
// bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include <fixq/kernels/gemm.hpp>
#include <fixq/kernels/parallel.hpp>

#if defined(FIXQ_BENCH_GEMMLOWP)
#include <gemmlowp/public/gemmlowp.h>
#endif
#if defined(FIXQ_BENCH_DNNL)
#include <dnnl.hpp>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

struct GemmShape {
  std::int64_t M, N, K;
};
// (rows, output channels, reduction length)
const GemmShape kShapes[] = {
    {784, 6, 25},     // LeNet-5 conv1, batch 1
    {100, 16, 150},   // LeNet-5 conv2
    {64, 120, 400},   // LeNet-5 fc1, batch 64
    {1024, 32, 27},   // CIFAR conv1, batch 1
    {1024, 32, 288},  // CIFAR conv2
    {256, 64, 288},   // CIFAR conv3
    {256, 64, 576},   // CIFAR conv4
    {64, 128, 4096},  // CIFAR fc1, batch 64
};

std::vector<std::int8_t> codes8(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<std::int8_t> v(n);
  for (auto& x : v) x = static_cast<std::int8_t>(d(g));
  return v;
}

void set_items(benchmark::State& state, const GemmShape& s) {
  state.SetItemsProcessed(state.iterations() * s.M * s.N * s.K);
  state.SetLabel(std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K));
}

void BM_fixq(benchmark::State& state) {
  const GemmShape s = kShapes[state.range(0)];
  fixq::set_threads(1);
  const auto a8 = codes8(static_cast<std::size_t>(s.M * s.K), 1), b8 = codes8(static_cast<std::size_t>(s.K * s.N), 2);
  const std::vector<std::int16_t> a(a8.begin(), a8.end());
  const fixq::PackedB16 b = fixq::pack_b16(b8.data(), static_cast<std::size_t>(s.K), static_cast<std::size_t>(s.N),
                                           static_cast<std::size_t>(s.N));
  std::vector<std::int32_t> c(static_cast<std::size_t>(s.M * s.N));
  for (auto _ : state) {
    fixq::gemm_i16(static_cast<std::size_t>(s.M), a.data(), static_cast<std::size_t>(s.K), b, c.data(),
                   static_cast<std::size_t>(s.N));
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  fixq::set_threads(0);
  set_items(state, s);
}

#if defined(FIXQ_BENCH_GEMMLOWP)
void BM_gemmlowp(benchmark::State& state) {
  const GemmShape s = kShapes[state.range(0)];
  const auto a8 = codes8(static_cast<std::size_t>(s.M * s.K), 1), b8 = codes8(static_cast<std::size_t>(s.K * s.N), 2);
  // uint8 codes with offset -128: the same values as the int8 codes.
  std::vector<std::uint8_t> a(a8.size()), b(b8.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(a8[i] + 128);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(b8[i] + 128);
  std::vector<std::int32_t> c(static_cast<std::size_t>(s.M * s.N));
  gemmlowp::GemmContext ctx;
  ctx.set_max_num_threads(1);
  const gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::RowMajor> lhs(a.data(), static_cast<int>(s.M),
                                                                                  static_cast<int>(s.K));
  const gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::RowMajor> rhs(b.data(), static_cast<int>(s.K),
                                                                                  static_cast<int>(s.N));
  gemmlowp::MatrixMap<std::int32_t, gemmlowp::MapOrder::RowMajor> res(c.data(), static_cast<int>(s.M),
                                                                      static_cast<int>(s.N));
  for (auto _ : state) {
    gemmlowp::GemmWithOutputPipeline<std::uint8_t, std::int32_t, gemmlowp::DefaultL8R8BitDepthParams>(
        &ctx, lhs, rhs, &res, -128, -128, std::make_tuple());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_items(state, s);
}
#endif

#if defined(FIXQ_BENCH_DNNL)
void BM_onednn(benchmark::State& state) {
  const GemmShape s = kShapes[state.range(0)];
#if defined(_OPENMP)
  omp_set_num_threads(1);
#endif
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dnnl::memory::desc a_md({s.M, s.K}, dt::u8, tag::ab), b_any({s.K, s.N}, dt::s8, tag::any),
      b_md({s.K, s.N}, dt::s8, tag::ab), c_md({s.M, s.N}, dt::s32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_any, c_md), eng);  // the oneDNN 2.x API
  const auto a8 = codes8(static_cast<std::size_t>(s.M * s.K), 1), b8 = codes8(static_cast<std::size_t>(s.K * s.N), 2);
  std::vector<std::uint8_t> a(a8.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(a8[i] + 128);
  dnnl::memory am(a_md, eng, a.data()), bm_plain(b_md, eng, const_cast<std::int8_t*>(b8.data()));
  dnnl::memory bm(pd.weights_desc(), eng), cm(c_md, eng);
  dnnl::reorder(bm_plain, bm).execute(strm, bm_plain, bm);  // weights packed once, as a layer would
  const dnnl::matmul mm(pd);
  for (auto _ : state) {
    mm.execute(strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    strm.wait();
  }
  set_items(state, s);
}
#endif

void shapes(benchmark::internal::Benchmark* b) {
  for (int i = 0; i < static_cast<int>(std::size(kShapes)); ++i) b->Arg(i);
  b->UseRealTime();
}

}  // namespace

BENCHMARK(BM_fixq)->Name("gemm/fixq_i16")->Apply(shapes);
#if defined(FIXQ_BENCH_GEMMLOWP)
BENCHMARK(BM_gemmlowp)->Name("gemm/gemmlowp")->Apply(shapes);
#endif
#if defined(FIXQ_BENCH_DNNL)
BENCHMARK(BM_onednn)->Name("gemm/onednn_u8s8")->Apply(shapes);
#endif
