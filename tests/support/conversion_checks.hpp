// tests/support/conversion_checks.hpp - checks shared by the conversion tests
// (tests/core/conversion*.test.cpp, fixed_to_fixed.test.cpp), on top of the
// harness at the end of reference.hpp. Every (format, mode, input type) there
// is its own Fixed type, so only the calls into the library are templates
// (observe in reference.hpp, floating_views here); comparing with the reference
// and reporting are plain functions, compiled once: that keeps the build fast.
#ifndef FIXQ_TESTS_SUPPORT_CONVERSION_CHECKS_HPP
#define FIXQ_TESTS_SUPPORT_CONVERSION_CHECKS_HPP

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fixq/core.hpp>

#include "support/reference.hpp"

namespace fixq_test {

/// Floating-point inputs of type T (the half-LSB grid and the special values)
/// under every mode, on the small formats of the given words.
template <class T, int... Words>
long long check_small_formats(const char* type) {
  Tally tally;
  for_each_small_format<Words...>([&]<int W, int F, bool S>() {
    const TargetFormat f(W, F, S);
    const Column<T> col(type, grid_and_specials<T>(f), f);
    for_each_mode([&]<fixq::Round R, fixq::Overflow O>() {
      col.check(&observe<fixq::Fixed<W, F, R, O, S>, T>, f, R, O, tally);
    });
  });
  tally.report();
  return tally.comparisons;
}

// ---------------------------------------------------------------------------
// Fixed -> double / float / long double.
// ---------------------------------------------------------------------------

/// What a Fixed gives as floating point, through the members and the casts.
struct FloatingViews {
  double to_double, as_double;
  float to_float, as_float;
  long double to_long_double;
};

/// The views of the Fx whose code is `code` (for every Fx, UFixed<64, F> included).
template <class Fx>
FloatingViews floating_views(i128 code) {
  Fx x;
  if constexpr (!Fx::is_signed && Fx::word == 64)
    x = Fx::from_raw(static_cast<std::uint64_t>(code));
  else
    x = Fx::from_raw(static_cast<std::int64_t>(code));
  return {x.to_double(), static_cast<double>(x), x.to_float(), static_cast<float>(x),
          x.to_long_double()};
}

/// The views of each code of format (word, frac, is_signed) against both
/// references (which must agree), and to_long_double against the exact value.
/// `exact`: every value is a double too (small formats), checked as well.
inline void check_to_floating(FloatingViews (*views)(i128), int word, int frac, bool is_signed,
                              const std::vector<i128>& codes, bool exact, Tally& tally) {
  for (const i128 code : codes) {
    const FloatingViews x = views(code);
    const double d = to_floating_ref<double>(code, frac);
    const float fl = to_floating_ref<float>(code, frac);
    const bool refs_ok = same_floating(d, to_floating_via_long_double<double>(code, frac)) &&
                         same_floating(fl, to_floating_via_long_double<float>(code, frac)) &&
                         (!exact || d == std::ldexp(static_cast<double>(code), -frac));
    const bool ok = same_floating(x.to_double, d) && same_floating(x.as_double, d) &&
                    same_floating(x.to_float, fl) && same_floating(x.as_float, fl) &&
                    x.to_long_double == std::ldexp(static_cast<long double>(code), -frac);
    tally.comparisons += 5;
    if (!refs_ok || !ok)
      tally.fail(format_name(word, frac, is_signed) + " code " + i128_text(code) + ": to_double " +
                 text(x.to_double) + ", to_float " + text(x.to_float) + ", expected " + text(d) +
                 " / " + text(fl) + (refs_ok ? "" : " (references disagree)"));
  }
}

// ---------------------------------------------------------------------------
// Wide formats: a third of the modes per format.
// ---------------------------------------------------------------------------

/// The 15 (Round, Overflow) pairs with (r + o + c) % 3 == 0, as mode indices.
/// Tests that make every (format, mode) a distinct type check each wide format
/// under one such selection, with c varying over the formats: every Round and
/// every Overflow mode for every format, and every pair on a third of them.
constexpr std::array<int, 15> modes_for(int c) {
  std::array<int, 15> m{};
  std::size_t n = 0;
  for (int r = 0; r < n_rounds; ++r)
    for (int o = 0; o < n_overflows; ++o)
      if ((r + o + c) % 3 == 0) m[n++] = r * n_overflows + o;
  return m;
}

template <int C, class F, std::size_t... I>
void for_some_modes_impl(F& f, std::index_sequence<I...>) {
  (f.template operator()<deterministic_rounds[modes_for(C)[I] / n_overflows],
                         fixq::all_overflows[modes_for(C)[I] % n_overflows]>(),
   ...);
}
/// Calls f.template operator()<R, O>() for the 15 pairs of selector C, in the
/// order of modes_for(C).
template <int C, class F>
void for_some_modes(F&& f) {
  for_some_modes_impl<C>(f, std::make_index_sequence<15>{});
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_CONVERSION_CHECKS_HPP
