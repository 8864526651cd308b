// float, long double and integer -> Fixed on small formats, against the
// independent reference (support/reference.hpp). The companion of
// conversion.test.cpp (double inputs), split from it for compile time: every
// (format, mode, input type) is its own instantiation, so this file covers a
// subset of the small formats with every mode:
//   float        Word 1, 4, 8   (every Frac of the set, signed and unsigned)
//   long double  Word 2, 7      (its neighbours of a tie are 2^-64 away: only
//                                the exact path can tell them from the tie)
//   int64_t, uint64_t  Word 1, 8
//   int8_t, int16_t, int32_t  Word 1, 4, 8, three representative modes
// Inputs: the half-LSB grid with floating-point neighbours and the special
// values (floating point); [-300, 300], powers of two +-1 and each type's
// extremes (integers).
#include <cstdint>
#include <limits>
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
using fixq_test::TargetFormat;

/// Integers: everything in [-300, 300], powers of two and their neighbours, and
/// the type's extremes, as far as the type holds them.
template <class I>
std::vector<I> integer_values() {
  using L = std::numeric_limits<I>;
  std::vector<i128> all;
  for (int v = -300; v <= 300; ++v) all.push_back(v);
  for (int k = 9; k <= 64; ++k)
    for (int d = -1; d <= 1; ++d) {
      all.push_back((i128{1} << k) + d);
      all.push_back(-(i128{1} << k) + d);
    }
  for (i128 v : {static_cast<i128>(L::min()), static_cast<i128>(L::min()) + 1,
                 static_cast<i128>(L::max()) - 1, static_cast<i128>(L::max())})
    all.push_back(v);
  std::vector<I> out;
  for (i128 v : all)
    if (v >= static_cast<i128>(L::min()) && v <= static_cast<i128>(L::max()))
      out.push_back(static_cast<I>(v));
  return out;
}

/// Integer inputs of type I, every mode, on the small formats of Words.
template <class I, int... Words>
long long check_integer_inputs(const char* type) {
  fixq_test::Tally tally;
  fixq_test::for_each_small_format<Words...>([&]<int W, int F, bool S>() {
    const TargetFormat f(W, F, S);
    const fixq_test::Column<I> col(type, integer_values<I>(), f);
    fixq_test::for_each_mode([&]<Round R, Overflow O>() {
      col.check(&fixq_test::observe<fixq::Fixed<W, F, R, O, S>, I>, f, R, O, tally);
    });
  });
  tally.report();
  return tally.comparisons;
}

/// The narrow integer types: the same inputs, three modes that between them
/// round ties both ways and take every kind of overflow exit.
template <class I, int... Words>
long long check_narrow_integer_inputs(const char* type) {
  fixq_test::Tally tally;
  fixq_test::for_each_small_format<Words...>([&]<int W, int F, bool S>() {
    const TargetFormat f(W, F, S);
    const fixq_test::Column<I> col(type, integer_values<I>(), f);
    auto one = [&]<Round R, Overflow O>() {
      col.check(&fixq_test::observe<fixq::Fixed<W, F, R, O, S>, I>, f, R, O, tally);
    };
    one.template operator()<Round::NearestEven, Overflow::Saturate>();
    one.template operator()<Round::Floor, Overflow::Wrap>();
    one.template operator()<Round::NearestAway, Overflow::Throw>();
  });
  tally.report();
  return tally.comparisons;
}

}  // namespace

// The lower bounds on the counts (non-Throw modes x formats x inputs) show that
// the loops ran.
TEST_CASE("Fixed from float: small formats, every mode", "[conversion]") {
  CHECK(fixq_test::check_small_formats<float, 1, 4, 8>("float") > 36 * 14 * 6000);
}

TEST_CASE("Fixed from long double: small formats, every mode", "[conversion]") {
  CHECK(fixq_test::check_small_formats<long double, 2, 7>("long double") > 36 * 14 * 3000);
}

TEST_CASE("Fixed from int64_t and uint64_t: small formats, every mode", "[conversion]") {
  CHECK(check_integer_inputs<std::int64_t, 1, 8>("int64_t") > 36 * 24 * 900);
  CHECK(check_integer_inputs<std::uint64_t, 1, 8>("uint64_t") > 36 * 24 * 500);
}

TEST_CASE("Fixed from int8_t, int16_t, int32_t: small formats", "[conversion]") {
  CHECK(check_narrow_integer_inputs<std::int8_t, 1, 4, 8>("int8_t") > 2 * 38 * 250);
  CHECK(check_narrow_integer_inputs<std::int16_t, 1, 4, 8>("int16_t") > 2 * 38 * 600);
  CHECK(check_narrow_integer_inputs<std::int32_t, 1, 4, 8>("int32_t") > 2 * 38 * 700);
}
