// fixq/core/limits.hpp - std::numeric_limits and std::hash for Fixed.
//
// As for floating point (and as CNL does), numeric_limits<Fixed>::min() is the
// smallest positive value (one LSB, or 0 where the format cannot hold it) and
// lowest() the most negative value, as Fixed::lowest() is.
#ifndef FIXQ_CORE_LIMITS_HPP
#define FIXQ_CORE_LIMITS_HPP

#include <cstddef>
#include <functional>
#include <limits>

#include <fixq/core/fixed.hpp>

template <int W, int F, fixq::Round R, fixq::Overflow O, bool S>
class std::numeric_limits<fixq::Fixed<W, F, R, O, S>> {
  using T = fixq::Fixed<W, F, R, O, S>;
  static constexpr T code(long long c) {
    return T(fixq::detail::unchecked, static_cast<typename T::storage_type>(c));
  }

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = S;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = true;
  static constexpr bool has_infinity = false;
  static constexpr bool has_quiet_NaN = false;
  static constexpr bool has_signaling_NaN = false;
  static constexpr std::float_denorm_style has_denorm = std::denorm_absent;
  static constexpr bool has_denorm_loss = false;
  static constexpr std::float_round_style round_style =
      R == fixq::Round::Floor                 ? std::round_toward_neg_infinity
      : R == fixq::Round::Ceil                ? std::round_toward_infinity
      : R == fixq::Round::TowardZero          ? std::round_toward_zero
      : R == fixq::Round::Stochastic          ? std::round_indeterminate
                                              : std::round_to_nearest;
  static constexpr bool is_iec559 = false;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = O == fixq::Overflow::Wrap;
  static constexpr int digits = W - (S ? 1 : 0);
  static constexpr int digits10 = digits * 30103 / 100000;
  static constexpr int max_digits10 = 0;
  static constexpr int radix = 2;
  static constexpr int min_exponent = 0;
  static constexpr int min_exponent10 = 0;
  static constexpr int max_exponent = 0;
  static constexpr int max_exponent10 = 0;
  static constexpr bool traps = O == fixq::Overflow::Throw;
  static constexpr bool tinyness_before = false;

  /// Smallest positive value (0 when the format has none, e.g. Fixed<1, F>).
  static constexpr T min() noexcept { return code(W == 1 && S ? 0 : 1); }
  static constexpr T max() noexcept { return T::max(); }
  static constexpr T lowest() noexcept { return T::lowest(); }
  static constexpr T epsilon() noexcept { return min(); }
  /// Largest rounding error in LSB units is 1 for directed and stochastic
  /// modes; numeric_limits can only hold a T, so this is the LSB for all modes.
  static constexpr T round_error() noexcept { return min(); }
  static constexpr T infinity() noexcept { return T(); }
  static constexpr T quiet_NaN() noexcept { return T(); }
  static constexpr T signaling_NaN() noexcept { return T(); }
  static constexpr T denorm_min() noexcept { return min(); }
};

template <int W, int F, fixq::Round R, fixq::Overflow O, bool S>
struct std::hash<fixq::Fixed<W, F, R, O, S>> {
  std::size_t operator()(const fixq::Fixed<W, F, R, O, S>& x) const noexcept {
    return std::hash<typename fixq::Fixed<W, F, R, O, S>::storage_type>{}(x.raw());
  }
};

#endif  // FIXQ_CORE_LIMITS_HPP
