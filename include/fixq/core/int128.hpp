// fixq/core/int128.hpp - the 128-bit integers the exact scalar core computes with.
//
// Every conversion and arithmetic result of a Fixed with a word of up to 64 bits
// is computed exactly in 128-bit integers. GCC and Clang provide them as a
// language extension on 64-bit targets; `__extension__` keeps -Wpedantic quiet.
#ifndef FIXQ_CORE_INT128_HPP
#define FIXQ_CORE_INT128_HPP

#include <bit>
#include <cstdint>

#if !defined(__SIZEOF_INT128__)
#error "fixq needs a compiler with __int128 (GCC or Clang on a 64-bit target)"
#endif

namespace fixq {

__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

namespace detail {

/// Facts about the signed integer types the core computes in (std::make_unsigned
/// and std::numeric_limits do not know __int128 in strict -std=c++20 mode).
template <class Int>
struct int_traits;
template <>
struct int_traits<std::int32_t> {
  using unsigned_type = std::uint32_t;
  static constexpr int bits = 32;
  static constexpr std::int32_t max = 0x7fffffff;
};
template <>
struct int_traits<std::int64_t> {
  using unsigned_type = std::uint64_t;
  static constexpr int bits = 64;
  static constexpr std::int64_t max = 0x7fffffffffffffff;
};
template <>
struct int_traits<int128> {
  using unsigned_type = uint128;
  static constexpr int bits = 128;
  static constexpr int128 max = static_cast<int128>(~uint128(0) >> 1);
};

/// 2^n as a 128-bit integer, 0 <= n <= 126.
constexpr int128 pow2_i128(int n) { return static_cast<int128>(1) << n; }

/// Number of significant bits of a non-negative value (0 for 0).
constexpr int bit_length(uint128 v) {
  const auto hi = static_cast<std::uint64_t>(v >> 64);
  if (hi != 0) return 128 - std::countl_zero(hi);
  return 64 - std::countl_zero(static_cast<std::uint64_t>(v));
}

/// |v| as an unsigned 128-bit integer (well defined for every int128).
constexpr uint128 magnitude(int128 v) {
  return v < 0 ? uint128(0) - static_cast<uint128>(v) : static_cast<uint128>(v);
}

}  // namespace detail
}  // namespace fixq

#endif  // FIXQ_CORE_INT128_HPP
