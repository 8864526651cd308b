// Calls of quantize compiled with FIXQ_SEPARATE_KERNELS: the kernels come from
// instantiate_kernels.cpp. Checked element by element against the reference of
// the kernel tests (tests/support/kernel_reference.hpp).
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>
#include <fixq/fixq.hpp>

#include "support/kernel_reference.hpp"

using fixq::Format;
using fixq::Overflow;
using fixq::Round;

namespace {

/// The reference's value of v (Out floating) or code (Out integral).
template <class Out, class In>
Out reference(In v, const Format& f, Round r, Overflow o, std::uint64_t seed, std::uint64_t index) {
  Out out{};
  fixq::detail::dispatch_round(r, [&]<Round R>() {
    fixq::detail::dispatch_overflow(o, [&]<Overflow O>() {
      out = fixq_test::reference_out<Out>(fixq_test::reference_code<R, O>(v, f, fixq::random_u32(seed, index)), f);
    });
  });
  return out;
}

/// Inputs over and beyond Format{8, 4}: every multiple of 1/64 in [-10, 10]
/// (ties of every kind), and the special values.
template <class T>
std::vector<T> inputs() {
  std::vector<T> x;
  for (int k = -640; k <= 640; ++k) x.push_back(static_cast<T>(k) / 64);
  for (T s : {T(-0.0), std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(),
              std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::denorm_min()})
    x.push_back(s);
  return x;
}

}  // namespace

TEST_CASE("FIXQ_SEPARATE_KERNELS: quantize and quantize_codes equal the scalar core", "[separate]") {
  const Format f{8, 4};
  const auto xf = inputs<float>();
  const auto xd = inputs<double>();
  const Eigen::Map<const Eigen::ArrayXf> af(xf.data(), static_cast<Eigen::Index>(xf.size()));
  const Eigen::Map<const Eigen::ArrayXd> ad(xd.data(), static_cast<Eigen::Index>(xd.size()));
  std::size_t bad = 0, checked = 0;
  for (Round r : fixq::all_rounds)
    for (Overflow o : {Overflow::Saturate, Overflow::SaturateSymmetric, Overflow::SaturateZero, Overflow::Wrap}) {
      const Eigen::ArrayXf qf = fixq::quantize(af, {f, r, o, 7}).eval();                       // (float, float)
      const auto cf = fixq::quantize_codes<std::int8_t>(af, {f, r, o, 7}).eval();             // (float, int8)
      const Eigen::ArrayXd qd = fixq::quantize(ad, {f, r, o, 7}).eval();                       // (double, double)
      for (std::size_t i = 0; i < xf.size(); ++i) {
        const auto k = static_cast<Eigen::Index>(i);
        bad += !fixq_test::same(qf[k], reference<float>(xf[i], f, r, o, 7, i));
        bad += !fixq_test::same(cf[k], reference<std::int8_t>(xf[i], f, r, o, 7, i));
        bad += !fixq_test::same(qd[k], reference<double>(xd[i], f, r, o, 7, i));
        checked += 3;
      }
    }
  INFO(checked << " elements checked");
  CHECK(checked > 100000);
  CHECK(bad == 0);
}

TEST_CASE("FIXQ_SEPARATE_KERNELS: Overflow::Throw", "[separate]") {
  Eigen::ArrayXf x = Eigen::ArrayXf::LinSpaced(1000, -7.9f, 7.9f);
  Eigen::ArrayXf q;
  CHECK_NOTHROW(q = fixq::quantize(x, {Format{8, 4}, Round::NearestEven, Overflow::Throw, 0}).eval());
  CHECK(q[999] == 7.875f);  // 7.9 * 16 = 126.4 -> 126
  x[500] = 8.0f;
  CHECK_THROWS_AS(fixq::quantize(x, {Format{8, 4}, Round::NearestEven, Overflow::Throw, 0}).eval(), fixq::overflow_error);
}
