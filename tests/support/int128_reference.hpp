// tests/support/int128_reference.hpp - the contract of the Round and Overflow
// modes on exact 128-bit integers, for the tests of arithmetic, division and
// stochastic rounding. Written from the contract (format.hpp, README), sharing
// no code with the library: only its vocabulary (fixq::Round, fixq::Overflow,
// fixq::Format as a description) is borrowed. Conversions are checked against
// the arbitrary-size reference in reference.hpp instead.
#ifndef FIXQ_TESTS_SUPPORT_INT128_REFERENCE_HPP
#define FIXQ_TESTS_SUPPORT_INT128_REFERENCE_HPP

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <fixq/core.hpp>  // fixq::Round, fixq::Overflow, fixq::Format only

#include "support/int128.hpp"

namespace fixq_test {

/// Smallest and largest code of a `word`-bit code, from the definition (two's
/// complement when signed, plain binary when not).
constexpr i128 lo_code(int word, bool is_signed) { return is_signed ? -p2(word - 1) : 0; }
constexpr i128 hi_code(int word, bool is_signed) { return is_signed ? p2(word - 1) - 1 : p2(word) - 1; }
/// The same for a Fixed type T.
template <class T>
constexpr i128 lo_code() {
  return lo_code(T::word, T::is_signed);
}
template <class T>
constexpr i128 hi_code() {
  return hi_code(T::word, T::is_signed);
}

/// A result type as run-time values, so that the checks built on it are plain
/// functions (the many Fixed types of a test instantiate only their loops).
struct Target {
  fixq::Format format;
  fixq::Round round;
  fixq::Overflow overflow;
  i128 lo, hi;  // smallest and largest code, from the definition
  std::string name() const {
    return format.name() + "," + std::string(fixq::to_string(round)) + "," +
           std::string(fixq::to_string(overflow));
  }
};
template <class T>
Target target_of() {
  return {T::format(), T::rounding, T::overflow, lo_code<T>(), hi_code<T>()};
}

/// x = num / den (den > 0) as x = q + rem / den with q = floor(x), 0 <= rem < den.
struct FloorDivision {
  i128 q;
  i128 rem;
};
inline FloorDivision floor_divide(i128 num, i128 den) {
  i128 q = num / den, rem = num % den;  // C++ truncates toward zero
  if (rem < 0) {
    q -= 1;
    rem += den;
  }
  return {q, rem};
}

/// round(num / den) under r, den > 0, from the contract. `u` is the random word
/// of Stochastic: floor(x + U / 2^32) = q + floor((rem * 2^32 + U * den) / (den * 2^32)),
/// which needs den < 2^94.
inline i128 ref_round(i128 num, i128 den, fixq::Round r, std::uint32_t u = 0) {
  using fixq::Round;
  const auto [q, rem] = floor_divide(num, den);
  if (r == Round::Stochastic) {
    if (den >= p2(94))
      throw std::logic_error("ref_round: den too large for the Stochastic reference");
    return q + floor_divide(rem * p2(32) + static_cast<i128>(u) * den, den * p2(32)).q;
  }
  if (rem == 0) return q;  // x is an integer: every mode returns it
  const bool below = 2 * rem < den, tie = 2 * rem == den;
  // Nearest modes: q below one half, q + 1 above it, and at a tie (x = q + 1/2)
  // the candidate named by the mode.
  const auto nearest = [&](i128 at_tie) { return below ? q : tie ? at_tie : q + 1; };
  const bool positive = num > 0;
  const i128 away = positive ? q + 1 : q;    // the candidate farther from zero
  const i128 toward = positive ? q : q + 1;  // the candidate closer to zero
  const i128 even = q % 2 == 0 ? q : q + 1;
  const i128 odd = q % 2 == 0 ? q + 1 : q;
  switch (r) {
    case Round::Floor:
      return q;
    case Round::Ceil:
      return q + 1;
    case Round::TowardZero:
      return toward;
    case Round::NearestTiesToPosInf:
      return nearest(q + 1);
    case Round::NearestTiesToNegInf:
      return nearest(q);
    case Round::NearestAway:
      return nearest(away);
    case Round::NearestTiesToZero:
      return nearest(toward);
    case Round::NearestEven:
      return nearest(even);
    case Round::NearestOdd:
      return nearest(odd);
    case Round::Stochastic:
      break;
  }
  throw std::logic_error("ref_round: unknown mode");
}

/// The code of the rounded integer v under t's Overflow; nullopt = throws.
inline std::optional<i128> ref_narrow(i128 v, const Target& t) {
  using fixq::Overflow;
  const bool fits = v >= t.lo && v <= t.hi;
  switch (t.overflow) {
    case Overflow::Saturate:
      return v < t.lo ? t.lo : v > t.hi ? t.hi : v;
    case Overflow::SaturateSymmetric: {
      const i128 sym_lo = t.format.is_signed ? -t.hi : t.lo;  // the min code is never produced
      return v < sym_lo ? sym_lo : v > t.hi ? t.hi : v;
    }
    case Overflow::SaturateZero:
      return fits ? v : 0;
    case Overflow::Wrap: {
      const i128 m = p2(t.format.word);
      i128 r = ((v % m) + m) % m;  // v mod 2^word, in [0, 2^word)
      if (t.format.is_signed && r > t.hi) r -= m;
      return r;
    }
    case Overflow::Throw:
      return fits ? std::optional<i128>(v) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_INT128_REFERENCE_HPP
