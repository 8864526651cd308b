// tests/support/fixed_codes.hpp - Fixed values from 128-bit codes, and random
// codes, for tests that loop over the codes of a format.
#ifndef FIXQ_TESTS_SUPPORT_FIXED_CODES_HPP
#define FIXQ_TESTS_SUPPORT_FIXED_CODES_HPP

#include <cstdint>
#include <random>

#include <fixq/core.hpp>

#include "support/int128.hpp"
#include "support/int128_reference.hpp"

namespace fixq_test {

/// The T whose code is `code` (for every T, UFixed<64, F> included).
template <class T>
T from_code(i128 code) {
  if constexpr (!T::is_signed && T::word == 64)
    return T::from_raw(static_cast<std::uint64_t>(code));
  else
    return T::from_raw(static_cast<std::int64_t>(code));
}

/// A random code of T: one draw in 2 is a boundary code (min, min + 1, -1, 0,
/// 1, max - 1, max, clamped into range), the rest uniform over all codes.
template <class T>
i128 random_code(std::mt19937_64& g) {
  constexpr i128 lo = lo_code<T>(), hi = hi_code<T>();
  const std::uint64_t pick = g() % 14;
  if (pick < 7) {
    const i128 special[] = {lo, lo + 1, -1, 0, 1, hi - 1, hi};
    const i128 c = special[pick];
    return c < lo ? lo : c > hi ? hi : c;
  }
  std::uint64_t bits = g();
  if (T::word < 64) bits &= (std::uint64_t{1} << (T::word % 64)) - 1;
  i128 c = bits;
  if (T::is_signed && c > hi) c -= p2(T::word);  // two's complement
  return c;
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_FIXED_CODES_HPP
