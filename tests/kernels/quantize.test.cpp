// Array kernels (quantize_span, quantize, quantize_codes, dequantize,
// quantize_inplace, tensors) against the scalar core's exact integer path.
//
// The reference for one element: tests/support/kernel_reference.hpp.
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <unsupported/Eigen/CXX11/Tensor>
#include <vector>

#include <fixq/kernels/quantize.hpp>
#include <fixq/random.hpp>
#include <fixq/kernels/quantize_tensor.hpp>

#include "support/kernel_reference.hpp"

using fixq::Format;
using fixq::Overflow;
using fixq::Round;
using fixq_test::reference_code;
using fixq_test::reference_out;
using fixq_test::same;

namespace {

/// Runs the kernel on x and compares every element with the reference.
/// Returns the number of mismatches (and prints the first few).
template <class In, class Out>
std::size_t mismatches(const std::vector<In>& x, const Format& f, Round r, Overflow o, std::uint64_t seed,
                       std::uint64_t first_index = 0) {
  std::size_t bad = 0;
  fixq::detail::dispatch_round(r, [&]<Round R>() {
    fixq::detail::dispatch_overflow(o, [&]<Overflow O>() {
      std::vector<Out> ref(x.size());
      std::vector<In> kept;  // the elements that do not throw
      for (std::size_t i = 0; i < x.size(); ++i) {
        try {
          ref[i] = reference_out<Out>(
              reference_code<R, O>(x[i], f, fixq::random_u32(seed, first_index + i)), f);
          kept.push_back(x[i]);
        } catch (const fixq::overflow_error&) {
        }
      }
      const bool ref_throws = kept.size() < x.size();
      std::vector<Out> got(x.size());
      bool got_throws = false;
      try {
        fixq::quantize_span(x.data(), got.data(), x.size(), {f, r, o, seed}, first_index);
      } catch (const fixq::overflow_error&) {
        got_throws = true;
      }
      if (ref_throws || got_throws) {
        if (ref_throws != got_throws) {
          ++bad;
          UNSCOPED_INFO(f.name() << " " << fixq::to_string(r) << " " << fixq::to_string(o)
                                 << ": reference throws " << ref_throws << ", kernel throws " << got_throws);
        }
        // Throw without an overflow: compare the values on the elements that do not throw.
        if (ref_throws && !kept.empty()) bad += mismatches<In, Out>(kept, f, r, o, seed, first_index);
        return;
      }
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!same(got[i], ref[i])) {
          if (bad < 3)
            UNSCOPED_INFO(f.name() << " " << fixq::to_string(r) << " " << fixq::to_string(o) << " x["
                                   << i << "] = " << std::hexfloat << static_cast<double>(x[i])
                                   << ": expected " << static_cast<double>(ref[i]) << ", got "
                                   << static_cast<double>(got[i]) << std::defaultfloat);
          ++bad;
        }
      }
    });
  });
  return bad;
}

/// A dense grid over and beyond the range of f: every multiple of lsb/4 in
/// [-3 range, 3 range] (every tie included), the neighbours one ULP away of
/// every tie and grid point, and special values.
template <class T>
std::vector<T> grid(const Format& f) {
  std::vector<T> x;
  const double lsb = f.lsb();
  const double span = 3.0 * std::max(std::fabs(f.min_value()), f.max_value()) + 4 * lsb;
  for (double v = -span; v <= span; v += lsb / 4) {
    const T t = static_cast<T>(v);
    x.push_back(t);
    x.push_back(std::nextafter(t, std::numeric_limits<T>::infinity()));
    x.push_back(std::nextafter(t, -std::numeric_limits<T>::infinity()));
  }
  for (T s : {T(0), T(-0.0), std::numeric_limits<T>::denorm_min(), -std::numeric_limits<T>::denorm_min(),
              std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), std::numeric_limits<T>::lowest(),
              std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(),
              std::numeric_limits<T>::quiet_NaN(), static_cast<T>(0x1p62), static_cast<T>(-0x1p62),
              static_cast<T>(0x1p30), static_cast<T>(-0x1p30), static_cast<T>(lsb * 0x1p-30)})
    x.push_back(s);
  return x;
}

std::vector<Format> small_formats() {
  std::vector<Format> fs;
  for (int w : {1, 2, 3, 5, 8})
    for (int frac : {-2, 0, w - 1, w + 2})
      for (bool s : {true, false}) fs.push_back(Format{w, frac, s});
  return fs;
}

}  // namespace

TEST_CASE("quantize_span equals the exact scalar path on dense grids, every mode", "[kernels]") {
  std::size_t bad = 0, checked = 0;
  for (const Format& f : small_formats()) {
    const auto xf = grid<float>(f);
    const auto xd = grid<double>(f);
    for (Round r : fixq::all_rounds)
      for (Overflow o : fixq::all_overflows) {
        bad += mismatches<float, float>(xf, f, r, o, 11);
        bad += mismatches<float, std::int32_t>(xf, f, r, o, 11);
        bad += mismatches<double, double>(xd, f, r, o, 12);
        if (f.word + (f.is_signed ? 0 : 1) <= 8) bad += mismatches<double, std::int8_t>(xd, f, r, o, 12, 1000);
        checked += 2 * xf.size() + 2 * xd.size();
      }
  }
  INFO("elements checked: " << checked);
  CHECK(bad == 0);
}

TEST_CASE("quantize_span equals the exact scalar path for wide formats", "[kernels]") {
  std::mt19937_64 gen(2026);
  std::size_t bad = 0;
  for (int w : {9, 16, 24, 30, 31, 32, 40, 53, 54, 62, 63, 64})
    for (bool s : {true, false})
      for (int frac : {-20, 0, w / 2, w, w + 17, 300}) {
        const Format f{w, frac, s};
        const double lsb = f.lsb(), top = std::fabs(f.min_value()) + f.max_value();
        std::vector<double> xd;
        std::uniform_real_distribution<double> unit(-1.0, 1.0);
        for (int i = 0; i < 300; ++i) {
          xd.push_back(unit(gen) * top * 1.5);                                      // around the range
          xd.push_back(std::ldexp(unit(gen), static_cast<int>(gen() % 120) - 60) * lsb * 64);  // all scales
          xd.push_back((std::floor(unit(gen) * 1e6) + 0.5) * lsb);                  // exact ties
          xd.push_back(std::bit_cast<double>(gen()));                              // any bit pattern
        }
        std::vector<float> xf(xd.begin(), xd.end());
        for (Round r : {Round::Floor, Round::Ceil, Round::NearestAway, Round::NearestEven, Round::NearestOdd,
                        Round::Stochastic})
          for (Overflow o : fixq::all_overflows) {
            bad += mismatches<double, double>(xd, f, r, o, 5);
            bad += mismatches<float, float>(xf, f, r, o, 6, 12345);
            if (w <= 32 && s) bad += mismatches<float, std::int32_t>(xf, f, r, o, 7);
            if (!s) bad += mismatches<double, std::uint64_t>(xd, f, r, o, 9);
          }
      }
  CHECK(bad == 0);
}

// Chunks: 4096 elements, 2^15 for the explicit-SIMD float lanes (kernels/quantize_span.hpp).
TEST_CASE("lengths that are not multiples of the SIMD width or of a chunk", "[kernels]") {
  std::mt19937 gen(3);
  std::normal_distribution<float> dist(0.0f, 6.0f);
  std::size_t bad = 0;
  for (std::size_t n : {0u, 1u, 7u, 15u, 16u, 17u, 63u, 4095u, 4096u, 4097u, 32767u, 32768u, 32769u, 70001u}) {
    std::vector<float> x(n);
    for (auto& v : x) v = dist(gen);
    for (Round r : {Round::NearestEven, Round::Floor, Round::Stochastic})
      for (Overflow o : {Overflow::Saturate, Overflow::Wrap}) {
        bad += mismatches<float, float>(x, Format{8, 4}, r, o, 99);
        bad += mismatches<float, std::int8_t>(x, Format{8, 4}, r, o, 99, 7);
      }
  }
  CHECK(bad == 0);
}

// Arrays of 16 MiB and more (input and output) take the prefetching loop of the
// stochastic float lanes (kPrefetchBytes); compared element by element as well.
TEST_CASE("arrays large enough to come from memory", "[kernels]") {
  std::mt19937 gen(5);
  std::normal_distribution<float> dist(0.0f, 6.0f);
  std::vector<float> x(3500001);
  for (auto& v : x) v = dist(gen);
  std::size_t bad = 0;
  for (const Format& f : {Format{8, 4}, Format{20, 8}}) {  // the narrow and the wide scheme
    bad += mismatches<float, float>(x, f, Round::Stochastic, Overflow::Saturate, 31);
    bad += mismatches<float, std::int32_t>(x, f, Round::Stochastic, Overflow::SaturateSymmetric, 32, 5);
  }
  bad += mismatches<float, std::int8_t>(x, Format{8, 4}, Round::Stochastic, Overflow::Saturate, 33, 3);
  CHECK(bad == 0);
}

namespace {
/// quantize_span of x into Out on one thread and on two threads.
template <class Out, class In>
std::array<std::vector<Out>, 2> on_one_and_two_threads(const std::vector<In>& x, const Format& f, Round r,
                                                        Overflow o, std::uint64_t seed) {
  std::array<std::vector<Out>, 2> y{std::vector<Out>(x.size()), std::vector<Out>(x.size())};
  for (int t : {1, 2}) {
    fixq::set_threads(t);
    fixq::quantize_span(x.data(), y[static_cast<std::size_t>(t - 1)].data(), x.size(), {f, r, o, seed});
  }
  fixq::set_threads(0);
  return y;
}
}  // namespace

TEST_CASE("results do not depend on the thread count", "[kernels]") {
  std::mt19937 gen(4);
  std::normal_distribution<double> dist(0.0, 3.0);
  std::vector<double> x(300000);
  for (auto& v : x) v = dist(gen);
  const std::vector<float> xf(x.begin(), x.end());
  for (Round r : {Round::NearestEven, Round::Stochastic}) {
    const auto f = on_one_and_two_threads<float>(x, Format{10, 6}, r, Overflow::Saturate, 77);
    CHECK(f[0] == f[1]);
    const auto c = on_one_and_two_threads<std::int16_t>(x, Format{12, 7}, r, Overflow::Wrap, 77);
    CHECK(c[0] == c[1]);
    // float input (the float lanes; parallel from 2^16 or 2^18 elements)
    const auto ff = on_one_and_two_threads<float>(xf, Format{10, 6}, r, Overflow::Saturate, 78);
    CHECK(ff[0] == ff[1]);
    const auto b = on_one_and_two_threads<std::int8_t>(xf, Format{8, 4}, r, Overflow::SaturateZero, 78);
    CHECK(b[0] == b[1]);
  }
  CHECK_THROWS_AS(fixq::set_threads(-1), std::invalid_argument);
}

TEST_CASE("Overflow::Throw throws at the first overflowing element", "[kernels]") {
  std::vector<float> x(10000, 0.5f);
  std::vector<float> y(x.size());
  CHECK_NOTHROW(fixq::quantize_span(x.data(), y.data(), x.size(), {Format{8, 4}, Round::NearestEven, Overflow::Throw, 0}));
  x[9000] = 8.0f;
  CHECK_THROWS_AS(fixq::quantize_span(x.data(), y.data(), x.size(), {Format{8, 4}, Round::NearestEven, Overflow::Throw, 0}),
                  fixq::overflow_error);
  x[9000] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(fixq::quantize_span(x.data(), y.data(), x.size(), {Format{8, 4}, Round::NearestEven, Overflow::Throw, 0}),
                  fixq::overflow_error);
  x[9000] = 7.96875f;  // rounds up to 8 (NearestTiesToPosInf): the carry overflows
  CHECK_THROWS_AS(fixq::quantize_span(x.data(), y.data(), x.size(), {Format{8, 4}, Round::NearestTiesToPosInf, Overflow::Throw, 0}),
                  fixq::overflow_error);
  CHECK_NOTHROW(fixq::quantize_span(x.data(), y.data(), x.size(), {Format{8, 4}, Round::Floor, Overflow::Throw, 0}));
  CHECK(y[9000] == 7.9375f);  // through the exact path: the chunk holds a value beyond the largest code
  CHECK(y[0] == 0.5f);
  // A chunk that cannot overflow takes the saturating lanes; only a chunk with an
  // element beyond the range goes to the exact path (chunks of 2^12 or 2^15).
  std::vector<float> big(100000, 0.5f), out(big.size());
  big[5] = -7.96875f;      // -127.5 LSBs: within the range
  big[99990] = 7.96875f;   // 127.5 LSBs: beyond the largest code, 127
  CHECK_THROWS_AS(fixq::quantize_span(big.data(), out.data(), big.size(), {Format{8, 4}, Round::NearestEven,
                                      Overflow::Throw, 0}),
                  fixq::overflow_error);  // ties to 128
  CHECK_NOTHROW(fixq::quantize_span(big.data(), out.data(), big.size(), {Format{8, 4}, Round::Floor, Overflow::Throw, 0}));
  CHECK(out[5] == -8.0f);
  CHECK(out[99990] == 7.9375f);
  CHECK(out[99999] == 0.5f);
  big[99990] = 0.25f;  // nothing beyond the range: in place, every chunk in the lanes
  CHECK_NOTHROW(fixq::quantize_span(big.data(), big.data(), big.size(), {Format{8, 4}, Round::NearestTiesToPosInf, Overflow::Throw, 0}));
  CHECK(big[5] == -7.9375f);  // -127.5 ties up
  CHECK(big[99990] == 0.25f);
}

TEST_CASE("Overflow::Throw: limits near 2^62, where the codes' limits are not doubles", "[kernels]") {
  // Double lanes: the largest code 2^62 - 1 (unsigned 62 bits) is no double; the
  // check that a chunk cannot overflow must use 2^62 - 512, the double below it.
  const Format u{62, 0, false};
  std::vector<double> x{1.0, 0x1p62 - 512, 3.0};
  std::vector<std::uint64_t> c(x.size());
  CHECK_NOTHROW(fixq::quantize_span(x.data(), c.data(), x.size(), {u, Round::Ceil, Overflow::Throw, 0}));
  CHECK(c[1] == (std::uint64_t{1} << 62) - 512);
  x[1] = 0x1p62;  // rounds to 2^62 under every mode: beyond the largest code
  for (Round r : fixq::all_rounds)
    CHECK_THROWS_AS(fixq::quantize_span(x.data(), c.data(), x.size(), {u, r, Overflow::Throw, 0}), fixq::overflow_error);
  // Signed 62 bits: [-2^61, 2^61 - 1]; -2^61 is a double, 2^61 - 1 is not.
  const Format s{62, 0, true};
  std::vector<double> y{-0x1p61, 0x1p61 - 256};
  std::vector<std::int64_t> d(y.size());
  CHECK_NOTHROW(fixq::quantize_span(y.data(), d.data(), y.size(), {s, Round::Floor, Overflow::Throw, 0}));
  CHECK(d[0] == -(std::int64_t{1} << 61));
  CHECK(d[1] == (std::int64_t{1} << 61) - 256);
  y[0] = std::nextafter(-0x1p61, -1e300);
  CHECK_THROWS_AS(fixq::quantize_span(y.data(), d.data(), y.size(), {s, Round::Ceil, Overflow::Throw, 0}), fixq::overflow_error);
  y[0] = -0x1p61;
  y[1] = 0x1p61;
  CHECK_THROWS_AS(fixq::quantize_span(y.data(), d.data(), y.size(), {s, Round::Floor, Overflow::Throw, 0}), fixq::overflow_error);
}

TEST_CASE("Overflow::Throw: a value whose scaled double underflows to 0 still rounds out of a range ending at 0",
          "[kernels]") {
  // v * 2^frac is below the smallest double: the check sees 0, but Floor of a negative
  // value is -1 (outside an unsigned format) and Ceil of a positive one is 1 (outside
  // Fixed<1, F>, whose codes are -1 and 0).
  std::vector<double> neg{0.5, -0x1p-1074};
  std::vector<std::uint8_t> u(neg.size());
  CHECK_THROWS_AS(fixq::quantize_span(neg.data(), u.data(), neg.size(), {Format{8, -1, false}, Round::Floor, Overflow::Throw, 0}),
                  fixq::overflow_error);
  std::vector<std::int8_t> s(neg.size());
  std::vector<double> pos{-0.5, 0x1p-1074};
  CHECK_THROWS_AS(fixq::quantize_span(pos.data(), s.data(), pos.size(), {Format{1, -2}, Round::Ceil, Overflow::Throw, 0}),
                  fixq::overflow_error);
  std::vector<float> negf{1e-45f * -1.0f};
  CHECK_THROWS_AS(fixq::quantize_span(negf.data(), u.data(), negf.size(), {Format{8, -930, false}, Round::Floor, Overflow::Throw, 0}),
                  fixq::overflow_error);
  // Where the range holds -1 and 1, such values round inside it: nothing to throw.
  std::vector<std::int8_t> c(neg.size());
  CHECK_NOTHROW(fixq::quantize_span(neg.data(), c.data(), neg.size(), {Format{8, -1}, Round::Floor, Overflow::Throw, 0}));
  CHECK(c[1] == -1);
}

TEST_CASE("bad formats and code types are rejected with a message naming them", "[kernels]") {
  std::vector<float> x(4, 1.0f);
  std::vector<std::int8_t> c(4);
  std::vector<float> y(4);
  try {
    fixq::quantize_span(x.data(), c.data(), 4, {Format{9, 4}});
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("Fixed<9,4>") != std::string::npos);
  }
  CHECK_THROWS_AS(fixq::quantize_span(x.data(), c.data(), 4, {Format{8, 4, false}}), std::invalid_argument);
  CHECK_NOTHROW(fixq::quantize_span(x.data(), c.data(), 4, {Format{8, 4, true}}));
  try {
    fixq::quantize_span(x.data(), y.data(), 4, {Format{65, 4}});
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("word = 65") != std::string::npos);
  }
}

TEST_CASE("stochastic rounding: probability, zero mean error, no neighbour correlation", "[kernels]") {
  // 2^20 copies of one value 0.3 LSB above a grid point: each element rounds up
  // independently with p = floor(0.3 * 2^32) / 2^32. Hoeffding: P(|mean - p| > 0.005)
  // <= 2 exp(-2 n 0.005^2) = 2 exp(-52.4) < 1e-22.
  const std::size_t n = std::size_t{1} << 20;
  const Format f{8, 4};
  const double x0 = (3 + 0.3) / 16.0;
  std::vector<float> x(n, static_cast<float>(x0));
  std::vector<std::int8_t> c(n);
  fixq::quantize_span(x.data(), c.data(), n, {f, Round::Stochastic, Overflow::Saturate, 2024});
  const double exact_p = std::floor((static_cast<double>(static_cast<float>(x0)) * 16 - 3) * 0x1p32) / 0x1p32;
  double ups = 0, both = 0;
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE((c[i] == 3 || c[i] == 4));
    ups += c[i] == 4;
    if (i > 0) both += (c[i] == 4) && (c[i - 1] == 4);
  }
  const double p = ups / static_cast<double>(n);
  CHECK(std::fabs(p - exact_p) < 0.005);
  // Neighbours: P(up and previous up) = p^2 for independent draws; the pair
  // indicators are 2-dependent, so Hoeffding on the even pairs alone (n/2 of
  // them) bounds the false-alarm rate by 2 exp(-2 (n/2) 0.005^2) < 1e-11.
  CHECK(std::fabs(both / static_cast<double>(n - 1) - exact_p * exact_p) < 0.005);
  // Mean error of the values is near zero (bias < 2^-32 LSB by construction).
  const double mean_code = ups / static_cast<double>(n) + 3;
  CHECK(std::fabs(mean_code - static_cast<double>(static_cast<float>(x0)) * 16) < 0.005);
  // Same seed, same bits; another seed, other bits.
  std::vector<std::int8_t> again(n), other(n);
  fixq::quantize_span(x.data(), again.data(), n, {f, Round::Stochastic, Overflow::Saturate, 2024});
  fixq::quantize_span(x.data(), other.data(), n, {f, Round::Stochastic, Overflow::Saturate, 2025});
  CHECK(again == c);
  CHECK(other != c);
}

TEST_CASE("Eigen front ends: arrays, matrices, maps with strides, blocks, expressions", "[kernels][eigen]") {
  const Format f{8, 4};
  Eigen::ArrayXXf a = Eigen::ArrayXXf::Random(37, 23) * 9.0f;
  const Eigen::ArrayXXf b = Eigen::ArrayXXf::Random(37, 23);
  for (Round r : {Round::NearestEven, Round::Stochastic}) {
    // Plain array: element k (column-major) is quantize_span's element k.
    const Eigen::ArrayXXf qa = fixq::quantize(a, {f, r, Overflow::Saturate, 5}).eval();
    std::vector<float> ref(static_cast<std::size_t>(a.size()));
    fixq::quantize_span(a.data(), ref.data(), ref.size(), {f, r, Overflow::Saturate, 5});
    for (Eigen::Index k = 0; k < a.size(); ++k) REQUIRE(qa(k) == ref[static_cast<std::size_t>(k)]);

    // An expression is evaluated first; indices follow the result's storage order.
    const Eigen::ArrayXXf e = a * 3 + b;
    const Eigen::ArrayXXf qe = fixq::quantize(a * 3 + b, {f, r, Overflow::Wrap, 6}).eval();
    CHECK((qe == fixq::quantize(e, {f, r, Overflow::Wrap, 6}).eval()).all());

    // A block with an outer stride: same as quantizing its evaluated copy.
    const Eigen::ArrayXXf blk = a.block(3, 2, 20, 11);
    const Eigen::ArrayXXf qb = fixq::quantize(a.block(3, 2, 20, 11), {f, r, Overflow::Saturate, 7}).eval();
    CHECK((qb == fixq::quantize(blk, {f, r, Overflow::Saturate, 7}).eval()).all());

    // Maps with inner and outer strides.
    using Strided = Eigen::Map<const Eigen::ArrayXXf, 0, Eigen::Stride<Eigen::Dynamic, 2>>;
    const Strided m(a.data(), 18, 23, Eigen::Stride<Eigen::Dynamic, 2>(37, 2));
    const Eigen::ArrayXXf mcopy = m;
    CHECK((fixq::quantize(m, {f, r, Overflow::Saturate, 8}).eval() == fixq::quantize(mcopy, {f, r, Overflow::Saturate, 8}).eval()).all());

    // Row-major storage: indices follow memory order.
    const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = a;
    const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> qrm =
        fixq::quantize(rm, {f, r, Overflow::Saturate, 9}).eval();
    std::vector<float> rref(static_cast<std::size_t>(rm.size()));
    fixq::quantize_span(rm.data(), rref.data(), rref.size(), {f, r, Overflow::Saturate, 9});
    for (Eigen::Index k = 0; k < rm.size(); ++k) REQUIRE(qrm.data()[k] == rref[static_cast<std::size_t>(k)]);

    // Matrices and vectors keep their kind.
    const Eigen::MatrixXd md = a.cast<double>().matrix();
    const Eigen::MatrixXd qmd = fixq::quantize(md, {f, r, Overflow::Saturate, 0}).eval();
    CHECK(qmd.rows() == md.rows());
    const Eigen::VectorXf v = a.col(4).matrix();
    const Eigen::VectorXf qv = fixq::quantize(v, {f, r, Overflow::Saturate, 3}).eval();
    CHECK(qv.size() == v.size());
  }

  // Codes and back.
  const auto codes = fixq::quantize_codes<std::int8_t>(a, {f}).eval();
  static_assert(std::is_same_v<std::decay_t<decltype(codes)>, Eigen::Array<std::int8_t, Eigen::Dynamic, Eigen::Dynamic>>);
  const Eigen::ArrayXXf back = fixq::dequantize(codes, f);
  CHECK((back == fixq::quantize(a, {f}).eval()).all());
  const Eigen::ArrayXXd backd = fixq::dequantize<double>(codes, f);
  CHECK((backd.cast<float>() == back).all());
  CHECK_THROWS_AS(fixq::quantize_codes<std::int8_t>(a, {Format{16, 4}}).eval(), std::invalid_argument);

  // In place, whole arrays and blocks.
  Eigen::ArrayXXf c = a;
  fixq::quantize_inplace(c, {f, Round::Stochastic, Overflow::Saturate, 42});
  CHECK((c == fixq::quantize(a, {f, Round::Stochastic, Overflow::Saturate, 42}).eval()).all());
  Eigen::ArrayXXf d = a;
  fixq::quantize_inplace(d.block(1, 1, 5, 6), {f});
  CHECK((d.block(1, 1, 5, 6) == fixq::quantize(a.block(1, 1, 5, 6), {f}).eval()).all());
  CHECK((d.col(0) == a.col(0)).all());  // untouched outside the block
  Eigen::ArrayXXf g = a;
  fixq::quantize_inplace(g.row(2), {f});  // inner stride != 1: the evaluated path
  CHECK((g.row(2) == fixq::quantize(a.row(2), {f}).eval()).all());
  CHECK((g.row(3) == a.row(3)).all());
}

TEST_CASE("tensors of rank 1 to 5 and tensor maps", "[kernels][tensor]") {
  const Format f{6, 3};
  auto check_tensor = [&](auto t) {
    t.setRandom();
    t = t * 8.0f;
    std::vector<float> ref(static_cast<std::size_t>(t.size()));
    fixq::quantize_span(t.data(), ref.data(), ref.size(), {f, Round::Stochastic, Overflow::Saturate, 13});
    const auto q = fixq::quantize(t, {f, Round::Stochastic, Overflow::Saturate, 13});
    REQUIRE(q.dimensions() == t.dimensions());
    for (Eigen::Index k = 0; k < t.size(); ++k) REQUIRE(q.data()[k] == ref[static_cast<std::size_t>(k)]);
    const auto codes = fixq::quantize_codes<std::int8_t>(t, {f, Round::Stochastic, Overflow::Saturate, 13});
    const auto back = fixq::dequantize(codes, f);
    for (Eigen::Index k = 0; k < t.size(); ++k) REQUIRE(back.data()[k] == ref[static_cast<std::size_t>(k)]);
    Eigen::TensorMap<decltype(t)> map(t.data(), t.dimensions());
    const auto qm = fixq::quantize(map, {f, Round::Stochastic, Overflow::Saturate, 13});
    for (Eigen::Index k = 0; k < t.size(); ++k) REQUIRE(qm.data()[k] == ref[static_cast<std::size_t>(k)]);
    fixq::quantize_inplace(map, {f, Round::Stochastic, Overflow::Saturate, 13});
    for (Eigen::Index k = 0; k < t.size(); ++k) REQUIRE(t.data()[k] == ref[static_cast<std::size_t>(k)]);
  };
  check_tensor(Eigen::Tensor<float, 1>(33));
  check_tensor(Eigen::Tensor<float, 2>(5, 7));
  check_tensor(Eigen::Tensor<float, 3>(3, 4, 5));
  check_tensor(Eigen::Tensor<float, 4, Eigen::RowMajor>(2, 3, 4, 5));
  check_tensor(Eigen::Tensor<float, 5>(2, 3, 2, 3, 4));
}
