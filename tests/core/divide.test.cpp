// tests/core/divide.test.cpp - fixq::divide<Result>(a, b): the exact quotient
// rounded by Result's Round and narrowed by Result's Overflow.
//
// The reference (support/int128_reference.hpp) is written from the contract in
// format.hpp / README: the quotient in units of Result's LSB is the rational
// num / den below; it is floor-divided in 128-bit integers (q, remainder) and
// each Round mode picks q or q + 1 literally as the contract says; each
// Overflow mode then narrows.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <fixq/core.hpp>
#include <fixq/random.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <support/failures.hpp>
#include <support/fixed_codes.hpp>
#include <support/fixed_printer.hpp>
#include <support/int128.hpp>
#include <support/int128_reference.hpp>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using fixq::Fixed;
using fixq::Overflow;
using fixq::Round;
using fixq::UFixed;
using fixq_test::Failures;
using fixq_test::floor_divide;
using fixq_test::from_code;
using fixq_test::hi_code;
using fixq_test::i128;
using fixq_test::i128_text;
using fixq_test::lo_code;
using fixq_test::p2;
using fixq_test::random_code;
using fixq_test::ref_narrow;
using fixq_test::ref_round;
using fixq_test::require_none;
using fixq_test::Target;
using fixq_test::target_of;

// ---------------------------------------------------------------------------
// The reference: the quotient in units of Result's LSB is the rational
// num / den below, rounded and narrowed by ref_round and ref_narrow
// (support/int128_reference.hpp).
// ---------------------------------------------------------------------------

/// The exact quotient a / b in units of the Result LSB 2^-fr, as num / den with
/// den > 0: (ca 2^-fa) / (cb 2^-fb) * 2^fr = ca * 2^(fr + fb - fa) / cb.
std::pair<i128, i128> exact_quotient(i128 ca, int fa, i128 cb, int fb, int fr) {
  const int s = fr + fb - fa;
  i128 num = s >= 0 ? ca * p2(s) : ca;
  i128 den = s >= 0 ? cb : cb * p2(-s);
  if (den < 0) {
    num = -num;
    den = -den;
  }
  return {num, den};
}

/// How much of the interesting ground a loop covered.
struct Coverage {
  long ties = 0;       // exact quotient halfway between two codes
  long inexact = 0;    // not a code
  long overflows = 0;  // rounded quotient outside [min code, max code]
};

/// One operand: its code and format.
struct Operand {
  i128 code;
  fixq::Format format;
};

/// What one call of divide did.
struct Outcome {
  std::optional<i128> code;  // nullopt: threw fixq::overflow_error
  std::uint64_t draws;       // words taken from the stream passed to it
};

/// Checks one division against the reference; u is the word the stream held.
void verify(Failures& f, Coverage* cov, const Target& t, const Operand& a, const Operand& b,
            std::uint32_t u, const Outcome& got) {
  const auto [num, den] =
      exact_quotient(a.code, a.format.frac, b.code, b.format.frac, t.format.frac);
  const i128 rounded = ref_round(num, den, t.round, u);
  const std::optional<i128> want = ref_narrow(rounded, t);
  if (cov != nullptr) {
    const i128 rem = floor_divide(num, den).rem;
    cov->inexact += rem != 0;
    cov->ties += 2 * rem == den;
    cov->overflows += rounded < t.lo || rounded > t.hi;
  }
  // Stochastic division takes exactly one draw from the stream it is given.
  const std::uint64_t want_draws = t.round == Round::Stochastic ? 1 : 0;
  f.expect(got.code == want && got.draws == want_draws, [&] {
    const auto show = [](const std::optional<i128>& c) {
      return c ? i128_text(*c) : std::string("throw");
    };
    return "divide<" + t.name() + ">(" + a.format.name() + " code " + i128_text(a.code) + ", " +
           b.format.name() + " code " + i128_text(b.code) + "), exact = " + i128_text(num) + "/" +
           i128_text(den) +
           " LSBs, u = " + std::to_string(u) + ": got " + show(got.code) + ", want " + show(want) +
           ", draws " + std::to_string(got.draws);
  });
}

/// divide<Result>(a, b) for the codes ca, cb; Stochastic results draw from rng.
/// Returns the outcome and the word the stream held (0 for other modes).
template <class Result, class A, class B>
std::pair<Outcome, std::uint32_t> run_divide(i128 ca, i128 cb, fixq::RandomStream& rng) {
  const A a = from_code<A>(ca);
  const B b = from_code<B>(cb);
  std::uint32_t u = 0;
  if constexpr (Result::rounding == Round::Stochastic) u = fixq::RandomStream(rng).next();
  const std::uint64_t before = rng.index();
  Outcome out{std::nullopt, 0};
  try {
    if constexpr (Result::rounding == Round::Stochastic)
      out.code = fixq::divide<Result>(a, b, rng).raw();
    else
      out.code = fixq::divide<Result>(a, b).raw();
  } catch (const fixq::overflow_error&) {
    out.code = std::nullopt;
  }
  out.draws = rng.index() - before;
  return {out, u};
}

/// Every pair of codes (b != 0) of the small formats A and B.
template <class Result, class A, class B>
void check_exhaustive(Failures& f, Coverage& cov) {
  const Target t = target_of<Result>();
  fixq::RandomStream rng(0x5eed, 7);
  for (i128 ca = lo_code<A>(); ca <= hi_code<A>(); ++ca)
    for (i128 cb = lo_code<B>(); cb <= hi_code<B>(); ++cb) {
      if (cb == 0) continue;
      const auto [got, u] = run_divide<Result, A, B>(ca, cb, rng);
      verify(f, &cov, t, {ca, A::format()}, {cb, B::format()}, u, got);
    }
}

/// Result = Fixed<W, F, R, O, S> for all 10 Round x 5 Overflow modes. The
/// operand formats are chosen so that the domain holds ties (when `ties`),
/// inexact quotients and overflows: the coverage is checked too.
template <int W, int F, bool S, class A, class B, std::size_t... I>
void check_all_modes(bool ties, std::index_sequence<I...>) {
  static_assert(sizeof...(I) == 50);
  Failures f;
  Coverage cov;
  (check_exhaustive<Fixed<W, F, fixq::all_rounds[I / 5], fixq::all_overflows[I % 5], S>, A, B>(f,
                                                                                               cov),
   ...);
  const std::string context = "Result " + fixq::Format{W, F, S}.name() + ", a in " +
                              A::format().name() + ", b in " + B::format().name();
  require_none(f, context);
  INFO(context);
  CHECK((cov.ties > 0) == ties);
  CHECK(cov.inexact > cov.ties);
  CHECK(cov.overflows > 0);
}

template <int W, int F, bool S, class A, class B>
void check_all_modes(bool ties = true) {
  check_all_modes<W, F, S, A, B>(ties, std::make_index_sequence<50>{});
}

TEST_CASE("divide: every Round and Overflow, exhaustively over small formats",
          "[divide][exhaustive]") {
  // a in [-4, 3.75] step 1/4, b in [-4, 3.5] step 1/2
  using A = Fixed<5, 2>;
  using B = Fixed<4, 1>;
  check_all_modes<6, 3, true, A, B>();  // Result Frac larger than both operands'
  // Frac larger still, wide enough for most quotients: 32 ca / cb has no ties for |cb| <= 8
  check_all_modes<10, 6, true, A, B>(false);
  check_all_modes<3, -1, true, A, B>();  // Result Frac smaller: quotient ca / (4 cb)
  check_all_modes<5, 2, false, A, B>();  // unsigned Result: negative quotients overflow
  // unsigned operands and Result, quotient 2 ca / cb
  check_all_modes<4, -1, false, UFixed<4, 0>, UFixed<3, 2>>();
  // a negative-Frac dividend, a Frac > Word divisor; quotient 2 ca / cb
  check_all_modes<4, -6, true, Fixed<4, -2>, UFixed<4, 5>>();
}

/// The code of a / 2 in Fixed<8, 0, R>.
template <Round R>
int half_of(const Fixed<8, 0>& a) {
  return fixq::divide<Fixed<8, 0, R>>(a, UFixed<3, 0>::from_raw(std::int64_t{2})).raw();
}

TEST_CASE("divide: ties, spelled out", "[divide]") {
  // 5 / 2 = 2.5 and -5 / 2 = -2.5, into integers
  const auto five = Fixed<8, 0>::from_raw(std::int64_t{5});
  const auto minus_five = Fixed<8, 0>::from_raw(std::int64_t{-5});
  CHECK(half_of<Round::Floor>(five) == 2);
  CHECK(half_of<Round::Ceil>(five) == 3);
  CHECK(half_of<Round::TowardZero>(five) == 2);
  CHECK(half_of<Round::NearestTiesToPosInf>(five) == 3);
  CHECK(half_of<Round::NearestTiesToNegInf>(five) == 2);
  CHECK(half_of<Round::NearestAway>(five) == 3);
  CHECK(half_of<Round::NearestTiesToZero>(five) == 2);
  CHECK(half_of<Round::NearestEven>(five) == 2);
  CHECK(half_of<Round::NearestOdd>(five) == 3);
  CHECK(half_of<Round::Floor>(minus_five) == -3);
  CHECK(half_of<Round::Ceil>(minus_five) == -2);
  CHECK(half_of<Round::TowardZero>(minus_five) == -2);
  CHECK(half_of<Round::NearestTiesToPosInf>(minus_five) == -2);
  CHECK(half_of<Round::NearestTiesToNegInf>(minus_five) == -3);
  CHECK(half_of<Round::NearestAway>(minus_five) == -3);
  CHECK(half_of<Round::NearestTiesToZero>(minus_five) == -2);
  CHECK(half_of<Round::NearestEven>(minus_five) == -2);
  CHECK(half_of<Round::NearestOdd>(minus_five) == -3);
  // 1/3 LSB is below one half, 2/3 LSB above it: no tie rule applies
  const auto one = Fixed<8, 0>::from_raw(std::int64_t{1});
  const auto three = Fixed<8, 0>::from_raw(std::int64_t{3});
  CHECK(int(fixq::divide<Fixed<8, 0, Round::NearestTiesToPosInf>>(one, three).raw()) == 0);
  CHECK(int(fixq::divide<Fixed<8, 1, Round::NearestTiesToNegInf>>(one, three).raw()) == 1);  // 2/3 LSB
  CHECK(int(fixq::divide<Fixed<8, 1, Round::Floor>>(one, three).raw()) == 0);
  // an exact quotient is never moved, even by Ceil or a SaturateSymmetric at the edge
  const auto min = Fixed<8, 0>::lowest();
  CHECK(int(fixq::divide<Fixed<8, 0, Round::Ceil>>(min, one).raw()) == -128);
  CHECK(int(fixq::divide<Fixed<8, 0, Round::Ceil, Overflow::SaturateSymmetric>>(min, one).raw()) ==
        -127);
}

// ---------------------------------------------------------------------------
// Wide operands.
// ---------------------------------------------------------------------------

template <class Result, class A, class B>
void check_random(Failures& f, std::uint64_t seed) {
  const Target t = target_of<Result>();
  std::mt19937_64 g(seed);
  fixq::RandomStream rng(seed);
  for (int i = 0; i < 3000; ++i) {
    const i128 ca = random_code<A>(g);
    i128 cb = random_code<B>(g);
    if (cb == 0) cb = 1;
    const auto [got, u] = run_divide<Result, A, B>(ca, cb, rng);
    verify(f, nullptr, t, {ca, A::format()}, {cb, B::format()}, u, got);
  }
}

/// All 10 Round modes under Saturate, and all 5 Overflow modes under NearestEven.
template <int W, int F, bool S, class A, class B, std::size_t... I>
void check_random_modes(bool with_stochastic, std::index_sequence<I...>) {
  Failures f;
  ((fixq::all_rounds[I] != Round::Stochastic || with_stochastic
        ? check_random<Fixed<W, F, fixq::all_rounds[I], Overflow::Saturate, S>, A, B>(f, 100 + I)
        : void()),
   ...);
  ((I < 5 ? check_random<Fixed<W, F, Round::NearestEven, fixq::all_overflows[I % 5], S>, A, B>(
                f, 200 + I)
          : void()),
   ...);
  require_none(f, "Result " + fixq::Format{W, F, S}.name() + ", a in " + A::format().name() +
                      ", b in " + B::format().name());
}

TEST_CASE("divide: random wide operands against 128-bit integers", "[divide][wide]") {
  // quotient scale 2^32 (num up to 2^95)
  check_random_modes<64, 32, true, Fixed<64, 0>, Fixed<64, 0>>(true,
                                                               std::make_index_sequence<10>{});
  // unsigned 64-bit dividend, negative quotient scale 2^-12
  check_random_modes<40, 5, true, UFixed<64, 10>, Fixed<33, -7>>(true,
                                                                 std::make_index_sequence<10>{});
  // divisor scaled by 2^70 (den up to 2^120): the Stochastic reference cannot follow there
  check_random_modes<48, -40, true, Fixed<40, 10>, UFixed<50, -20>>(false,
                                                                    std::make_index_sequence<10>{});
  // unsigned Result, quotient scale 2^60 (num up to 2^124, near the 125-bit limit)
  check_random_modes<64, 60, false, UFixed<64, 0>, UFixed<64, 0>>(true,
                                                                  std::make_index_sequence<10>{});
}

// ---------------------------------------------------------------------------
// Division by zero.
// ---------------------------------------------------------------------------

template <class Result>
void check_divide_by_zero() {
  INFO(target_of<Result>().name());
  const auto a = Fixed<8, 4>::from_raw(std::int64_t{24});
  const auto zero = UFixed<8, 2>();
  fixq::RandomStream rng(1);
  CHECK_THROWS_AS(fixq::divide<Result>(a, zero, rng), std::domain_error);
  CHECK_THROWS_AS(fixq::divide<Result>(zero, zero, rng), std::domain_error);
  CHECK_THROWS_AS(fixq::divide<Result>(Fixed<8, 4>::lowest(), Fixed<3, -2>(), rng), std::domain_error);
  if constexpr (Result::rounding != Round::Stochastic)  // (a stochastic Result needs a generator)
    CHECK_THROWS_AS(fixq::divide<Result>(a, zero), std::domain_error);
}

template <std::size_t... I>
void check_divide_by_zero_all(std::index_sequence<I...>) {
  (check_divide_by_zero<Fixed<6, 3, fixq::all_rounds[I / 5], fixq::all_overflows[I % 5]>>(), ...);
  (check_divide_by_zero<UFixed<6, 3, fixq::all_rounds[I / 5], fixq::all_overflows[I % 5]>>(), ...);
}

TEST_CASE("divide: division by zero throws std::domain_error under every mode", "[divide]") {
  check_divide_by_zero_all(std::make_index_sequence<50>{});
}

// ---------------------------------------------------------------------------
// Stochastic division.
// ---------------------------------------------------------------------------

/// Fraction of n stochastic divisions a / b into Result (drawing from a stream
/// of the given seed) that round up, i.e. give code `up` instead of `down`.
template <class Result, class A, class B>
double fraction_up(const A& a, const B& b, long n, std::uint64_t seed, i128 down, i128 up) {
  fixq::RandomStream rng(seed);
  long ups = 0, others = 0;
  for (long i = 0; i < n; ++i) {
    const i128 c = fixq::divide<Result>(a, b, rng).raw();
    ups += c == up;
    others += c != up && c != down;
  }
  CHECK(others == 0);  // only the two neighbours of the exact quotient are ever produced
  return static_cast<double>(ups) / static_cast<double>(n);
}

TEST_CASE("divide: Stochastic rounds up in the right proportion", "[divide][stochastic]") {
  // With U uniform, the probability of rounding x = q + f up is
  //   P(floor(f * 2^32) + U >= 2^32) = floor(f * 2^32) / 2^32.
  // The draws are ARS words, modelled as independent uniform draws. With n
  // draws, Hoeffding's inequality bounds P(|observed - p| >= t) <= 2 exp(-2 n t^2);
  // for n = 400000 and t = 0.006 that is 2 exp(-28.8) < 1e-12, so a correct
  // implementation fails this test with probability below 1e-9 for a random seed
  // (the seeds are fixed, so the outcome is reproducible).
  constexpr long n = 400000;
  constexpr double t = 0.006;
  const auto one = Fixed<8, 0>::from_raw(std::int64_t{1});
  const auto three = Fixed<8, 0>::from_raw(std::int64_t{3});
  using R0 = Fixed<8, 0, Round::Stochastic>;
  using R2 = Fixed<8, 2, Round::Stochastic>;
  const double third = 1431655765.0 / 4294967296.0;       // floor(2^32 / 3) / 2^32
  const double two_thirds = 2863311530.0 / 4294967296.0;  // floor(2^33 / 3) / 2^32

  // 1/3 = 0 + 1/3 LSB: 1 with probability ~1/3
  CHECK(std::abs(fraction_up<R0>(one, three, n, 11, 0, 1) - third) < t);
  // -1/3 = -1 + 2/3 LSB: 0 with probability ~2/3
  CHECK(std::abs(fraction_up<R0>(-one, three, n, 12, -1, 0) - two_thirds) < t);
  // 1/3 = 1.333 LSBs of 1/4: 2 with probability ~1/3
  CHECK(std::abs(fraction_up<R2>(one, three, n, 13, 1, 2) - third) < t);
  // 3/4 / 3 = 1/4 exactly = 1 LSB of Fixed<8, 2>: never moved
  CHECK(fraction_up<R2>(Fixed<8, 2>::from_raw(std::int64_t{3}), three, 10000, 14, 1, 2) == 0.0);
  // 1 / 2 = 0.5 LSB: up with probability exactly 1/2
  CHECK(std::abs(fraction_up<R0>(one, Fixed<8, 0>::from_raw(std::int64_t{2}), n, 15, 0, 1) - 0.5) <
        t);
}

TEST_CASE("divide: Stochastic is reproducible from the seed", "[divide][stochastic]") {
  using R = Fixed<8, 2, Round::Stochastic>;
  const auto b = Fixed<5, 0>::from_raw(std::int64_t{7});
  const auto run = [&](fixq::RandomStream rng) {
    std::vector<int> codes;
    for (int c = -128; c < 128; ++c)
      codes.push_back(fixq::divide<R>(Fixed<8, 0>::from_raw(std::int64_t{c}), b, rng).raw());
    return codes;
  };
  const std::vector<int> first = run(fixq::RandomStream(42));
  CHECK(run(fixq::RandomStream(42)) == first);
  // Another seed gives another sequence (219 of the 256 quotients are inexact).
  CHECK(run(fixq::RandomStream(43)) != first);
  // The same stream at another start index gives another sequence too.
  CHECK(run(fixq::RandomStream(42, 1)) != first);

}

// ---------------------------------------------------------------------------
// constexpr division.
// ---------------------------------------------------------------------------
constexpr auto c_seven = Fixed<8, 0>::from_raw(std::int64_t{7});
constexpr auto c_two = UFixed<4, 1>::from_raw(std::int64_t{4});                           // 2.0
static_assert(fixq::divide<Fixed<8, 0, Round::NearestEven>>(c_seven, c_two).raw() == 4);  // 3.5
static_assert(fixq::divide<Fixed<8, 0, Round::Floor>>(c_seven, c_two).raw() == 3);
static_assert(fixq::divide<Fixed<8, 2, Round::Floor>>(c_seven, c_two).raw() == 14);
static_assert(fixq::divide<Fixed<2, 0, Round::Floor, Overflow::Wrap>>(c_seven, c_two).raw() == -1);

}  // namespace
