// tests/support/int128.hpp - 128-bit integers for the tests' references: the
// types, 2^n and decimal text. Plain integer code: nothing from the library.
#ifndef FIXQ_TESTS_SUPPORT_INT128_HPP
#define FIXQ_TESTS_SUPPORT_INT128_HPP

#include <string>

namespace fixq_test {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/// 2^n as a 128-bit integer (0 <= n <= 126).
constexpr i128 p2(int n) { return static_cast<i128>(1) << n; }

/// Decimal text of a 128-bit integer (for failure messages).
inline std::string i128_text(i128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  u128 m = neg ? u128(0) - static_cast<u128>(v) : static_cast<u128>(v);
  std::string s;
  for (; m != 0; m /= 10) s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
  return neg ? "-" + s : s;
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_INT128_HPP
