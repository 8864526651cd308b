// fixq/core/overflow.hpp - every Overflow mode as a narrowing of an exact
// integer (already rounded, in units of the target LSB) to the target word.
#ifndef FIXQ_CORE_OVERFLOW_HPP
#define FIXQ_CORE_OVERFLOW_HPP

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>

#include <fixq/core/format.hpp>
#include <fixq/core/int128.hpp>

namespace fixq {

namespace detail {
inline std::string int128_to_string(int128 v) {
  if (v == 0) return "0";
  uint128 m = magnitude(v);
  std::string s;
  while (m != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  return v < 0 ? "-" + s : s;
}

/// A double in the shortest decimal that round-trips ("%.17g").
inline std::string shortest_text(long double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17Lg", v);
  return buf;
}

[[noreturn]] inline void throw_overflow(int128 code, const Format& f) {
  if (magnitude(code) >= static_cast<uint128>(pow2_i128(100)))  // round_scaled's stand-in for far-out values
    throw overflow_error(std::string("fixq: a value of more than 2^100 LSBs in magnitude (") +
                         (code < 0 ? "negative" : "positive") + ") overflows " + f.name());
  throw overflow_error("fixq: value " + shortest_text(std::ldexp(static_cast<long double>(code), -f.frac)) +
                       " (code " + int128_to_string(code) + ") overflows " + f.name());
}

/// The low `word` bits of v, sign-extended when signed.
template <class Int>
constexpr Int wrap_to_word(Int v, int word, bool is_signed) {
  using U = typename int_traits<Int>::unsigned_type;
  if (word >= int_traits<Int>::bits) return v;
  const U mask = (U(1) << word) - 1;
  U low = static_cast<U>(v) & mask;
  if (is_signed && ((low >> (word - 1)) & 1) != 0) low |= ~mask;
  return static_cast<Int>(low);
}
/// Narrow an exact integer v to the code of format f under O. Int is int32,
/// int64 or int128; a narrower Int than int128 is only for callers that know
/// |v| < 2^(bits - 2) and that every code of f fits Int.
template <Overflow O, class Int>
constexpr Int narrow(Int v, const Format& f) {
  // Codes beyond Int's range are clipped to it; callers guarantee |v| < 2^(bits - 2).
  constexpr Int int_max = int_traits<Int>::max;
  const int128 max_wide = f.max_code_wide();
  const int128 min_wide = f.min_code_wide();
  const Int hi = max_wide > int_max ? int_max : static_cast<Int>(max_wide);
  const Int lo = O == Overflow::SaturateSymmetric && f.is_signed ? Int(-hi)
                 : min_wide < -int_max ? Int(-int_max)
                                        : static_cast<Int>(min_wide);
  if (v >= lo && v <= hi) return v;
  switch (O) {
    case Overflow::Saturate:
    case Overflow::SaturateSymmetric: return v > hi ? hi : lo;
    case Overflow::SaturateZero: return 0;
    case Overflow::Wrap: return wrap_to_word(v, f.word, f.is_signed);
    case Overflow::Throw: throw_overflow(v, f);
  }
  return 0;
}

/// Run-time Overflow to compile-time dispatch: calls f.template operator()<O>().
template <class F>
constexpr decltype(auto) dispatch_overflow(Overflow o, F&& f) {
  switch (o) {
    case Overflow::Saturate: return f.template operator()<Overflow::Saturate>();
    case Overflow::SaturateSymmetric: return f.template operator()<Overflow::SaturateSymmetric>();
    case Overflow::SaturateZero: return f.template operator()<Overflow::SaturateZero>();
    case Overflow::Wrap: return f.template operator()<Overflow::Wrap>();
    case Overflow::Throw: return f.template operator()<Overflow::Throw>();
  }
  throw std::invalid_argument("fixq: unknown Overflow value " +
                              std::to_string(static_cast<int>(o)));
}

}  // namespace detail
}  // namespace fixq

#endif  // FIXQ_CORE_OVERFLOW_HPP
