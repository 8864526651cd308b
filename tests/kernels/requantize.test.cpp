// requantize_span against the scalar core's Fixed-to-Fixed conversion (the
// reference: converting Fixed<W1, F1> to Fixed<W2, F2, R, O> is exactly what an
// accumulator of format (W1, F1) requantized into (W2, F2) must give): every code
// of small accumulator formats, every mode, shifts in both directions; random wide
// accumulators; per-channel fractions; stochastic words keyed by index.
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/core.hpp>
#include <fixq/kernels/requantize.hpp>
#include <fixq/random.hpp>

using fixq::Format;
using fixq::Overflow;
using fixq::QuantSpec;
using fixq::Round;

namespace {

/// Every code of a (w1, f1) accumulator into `to` under (round, overflow): the
/// reference is the scalar core's Fixed-to-Fixed conversion (the function every
/// Fixed<W1, F1> -> Fixed<W2, F2, R, O> conversion calls), with the same random word.
template <class Acc>
void check_all_codes(int w1, int f1, const Format& to, Round round, Overflow overflow) {
  const Format from{w1, f1};
  std::vector<Acc> acc;
  for (std::int64_t c = from.min_code(); c <= static_cast<std::int64_t>(from.max_code()); ++c)
    acc.push_back(static_cast<Acc>(c));
  std::vector<std::int32_t> out(acc.size());
  const int frac[] = {f1};
  const QuantSpec spec{to, round, overflow, 77};
  INFO("from " << from.name() << " to " << to.name() << " " << fixq::to_string(round) << " "
               << fixq::to_string(overflow));
  bool threw = false;
  try {
    fixq::requantize_span(acc.data(), out.data(), acc.size(), std::span<const int>(frac), spec, 1000);
  } catch (const fixq::overflow_error&) {
    threw = true;
  }
  bool ref_threw = false;
  fixq::detail::dispatch_round(round, [&]<Round R>() {
    fixq::detail::dispatch_overflow(overflow, [&]<Overflow O>() {
      for (std::size_t i = 0; i < acc.size(); ++i) {
        try {
          const auto want = fixq::detail::code_from_code<R, O>(acc[i], f1, to, fixq::random_u32(77, 1000 + i));
          if (!threw) REQUIRE(out[i] == static_cast<std::int64_t>(want));
        } catch (const fixq::overflow_error&) {
          ref_threw = true;
        }
      }
    });
  });
  CHECK(threw == ref_threw);
}

}  // namespace

TEST_CASE("requantize: every code of small formats, every mode, equals Fixed-to-Fixed", "[requantize]") {
  for (Round r : fixq::all_rounds)
    for (Overflow o : fixq::all_overflows) {
      check_all_codes<std::int32_t>(10, 4, Format{6, 2}, r, o);    // right shift by 2, narrowing
      check_all_codes<std::int64_t>(10, 4, Format{8, 7}, r, o);    // left shift by 3
      check_all_codes<std::int32_t>(12, 9, Format{4, -1}, r, o);   // right shift by 10 past the word
      check_all_codes<std::int64_t>(8, 0, Format{8, 0}, r, o);     // no shift
      check_all_codes<std::int32_t>(11, 3, Format{1, 0}, r, o);    // one-bit output
      check_all_codes<std::int32_t>(9, 5, Format{7, 1, false}, r, o);  // into an unsigned format
    }
}

TEST_CASE("requantize: random wide int64 accumulators and per-channel fractions", "[requantize]") {
  std::mt19937_64 g(3);
  const Format out{16, 5};
  // Right shift, none, left shift, large right shift; then right shifts only (the
  // branch-free path), up to 62.
  for (const std::vector<int>& fracs : {std::vector<int>{20, 5, -3, 40}, std::vector<int>{20, 5, 67, 36}})
  for (Round r : fixq::all_rounds)
    for (Overflow o : {Overflow::Saturate, Overflow::SaturateSymmetric, Overflow::SaturateZero, Overflow::Wrap}) {
      std::vector<std::int64_t> acc(4000);
      for (auto& a : acc) a = static_cast<std::int64_t>(g()) >> std::uniform_int_distribution<int>(1, 62)(g);
      std::vector<std::int16_t> got(acc.size());
      const QuantSpec spec{out, r, o, 5};
      acc[0] = std::numeric_limits<std::int64_t>::min();  // the extremes of int64
      acc[1] = std::numeric_limits<std::int64_t>::max();
      fixq::requantize_span(acc.data(), got.data(), acc.size(), std::span<const int>(fracs), spec);
      for (std::size_t i = 0; i < acc.size(); ++i) {
        const int f = fracs[i % 4];
        const std::uint32_t u = fixq::random_u32(5, i);
        std::int64_t want = 0;
        fixq::detail::dispatch_round(r, [&]<Round R>() {
          fixq::detail::dispatch_overflow(o, [&]<Overflow O>() {
            want = static_cast<std::int64_t>(fixq::detail::code_from_code<R, O>(acc[i], f, out, u));
          });
        });
        INFO(fixq::to_string(r) << " " << fixq::to_string(o) << " acc " << acc[i] << " frac " << f);
        REQUIRE(got[i] == want);
      }
    }
}

TEST_CASE("requantize: errors", "[requantize]") {
  std::vector<std::int32_t> acc(6, 1);
  std::vector<std::int8_t> out(6);
  const int two[] = {1, 2}, four[] = {1, 2, 3, 4};
  CHECK_NOTHROW(fixq::requantize_span(acc.data(), out.data(), 6, std::span<const int>(two), QuantSpec{Format{8, 0}}));
  CHECK_THROWS_AS(fixq::requantize_span(acc.data(), out.data(), 6, std::span<const int>(four), QuantSpec{Format{8, 0}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(fixq::requantize_span(acc.data(), out.data(), 6, std::span<const int>(), QuantSpec{Format{8, 0}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(fixq::requantize_span(acc.data(), out.data(), 6, std::span<const int>(two), QuantSpec{Format{9, 0}}),
                  std::invalid_argument);  // codes of 9 bits do not fit int8
  CHECK_THROWS_AS(fixq::requantize_span(acc.data(), out.data(), 6, std::span<const int>(two),
                                        QuantSpec{.format = {8, 0}, .round = Round::Stochastic}),
                  std::invalid_argument);  // no seed
}
