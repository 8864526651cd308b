// The public surface of the kernels: QuantSpec and FracSpec as values, the
// expression that quantize() returns, quantize<Q> for a Fixed type, derive_seed,
// set_threads; and the rules of the scalar type that the API depends on. Each
// case would fail if the footgun it guards against came back.
//
// With assertions on (the Debug sanitizer build), Eigen aborts on any heap
// allocation made while it is forbidden: that checks that `y = quantize(x, spec)`
// allocates no temporary.
#define EIGEN_RUNTIME_NO_MALLOC
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/core.hpp>
#include <fixq/kernels/frac_select.hpp>
#include <fixq/kernels/parallel.hpp>
#include <fixq/kernels/quantize.hpp>
#include <fixq/kernels/stats.hpp>
#include <fixq/random.hpp>

using fixq::Fixed;
using fixq::Format;
using fixq::Overflow;
using fixq::QuantSpec;
using fixq::Round;

namespace {

Eigen::ArrayXXf sample(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::srand(seed);
  return Eigen::ArrayXXf::Random(rows, cols) * 9.0f;  // some saturate in Fixed<8, 4>
}

/// The reference: quantize_span over x's storage (itself tested against the scalar core).
Eigen::ArrayXXf reference(const Eigen::ArrayXXf& x, const QuantSpec& spec) {
  Eigen::ArrayXXf y(x.rows(), x.cols());
  fixq::quantize_span(x.data(), y.data(), static_cast<std::size_t>(x.size()), spec);
  return y;
}

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("api: Round::Stochastic without a seed is rejected by every kernel", "[api]") {
  const Eigen::ArrayXXf x = sample(7, 5, 1);
  const QuantSpec no_seed{.format = {8, 4}, .round = Round::Stochastic};
  Eigen::ArrayXXf y(7, 5);
  std::vector<float> out(35);
  const auto needs_seed = [](const std::string& m) { return m.find("needs a seed") != std::string::npos; };
  CHECK(needs_seed(message_of([&] { no_seed.validate(); })));
  CHECK(needs_seed(message_of([&] { y = fixq::quantize(x, no_seed); })));
  CHECK(needs_seed(message_of([&] { fixq::quantize_span(x.data(), out.data(), out.size(), no_seed); })));
  CHECK(needs_seed(message_of([&] { (void)fixq::quantize_codes<std::int8_t>(x, no_seed); })));
  CHECK(needs_seed(message_of([&] { fixq::quantize_inplace(y, no_seed); })));
  CHECK(needs_seed(message_of([&] { (void)fixq::quantize_stats(x, no_seed); })));
  // With a seed it runs, and distinct seeds give distinct noise.
  const QuantSpec a{.format = {8, 4}, .round = Round::Stochastic, .seed = 1};
  QuantSpec b = a;
  b.seed = 2;
  const Eigen::ArrayXXf ya = fixq::quantize(x, a), yb = fixq::quantize(x, b);
  CHECK((ya != yb).any());
  CHECK((ya == reference(x, a)).all());
  // Deterministic roundings ignore the seed.
  const QuantSpec d1{.format = {8, 4}, .seed = 1}, d2{.format = {8, 4}};
  CHECK((fixq::quantize(x, d1).eval() == fixq::quantize(x, d2).eval()).all());
}

TEST_CASE("api: QuantSpec::of a Fixed type, and quantize<Q>", "[api]") {
  using Q = Fixed<8, 4, Round::Floor, Overflow::Wrap>;
  constexpr QuantSpec s = QuantSpec::of<Q>();
  STATIC_REQUIRE(s.format == Format{8, 4});
  STATIC_REQUIRE(s.round == Round::Floor);
  STATIC_REQUIRE(s.overflow == Overflow::Wrap);
  STATIC_REQUIRE(!s.seed);
  const Eigen::ArrayXXf x = sample(9, 4, 2);
  Eigen::ArrayXXf y = fixq::quantize<Q>(x);
  CHECK((y == reference(x, s)).all());
  for (Eigen::Index k = 0; k < x.size(); ++k) REQUIRE(y.data()[k] == Q(x.data()[k]).to_float());

  using S = Fixed<10, 6, Round::Stochastic, Overflow::SaturateSymmetric, false>;
  y = fixq::quantize<S>(x, 99);
  CHECK((y == reference(x, QuantSpec::of<S>(99))).all());
  // Element k uses random_u32(seed, k): the scalar type with RandomStream(seed, k) agrees.
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    fixq::RandomStream rng(99, static_cast<std::uint64_t>(k));
    REQUIRE(y.data()[k] == S(x.data()[k], rng).to_float());
  }

  // quantize_codes<Q>: Q's storage type, Q's codes.
  const auto codes = fixq::quantize_codes<Q>(x).eval();
  STATIC_REQUIRE(std::is_same_v<std::decay_t<decltype(codes)>::Scalar, std::int8_t>);
  for (Eigen::Index k = 0; k < x.size(); ++k) REQUIRE(codes.data()[k] == Q(x.data()[k]).raw());
  const auto scodes = fixq::quantize_codes<S>(x, 5).eval();
  STATIC_REQUIRE(std::is_same_v<std::decay_t<decltype(scodes)>::Scalar, std::uint16_t>);
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    fixq::RandomStream rng(5, static_cast<std::uint64_t>(k));
    REQUIRE(scodes.data()[k] == S(x.data()[k], rng).raw());
  }
}

TEST_CASE("api: y = quantize(x, spec) writes into y's storage", "[api]") {
  const QuantSpec spec{.format = {8, 4}, .round = Round::Stochastic, .seed = 3};
  const Eigen::ArrayXXf x = sample(33, 17, 3);
  const Eigen::ArrayXXf want = reference(x, spec);

  Eigen::ArrayXXf y(33, 17);
  const float* storage = y.data();
  Eigen::internal::set_is_malloc_allowed(false);
  y = fixq::quantize(x, spec);  // Array routes this through Eigen's Assignment
  y.matrix() = fixq::quantize(x.matrix(), spec);
  Eigen::internal::set_is_malloc_allowed(true);
  CHECK(y.data() == storage);  // no new array
  CHECK((y == want).all());

  // In place through the expression: x and y the same array.
  Eigen::ArrayXXf z = x;
  const float* zs = z.data();
  z = fixq::quantize(z, spec);
  CHECK(z.data() == zs);
  CHECK((z == want).all());

  // A Map over a caller's buffer, and noalias().
  std::vector<float> buffer(33 * 17);
  Eigen::Map<Eigen::ArrayXXf> m(buffer.data(), 33, 17);
  m = fixq::quantize(x, spec);
  CHECK(std::equal(buffer.begin(), buffer.end(), want.data()));
  Eigen::MatrixXf n(33, 17);
  n = fixq::quantize(x.matrix(), spec);
  CHECK((n.array() == want).all());

  // A row-major destination and a strided block: same values at the same (i, j),
  // keyed by x's storage order.
  Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm(33, 17);
  rm = fixq::quantize(x, spec);
  CHECK((rm == want).all());
  Eigen::ArrayXXf big = Eigen::ArrayXXf::Constant(40, 20, -1.0f);
  big.block(2, 1, 33, 17) = fixq::quantize(x, spec);
  CHECK((big.block(2, 1, 33, 17) == want).all());
  CHECK((big.col(0) == -1.0f).all());

  // It has no coefficients to read (reading one would need a temporary that dies
  // with the read); .eval() gives the values.
  STATIC_REQUIRE(!std::is_base_of_v<Eigen::DenseBase<std::decay_t<decltype(fixq::quantize(x, spec))>>,
                                    std::decay_t<decltype(fixq::quantize(x, spec))>>);
  CHECK((fixq::quantize(x, spec).eval() == want).all());
  // A destination of another size is resized.
  Eigen::ArrayXXf small(2, 2);
  small = fixq::quantize(x, spec);
  CHECK((small == want).all());
}

TEST_CASE("api: derive_seed gives distinct, reproducible seeds", "[api]") {
  STATIC_REQUIRE(fixq::derive_seed(1, 2, 3) == fixq::derive_seed(1, 2, 3));
  CHECK(fixq::derive_seed(1, 2) != fixq::derive_seed(2, 1));
  CHECK(fixq::derive_seed(0) != fixq::derive_seed(0, 0));
  std::set<std::uint64_t> seen;
  for (std::uint64_t run = 0; run < 4; ++run)
    for (std::uint64_t step = 0; step < 1000; ++step)
      for (std::uint64_t tensor = 0; tensor < 5; ++tensor) seen.insert(fixq::derive_seed(run, step, tensor));
  CHECK(seen.size() == 4u * 1000u * 5u);
  // Step-to-step noise differs: element 0 of consecutive steps does not repeat.
  int repeats = 0;
  for (std::uint64_t step = 0; step < 1000; ++step)
    repeats += fixq::random_u32(fixq::derive_seed(7, step), 0) == fixq::random_u32(fixq::derive_seed(7, step + 1), 0);
  CHECK(repeats == 0);  // a repeat has probability 2^-32 per step
}

TEST_CASE("api: choose_frac takes a FracSpec and rejects settings its method ignores", "[api]") {
  Eigen::ArrayXXf w(2, 3);
  w << 0.5f, 0.1f, 0.2f,   //
      3.0f, 0.1f, -0.2f;
  CHECK(fixq::choose_frac(w, {.word = 8}) == 5);  // 3.0: 96 <= 127 < 192
  CHECK(fixq::choose_frac_per_channel(w, fixq::Axis::Rows, {.word = 8}) == std::vector<int>{7, 5});
  CHECK(fixq::choose_frac_per_channel(w, fixq::Axis::Cols, {.word = 8}) == std::vector<int>{5, 10, 9});
  const auto msg = [&](const fixq::FracSpec& s) { return message_of([&] { (void)fixq::choose_frac(w, s); }); };
  CHECK(msg({.word = 8, .overflow_rate = 0.01}).find("only FracMethod::OverflowRate uses it") != std::string::npos);
  CHECK(msg({.word = 8, .method = fixq::FracMethod::OverflowRate, .overflow_rate = 2}).find("overflow_rate = 2") !=
        std::string::npos);
  CHECK(msg({}).find("word = 0") != std::string::npos);
  CHECK(msg({.word = 8, .method = fixq::FracMethod::MinMSE, .round = Round::Stochastic}).find("deterministic") !=
        std::string::npos);
  CHECK(message_of([&] { (void)fixq::choose_frac_per_channel(w, fixq::Axis::Rows, {.word = 65}); })
            .find("word = 65") != std::string::npos);
  // OverflowRate: one of six elements may saturate.
  CHECK(fixq::choose_frac(w, {.word = 8, .method = fixq::FracMethod::OverflowRate, .overflow_rate = 1.0 / 6}) == 7);
}

TEST_CASE("api: SaturateSymmetric at one bit gives 0 (ac_fixed's AC_SAT_SYM gives -1)", "[api]") {
  // Fixed<1, F> has codes -1 and 0; the symmetric range [-max, max] is {0}.
  using S1 = Fixed<1, 0, Round::NearestEven, Overflow::SaturateSymmetric>;
  CHECK(S1(-5.0).raw() == 0);
  CHECK(S1(-1.0).raw() == 0);  // the most negative code is never produced
  CHECK(S1(-0.4).raw() == 0);
  CHECK(S1(3.0).raw() == 0);
  CHECK(Fixed<1, 0, Round::NearestEven, Overflow::Saturate>(-5.0).raw() == -1);
  Eigen::ArrayXf x(4);
  x << -5.0f, -1.0f, 0.2f, 3.0f;
  const Eigen::ArrayXf y = fixq::quantize<S1>(x);
  CHECK((y == 0.0f).all());
  const auto c = fixq::quantize_codes<std::int8_t>(x, QuantSpec::of<S1>()).eval();
  CHECK((c == 0).all());
}

TEST_CASE("api: compound assignment rounds by the left operand's modes", "[api]") {
  // a + b of mixed modes does not compile (tests/compile_fail); a += b is defined.
  Fixed<8, 2, Round::Floor, Overflow::Wrap> a(31.75);
  a += Fixed<8, 4>(0.1875);  // 31.9375 -> Floor 31.75; no overflow
  CHECK(a.to_double() == 31.75);
  a += Fixed<8, 4>(0.25);  // 32 wraps to -32
  CHECK(a.to_double() == -32.0);
  Fixed<8, 2> b(31.75);
  b += Fixed<8, 4>(0.25);  // saturates
  CHECK(b.to_double() == 31.75);
  b -= Fixed<8, 4>(0.1875);  // 31.5625 -> NearestEven 31.5
  CHECK(b.to_double() == 31.5);
  b *= Fixed<4, 1>(0.5);  // 15.75
  CHECK(b.to_double() == 15.75);
}

TEST_CASE("api: set_threads is safe from several threads", "[api]") {
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([t] {
      for (int k = 0; k < 1000; ++k) fixq::set_threads((t + k) % 3);
    });
  for (auto& t : ts) t.join();
  fixq::set_threads(1);
  CHECK(fixq::threads() == 1);
  CHECK_THROWS_AS(fixq::set_threads(-1), std::invalid_argument);
  fixq::set_threads(0);
  CHECK(fixq::threads() >= 1);
}
