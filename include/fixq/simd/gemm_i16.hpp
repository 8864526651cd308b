// fixq/simd/gemm_i16.hpp - the int16 x int16 -> int32 product kernel of the
// integer layers, on the dot-product instructions the target has.
//
// C (M x N, int32) = A (M x K, int16 codes) * B (K x N, int16 codes), B packed
// once (pack_b16): pairs of rows interleaved, so that one 32-bit lane holds
// (b[k][n], b[k + 1][n]). Each step multiplies a broadcast pair (a[m][k], a[m][k + 1])
// with 16 (AVX-512) or 8 (AVX2) such lanes and adds a[m][k] b[k][n] + a[m][k+1] b[k+1][n]
// to the int32 accumulators:
//   AVX-512 VNNI  vpdpwssd (products and sums exact, wrapping adds)
//   AVX2          vpmaddwd + vpaddd (the same)
//   otherwise     a plain loop.
// Exact whenever every partial sum fits int32, which the caller proves: the
// layers use this kernel only when K * max|a| * max|b| < 2^31 (that also rules out
// the one pair whose sum does not fit, (-2^15)(-2^15) twice). No instruction that
// saturates an intermediate is used (vpmaddubsw).
#ifndef FIXQ_SIMD_GEMM_I16_HPP
#define FIXQ_SIMD_GEMM_I16_HPP

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if !defined(FIXQ_NO_EXPLICIT_SIMD) && (defined(__AVX2__) || (defined(__AVX512VNNI__) && defined(__AVX512BW__)))
#include <immintrin.h>
#endif

namespace fixq::detail::simd {

#if !defined(FIXQ_NO_EXPLICIT_SIMD) && defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512F__)
#define FIXQ_GEMM_I16_VNNI 1
inline constexpr int gemm_i16_lanes = 16;
inline constexpr const char* gemm_i16_isa = "AVX-512 VNNI (vpdpwssd)";
#elif !defined(FIXQ_NO_EXPLICIT_SIMD) && defined(__AVX2__)
#define FIXQ_GEMM_I16_AVX2 1
inline constexpr int gemm_i16_lanes = 8;
inline constexpr const char* gemm_i16_isa = "AVX2 (vpmaddwd)";
#else
inline constexpr int gemm_i16_lanes = 8;
inline constexpr const char* gemm_i16_isa = "portable";
#endif

/// B (K x N) packed for the kernel: `data` holds K2 = ceil(K / 2) blocks of
/// N2 pairs (N rounded up to the lanes of two vectors), pair (k, n) at
/// (k / 2) * N2 * 2 + 2 n + k % 2; zeros past K and N.
struct PackedB16 {
  std::size_t K = 0, N = 0, K2 = 0, N2 = 0;
  std::vector<std::int16_t> data;
};

template <class T>
PackedB16 pack_b16(const T* b, std::size_t K, std::size_t N, std::size_t ldb) {
  PackedB16 p;
  p.K = K;
  p.N = N;
  p.K2 = (K + 1) / 2;
  const std::size_t step = 2 * static_cast<std::size_t>(gemm_i16_lanes);
  p.N2 = (N + step - 1) / step * step;
  p.data.assign(p.K2 * p.N2 * 2, 0);
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t n = 0; n < N; ++n)
      p.data[(k / 2) * p.N2 * 2 + 2 * n + k % 2] = static_cast<std::int16_t>(b[k * ldb + n]);
  return p;
}

/// The pair (a[2j], a[2j + 1]) of an int16 row as one 32-bit word: the two codes
/// as they lie in memory (little-endian x86: a[2j] in the low half), or, for the
/// last pair of an odd K, a[2j] with a zero high half.
inline std::int32_t code_pair(const std::int16_t* row, std::size_t j, std::size_t K) {
  if (2 * j + 1 < K) {
    std::int32_t w;
    std::memcpy(&w, row + 2 * j, sizeof w);
    return w;
  }
  return static_cast<std::int32_t>(static_cast<std::uint16_t>(row[2 * j]));
}

/// Rows [m0, m1) of C = A * B (see the top of this file).
inline void gemm_i16_rows(std::size_t m0, std::size_t m1, const std::int16_t* a, std::size_t lda, const PackedB16& b,
                          std::int32_t* c, std::size_t ldc) {
  static_assert(std::endian::native == std::endian::little, "fixq: the int16 pair kernel assumes little-endian");
  const std::size_t K = b.K, K2 = b.K2, N = b.N, N2 = b.N2;
  constexpr std::size_t R = 4;  // rows per step
  constexpr std::size_t L = static_cast<std::size_t>(gemm_i16_lanes);
  const std::vector<std::int16_t> zero_row(K + 1, 0);  // stands for the rows past m1
  for (std::size_t m = m0; m < m1; m += R) {
    const std::size_t rows = std::min(R, m1 - m);
    const std::int16_t* row[R];
    for (std::size_t r = 0; r < R; ++r) row[r] = r < rows ? a + (m + r) * lda : zero_row.data();
    for (std::size_t n0 = 0; n0 < N2; n0 += 2 * L) {
      alignas(64) std::int32_t out[R][2 * L];
#if defined(FIXQ_GEMM_I16_VNNI)
      __m512i acc[R][2];
      for (std::size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
      for (std::size_t j = 0; j < K2; ++j) {
        const std::int16_t* bp = b.data.data() + j * N2 * 2 + 2 * n0;
        const __m512i b0 = _mm512_loadu_si512(bp), b1 = _mm512_loadu_si512(bp + 2 * L);
        for (std::size_t r = 0; r < R; ++r) {
          const __m512i av = _mm512_set1_epi32(code_pair(row[r], j, K));
          acc[r][0] = _mm512_dpwssd_epi32(acc[r][0], av, b0);
          acc[r][1] = _mm512_dpwssd_epi32(acc[r][1], av, b1);
        }
      }
      for (std::size_t r = 0; r < R; ++r) {
        _mm512_store_si512(out[r], acc[r][0]);
        _mm512_store_si512(out[r] + L, acc[r][1]);
      }
#elif defined(FIXQ_GEMM_I16_AVX2)
      __m256i acc[R][2];
      for (std::size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
      for (std::size_t j = 0; j < K2; ++j) {
        const std::int16_t* bp = b.data.data() + j * N2 * 2 + 2 * n0;
        const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp));
        const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + 2 * L));
        for (std::size_t r = 0; r < R; ++r) {
          const __m256i av = _mm256_set1_epi32(code_pair(row[r], j, K));
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, b0));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, b1));
        }
      }
      for (std::size_t r = 0; r < R; ++r) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(out[r]), acc[r][0]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(out[r] + L), acc[r][1]);
      }
#else
      for (std::size_t r = 0; r < R; ++r)
        for (std::size_t l = 0; l < 2 * L; ++l) {
          std::int64_t s = 0;  // exact; fits int32 by the caller's bound
          for (std::size_t j = 0; j < K2; ++j) {
            const std::int16_t* bp = b.data.data() + j * N2 * 2 + 2 * (n0 + l);
            const std::int32_t p = code_pair(row[r], j, K);
            s += static_cast<std::int64_t>(static_cast<std::int16_t>(p & 0xFFFF)) * bp[0] +
                 static_cast<std::int64_t>(static_cast<std::int16_t>(p >> 16)) * bp[1];
          }
          out[r][l] = static_cast<std::int32_t>(s);
        }
#endif
      const std::size_t cols = std::min(2 * L, N - std::min(N, n0));
      for (std::size_t r = 0; r < rows; ++r) std::memcpy(c + (m + r) * ldc + n0, out[r], cols * sizeof(std::int32_t));
    }
  }
}

}  // namespace fixq::detail::simd

#endif  // FIXQ_SIMD_GEMM_I16_HPP
