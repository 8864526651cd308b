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

using fixq::Fixed;
using fixq::Format;
using fixq::Overflow;
using fixq::QuantSpec;
using fixq::Round;

namespace {

/// Every code of Fixed<W1, F1> (as int32 or int64 accumulators) into Fixed<W2, F2, R, O>.
template <int W1, int F1, int W2, int F2, Round R, Overflow O, class Acc>
void check_all_codes() {
  using From = Fixed<W1, F1>;
  using To = Fixed<W2, F2, R, O>;
  std::vector<Acc> acc;
  for (std::int64_t c = From::format().min_code(); c <= static_cast<std::int64_t>(From::format().max_code()); ++c)
    acc.push_back(static_cast<Acc>(c));
  std::vector<std::int32_t> out(acc.size());
  const int frac[] = {F1};
  const QuantSpec spec{To::format(), R, O, 77};
  INFO("from " << From::format().name() << " to " << To::format().name() << " " << fixq::to_string(R) << " "
               << fixq::to_string(O));
  bool threw = false;
  try {
    fixq::requantize_span(acc.data(), out.data(), acc.size(), std::span<const int>(frac), spec, 1000);
  } catch (const fixq::overflow_error&) {
    threw = true;
  }
  bool ref_threw = false;
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const From x = From::from_raw(acc[i]);
    try {
      fixq::RandomStream rng(77, 1000 + i);
      const To y(x, rng);
      if (!threw) REQUIRE(out[i] == y.raw());
    } catch (const fixq::overflow_error&) {
      ref_threw = true;
    }
  }
  CHECK(threw == ref_threw);
}

template <Round R, Overflow O>
void check_modes() {
  check_all_codes<10, 4, 6, 2, R, O, std::int32_t>();   // right shift by 2, narrowing
  check_all_codes<10, 4, 8, 7, R, O, std::int64_t>();   // left shift by 3
  check_all_codes<12, 9, 4, -1, R, O, std::int32_t>();  // right shift by 10 past the word
  check_all_codes<8, 0, 8, 0, R, O, std::int64_t>();    // no shift
  check_all_codes<11, 3, 1, 0, R, O, std::int32_t>();   // one-bit output
}

template <std::size_t... I>
void check_every_mode(std::index_sequence<I...>) {
  (check_modes<fixq::all_rounds[I / 5], fixq::all_overflows[I % 5]>(), ...);
}

}  // namespace

TEST_CASE("requantize: every code of small formats, every mode, equals Fixed-to-Fixed", "[requantize]") {
  check_every_mode(std::make_index_sequence<50>{});
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
