// fixq/kernels/gemm.hpp - exact integer matrix products for the integer layers.
//
//   fixq::gemm_exact<std::int32_t>(M, N, K, a, lda, b, ldb, c, ldc);
//
// C = A * B with A (M x K), B (K x N) and C (M x N) row-major, every product and
// partial sum computed exactly in the accumulator type Acc (int32 or int64). The
// caller proves that no partial sum leaves Acc's range (the layers do it from the
// code widths and the reduction length: layers/accumulator.hpp); under that bound
// the result is the exact integer product whatever the summation order, so it
// never depends on the thread count or the instruction set. No instruction that
// saturates an intermediate is used (x86's vpmaddubsw sums pairs into int16 with
// saturation: the cause of the int8 engines' inexact results).
//
// Rows of C are split over threads (kernels/parallel.hpp) when the product is
// large. The inner loop runs over contiguous columns of B and C, which compilers
// vectorize with widening multiplies.
#ifndef FIXQ_KERNELS_GEMM_HPP
#define FIXQ_KERNELS_GEMM_HPP

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <fixq/kernels/parallel.hpp>
#include <fixq/simd/gemm_i16.hpp>

namespace fixq {

namespace detail {

/// Rows [m0, m1) of C = A * B; kc columns of A (and rows of B) at a time so that
/// the slice of B in use stays in cache.
template <class Acc, class TA, class TB>
void gemm_rows(std::size_t m0, std::size_t m1, std::size_t N, std::size_t K, const TA* a, std::size_t lda,
               const TB* b, std::size_t ldb, Acc* c, std::size_t ldc) {
  constexpr std::size_t kc = 256;
  for (std::size_t m = m0; m < m1; ++m) std::fill(c + m * ldc, c + m * ldc + N, Acc{0});
  for (std::size_t k0 = 0; k0 < K; k0 += kc) {
    const std::size_t k1 = std::min(K, k0 + kc);
    for (std::size_t m = m0; m < m1; ++m) {
      Acc* __restrict crow = c + m * ldc;
      const TA* arow = a + m * lda;
      for (std::size_t k = k0; k < k1; ++k) {
        const Acc av = static_cast<Acc>(arow[k]);
        if (av == 0) continue;  // zero padding and ReLU outputs are common
        const TB* __restrict brow = b + k * ldb;
        for (std::size_t n = 0; n < N; ++n) crow[n] += av * static_cast<Acc>(brow[n]);
      }
    }
  }
}

}  // namespace detail

/// C = A * B exactly in Acc (see the top of this file for the precondition).
template <class Acc, class TA, class TB>
  requires std::integral<Acc> && std::integral<TA> && std::integral<TB>
void gemm_exact(std::size_t M, std::size_t N, std::size_t K, const TA* a, std::size_t lda, const TB* b,
                std::size_t ldb, Acc* c, std::size_t ldc) {
  static_assert(sizeof(Acc) >= 4 && std::is_signed_v<Acc>, "fixq::gemm_exact: int32 or int64 accumulators");
  constexpr std::size_t rows_per_task = 16;
  const std::size_t tasks = (M + rows_per_task - 1) / rows_per_task;
  const bool parallel = M * N * K >= (std::size_t{1} << 20);
  detail::for_each_chunk(tasks, parallel, [&](std::size_t t) {
    const std::size_t m0 = t * rows_per_task, m1 = std::min(M, m0 + rows_per_task);
    detail::gemm_rows(m0, m1, N, K, a, lda, b, ldb, c, ldc);
  });
}

/// B packed once for gemm_i16 (int16 codes; see simd/gemm_i16.hpp).
using PackedB16 = detail::simd::PackedB16;
template <class T>
  requires std::integral<T>
PackedB16 pack_b16(const T* b, std::size_t K, std::size_t N, std::size_t ldb) {
  return detail::simd::pack_b16(b, K, N, ldb);
}

/// C (M x b.N, int32) = A (M x b.K, int16 codes) * B, on the dot-product
/// instructions of the target (AVX-512 VNNI vpdpwssd, AVX2 vpmaddwd). Exact when
/// every partial sum fits int32 (the caller proves it; see the top of this file).
inline void gemm_i16(std::size_t M, const std::int16_t* a, std::size_t lda, const PackedB16& b, std::int32_t* c,
                     std::size_t ldc) {
  constexpr std::size_t rows_per_task = 32;
  const std::size_t tasks = (M + rows_per_task - 1) / rows_per_task;
  const bool parallel = M * b.N * b.K >= (std::size_t{1} << 21);
  detail::for_each_chunk(tasks, parallel, [&](std::size_t t) {
    const std::size_t m0 = t * rows_per_task, m1 = std::min(M, m0 + rows_per_task);
    detail::simd::gemm_i16_rows(m0, m1, a, lda, b, c, ldc);
  });
}

/// The instructions gemm_i16 runs on in this build.
constexpr const char* gemm_i16_isa() { return detail::simd::gemm_i16_isa; }

}  // namespace fixq

#endif  // FIXQ_KERNELS_GEMM_HPP
