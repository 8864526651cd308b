// fixq/core/overflow.hpp - every Overflow mode as a narrowing of an exact
// integer (already rounded, in units of the target LSB) to the target word.
#ifndef FIXQ_CORE_OVERFLOW_HPP
#define FIXQ_CORE_OVERFLOW_HPP

#include <string>

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

[[noreturn]] inline void throw_overflow(int128 code, const Format& f) {
  throw overflow_error("fixq: code " + int128_to_string(code) + " (value " +
                       std::to_string(static_cast<double>(code) * f.lsb()) + ") overflows " +
                       f.name());
}

/// The low `word` bits of v, sign-extended when signed.
constexpr int128 wrap_to_word(int128 v, int word, bool is_signed) {
  const uint128 mask = (uint128(1) << word) - 1;
  uint128 low = static_cast<uint128>(v) & mask;
  if (is_signed && ((low >> (word - 1)) & 1) != 0) low |= ~mask;
  return static_cast<int128>(low);
}
}  // namespace detail

/// Narrow an exact integer v (|v| < 2^127) to the code of format f under O.
template <Overflow O>
constexpr int128 narrow(int128 v, const Format& f) {
  const int128 hi = f.max_code_wide();
  const int128 lo = O == Overflow::SaturateSymmetric && f.is_signed ? -hi : f.min_code_wide();
  if (v >= lo && v <= hi) return v;
  switch (O) {
    case Overflow::Saturate:
    case Overflow::SaturateSymmetric: return v > hi ? hi : lo;
    case Overflow::SaturateZero: return 0;
    case Overflow::Wrap: return detail::wrap_to_word(v, f.word, f.is_signed);
    case Overflow::Throw: detail::throw_overflow(v, f);
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

}  // namespace fixq

#endif  // FIXQ_CORE_OVERFLOW_HPP
