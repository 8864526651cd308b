// fixq::quantize_stats (kernels/stats.hpp): what quantizing an array does to it.
//
// Saturation counts are checked against the scalar type: a Fixed with the same
// frac and a much wider word (40 bits) rounds exactly like the target format
// but does not overflow for the data used here, so its code IS the rounded
// value before overflow handling; comparing it with the target's bounds gives
// the expected saturated_high / saturated_low. Under Round::Stochastic element
// i is converted with fixq::RandomStream(seed, i), i.e. with random_u32(seed, i).
//
// Error statistics are checked against fixq::quantize's output: max_abs_error
// exactly (one subtraction per element, no summation); mse and sqnr_db to a
// relative 1e-12, because a build may contract or reorder the sums
// (-ffp-contract, -march=native), which changes the last bits.
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fixq/core.hpp>
#include <fixq/random.hpp>
#include <fixq/kernels/quantize.hpp>
#include <fixq/kernels/stats.hpp>

#include "support/eigen_arrays.hpp"

using fixq::Format;
using fixq::Overflow;
using fixq::QuantStats;
using fixq::Round;

namespace {

using fixq_test::arr;
using fixq_test::kInf;
using fixq_test::kNaN;

/// Calls f.template operator()<R>() for each of the 10 rounding modes.
template <class F>
void for_each_round(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<fixq::all_rounds[I]>(), ...);
  }(std::make_index_sequence<std::size(fixq::all_rounds)>{});
}

/// The rounded value of each element in LSBs of 2^-Frac under R, before any
/// overflow handling (see the top of the file). NaN gives 0, infinities the
/// wide limits +-2^39, beyond every target format used here.
template <Round R, int Frac, class T>
std::vector<std::int64_t> rounded_codes(const Eigen::Array<T, Eigen::Dynamic, 1>& x, std::uint64_t seed) {
  using Wide = fixq::Fixed<40, Frac, R>;
  std::vector<std::int64_t> codes(static_cast<std::size_t>(x.size()));
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    fixq::RandomStream rng(seed, static_cast<std::uint64_t>(i));
    codes[static_cast<std::size_t>(i)] = Wide(x(i), rng).raw();
  }
  return codes;
}

struct Counts {
  std::size_t high = 0, low = 0, nan = 0;
};

/// Expected counts from the rounded values: above the max code, or below the
/// lowest code the overflow mode keeps (-max for SaturateSymmetric when signed).
template <class T>
Counts expected_counts(const Eigen::Array<T, Eigen::Dynamic, 1>& x, const std::vector<std::int64_t>& rounded,
                       const Format& fmt, Overflow o) {
  const auto hi = static_cast<std::int64_t>(fmt.max_code());
  const std::int64_t lo = o == Overflow::SaturateSymmetric && fmt.is_signed ? -hi : fmt.min_code();
  Counts c;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const std::int64_t r = rounded[static_cast<std::size_t>(i)];
    if (std::isnan(x(i))) ++c.nan;
    else if (r > hi) ++c.high;
    else if (r < lo) ++c.low;
  }
  return c;
}

struct Errors {
  double max_abs = 0, mse = 0, sqnr = kInf;
};

/// Error statistics of x against q = fixq::quantize(x, ...).eval(), finite elements only.
template <class DerivedX, class DerivedQ>
Errors errors_of(const Eigen::DenseBase<DerivedX>& x, const Eigen::DenseBase<DerivedQ>& q) {
  REQUIRE(x.rows() == q.rows());
  REQUIRE(x.cols() == q.cols());
  Errors e;
  double signal = 0, noise = 0;
  std::size_t n = 0;
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const double xv = static_cast<double>(x(r, c));
      if (!std::isfinite(xv)) continue;
      const double err = xv - static_cast<double>(q(r, c));
      e.max_abs = std::max(e.max_abs, std::fabs(err));
      signal += xv * xv;
      noise += err * err;
      ++n;
    }
  }
  e.mse = n ? noise / static_cast<double>(n) : 0.0;
  e.sqnr = noise > 0 ? 10 * std::log10(signal / noise) : kInf;
  return e;
}

void check_errors(const QuantStats& s, const Errors& e) {
  CHECK(s.max_abs_error == e.max_abs);
  CHECK(s.mse == Approx(e.mse).epsilon(1e-12).margin(0));
  if (std::isinf(e.sqnr)) CHECK(s.sqnr_db == e.sqnr);
  else CHECK(s.sqnr_db == Approx(e.sqnr).epsilon(1e-12).margin(1e-12));
}

/// All fields equal (the same computation on the same data in the same order).
void check_same(const QuantStats& a, const QuantStats& b) {
  CHECK(a.count == b.count);
  CHECK(a.saturated_high == b.saturated_high);
  CHECK(a.saturated_low == b.saturated_low);
  CHECK(a.nan_count == b.nan_count);
  CHECK(a.max_abs_error == b.max_abs_error);
  CHECK(a.mse == b.mse);
  CHECK(a.sqnr_db == b.sqnr_db);
}

/// Test data for Format{word, Frac, *}: random values over 1.5x the signed and
/// unsigned ranges (half of them on a quarter-LSB grid, so every rounding tie
/// occurs), the boundary values of both ranges +- quarter/half LSBs, and specials.
template <class T>
Eigen::Array<T, Eigen::Dynamic, 1> test_data(int word, int frac, unsigned seed) {
  const double lsb = std::ldexp(1.0, -frac);
  const double smax = std::ldexp(1.0, word - 1) - 1, smin = -std::ldexp(1.0, word - 1);
  const double umax = std::ldexp(1.0, word) - 1;
  std::vector<double> v;
  for (double code : {smax, smin, umax, 0.0}) {
    for (double d : {-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75}) v.push_back((code + d) * lsb);
  }
  // No huge finite values: their errors would swamp everyone else's in max_abs_error and mse.
  for (double special : {kNaN, kInf, -kInf, -0.0, kNaN}) v.push_back(special);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> uni(-1.5 * umax, 1.5 * umax);
  for (int i = 0; i < 600; ++i) {
    const double c = uni(gen);
    v.push_back((i % 2 ? std::round(c * 4) / 4 : c) * lsb);
  }
  Eigen::Array<T, Eigen::Dynamic, 1> x(static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) x(static_cast<Eigen::Index>(i)) = static_cast<T>(v[i]);
  return x;
}

/// Every overflow mode, both signednesses, several words, for one Round, Frac
/// and input type; `rounded_of` is rounded_codes<R, Frac> (the only part that
/// needs R and Frac at compile time, so the rest is compiled once per type).
template <class T>
void check_all_modes(Round r, int frac, std::uint64_t seed,
                     std::vector<std::int64_t> (*rounded_of)(const Eigen::Array<T, Eigen::Dynamic, 1>&,
                                                             std::uint64_t)) {
  for (int word : {3, 8, 16}) {
    const Eigen::Array<T, Eigen::Dynamic, 1> x = test_data<T>(word, frac, static_cast<unsigned>(word * 31 + frac));
    const std::vector<std::int64_t> rounded = rounded_of(x, seed);
    for (bool is_signed : {true, false}) {
      const Format fmt{word, frac, is_signed};
      const QuantStats saturate = fixq::quantize_stats(x, {fmt, r, Overflow::Saturate, seed});
      for (Overflow o : fixq::all_overflows) {
        INFO(fmt.name() << ", " << fixq::to_string(r) << ", " << fixq::to_string(o) << ", input "
                        << (sizeof(T) == 4 ? "float" : "double"));
        const QuantStats s = fixq::quantize_stats(x, {fmt, r, o, seed});
        const Counts c = expected_counts(x, rounded, fmt, o);
        CHECK(s.count == static_cast<std::size_t>(x.size()));
        CHECK(s.saturated_high == c.high);
        CHECK(s.saturated_low == c.low);
        CHECK(s.nan_count == c.nan);
        if (o == Overflow::Throw) {
          // Nothing thrown (the data has NaN, infinities and overflows); Saturate's numbers.
          CHECK_THROWS_AS(fixq::quantize(x, {fmt, r, o, seed}).eval(), fixq::overflow_error);
          check_same(s, saturate);
        } else {
          check_errors(s, errors_of(x, fixq::quantize(x, {fmt, r, o, seed}).eval()));
        }
      }
    }
  }
}
template <Round R, int Frac, class T>
void check_all_modes(std::uint64_t seed) {
  check_all_modes<T>(R, Frac, seed, &rounded_codes<R, Frac, T>);
}

}  // namespace

TEST_CASE("Counts at the boundaries of Fixed<8,4>, worked by hand", "[kernels][stats]") {
  // In LSBs (1/16): 127 (max), 127.5, 127.25, -128 (min), -128.5, -128.25, then
  // 100, -100, +inf, -inf (out of range), NaN, 0.
  const Eigen::ArrayXd x = arr({127.0 / 16, 127.5 / 16, 127.25 / 16, -8.0, -128.5 / 16, -128.25 / 16, 100.0,
                                -100.0, kInf, -kInf, kNaN, 0.0});
  const Format f{8, 4, true};
  struct Row {
    Round r;
    Overflow o;
    std::size_t high, low;
  };
  const Row rows[] = {
      {Round::Floor, Overflow::Saturate, 2, 4},        // -128.5 -> -129, -128.25 -> -129
      {Round::Ceil, Overflow::Saturate, 4, 2},         // 127.5 -> 128, 127.25 -> 128
      {Round::TowardZero, Overflow::Saturate, 2, 2},   // everything toward 0: in range
      {Round::NearestEven, Overflow::Saturate, 3, 2},  // 127.5 -> 128 (even), -128.5 -> -128 (even)
      {Round::NearestOdd, Overflow::Saturate, 2, 3},   // 127.5 -> 127, -128.5 -> -129
      {Round::NearestTiesToPosInf, Overflow::Saturate, 3, 2},    // ties to +inf
      {Round::NearestTiesToNegInf, Overflow::Saturate, 2, 3},  // ties to -inf
      {Round::NearestAway, Overflow::Saturate, 3, 3},
      {Round::NearestTiesToZero, Overflow::Saturate, 2, 2},
      // SaturateSymmetric keeps [-127, 127]: -128 itself and the two that round to -128 saturate.
      {Round::NearestEven, Overflow::SaturateSymmetric, 3, 5},
      {Round::Floor, Overflow::SaturateSymmetric, 2, 5},
      // Wrap, SaturateZero and Throw count like Saturate.
      {Round::NearestEven, Overflow::Wrap, 3, 2},
      {Round::NearestEven, Overflow::SaturateZero, 3, 2},
      {Round::NearestEven, Overflow::Throw, 3, 2},
      {Round::Floor, Overflow::Wrap, 2, 4},
  };
  for (const Row& row : rows) {
    INFO(fixq::to_string(row.r) << ", " << fixq::to_string(row.o));
    const QuantStats s = fixq::quantize_stats(x, {f, row.r, row.o, 0});
    CHECK(s.count == 12);
    CHECK(s.saturated_high == row.high);
    CHECK(s.saturated_low == row.low);
    CHECK(s.nan_count == 1);
  }
  // Unsigned UFixed<8,4> keeps codes [0, 255]. In LSBs: -0.25, -0.5 (a tie between
  // -1 and 0), -16, 255 (max), 255.5 (a tie between 255 and 256), 320.
  const Eigen::ArrayXd u = arr({-0.25 / 16, -0.5 / 16, -1.0, 255.0 / 16, 255.5 / 16, 20.0});
  const Format uf{8, 4, false};
  struct URow {
    Round r;
    std::size_t high, low;
  };
  const URow urows[] = {
      {Round::Floor, 1, 3},        // -0.25, -0.5 -> -1
      {Round::Ceil, 2, 1},         // -0.25, -0.5 -> 0; 255.5 -> 256
      {Round::NearestEven, 2, 1},  // -0.5 -> 0 (even), 255.5 -> 256 (even)
      {Round::NearestOdd, 1, 2},   // -0.5 -> -1 (odd), 255.5 -> 255 (odd)
      {Round::NearestAway, 2, 2},
  };
  for (const URow& row : urows) {
    for (Overflow o : fixq::all_overflows) {  // SaturateSymmetric's low bound is 0 when unsigned
      INFO("unsigned, " << fixq::to_string(row.r) << ", " << fixq::to_string(o));
      const QuantStats s = fixq::quantize_stats(u, {uf, row.r, o, 0});
      CHECK(s.saturated_high == row.high);
      CHECK(s.saturated_low == row.low);
    }
  }
}

TEST_CASE("Counts of huge values (beyond 2^62 LSBs) in every mode", "[kernels][stats]") {
  // These take the exact path of the kernel under Wrap. (Errors are compared
  // for values whose squares stay finite: with 1e300 both sums overflow.)
  const Eigen::ArrayXd x = arr({1e30, -1e30, 1e150, -1e150, 3e19, 1.0});
  const Eigen::ArrayXd xx = arr({1e30, -1e30, 1e300, -1e300, 3e19, 1.0});
  const Eigen::ArrayXf xf = arr<float>({1e30f, -1e30f, 3e38f, -3e38f, 3e19f, 1.0f});
  for (Round r : fixq::all_rounds) {
    for (Overflow o : fixq::all_overflows) {
      for (bool is_signed : {true, false}) {
        const Format f{8, 4, is_signed};
        INFO(f.name() << ", " << fixq::to_string(r) << ", " << fixq::to_string(o));
        for (const QuantStats& s : {fixq::quantize_stats(x, {f, r, o, 1}), fixq::quantize_stats(xx, {f, r, o, 1}),
                                    fixq::quantize_stats(xf, {f, r, o, 1})}) {
          CHECK(s.saturated_high == 3);
          CHECK(s.saturated_low == 2);
          CHECK(s.nan_count == 0);
        }
        if (o != Overflow::Throw) {
          check_errors(fixq::quantize_stats(x, {f, r, o, 1}), errors_of(x, fixq::quantize(x, {f, r, o, 1}).eval()));
          check_errors(fixq::quantize_stats(xf, {f, r, o, 1}), errors_of(xf, fixq::quantize(xf, {f, r, o, 1}).eval()));
        }
      }
    }
  }
}

TEST_CASE("Counts and errors against the scalar type: every Round and Overflow mode", "[kernels][stats]") {
  for_each_round([]<Round R>() {
    check_all_modes<R, 4, double>(2024);
    check_all_modes<R, 4, float>(7);
    check_all_modes<R, -2, double>(99);
    check_all_modes<R, -2, float>(0);
  });
}

TEST_CASE("Stochastic: saturation follows random_u32(seed, i)", "[kernels][stats]") {
  // 127.5 LSBs of Fixed<8,4> rounds up (to 128, which saturates) iff
  // floor(0.5 * 2^32) + U >= 2^32, i.e. U >= 2^31; 127.25 LSBs iff U >= 3 * 2^30.
  // 9000 elements span three chunks of the kernel.
  const Format f{8, 4, true};
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{42}, ~std::uint64_t{0}}) {
    INFO("seed " << seed);
    for (auto [lsbs, threshold] : {std::pair{127.5, std::uint64_t{1} << 31}, std::pair{127.25, std::uint64_t{3} << 30}}) {
      INFO("value " << lsbs << " LSBs");
      const Eigen::ArrayXd x = Eigen::ArrayXd::Constant(9000, lsbs / 16);
      std::size_t up = 0;
      for (std::uint64_t i = 0; i < 9000; ++i) up += fixq::random_u32(seed, i) >= threshold;
      const QuantStats s = fixq::quantize_stats(x, {f, Round::Stochastic, Overflow::Saturate, seed});
      CHECK(s.saturated_high == up);
      CHECK(s.saturated_low == 0);
      // The same elements become 0 under SaturateZero.
      const Eigen::ArrayXd q = fixq::quantize(x, {f, Round::Stochastic, Overflow::SaturateZero, seed}).eval();
      CHECK(static_cast<std::size_t>((q == 0).count()) == up);
      CHECK(fixq::quantize_stats(x, {f, Round::Stochastic, Overflow::SaturateZero, seed}).saturated_high == up);
      // Float input: the same decisions.
      CHECK(fixq::quantize_stats(Eigen::ArrayXf(x.cast<float>()), {f, Round::Stochastic, Overflow::Saturate, seed})
                .saturated_high == up);
    }
  }
  // Against the scalar type on mixed data over several chunks: element i with RandomStream(seed, i).
  Eigen::ArrayXd x(9000);
  std::mt19937 gen(1);
  std::uniform_real_distribution<double> uni(-9.0, 9.0);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = uni(gen);
  const std::vector<std::int64_t> rounded = rounded_codes<Round::Stochastic, 4>(x, 77);
  for (Overflow o : {Overflow::Saturate, Overflow::SaturateSymmetric, Overflow::Wrap}) {
    const Counts c = expected_counts(x, rounded, f, o);
    const QuantStats s = fixq::quantize_stats(x, {f, Round::Stochastic, o, 77});
    CHECK(s.saturated_high == c.high);
    CHECK(s.saturated_low == c.low);
    check_errors(s, errors_of(x, fixq::quantize(x, {f, Round::Stochastic, o, 77}).eval()));
  }
  // quantize_stats_span with first_index k keys element i with random_u32(seed, k + i).
  const std::size_t k = 1000;
  const fixq::QuantStats span =
      fixq::quantize_stats_span(x.data() + k, 5000, {f, Round::Stochastic, Overflow::Saturate, 77}, k);
  const Counts c = expected_counts(Eigen::ArrayXd(x.segment(static_cast<Eigen::Index>(k), 5000)),
                                   std::vector<std::int64_t>(rounded.begin() + k, rounded.begin() + k + 5000), f,
                                   Overflow::Saturate);
  CHECK(span.saturated_high == c.high);
  CHECK(span.saturated_low == c.low);
}

TEST_CASE("Error statistics: worked examples", "[kernels][stats]") {
  const Format f84{8, 4, true};
  // Everything rounds to 0: the noise equals the signal, SQNR 0 dB.
  {
    const QuantStats s = fixq::quantize_stats(arr({0.01, -0.02}), {Format{8, 0, true}});
    CHECK(s.max_abs_error == 0.02);
    CHECK(s.mse == Approx(2.5e-4).epsilon(1e-12));
    CHECK(s.sqnr_db == 0.0);
    CHECK(s.saturated_high + s.saturated_low == 0);
  }
  // Saturation: 10 -> 127/16 = 7.9375, error 2.0625.
  {
    const QuantStats s = fixq::quantize_stats(arr({10.0}), {f84});
    CHECK(s.max_abs_error == 2.0625);
    CHECK(s.mse == 2.0625 * 2.0625);
    CHECK(s.sqnr_db == Approx(10 * std::log10(100 / (2.0625 * 2.0625))).epsilon(1e-12));
    CHECK(s.saturated_high == 1);
  }
  // Already on the grid: no error, +inf SQNR.
  for (Round r : fixq::all_rounds) {
    for (Overflow o : fixq::all_overflows) {
      INFO(fixq::to_string(r) << ", " << fixq::to_string(o));
      const QuantStats s = fixq::quantize_stats(arr({0.5, -1.25, 7.9375, -7.9375, 0.0625, 0.0}), {f84, r, o, 3});
      CHECK(s.max_abs_error == 0);
      CHECK(s.mse == 0);
      CHECK(s.sqnr_db == kInf);
      CHECK(s.saturated_high + s.saturated_low == 0);
    }
  }
  // All zeros, or nothing finite: zero error, +inf SQNR.
  for (const Eigen::ArrayXd& z : {arr({0.0, -0.0}), arr({kNaN, kNaN}), Eigen::ArrayXd(0)}) {
    const QuantStats s = fixq::quantize_stats(z, {f84});
    CHECK(s.count == static_cast<std::size_t>(z.size()));
    CHECK(s.max_abs_error == 0);
    CHECK(s.mse == 0);
    CHECK(s.sqnr_db == kInf);
  }
  // NaN and infinities are counted but excluded from the error statistics:
  // 1.03 -> 16.48 LSBs -> 16 = 1.0 is the only finite element.
  {
    const QuantStats s = fixq::quantize_stats(arr({1.03, kNaN, kInf, -kInf}), {f84});
    CHECK(s.count == 4);
    CHECK(s.nan_count == 1);
    CHECK(s.saturated_high == 1);
    CHECK(s.saturated_low == 1);
    CHECK(s.max_abs_error == 1.03 - 1.0);
    CHECK(s.mse == Approx((1.03 - 1.0) * (1.03 - 1.0)).epsilon(1e-12));
    CHECK(s.sqnr_db == Approx(10 * std::log10(1.03 * 1.03 / ((1.03 - 1.0) * (1.03 - 1.0)))).epsilon(1e-12));
    // Adding specials changes no error statistic.
    const QuantStats only = fixq::quantize_stats(arr({1.03}), {f84});
    CHECK(s.max_abs_error == only.max_abs_error);
    CHECK(s.mse == only.mse);
    CHECK(s.sqnr_db == only.sqnr_db);
  }
}

TEST_CASE("operator<<: every field on one line, doubles by the stream's settings", "[kernels][stats]") {
  const auto text = [](const QuantStats& s, int precision = 6) {
    std::ostringstream os;
    os << std::setprecision(precision) << s;
    return os.str();
  };
  // 0.3f -> 0.25, 1 -> 1, -0.5 -> -0.5, 2.5 -> 1.75 (saturated) in Fixed<4,2>.
  const Eigen::ArrayXf x = (Eigen::ArrayXf(4) << 0.3f, 1.0f, -0.5f, 2.5f).finished();
  const QuantStats s = fixq::quantize_stats(x, {Format{4, 2}});
  CHECK(text(s) == "count=4 saturated_high=1 saturated_low=0 nan_count=0 max_abs_error=0.75 mse=0.14125 "
                   "sqnr_db=11.2819");
  // Precision 17 shows every bit (of fixed values here: the sums above may differ in their
  // last bits between builds, see the top of the file).
  CHECK(text(QuantStats{3, 0, 0, 0, 0.1, 0.01, 20.0}, 17) ==
        "count=3 saturated_high=0 saturated_low=0 nan_count=0 max_abs_error=0.10000000000000001 "
        "mse=0.01 sqnr_db=20");
  // A default QuantStats (no elements: +inf SQNR), and every count field in its place.
  CHECK(text(QuantStats{}) ==
        "count=0 saturated_high=0 saturated_low=0 nan_count=0 max_abs_error=0 mse=0 sqnr_db=inf");
  CHECK(text(QuantStats{5, 1, 2, 3, 0.5, 0.25, -3.0}) ==
        "count=5 saturated_high=1 saturated_low=2 nan_count=3 max_abs_error=0.5 mse=0.25 sqnr_db=-3");
  // No newline, so it composes with other output.
  std::ostringstream os;
  os << "[" << QuantStats{} << "]";
  CHECK(os.str().front() == '[');
  CHECK(os.str().back() == ']');
  CHECK(os.str().find('\n') == std::string::npos);
}

TEST_CASE("Overflow::Throw: nothing thrown, the statistics of Saturate", "[kernels][stats]") {
  const Eigen::ArrayXd x = test_data<double>(8, 4, 5);
  for (Round r : fixq::all_rounds) {
    for (bool is_signed : {true, false}) {
      const Format f{8, 4, is_signed};
      INFO(f.name() << ", " << fixq::to_string(r));
      QuantStats s;
      CHECK_NOTHROW(s = fixq::quantize_stats(x, {f, r, Overflow::Throw, 11}));
      check_same(s, fixq::quantize_stats(x, {f, r, Overflow::Saturate, 11}));
      CHECK(s.saturated_high > 0);
      CHECK(s.nan_count == 2);
    }
  }
  // Even when the only element is NaN.
  CHECK_NOTHROW(fixq::quantize_stats(arr({kNaN}), {Format{8, 4, true}, Round::NearestEven, Overflow::Throw, 0}));
}

TEST_CASE("Eigen inputs: Array, Matrix, Block, row-major, expressions", "[kernels][stats]") {
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> uni(-10.0, 10.0);
  Eigen::ArrayXXd a(7, 5), b(7, 5);
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    a(i) = uni(gen);
    b(i) = uni(gen);
  }
  a(2, 3) = kNaN;
  const Format f{8, 4, true};
  for (Round r : {Round::NearestEven, Round::Floor, Round::Stochastic}) {
    INFO(fixq::to_string(r));
    const std::uint64_t seed = 5;
    // Array and Matrix with the same data (column-major): identical.
    const QuantStats sa = fixq::quantize_stats(a, {f, r, Overflow::Saturate, seed});
    const Eigen::MatrixXd m = a.matrix();
    check_same(fixq::quantize_stats(m, {f, r, Overflow::Saturate, seed}), sa);
    check_errors(sa, errors_of(a, fixq::quantize(a, {f, r, Overflow::Saturate, seed}).eval()));
    CHECK(sa.count == 35);
    CHECK(sa.nan_count == 1);
    CHECK(sa.saturated_high + sa.saturated_low > 0);

    // A block of a larger matrix: its own storage order (flat index = c * 7 + r).
    Eigen::MatrixXd big = Eigen::MatrixXd::Constant(12, 9, 1e6);
    big.block(3, 2, 7, 5) = m;
    const auto blk = big.block(3, 2, 7, 5);
    check_same(fixq::quantize_stats(blk, {f, r, Overflow::Saturate, seed}), sa);
    check_errors(fixq::quantize_stats(blk, {f, r, Overflow::Saturate, seed}),
                 errors_of(blk, fixq::quantize(blk, {f, r, Overflow::Saturate, seed}).eval()));
    // A block that is not a whole column range, of a float matrix.
    const Eigen::MatrixXf bigf = big.cast<float>();
    const auto blkf = bigf.block(4, 1, 5, 6);
    check_errors(fixq::quantize_stats(blkf, {f, r, Overflow::Wrap, seed}),
                 errors_of(blkf, fixq::quantize(blkf, {f, r, Overflow::Wrap, seed}).eval()));
    check_same(fixq::quantize_stats(blkf, {f, r, Overflow::Wrap, seed}),
               fixq::quantize_stats(Eigen::MatrixXf(blkf), {f, r, Overflow::Wrap, seed}));

    // Row-major: flat indices in row-major order, as fixq::quantize.
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = m;
    const QuantStats srm = fixq::quantize_stats(rm, {f, r, Overflow::Saturate, seed});
    const Eigen::Map<const Eigen::ArrayXd> flat(rm.data(), rm.size());
    check_same(srm, fixq::quantize_stats(flat, {f, r, Overflow::Saturate, seed}));
    check_errors(srm, errors_of(rm, fixq::quantize(rm, {f, r, Overflow::Saturate, seed}).eval()));
    if (r == Round::NearestEven) {
      const std::vector<std::int64_t> rounded = rounded_codes<Round::NearestEven, 4>(Eigen::ArrayXd(flat), 0);
      const Counts c = expected_counts(Eigen::ArrayXd(flat), rounded, f, Overflow::Saturate);
      CHECK(srm.saturated_high == c.high);
      CHECK(srm.saturated_low == c.low);
    }

    // An expression: evaluated first, then as its plain array.
    const QuantStats se = fixq::quantize_stats(a * 2 + b, {f, r, Overflow::SaturateSymmetric, seed});
    const Eigen::ArrayXXd e = a * 2 + b;
    check_same(se, fixq::quantize_stats(e, {f, r, Overflow::SaturateSymmetric, seed}));
    check_errors(se, errors_of(e, fixq::quantize(e, {f, r, Overflow::SaturateSymmetric, seed}).eval()));
    check_same(fixq::quantize_stats(m * 0.5, {f, r, Overflow::Saturate, seed}),
               fixq::quantize_stats(Eigen::MatrixXd(m * 0.5), {f, r, Overflow::Saturate, seed}));
  }
}

TEST_CASE("Float input, word > 24: errors use the values fixq::quantize returns", "[kernels][stats][library_bug]") {
  // The header: "q is exactly what fixq::quantize returns for the same arguments".
  // For float input fixq::quantize returns floats: the saturated code 2^31 - 1
  // of Fixed<32,0> becomes 2147483648.0f, so |1e10 - q| = 7852516352 exactly.
  const Eigen::ArrayXf x = arr<float>({1e10f});
  const Format f{32, 0, true};
  const Eigen::ArrayXf q = fixq::quantize(x, {f}).eval();
  REQUIRE(q(0) == 2147483648.0f);
  const QuantStats s = fixq::quantize_stats(x, {f});
  CHECK(s.saturated_high == 1);
  CHECK(s.max_abs_error == 7852516352.0);
  check_errors(s, errors_of(x, q));
}
