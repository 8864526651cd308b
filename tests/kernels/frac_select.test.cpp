// fixq::choose_frac / choose_frac_per_channel (kernels/frac_select.hpp): the
// fractional length chosen from data by MaxAbs, OverflowRate and MinMSE.
//
// "Outside the range" of Format{word, frac, signed} is measured with
// fixq::quantize_stats: an element above max value rounds above the max code
// under Round::Ceil, and one below min value rounds below the min code under
// Round::Floor (and an element inside the range does neither). So
//   outside(x, f) = stats(Ceil).saturated_high + stats(Floor).saturated_low
// is exactly the number of elements outside [min value, max value].
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <fixq/kernels/frac_select.hpp>
#include <fixq/kernels/quantize.hpp>
#include <fixq/kernels/stats.hpp>

#include "support/eigen_arrays.hpp"

using fixq::choose_frac;
using fixq::choose_frac_per_channel;
using fixq::FracMethod;
using fixq::Format;
using fixq::Overflow;
using fixq::Round;

namespace {

using fixq_test::arr;
using fixq_test::kInf;
using fixq_test::kNaN;

/// Number of elements of x outside [min value, max value] of fmt (see the top of the file).
template <class Derived>
std::size_t outside(const Eigen::DenseBase<Derived>& x, const Format& fmt) {
  return fixq::quantize_stats(x, {fmt, Round::Ceil, Overflow::Saturate, 0}).saturated_high +
         fixq::quantize_stats(x, {fmt, Round::Floor, Overflow::Saturate, 0}).saturated_low;
}

/// Ristretto's rule (Gysel et al., "Ristretto: hardware-oriented approximation
/// of convolutional neural networks"): IL = ceil(log2(max|x|)) + 1, FL = word - IL.
int ristretto_frac(const Eigen::ArrayXd& w, int word) {
  const double m = w.abs().maxCoeff();
  const int il = static_cast<int>(std::ceil(std::log2(m))) + 1;
  return word - il;
}

/// Mean squared error of quantizing x (NearestEven unless given, Saturate), by a
/// loop over fixq::quantize's output in storage order.
template <class T>
double mse_of(const Eigen::Array<T, Eigen::Dynamic, 1>& x, const Format& fmt, Round round = Round::NearestEven) {
  const Eigen::Array<T, Eigen::Dynamic, 1> q = fixq::quantize(x, {fmt, round, Overflow::Saturate, 0}).eval();
  double sse = 0;
  std::size_t n = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x(i))) continue;
    const double e = static_cast<double>(x(i)) - static_cast<double>(q(i));
    sse += e * e;
    ++n;
  }
  return n ? sse / static_cast<double>(n) : 0.0;
}

/// The same, fully independent of the library: NearestEven (std::nearbyint in
/// the default rounding mode) and Saturate by hand. |x| * 2^frac must stay a
/// normal double (true for the data it is used on).
double mse_by_hand(const Eigen::ArrayXd& x, int word, int frac) {
  const double lo = -std::ldexp(1.0, word - 1), hi = std::ldexp(1.0, word - 1) - 1;
  double sse = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double code = std::clamp(std::nearbyint(std::ldexp(x(i), frac)), lo, hi);
    const double e = x(i) - std::ldexp(code, -frac);
    sse += e * e;
  }
  return sse / static_cast<double>(x.size());
}

/// MaxAbs by hand for signed words <= 53: the largest frac (searched down from
/// 200) with every |x| * 2^frac within 2^(word-1) - 1 (positive) or 2^(word-1) (negative).
int maxabs_by_hand(const Eigen::ArrayXd& x, int word) {
  const double top = std::ldexp(1.0, word - 1);
  for (int f = 200;; --f) {
    bool fits = true;
    for (Eigen::Index i = 0; i < x.size(); ++i)
      fits = fits && (x(i) >= 0 ? std::ldexp(x(i), f) <= top - 1 : std::ldexp(-x(i), f) <= top);
    if (fits) return f;
  }
}

/// Runs f() in a child process that is killed after `seconds`. Returns f's
/// result, or nothing when the child crashed, threw, or ran out of time (so a
/// library hang fails this test quickly instead of stalling the suite).
template <class F>
std::optional<int> run_with_timeout(F f, unsigned seconds) {
  int fd[2];
  if (pipe(fd) != 0) return std::nullopt;
  const pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    close(fd[0]);
    alarm(seconds);  // SIGALRM's default action ends the child
    int result = 0;
    try {
      result = f();
    } catch (...) {
      _exit(2);
    }
    const bool written = write(fd[1], &result, sizeof result) == static_cast<ssize_t>(sizeof result);
    _exit(written ? 0 : 3);
  }
  close(fd[1]);
  int result = 0;
  const ssize_t got = read(fd[0], &result, sizeof result);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != static_cast<ssize_t>(sizeof result) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return std::nullopt;
  return result;
}

}  // namespace

TEST_CASE("MaxAbs: hand-computed cases", "[kernels][frac_select]") {
  // word 8 signed: codes [-128, 127]; frac f is allowed iff x * 2^f in [-128, 127].
  CHECK(choose_frac(arr({0.8}), {8}) == 7);    // 102.4 <= 127 < 204.8
  CHECK(choose_frac(arr({1.0}), {8}) == 6);    // 128 > 127, 64 fits
  CHECK(choose_frac(arr({-1.0}), {8}) == 7);   // -128 is the min code
  CHECK(choose_frac(arr({0.99}), {8}) == 7);   // 126.72 <= 127
  CHECK(choose_frac(arr({0.995}), {8}) == 6);  // 127.36 > 127 (would round back to 127, but is outside)
  CHECK(choose_frac(arr({127.0}), {8}) == 0);
  CHECK(choose_frac(arr({128.0}), {8}) == -1);
  CHECK(choose_frac(arr({-128.0}), {8}) == 0);
  CHECK(choose_frac(arr({-128.5}), {8}) == -1);
  CHECK(choose_frac(arr({1000.0}), {8}) == -3);  // 125 <= 127 < 250
  // Only the extreme element matters; signs are weighed separately.
  CHECK(choose_frac(arr({0.1, -0.3, 0.8, -0.7}), {8}) == 7);
  CHECK(choose_frac(arr({0.1, 0.6, -1.0}), {8}) == 7);
  CHECK(choose_frac(arr({0.1, 1.0, -1.0}), {8}) == 6);

  // unsigned word 8: codes [0, 255]; 1.0 * 2^7 = 128 <= 255 < 256.
  CHECK(choose_frac(arr({1.0}), {8, false}) == 7);
  CHECK(choose_frac(arr({0.3, -5.0}), {8, false}) == 9);  // 153.6 <= 255 < 307.2; -5 ignored

  // Other words.
  CHECK(choose_frac(arr({0.8}), {16}) == 15);   // 26214.4 <= 32767
  CHECK(choose_frac(arr({3.0}), {4}) == 1);     // 6 <= 7 < 12
  CHECK(choose_frac(arr({-8.0}), {4}) == 0);    // -8 is the min code of 4 bits
  CHECK(choose_frac(arr({1.0}), {1, false}) == 0);

  // Tiny values: 1e-30 * 2^106 = 81.1 <= 127 < 162.3.
  CHECK(choose_frac(arr({1e-30}), {8}) == 106);
  CHECK(choose_frac(arr<float>({1e-30f}), {8}) == 106);
  // 1e-300 * 2^1003 = 85.7 <= 127 < 171.5: not yet clipped.
  CHECK(choose_frac(arr({1e-300}), {8}) == 1003);

  // Subnormal floats: 2^-149 * 2^155 = 64; 3 * 2^-149 * 2^154 = 96 (2^155 would give 192).
  const float fmin = std::numeric_limits<float>::denorm_min();
  CHECK(choose_frac(arr<float>({fmin}), {8}) == 155);
  CHECK(choose_frac(arr<float>({3 * fmin}), {8}) == 154);
  CHECK(choose_frac(arr<float>({-fmin}), {8}) == 156);  // -2^-149 * 2^156 = -128
  CHECK(choose_frac(arr({static_cast<double>(fmin)}), {8}) == 155);
  // The largest float: (2^24 - 1) * 2^104 * 2^-122 = 64 - 2^-18 (2^-121 gives 128 - 2^-17 > 127).
  CHECK(choose_frac(arr<float>({FLT_MAX}), {8}) == -122);
}

TEST_CASE("MaxAbs: exact powers of two and the neighbours of the word's limits", "[kernels][frac_select]") {
  // 2^k fits 2^(word-1) - 1 LSBs up to frac = word - 2 - k, but -2^k fits up
  // to word - 1 - k (the min code is -2^(word-1)); unsigned: word - 1 - k.
  for (int word : {2, 8, 16, 24, 32, 53, 63, 64}) {
    for (int k = -60; k <= 60; k += 3) {
      INFO("word " << word << ", k " << k);
      const double p = std::ldexp(1.0, k);
      CHECK(choose_frac(arr({p}), {word}) == word - 2 - k);
      CHECK(choose_frac(arr({-p}), {word}) == word - 1 - k);
      CHECK(choose_frac(arr({p}), {word, false}) == word - 1 - k);
      CHECK(choose_frac(arr<float>({static_cast<float>(p)}), {word}) == word - 2 - k);
    }
  }
  // 64-bit words need the exact max code 2^63 - 1 (a double would round it to 2^63).
  const double two63 = std::ldexp(1.0, 63);
  const double below = std::nextafter(two63, 0.0);  // 2^63 - 1024
  CHECK(choose_frac(arr({below}), {64}) == 0);
  CHECK(choose_frac(arr({two63}), {64}) == -1);
  CHECK(choose_frac(arr({-two63}), {64}) == 0);
  CHECK(choose_frac(arr({two63}), {64, false}) == 0);
  CHECK(choose_frac(arr({2 * two63}), {64, false}) == -1);
  CHECK(choose_frac(arr({std::nextafter(2 * two63, 0.0)}), {64, false}) == 0);
}

TEST_CASE("MaxAbs: float and double inputs agree", "[kernels][frac_select]") {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> mant(-1.0f, 1.0f);
  std::uniform_int_distribution<int> expo(-40, 40);
  for (int trial = 0; trial < 50; ++trial) {
    Eigen::ArrayXf xf(20);
    const int e = expo(gen);
    for (Eigen::Index i = 0; i < xf.size(); ++i) xf(i) = std::ldexp(mant(gen), e);
    const Eigen::ArrayXd xd = xf.cast<double>();
    for (int word : {3, 8, 16, 32}) {
      for (bool is_signed : {true, false}) {
        INFO("trial " << trial << ", word " << word << ", signed " << is_signed);
        CHECK(choose_frac(xf, {word, is_signed}) == choose_frac(xd, {word, is_signed}));
      }
    }
  }
}

TEST_CASE("MaxAbs: the defining property on random data", "[kernels][frac_select]") {
  // With the returned frac nothing is outside the range (so nothing saturates
  // under any rounding); with frac + 1 something is.
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> mant(-1.0, 1.0);
  std::uniform_int_distribution<int> expo(-30, 30);
  std::uniform_int_distribution<int> len(1, 40);
  const int words[] = {1, 2, 3, 7, 8, 12, 16, 24, 31, 32, 53, 63, 64};
  for (int trial = 0; trial < 60; ++trial) {
    Eigen::ArrayXd x(len(gen));
    const int e = expo(gen);
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = std::ldexp(mant(gen), e);
    const Eigen::ArrayXf xf = x.cast<float>();
    const auto negatives = static_cast<std::size_t>((x < 0).count());
    for (int word : words) {
      for (bool is_signed : {true, false}) {
        // Positive values can never fit 1 signed bit (max code 0); see the separate test.
        if (word == 1 && is_signed) continue;
        INFO("trial " << trial << ", word " << word << ", signed " << is_signed << ", max|x| "
                      << x.abs().maxCoeff());
        const int f = choose_frac(x, {word, is_signed});
        const Format fmt{word, f, is_signed};
        if (is_signed) {
          CHECK(outside(x, fmt) == 0);
          for (Round r : fixq::all_rounds) {
            const fixq::QuantStats s = fixq::quantize_stats(x, {fmt, r, Overflow::Saturate, 5});
            CHECK(s.saturated_high + s.saturated_low == 0);
          }
        } else {
          // Unsigned: the negative elements saturate to 0 at every frac, nothing else saturates.
          CHECK(fixq::quantize_stats(x, {fmt, Round::Ceil}).saturated_high == 0);
          CHECK(fixq::quantize_stats(x, {fmt, Round::Floor}).saturated_low == negatives);
        }
        if (negatives == static_cast<std::size_t>(x.size()) && !is_signed) {
          CHECK(f == word);  // nothing constrains: like all zeros
        } else {
          CHECK(outside(x, Format{word, f + 1, is_signed}) > (is_signed ? 0u : negatives));
        }
        CHECK(choose_frac(xf, {word, is_signed}) == choose_frac(Eigen::ArrayXd(xf.cast<double>()), {word, is_signed}));
      }
    }
  }
}

TEST_CASE("MaxAbs reproduces Ristretto's rule except at exact powers of two", "[kernels][frac_select]") {
  // Worked example: max|w| = 0.75, log2 = -0.415, IL = 0 + 1 = 1, FL = 8 - 1 = 7.
  const Eigen::ArrayXd w = arr({0.75, -0.4, 0.1});
  CHECK(ristretto_frac(w, 8) == 7);
  CHECK(choose_frac(w, {8}) == 7);
  CHECK(outside(w, Format{8, 7, true}) == 0);

  // Further agreements: negative extremes and values that are not powers of two.
  for (const Eigen::ArrayXd& v : {arr({-1.0, 0.3}), arr({-0.5, 0.2}), arr({3.7, -1.0}), arr({0.01, 0.002}),
                                   arr({-100.0, 99.0})}) {
    INFO("max|x| = " << v.abs().maxCoeff());
    CHECK(choose_frac(v, {8}) == ristretto_frac(v, 8));
  }

  // The documented exception: the largest positive element is a power of two.
  // Ristretto: log2(0.5) = -1, IL = 0, FL = 8, and 0.5 * 2^8 = 128 > 127 saturates
  // by one LSB. fixq picks 7 and represents 0.5 exactly.
  const Eigen::ArrayXd p = arr({0.5, -0.1});
  const int rist = ristretto_frac(p, 8);
  REQUIRE(rist == 8);
  const Format rist_fmt{8, rist, true};
  CHECK(fixq::quantize_stats(p, {rist_fmt}).saturated_high == 1);
  const Eigen::ArrayXd q_rist = fixq::quantize(p, {rist_fmt}).eval();
  CHECK(q_rist(0) == 127.0 / 256);  // 0.5 - one LSB
  CHECK(p(0) - q_rist(0) == rist_fmt.lsb());

  const int f = choose_frac(p, {8});
  CHECK(f == rist - 1);
  const Format fixq_fmt{8, f, true};
  CHECK(fixq::quantize_stats(p, {fixq_fmt}).saturated_high == 0);
  CHECK(fixq::quantize(p, {fixq_fmt}).eval()(0) == 0.5);  // loss-free

  // The other documented exception: within one LSB below one (0.995 * 128 = 127.36 > 127).
  const Eigen::ArrayXd n = arr({0.995, 0.2});
  CHECK(ristretto_frac(n, 8) == 7);
  CHECK(choose_frac(n, {8}) == 6);
}

TEST_CASE("Edge cases: no usable data, NaN and infinities", "[kernels][frac_select]") {
  for (FracMethod m : {FracMethod::MaxAbs, FracMethod::OverflowRate, FracMethod::MinMSE}) {
    INFO("method " << static_cast<int>(m));
    const double param = m == FracMethod::OverflowRate ? 0.1 : 0.0;
    // No finite non-zero value: [-1, 1) when signed, [0, 1) when unsigned.
    CHECK(choose_frac(Eigen::ArrayXd::Zero(5), {8, true, m, param}) == 7);
    CHECK(choose_frac(Eigen::ArrayXd::Zero(5), {8, false, m, param}) == 8);
    CHECK(choose_frac(Eigen::ArrayXf::Zero(3), {16, true, m, param}) == 15);
    CHECK(choose_frac(Eigen::ArrayXd(0), {8, true, m, param}) == 7);
    CHECK(choose_frac(arr({-0.0, 0.0}), {8, true, m, param}) == 7);
    CHECK(choose_frac(arr({kNaN}), {8, true, m, param}) == 7);
    CHECK(choose_frac(arr({kNaN, kNaN, kNaN}), {8, false, m, param}) == 8);
    CHECK(choose_frac(arr({kInf, -kInf, kNaN, 0.0}), {8, true, m, param}) == 7);
    CHECK(choose_frac(arr<float>({std::numeric_limits<float>::quiet_NaN()}), {4, true, m, param}) == 3);
    // Unsigned with only negative data: nothing constrains.
    CHECK(choose_frac(arr({-3.0, -1e6}), {8, false, m, param}) == 8);
    // word 1 (no-data result of word 1 signed is 0).
    CHECK(choose_frac(arr({0.0}), {1, true, m, param}) == 0);
  }
  // NaN and infinities are ignored next to finite data.
  CHECK(choose_frac(arr({0.8, kNaN, kInf, -kInf}), {8}) == 7);
  CHECK(choose_frac(arr<float>({0.8f, std::numeric_limits<float>::infinity()}), {8}) == 7);
  CHECK(choose_frac(arr({kNaN, 1000.0, kNaN}), {8, true, FracMethod::OverflowRate, 0.0}) == -3);
}

TEST_CASE("Edge cases: results are clipped to the format limits", "[kernels][frac_select]") {
  // frac <= 1022: 1e-310 (subnormal) would need frac 1036 with word 8.
  CHECK(choose_frac(arr({1e-310}), {8}) == 1022);
  CHECK(choose_frac(arr({std::numeric_limits<double>::denorm_min()}), {64}) == 1022);
  CHECK(choose_frac(arr({std::numeric_limits<double>::min()}), {8}) == 1022);  // 2^-1022: 1028 wanted
  // word - frac <= 1023: DBL_MAX needs -1018 with word 8 (DBL_MAX * 2^-1017 = 128 - 2^-46 > 127),
  // clipped to 8 - 1023 = -1015; word 64 needs -961, clipped to -959.
  CHECK(choose_frac(arr({DBL_MAX}), {8}) == -1015);
  CHECK(choose_frac(arr({-DBL_MAX}), {8}) == -1015);
  CHECK(choose_frac(arr({DBL_MAX}), {64}) == -959);
  CHECK(choose_frac(arr({DBL_MAX}), {1, false}) == -1022);
  // The clipped results are valid formats.
  CHECK_NOTHROW(Format{8, choose_frac(arr({1e-310}), {8}), true}.validate());
  CHECK_NOTHROW(Format{8, choose_frac(arr({DBL_MAX}), {8}), true}.validate());
  // OverflowRate may ignore everything: the largest frac is then the limit.
  CHECK(choose_frac(arr({5.0}), {8, true, FracMethod::OverflowRate, 1.0}) == 1022);
}

TEST_CASE("Edge cases: a single huge outlier", "[kernels][frac_select]") {
  // 99 values with max|x| = 0.9 (0.9 * 2^7 = 115.2 <= 127) and one outlier 1000 (frac -3).
  Eigen::ArrayXd x(100);
  for (Eigen::Index i = 0; i < 99; ++i) x(i) = (i % 2 ? -0.9 : 0.9) * static_cast<double>(i + 1) / 99.0;
  x(98) = 0.9;
  x(57) = 1000.0;
  CHECK(choose_frac(x, {8}) == -3);  // MaxAbs follows the outlier
  // OverflowRate with param = 1/n: floor(0.01 * 100) = 1 element may be outside.
  CHECK(choose_frac(x, {8, true, FracMethod::OverflowRate, 1.0 / 100}) == 7);
  CHECK(choose_frac(x, {8, true, FracMethod::OverflowRate, 0.0099}) == -3);  // floor(0.99) = 0
  CHECK(outside(x, Format{8, 7, true}) == 1);
  CHECK(outside(x, Format{8, 8, true}) > 1);
}

TEST_CASE("Word 1 signed: positive values never fit and must not hang", "[kernels][frac_select][library_bug]") {
  // Fixed<1, F> holds {-2^-F, 0}: its max code is 0, so every positive value
  // saturates (to 0) at every frac, exactly like negative values in unsigned
  // formats, which the header says are ignored. By the same rule the positive
  // elements are ignored here and -0.25 decides: 0.25 * 2^2 = 1 LSB -> frac 2.
  // The call runs in a child process so that a hang fails fast.
  const auto word1 = [](double positive) {
    return [positive] { return choose_frac(arr({positive, -0.25}), {1}); };
  };
  // kFailed: the call crashed, threw or did not return within 2 s.
  constexpr int kFailed = std::numeric_limits<int>::min();
  CHECK(run_with_timeout(word1(0.5), 2).value_or(kFailed) == 2);
  CHECK(run_with_timeout(word1(2.0), 2).value_or(kFailed) == 2);
  CHECK(run_with_timeout([] { return choose_frac(arr({3.0}), {1}); }, 2).value_or(kFailed) == 0);
  // Negative values alone are fine: -0.25 -> 2.
  CHECK(choose_frac(arr({-0.25}), {1}) == 2);
}

TEST_CASE("OverflowRate: a data set with a known distribution", "[kernels][frac_select]") {
  // 1000 elements whose MaxAbs limits are: 1 element limit 0, 4 limit 5, 15 limit 7,
  // 30 limit 8, 50 limit 9, 900 limit 10 (word 8 signed). Element with limit k:
  // +-100 * 2^-k (100 <= 127 < 200, and -100 >= -128 > -200). So the number
  // outside at frac f is 0 (f <= 0), 1 (1..5), 5 (6, 7), 20 (8), 50 (9), 100 (10), 1000 (>= 11).
  const std::vector<std::pair<int, int>> groups = {{0, 1}, {5, 4}, {7, 15}, {8, 30}, {9, 50}, {10, 900}};
  std::vector<double> values;
  for (auto [limit, count] : groups)
    for (int i = 0; i < count; ++i) values.push_back((i % 3 ? 100.0 : -100.0) * std::ldexp(1.0, -limit));
  std::mt19937 gen(3);
  std::shuffle(values.begin(), values.end(), gen);
  const Eigen::ArrayXd x = Eigen::Map<const Eigen::ArrayXd>(values.data(), static_cast<Eigen::Index>(values.size()));
  REQUIRE(outside(x, Format{8, 0, true}) == 0);
  REQUIRE(outside(x, Format{8, 5, true}) == 1);
  REQUIRE(outside(x, Format{8, 6, true}) == 5);
  REQUIRE(outside(x, Format{8, 10, true}) == 100);

  // param -> expected frac, worked out from the table above.
  const std::vector<std::pair<double, int>> expected = {
      {0.0, 0},    {0.0009, 0}, {0.001, 5},  {0.0049, 5}, {0.005, 7},   {0.019, 7},  {0.02, 8},
      {0.0499, 8}, {0.05, 9},   {0.099, 9},  {0.1, 10},   {0.5, 10},    {0.999, 10}, {1.0, 1022}};
  for (auto [param, frac] : expected) {
    INFO("param " << param);
    const int f = choose_frac(x, {8, true, FracMethod::OverflowRate, param});
    CHECK(f == frac);
    // The defining property, checked by counting saturations.
    const auto allowed = static_cast<std::size_t>(std::floor(param * 1000));
    CHECK(outside(x, Format{8, f, true}) <= allowed);
    if (f < fixq::max_frac) CHECK(outside(x, Format{8, f + 1, true}) > allowed);
  }
  // param 0 is MaxAbs.
  CHECK(choose_frac(x, {8, true, FracMethod::OverflowRate, 0.0}) == choose_frac(x, {8}));

  // n counts the finite elements, zeros included; NaN and infinities are not counted.
  Eigen::ArrayXd padded(3000);
  padded << x, Eigen::ArrayXd::Zero(1000), Eigen::ArrayXd::Constant(1000, kNaN);
  padded(2500) = kInf;
  padded(2501) = -kInf;
  // n = 2000: floor(0.0005 * 2000) = 1 -> 5; floor(0.01 * 2000) = 20 -> 8. Counting
  // the 1000 non-finite elements (n = 3000) would give 1 and 60 instead of 0 and 40 below.
  CHECK(choose_frac(padded, {8, true, FracMethod::OverflowRate, 0.0005}) == 5);
  CHECK(choose_frac(padded, {8, true, FracMethod::OverflowRate, 0.0004}) == 0);  // floor(0.8) = 0
  CHECK(choose_frac(padded, {8, true, FracMethod::OverflowRate, 0.01}) == 8);
  CHECK(choose_frac(padded, {8, true, FracMethod::OverflowRate, 0.02}) == 8);  // 40 < 50
  CHECK(choose_frac(padded, {8, true, FracMethod::OverflowRate, 0.025}) == 9);  // 50
  CHECK(choose_frac(padded, {8, true, FracMethod::OverflowRate, 0.0}) == 0);
}

TEST_CASE("OverflowRate: random data against counted saturations", "[kernels][frac_select]") {
  std::mt19937 gen(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::ArrayXd x(997);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = normal(gen) * (i % 17 == 0 ? 20.0 : 1.0);
  for (int word : {4, 8, 16}) {
    for (double param : {0.0, 0.001, 0.01, 0.03, 0.1, 0.25, 0.7}) {
      INFO("word " << word << ", param " << param);
      const int f = choose_frac(x, {word, true, FracMethod::OverflowRate, param});
      const auto allowed = static_cast<std::size_t>(std::floor(param * 997));
      CHECK(outside(x, Format{word, f, true}) <= allowed);
      CHECK(outside(x, Format{word, f + 1, true}) > allowed);
    }
  }
}

TEST_CASE("OverflowRate: invalid param throws naming the value", "[kernels][frac_select]") {
  const Eigen::ArrayXd x = arr({0.5, -0.25});
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(choose_frac(x, {8, true, FracMethod::OverflowRate, -0.1}), Contains("-0.1"));
  CHECK_THROWS_AS(choose_frac(x, {8, true, FracMethod::OverflowRate, -0.1}), std::invalid_argument);
  CHECK_THROWS_WITH(choose_frac(x, {8, true, FracMethod::OverflowRate, 1.5}), Contains("1.5"));
  CHECK_THROWS_AS(choose_frac(x, {8, true, FracMethod::OverflowRate, 1.5}), std::invalid_argument);
  CHECK_THROWS_WITH(choose_frac(x, {8, true, FracMethod::OverflowRate, kNaN}), Contains("nan"));
  CHECK_THROWS_AS(choose_frac(x, {8, true, FracMethod::OverflowRate, kNaN}), std::invalid_argument);
  CHECK_THROWS_AS(choose_frac(x, {8, true, FracMethod::OverflowRate, kInf}), std::invalid_argument);
  CHECK_THROWS_AS(choose_frac_per_channel(Eigen::MatrixXd::Ones(2, 2), fixq::Axis::Rows, {8, true, FracMethod::OverflowRate, 2.0}),
                  std::invalid_argument);
  // The bounds themselves are valid; a rate given to another method is an error
  // (it would be silently ignored).
  CHECK_NOTHROW(choose_frac(x, {8, true, FracMethod::OverflowRate, 0.0}));
  CHECK_NOTHROW(choose_frac(x, {8, true, FracMethod::OverflowRate, 1.0}));
  CHECK_THROWS_WITH(choose_frac(x, {8, true, FracMethod::MaxAbs, -5.0}), Contains("only FracMethod::OverflowRate"));
  CHECK_THROWS_AS(choose_frac(x, {8, true, FracMethod::MinMSE, 0.5}), std::invalid_argument);
}

TEST_CASE("MinMSE: the best frac on a Gaussian sample", "[kernels][frac_select]") {
  std::mt19937 gen(17);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::ArrayXd x(2000);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = normal(gen);
  const Eigen::ArrayXf xf = x.cast<float>();
  for (int word : {4, 8}) {
    // (MinMSE measures a deterministic rounding: Stochastic is rejected.)
    CHECK_THROWS_AS(choose_frac(x, {word, true, FracMethod::MinMSE, 0.0, Round::Stochastic}), std::invalid_argument);
    for (Round r : {Round::NearestEven, Round::Floor, Round::NearestAway}) {
      INFO("word " << word << ", round " << fixq::to_string(r));
      const int lo = choose_frac(x, {word});
      const int f = choose_frac(x, {word, true, FracMethod::MinMSE, 0.0, r});
      REQUIRE(f >= lo);
      REQUIRE(f <= lo + word);
      const double best = mse_of(x, Format{word, f, true}, r);
      for (int g = lo; g <= lo + word; ++g) {
        INFO("frac " << g);
        const double m = mse_of(x, Format{word, g, true}, r);
        if (g < f) CHECK(m > best);  // ties go to the smaller frac
        else CHECK(m >= best);
      }
      // Clipping everything at +-max|x| is never better than MinMSE's choice.
      CHECK(best <= mse_of(x, Format{word, lo, true}, r));
      const int ff = choose_frac(xf, {word, true, FracMethod::MinMSE, 0.0, r});
      const double bestf = mse_of(xf, Format{word, ff, true}, r);
      for (int g = choose_frac(xf, {word}); g <= choose_frac(xf, {word}) + word; ++g)
        CHECK(mse_of(xf, Format{word, g, true}, r) >= bestf);
    }
  }
}

TEST_CASE("MinMSE: ties go to the smaller frac", "[kernels][frac_select]") {
  // 63.75 (word 8): MaxAbs frac 0 (63.75 <= 127 < 127.5). At frac 0 it rounds to 64,
  // error 0.25; at frac 1, 127.5 saturates to 127 = 63.5, error 0.25; at frac 2 the
  // error is 32. The integers are exact at fracs 0 and 1. Two equal minima: frac 0 wins.
  const Eigen::ArrayXd x = arr({63.75, 1.0, -3.0, 10.0});
  REQUIRE(choose_frac(x, {8}) == 0);
  REQUIRE(mse_of(x, Format{8, 0, true}) == 0.25 * 0.25 / 4);
  REQUIRE(mse_of(x, Format{8, 1, true}) == 0.25 * 0.25 / 4);
  CHECK(choose_frac(x, {8, true, FracMethod::MinMSE}) == 0);
  // The same with 2 bits: 0.75 -> 1 at frac 0 and saturates to 0.5 at frac 1.
  CHECK(choose_frac(arr({0.75}), {2, true, FracMethod::MinMSE}) == 0);
  // Without the tie the larger frac wins: 63.6 -> 64 (error 0.4) vs 63.5 (error 0.1).
  CHECK(choose_frac(arr({63.6, 1.0}), {8, true, FracMethod::MinMSE}) == 1);
}

TEST_CASE("MinMSE: an outlier, against a brute-force search", "[kernels][frac_select]") {
  std::mt19937 gen(23);
  std::uniform_real_distribution<double> uni(-0.5, 0.5);
  for (double outlier : {3.0, 40.0, -700.0, 1e4}) {
    Eigen::ArrayXd x(500);
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = uni(gen);
    x(123) = outlier;
    for (int word : {4, 6, 8}) {
      INFO("outlier " << outlier << ", word " << word);
      // Brute force over the candidates [MaxAbs frac, MaxAbs frac + word] with an
      // MSE computed without the library; first minimum wins.
      const int lo = choose_frac(x, {word});
      REQUIRE(lo == maxabs_by_hand(x, word));
      int best = lo;
      double best_mse = mse_by_hand(x, word, lo);
      for (int g = lo + 1; g <= lo + word; ++g) {
        const double m = mse_by_hand(x, word, g);
        if (m < best_mse) {
          best_mse = m;
          best = g;
        }
      }
      const int f = choose_frac(x, {word, true, FracMethod::MinMSE});
      CHECK(f == best);
      CHECK(mse_of(x, Format{word, f, true}) == Approx(best_mse).epsilon(1e-12));
    }
  }
}

TEST_CASE("Per-channel: rows and columns of very different scales", "[kernels][frac_select]") {
  // Row r holds values in (-0.8, 0.8) * 2^(7r - 10) with the extreme 0.8 * 2^(7r - 10)
  // itself, so its MaxAbs frac is 7 - (7r - 10) = 17, 10, 3 (0.8 * 2^7 = 102.4 <= 127).
  Eigen::MatrixXd w(4, 6);
  std::mt19937 gen(29);
  std::uniform_real_distribution<double> uni(-0.8, 0.8);
  for (Eigen::Index r = 0; r < w.rows(); ++r)
    for (Eigen::Index c = 0; c < w.cols(); ++c) w(r, c) = std::ldexp(uni(gen), 7 * static_cast<int>(r) - 10);
  for (Eigen::Index r = 0; r < 3; ++r) w(r, (2 * r + 1) % 6) = std::ldexp(0.8, 7 * static_cast<int>(r) - 10);
  w(0, 2) = 0.0;       // zeros are fine
  w.row(3).setZero();  // an all-zero channel gets word - 1
  w(3, 1) = kNaN;

  for (FracMethod m : {FracMethod::MaxAbs, FracMethod::OverflowRate, FracMethod::MinMSE}) {
    INFO("method " << static_cast<int>(m));
    const double param = m == FracMethod::OverflowRate ? 0.2 : 0.0;
    const std::vector<int> rows = choose_frac_per_channel(w, fixq::Axis::Rows, {8, true, m, param});
    const std::vector<int> cols = choose_frac_per_channel(w, fixq::Axis::Cols, {8, true, m, param});
    REQUIRE(rows.size() == 4);
    REQUIRE(cols.size() == 6);
    for (Eigen::Index r = 0; r < 4; ++r)
      CHECK(rows[static_cast<std::size_t>(r)] == choose_frac(w.row(r), {8, true, m, param}));
    for (Eigen::Index c = 0; c < 6; ++c)
      CHECK(cols[static_cast<std::size_t>(c)] == choose_frac(w.col(c), {8, true, m, param}));
    CHECK(rows[3] == 7);
  }
  const std::vector<int> rows = choose_frac_per_channel(w, fixq::Axis::Rows, {8});
  CHECK(rows == std::vector<int>{17, 10, 3, 7});
  // Unsigned per channel.
  const std::vector<int> urows = choose_frac_per_channel(w, fixq::Axis::Rows, {8, false});
  for (Eigen::Index r = 0; r < 4; ++r) CHECK(urows[static_cast<std::size_t>(r)] == choose_frac(w.row(r), {8, false}));

  // Row-major storage, a block, an expression and a float array give the same answers.
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> wr = w;
  CHECK(choose_frac_per_channel(wr, fixq::Axis::Rows, {8}) == rows);
  CHECK(choose_frac_per_channel(wr, fixq::Axis::Cols, {8}) == choose_frac_per_channel(w, fixq::Axis::Cols, {8}));
  Eigen::MatrixXd big = Eigen::MatrixXd::Constant(9, 10, 1e6);
  big.block(2, 3, 4, 6) = w;
  CHECK(choose_frac_per_channel(big.block(2, 3, 4, 6), fixq::Axis::Rows, {8}) == rows);
  CHECK(choose_frac_per_channel(big.block(2, 3, 4, 6), fixq::Axis::Cols, {8}) == choose_frac_per_channel(w, fixq::Axis::Cols, {8}));
  std::vector<int> shifted = rows;  // 4 * w needs 2 fewer fractional bits (zero channel aside)
  for (std::size_t i = 0; i < 3; ++i) shifted[i] -= 2;
  CHECK(choose_frac_per_channel(w * 4.0, fixq::Axis::Rows, {8}) == shifted);
  CHECK(choose_frac_per_channel(w.array() * 4.0, fixq::Axis::Rows, {8}) == shifted);
  const Eigen::ArrayXXf wf = w.array().cast<float>();
  for (Eigen::Index c = 0; c < 6; ++c)
    CHECK(choose_frac_per_channel(wf, fixq::Axis::Cols, {8})[static_cast<std::size_t>(c)] == choose_frac(wf.col(c), {8}));
  // Whole-tensor choose_frac on the same inputs.
  CHECK(choose_frac(big.block(2, 3, 4, 6), {8}) == choose_frac(w, {8}));
  CHECK(choose_frac(wr, {8}) == choose_frac(w, {8}));
  CHECK(choose_frac(w * 4.0, {8}) == choose_frac(w, {8}) - 2);
}

TEST_CASE("Invalid arguments throw std::invalid_argument", "[kernels][frac_select]") {
  const Eigen::ArrayXd x = arr({0.5});
  const Eigen::MatrixXd m = Eigen::MatrixXd::Ones(2, 3);
  for (int word : {0, -1, 65, 1000}) {
    INFO("word " << word);
    CHECK_THROWS_AS(choose_frac(x, {word}), std::invalid_argument);
    CHECK_THROWS_AS(choose_frac(x, {word, false}), std::invalid_argument);
    CHECK_THROWS_AS(choose_frac(x, {word, true, FracMethod::MinMSE}), std::invalid_argument);
    CHECK_THROWS_AS(choose_frac(Eigen::ArrayXd::Zero(3), {word}), std::invalid_argument);
    CHECK_THROWS_AS(choose_frac_per_channel(m, fixq::Axis::Rows, {word}), std::invalid_argument);
  }
  CHECK_NOTHROW(choose_frac(arr({-0.5}), {1}));
  CHECK_NOTHROW(choose_frac(x, {64}));
  for (int axis : {-1, 2, 3}) {
    INFO("axis " << axis);
    CHECK_THROWS_AS(choose_frac_per_channel(m, static_cast<fixq::Axis>(axis), {8}), std::invalid_argument);
    CHECK_THROWS_WITH(choose_frac_per_channel(m, static_cast<fixq::Axis>(axis), {8}), Catch::Matchers::Contains(std::to_string(axis)));
  }
}
