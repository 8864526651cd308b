// double -> Fixed checked exhaustively on small formats against the independent
// reference (support/reference.hpp); Fixed -> double / float for every code of
// those formats; and agreement of the constant-evaluated conversion (no fast
// path) with the run-time one.
//
// Formats: every Word in 1..8, Frac in {-3, 0, 1, Word-1, Word, Word+3, 12},
// signed and unsigned (106 formats), x all 9 deterministic Round modes x all 5
// Overflow modes, each a distinct Fixed type. Inputs per format: every multiple
// of half an LSB over two code ranges on each side of zero, both floating-point
// neighbours of each, and the special values (zeros, subnormals, huge values,
// infinities, NaN); see support/reference.hpp. float, long double and integer inputs are in
// conversion_inputs.test.cpp (split for compile time).
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fixq/core.hpp>

#include "support/conversion_checks.hpp"
#include "support/fixed_printer.hpp"
#include "support/reference.hpp"

namespace {

using fixq::Overflow;
using fixq::Round;
using fixq_test::i128;
using fixq_test::RefCode;
using fixq_test::TargetFormat;

/// to_double / to_float (and the explicit casts) of every code of a format.
template <int... Words>
long long check_to_floating() {
  fixq_test::Tally tally;
  fixq_test::for_each_small_format<Words...>([&]<int W, int F, bool S>() {
    using Fx = fixq::Fixed<W, F, Round::NearestEven, Overflow::Saturate, S>;
    std::vector<i128> codes;
    for (i128 c = Fx::format().min_code(); c <= Fx::format().max_code(); ++c) codes.push_back(c);
    // The values are exact here (at most 8 bits): checked against ldexp too.
    fixq_test::check_to_floating(&fixq_test::floating_views<Fx>, W, F, S, codes, true, tally);
  });
  tally.report();
  return tally.comparisons;
}

// ---------------------------------------------------------------------------
// Constant evaluation: the fast path for float/double is skipped there, so the
// same conversions evaluated at compile time and at run time go through
// different code; all must give the reference's answer. Checked both through
// Fixed and through fixq::detail::code_from_floating (which Fixed skips where its
// branch-free path applies, a path taken at compile time and at run time).
// ---------------------------------------------------------------------------

/// 2^e by repeated multiplication (exact), usable in constant expressions.
constexpr double p2(int e) {
  double r = 1;
  for (; e > 0; --e) r *= 2;
  for (; e < 0; ++e) r /= 2;
  return r;
}

constexpr int n_probe = 40;
/// Inputs around the ties and the edges of format (word, frac, signed): k LSBs
/// for k at and half an LSB around min, max, 0 and a few small codes, the same
/// nudged by 2^-40 LSB either way, wrapped values, and specials.
constexpr std::array<double, n_probe> probes(int word, int frac, bool is_signed) {
  const double lsb = p2(-frac);
  const double lo = is_signed ? -p2(word - 1) : 0;
  const double hi = is_signed ? p2(word - 1) - 1 : p2(word) - 1;
  const double tiny = p2(-40);
  const double inf = std::numeric_limits<double>::infinity();
  return {(lo - 1.5) * lsb,       (lo - 1) * lsb,          (lo - 0.5) * lsb,
          (lo - 0.5 - tiny) * lsb, (lo - 0.5 + tiny) * lsb, lo * lsb,
          (lo + 0.5) * lsb,       (hi - 0.5) * lsb,        hi * lsb,
          (hi + 0.5) * lsb,       (hi + 0.5 - tiny) * lsb, (hi + 0.5 + tiny) * lsb,
          (hi + 1) * lsb,         (hi + 1.5) * lsb,        -2.5 * lsb,
          -1.5 * lsb,             -0.5 * lsb,              (-0.5 - tiny) * lsb,
          (-0.5 + tiny) * lsb,    0.0,                     -0.0,
          0.5 * lsb,              (0.5 - tiny) * lsb,      (0.5 + tiny) * lsb,
          1.5 * lsb,              2.5 * lsb,               3.5 * lsb,
          (p2(word) * 3 + 2.5) * lsb, -(p2(word) * 5 + 1.5) * lsb, (p2(52) + 1) * lsb,
          p2(60) * lsb,           -p2(70) * lsb,           1e300,
          -1e300,                 4.9406564584124654e-324, -2.2250738585072014e-308,
          inf,                    -inf,                    std::numeric_limits<double>::quiet_NaN(),
          0.1};
}

template <class Fx>
constexpr std::array<std::int64_t, n_probe> codes_of(const std::array<double, n_probe>& in) {
  std::array<std::int64_t, n_probe> out{};
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = Fx(in[i]).raw();
  return out;
}
/// The same through fixq::detail::code_from_floating, which Fixed bypasses for some
/// formats and modes (its branch-free path): at compile time its exact path,
/// at run time its double fast path where that applies.
template <Round R, Overflow O>
constexpr std::array<std::int64_t, n_probe> core_codes_of(const std::array<double, n_probe>& in,
                                                        const fixq::Format& f) {
  std::array<std::int64_t, n_probe> out{};
  for (std::size_t i = 0; i < in.size(); ++i)
    out[i] = static_cast<std::int64_t>(fixq::detail::code_from_floating<R, O>(in[i], f));
  return out;
}

/// fixq::detail::code_from_floating at run time (a template of the modes only).
template <Round R, Overflow O>
std::int64_t core_code(double x, const fixq::Format& f) {
  return static_cast<std::int64_t>(fixq::detail::code_from_floating<R, O>(x, f));
}

/// The constant-evaluated codes of one mode (through Fixed and through
/// code_from_floating) against the same conversions at run time and against
/// the reference, for every input of the column.
void check_against_run_time(const fixq_test::Column<double>& col, const TargetFormat& f, Round r,
                            Overflow o, const std::int64_t* at_compile_time,
                            const std::int64_t* core_at_compile_time,
                            RefCode (*fixed_at_run_time)(double),
                            std::int64_t (*core_at_run_time)(double, const fixq::Format&),
                            const fixq::Format& format, fixq_test::Tally& tally) {
  for (std::size_t k = 0; k < col.values.size(); ++k) {
    volatile double opaque = col.values[k];  // keeps the run-time calls at run time
    const double x = opaque;
    const RefCode runtime = fixed_at_run_time(x);
    const std::int64_t core_runtime = core_at_run_time(x, format);
    const RefCode& want = col.expected[k].at[fixq_test::mode_index(r, o)];
    tally.comparisons += 3;
    if (!(runtime == RefCode{false, at_compile_time[k]}) ||
        !(want == RefCode{false, core_at_compile_time[k]}) ||
        !(want == RefCode{false, core_runtime}))
      tally.fail(fixq_test::mode_name(f, r, o) + " " + fixq_test::text(col.values[k]) +
                 ": Fixed gives " + std::to_string(at_compile_time[k]) +
                 " in constant evaluation and " + runtime.text() +
                 " at run time; code_from_floating gives " +
                 std::to_string(core_at_compile_time[k]) + " and " +
                 std::to_string(core_runtime) + "; expected " + want.text());
  }
}

/// Constant-evaluated codes for every non-throwing mode of a format, checked
/// against the run-time conversion and the reference.
template <int W, int F, bool S>
long long check_constant_evaluation() {
  static constexpr std::array<double, n_probe> in = probes(W, F, S);
  const TargetFormat f(W, F, S);
  const fixq_test::Column<double> col("double", std::vector<double>(in.begin(), in.end()), f);
  fixq_test::Tally tally;
  fixq_test::for_each_mode([&]<Round R, Overflow O>() {
    using Fx = fixq::Fixed<W, F, R, O, S>;
    if constexpr (O != Overflow::Throw) {  // a throw is not a constant expression
      static constexpr std::array<std::int64_t, n_probe> at_compile_time = codes_of<Fx>(in);
      static constexpr std::array<std::int64_t, n_probe> core_at_compile_time =
          core_codes_of<R, O>(in, Fx::format());
      check_against_run_time(col, f, R, O, at_compile_time.data(), core_at_compile_time.data(),
                             &fixq_test::observe<Fx, double>, &core_code<R, O>, Fx::format(),
                             tally);
    }
    col.check(&fixq_test::observe<Fx, double>, f, R, O, tally);
  });
  tally.report();
  return tally.comparisons;
}

// A few literal compile-time facts, ties included.
static_assert(fixq::Fixed<8, 4>(0.09375).raw() == 2);   // 1.5 LSB, tie to even
static_assert(fixq::Fixed<8, 4>(0.15625).raw() == 2);   // 2.5 LSB, tie to even
static_assert(fixq::Fixed<8, 4, Round::NearestTiesToPosInf>(-0.09375).raw() == -1);
static_assert(fixq::Fixed<8, 4, Round::NearestAway>(-0.09375).raw() == -2);
static_assert(fixq::Fixed<8, 4, Round::NearestOdd>(0.15625).raw() == 3);
static_assert(fixq::Fixed<8, 4, Round::TowardZero>(-0.1).raw() == -1);
static_assert(fixq::Fixed<8, 4>(100.0).raw() == 127);
static_assert(fixq::Fixed<8, 4>(7.96875).raw() == 127);  // 127.5 LSB rounds to 128: saturates
static_assert(fixq::Fixed<8, 4, Round::NearestEven, Overflow::Wrap>(7.96875).raw() == -128);
static_assert(fixq::Fixed<8, 4, Round::NearestEven, Overflow::SaturateSymmetric>(-8.0).raw() == -127);
static_assert(fixq::Fixed<8, 4>(-0.0).raw() == 0);
static_assert(fixq::UFixed<4, 0, Round::NearestEven, Overflow::SaturateZero>(16.0).raw() == 0);
static_assert(fixq::Fixed<4, -3>(12.0).raw() == 2);  // 1.5 LSB of 8, tie to even
static_assert(fixq::Fixed<8, 0>(std::numeric_limits<double>::infinity()).raw() == 127);

}  // namespace

// The reference itself on hand-computed cases, so that a broken reference
// cannot silently agree with a broken library.
TEST_CASE("reference: hand-computed roundings and overflows", "[conversion][reference]") {
  using fixq_test::exact;
  const TargetFormat s8(8, 0, true), u4(4, 0, false), s8f4(8, 4, true);
  struct Code {  // the reference's outcome, printable by Catch
    bool throws;
    long long code;
  };
  auto code = [](double v, const TargetFormat& f, Round r, Overflow o) {
    const RefCode c = fixq_test::reference_code(exact(v), f, r, o);
    return Code{c.throws, static_cast<long long>(c.code)};
  };
  // 2.5 and -2.5: exact ties between 2 and 3, -3 and -2.
  const int up25[] = {2, 3, 2, 3, 2, 3, 2, 2, 3};
  const int dn25[] = {-3, -2, -2, -2, -3, -3, -2, -2, -3};
  for (int i = 0; i < 9; ++i) {
    const Round r = fixq_test::deterministic_rounds[i];
    CHECK(code(2.5, s8, r, Overflow::Saturate).code == up25[i]);
    CHECK(code(-2.5, s8, r, Overflow::Saturate).code == dn25[i]);
  }
  CHECK(code(2.4, s8, Round::NearestTiesToPosInf, Overflow::Saturate).code == 2);
  CHECK(code(-2.6, s8, Round::NearestTiesToPosInf, Overflow::Saturate).code == -3);
  CHECK(code(-0.3, s8f4, Round::NearestEven, Overflow::Saturate).code == -5);
  CHECK(code(0x1p-1074, s8, Round::Ceil, Overflow::Saturate).code == 1);
  CHECK(code(-0x1p-1074, s8, Round::TowardZero, Overflow::Saturate).code == 0);
  // Overflow: 300 in 8 signed bits; -1 and 17 in 4 unsigned bits.
  CHECK(code(300, s8, Round::Floor, Overflow::Saturate).code == 127);
  CHECK(code(-300, s8, Round::Floor, Overflow::SaturateSymmetric).code == -127);
  CHECK(code(-128, s8, Round::Floor, Overflow::SaturateSymmetric).code == -127);
  CHECK(code(-128, s8, Round::Floor, Overflow::Saturate).code == -128);
  CHECK(code(300, s8, Round::Floor, Overflow::SaturateZero).code == 0);
  CHECK(code(300, s8, Round::Floor, Overflow::Wrap).code == 44);
  CHECK(code(-300, s8, Round::Floor, Overflow::Wrap).code == -44);
  CHECK(code(200, s8, Round::Floor, Overflow::Wrap).code == -56);
  CHECK(code(0x1p52 + 0x1p20 + 259, s8, Round::Floor, Overflow::Wrap).code == 3);
  CHECK(code(-(0x1p52 + 0x1p20 + 259), s8, Round::Floor, Overflow::Wrap).code == -3);
  CHECK(code(0x1p900, s8, Round::Floor, Overflow::Wrap).code == 0);
  CHECK(code(-1, u4, Round::Floor, Overflow::Wrap).code == 15);
  CHECK(code(17, u4, Round::Floor, Overflow::Wrap).code == 1);
  CHECK(code(-1, u4, Round::Floor, Overflow::SaturateSymmetric).code == 0);
  CHECK(code(127.5, s8, Round::NearestTiesToPosInf, Overflow::Throw).throws);
  CHECK_FALSE(code(127.49, s8, Round::NearestTiesToPosInf, Overflow::Throw).throws);
  CHECK(code(std::numeric_limits<double>::infinity(), s8, Round::Floor, Overflow::Wrap).code == 127);
  CHECK(code(-std::numeric_limits<double>::infinity(), s8, Round::Floor,
             Overflow::SaturateSymmetric).code == -127);
  CHECK(code(std::nan(""), s8, Round::Floor, Overflow::Throw).throws);
  CHECK(code(std::nan(""), s8, Round::Floor, Overflow::Wrap).code == 0);
  // Code -> float / double: ties at the 24 / 53-bit boundary, subnormals, overflow.
  CHECK(fixq_test::to_floating_ref<float>((i128{1} << 24) + 1, 0) == 0x1p24f);
  CHECK(fixq_test::to_floating_ref<float>((i128{1} << 24) + 3, 0) == 0x1p24f + 4);
  CHECK(fixq_test::to_floating_ref<float>(3, 150) == 0x1p-148f);  // 1.5 * 2^-149 -> 2 * 2^-149
  CHECK(fixq_test::to_floating_ref<float>(1, 150) == 0.0f);       // tie with 0 -> even (0)
  CHECK(std::signbit(fixq_test::to_floating_ref<float>(-1, 151)));
  CHECK(fixq_test::to_floating_ref<float>(1, -128) == std::numeric_limits<float>::infinity());
  CHECK(fixq_test::to_floating_ref<double>((i128{1} << 53) + 1, 1) == 0x1p52);
}

TEST_CASE("Fixed from double: exhaustive small formats, every mode", "[conversion]") {
  // Each section is a group of words. The counts (36 non-Throw modes x formats x
  // grid size, as a lower bound) show that the loops ran.
  using fixq_test::check_small_formats;
  SECTION("Word 1..4") { CHECK(check_small_formats<double, 1, 2, 3, 4>("double") > 36 * 50 * 200); }
  SECTION("Word 5..6") { CHECK(check_small_formats<double, 5, 6>("double") > 36 * 28 * 700); }
  SECTION("Word 7") { CHECK(check_small_formats<double, 7>("double") > 36 * 14 * 3000); }
  SECTION("Word 8") { CHECK(check_small_formats<double, 8>("double") > 36 * 14 * 6000); }
}

TEST_CASE("Fixed to double and float: every code of the small formats", "[conversion]") {
  CHECK(check_to_floating<1, 2, 3, 4, 5, 6, 7, 8>() > 5 * 7000);
}

TEST_CASE("Fixed from double: constant evaluation agrees with run time", "[conversion][constexpr]") {
  CHECK(check_constant_evaluation<8, 1, true>() > 0);
  CHECK(check_constant_evaluation<5, 8, false>() > 0);
  CHECK(check_constant_evaluation<3, -3, true>() > 0);
  CHECK(check_constant_evaluation<1, 0, true>() > 0);
  CHECK(check_constant_evaluation<1, 12, false>() > 0);
  CHECK(check_constant_evaluation<8, 12, false>() > 0);
}

TEST_CASE("Catch prints a Fixed as value, type, code and hex", "[conversion][printer]") {
  using Catch::StringMaker;
  CHECK(StringMaker<fixq::Fixed<8, 4>>::convert(fixq::Fixed<8, 4>(-0.3125)) ==
        "-0.3125 (Fixed<8,4> code -5 = 0xfb)");
  CHECK(StringMaker<fixq::UFixed<4, -1, Round::Floor, Overflow::Wrap>>::convert(
            fixq::UFixed<4, -1, Round::Floor, Overflow::Wrap>(12.0)) ==
        "12 (UFixed<4,-1,Floor,Wrap> code 6 = 0x6)");
  CHECK(StringMaker<fixq::UFixed<64, 0>>::convert(fixq::UFixed<64, 0>::max()) ==
        "18446744073709551615 (UFixed<64,0> code 18446744073709551615 = 0xffffffffffffffff)");
  CHECK(StringMaker<fixq::Fixed<64, 64>>::convert(fixq::Fixed<64, 64>::lowest()) ==
        "-0.5 (Fixed<64,64> code -9223372036854775808 = 0x8000000000000000)");
}
