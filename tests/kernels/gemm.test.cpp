// gemm_exact against a naive triple loop in 128-bit integers: random shapes
// (including empty and one-element ones), int8 / int16 / int32 codes at the
// extremes of their ranges (where a saturating instruction would be wrong),
// int32 and int64 accumulators, one and two threads.
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/kernels/gemm.hpp>
#include <fixq/kernels/parallel.hpp>

#include "support/int128.hpp"

namespace {

template <class T>
std::vector<T> random_codes(std::mt19937_64& g, std::size_t n, int bits) {
  std::vector<T> v(n);
  const std::int64_t lo = -(std::int64_t{1} << (bits - 1)), hi = (std::int64_t{1} << (bits - 1)) - 1;
  std::uniform_int_distribution<std::int64_t> d(lo, hi);
  for (auto& x : v) {
    const int pick = static_cast<int>(g() % 8);
    x = static_cast<T>(pick == 0 ? lo : pick == 1 ? hi : d(g));  // the extremes often
  }
  return v;
}

template <class Acc, class TA, class TB>
void check(std::mt19937_64& g, std::size_t M, std::size_t N, std::size_t K, int abits, int bbits) {
  const auto a = random_codes<TA>(g, M * K, abits);
  const auto b = random_codes<TB>(g, K * N, bbits);
  std::vector<Acc> c(M * N, Acc{123});
  fixq::gemm_exact<Acc>(M, N, K, a.data(), K, b.data(), N, c.data(), N);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      fixq_test::i128 s = 0;
      for (std::size_t k = 0; k < K; ++k) s += static_cast<fixq_test::i128>(a[m * K + k]) * b[k * N + n];
      INFO("M " << M << " N " << N << " K " << K << " at " << m << "," << n);
      REQUIRE(static_cast<fixq_test::i128>(c[m * N + n]) == s);
    }
}

/// gemm_i16 with B packed once, against the exact product.
void check_i16(std::mt19937_64& g, std::size_t M, std::size_t N, std::size_t K, int abits, int bbits) {
  const auto a = random_codes<std::int16_t>(g, M * K, abits);
  const auto b = random_codes<std::int32_t>(g, K * N, bbits);
  const fixq::PackedB16 p = fixq::pack_b16(b.data(), K, N, N);
  std::vector<std::int32_t> c(M * N, 123);
  fixq::gemm_i16(M, a.data(), K, p, c.data(), N);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      fixq_test::i128 s = 0;
      for (std::size_t k = 0; k < K; ++k) s += static_cast<fixq_test::i128>(a[m * K + k]) * b[k * N + n];
      INFO("gemm_i16 (" << fixq::gemm_i16_isa() << ") M " << M << " N " << N << " K " << K << " at " << m << "," << n);
      REQUIRE(static_cast<fixq_test::i128>(c[m * N + n]) == s);
    }
}

}  // namespace

TEST_CASE("gemm_i16 (dot-product instructions) equals the exact product", "[gemm]") {
  std::mt19937_64 g(10);
  for (int threads : {1, 2}) {
    fixq::set_threads(threads);
    for (int rep = 0; rep < 40; ++rep) {
      const std::size_t M = g() % 23, N = g() % 70, K = g() % 260;  // odd K and N past the vector widths
      check_i16(g, M, N, K, 8, 8);
      // 16-bit codes at their extremes, as long as K * 2^15 * 2^15 < 2^31: K = 1 only;
      // 12 x 12 bits: K * 2^22 < 2^31 for K < 512.
      check_i16(g, M, N, 1, 16, 16);
      check_i16(g, M, N, K, 12, 12);
    }
    check_i16(g, 200, 64, 288, 8, 8);  // large enough for two threads
  }
  fixq::set_threads(0);
}

TEST_CASE("gemm_exact equals the exact product", "[gemm]") {
  std::mt19937_64 g(9);
  for (int threads : {1, 2}) {
    fixq::set_threads(threads);
    for (int rep = 0; rep < 30; ++rep) {
      const std::size_t M = g() % 40, N = g() % 40, K = g() % 300;
      // 8 x 8 bits: |sum| <= K * 2^14 < 2^31 for K < 2^17.
      check<std::int32_t, std::int16_t, std::int32_t>(g, M, N, K, 8, 8);
      check<std::int32_t, std::int8_t, std::int32_t>(g, M, N, K, 8, 8);
      // 16 x 16 bits into int64 (the sum of two products of -2^15 is 2^31: not an int32).
      check<std::int64_t, std::int16_t, std::int32_t>(g, M, N, K, 16, 16);
      check<std::int64_t, std::int32_t, std::int32_t>(g, M, N, K, 24, 24);
    }
    // Large enough to run on several threads.
    check<std::int32_t, std::int16_t, std::int32_t>(g, 300, 64, 100, 8, 8);
  }
  fixq::set_threads(0);
}
