// Eigen arrays of fixq::Fixed: storage, casts, element-wise exact arithmetic.
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <cmath>
#include <random>
#include <sstream>
#include <type_traits>

#include <fixq/fixq.hpp>

using fixq::Fixed;
using fixq::Round;
using fixq::Overflow;
using Q8 = Fixed<8, 4>;
using Q16 = Fixed<16, 8>;

namespace {
Eigen::ArrayXXf random_floats(Eigen::Index rows, Eigen::Index cols, float scale, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  Eigen::ArrayXXf a(rows, cols);
  for (Eigen::Index i = 0; i < a.size(); ++i) a(i) = dist(gen);
  return a;
}
}  // namespace

TEST_CASE("cast from float arrays converts each element like the scalar type", "[eigen]") {
  // Include ties (odd multiples of 1/32) and out-of-range values.
  Eigen::ArrayXXf x = random_floats(7, 5, 12.0f, 1);
  x(0, 0) = 0.03125f;    // tie between codes 0 and 1 -> even (0)
  x(1, 0) = -0.09375f;   // tie between -2 and -1 -> even (-2)
  x(2, 0) = 100.0f;      // saturates to 127
  x(3, 0) = -100.0f;     // saturates to -128
  const Eigen::Array<Q8, Eigen::Dynamic, Eigen::Dynamic> q = x.cast<Q8>();
  REQUIRE(q.rows() == 7);
  REQUIRE(q.cols() == 5);
  for (Eigen::Index i = 0; i < x.size(); ++i) REQUIRE(q(i).raw() == Q8(x(i)).raw());
  CHECK(q(0, 0).raw() == 0);
  CHECK(q(1, 0).raw() == -2);
  CHECK(q(2, 0).raw() == 127);
  CHECK(q(3, 0).raw() == -128);

  // And back: every code is exactly a float.
  const Eigen::ArrayXXf back = q.cast<float>();
  for (Eigen::Index i = 0; i < x.size(); ++i)
    REQUIRE(back(i) == static_cast<float>(q(i).raw()) / 16.0f);
}

TEST_CASE("element-wise arithmetic has the exact result type", "[eigen]") {
  const Eigen::ArrayXXf xf = random_floats(6, 4, 7.9f, 2);
  const Eigen::ArrayXXf yf = random_floats(6, 4, 100.0f, 3);
  const Eigen::Array<Q8, Eigen::Dynamic, Eigen::Dynamic> a = xf.cast<Q8>();
  const Eigen::Array<Q16, Eigen::Dynamic, Eigen::Dynamic> b = yf.cast<Q16>();

  using SumT = decltype(Q8{} + Q16{});
  using ProdT = decltype(Q8{} * Q16{});
  static_assert(std::is_same_v<decltype(a + b)::Scalar, SumT>);
  static_assert(std::is_same_v<decltype(a * b)::Scalar, ProdT>);
  static_assert(std::is_same_v<decltype(a - a)::Scalar, Fixed<9, 4>>);

  const Eigen::Array<SumT, Eigen::Dynamic, Eigen::Dynamic> s = a + b;
  const Eigen::Array<ProdT, Eigen::Dynamic, Eigen::Dynamic> p = a * b;
  const auto d = (a - b).eval();
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    // Values are exact: compare in double, where these widths are exact too.
    REQUIRE(s(i).to_double() == a(i).to_double() + b(i).to_double());
    REQUIRE(p(i).to_double() == a(i).to_double() * b(i).to_double());
    REQUIRE(d(i).to_double() == a(i).to_double() - b(i).to_double());
  }
  // Re-quantizing the exact result back into a narrow type uses that type's modes.
  const Eigen::Array<Q8, Eigen::Dynamic, Eigen::Dynamic> back = (a * a).cast<Q8>();
  for (Eigen::Index i = 0; i < a.size(); ++i) REQUIRE(back(i) == Q8(a(i) * a(i)));
}

TEST_CASE("comparisons, min/max coefficients, blocks, maps and printing", "[eigen]") {
  const Eigen::ArrayXf xf = random_floats(40, 1, 8.0f, 4).col(0);
  const Eigen::Array<Q8, Eigen::Dynamic, 1> a = xf.cast<Q8>();
  const auto codes = a.unaryExpr([](Q8 v) { return static_cast<int>(v.raw()); }).eval();
  CHECK(a.maxCoeff().raw() == codes.maxCoeff());
  CHECK(a.minCoeff().raw() == codes.minCoeff());
  const Eigen::Array<bool, Eigen::Dynamic, 1> pos = a > Q8(0.0);
  CHECK(pos.count() == (codes > 0).count());

  // Blocks and maps of Fixed storage.
  Eigen::Array<Q8, 4, 4> m;
  for (int i = 0; i < 16; ++i) m(i) = Q8::from_raw(i - 8);
  const Eigen::Array<Q8, 2, 2> blk = m.block<2, 2>(1, 1);
  CHECK(blk(0, 0).raw() == m(1, 1).raw());
  Q8 buf[6] = {Q8(1.0), Q8(2.0), Q8(-1.5), Q8(0.25), Q8(7.9375), Q8(-8.0)};
  Eigen::Map<Eigen::Array<Q8, 2, 3>> map(buf);
  CHECK(map(1, 2).raw() == -128);
  map(0, 0) = Q8(3.0);
  CHECK(buf[0].raw() == 48);

  // Eigen prints through fixq's exact decimal operator<<.
  std::ostringstream os;
  os << map.row(1);
  CHECK(os.str().find("-8") != std::string::npos);
  CHECK(os.str().find("0.25") != std::string::npos);
}
