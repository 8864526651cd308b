// fixq/core/format.hpp - the vocabulary: rounding modes, overflow modes, Format.
//
// A fixed-point format is (word, frac, is_signed): a code c of `word` bits
// (two's complement when signed) stands for the value c * 2^-frac.
// The README's rounding and overflow tables give the exact formula of every mode.
#ifndef FIXQ_CORE_FORMAT_HPP
#define FIXQ_CORE_FORMAT_HPP

#include <bit>
#include <cstdint>
#include <optional>
#include <utility>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fixq/core/int128.hpp>

namespace fixq {

/// How a value between two grid points is rounded. x is the exact value in
/// units of the target LSB, n = floor(x), f = x - n. The Nearest* modes round
/// to the nearest code; their suffix says where an exact tie (f = 1/2) goes.
enum class Round : unsigned char {
  Floor,                ///< n (toward -inf)                          ac: AC_TRN
  Ceil,                 ///< n + (f > 0) (toward +inf)                (no ac name)
  TowardZero,           ///< trunc(x)                                 ac: AC_TRN_ZERO
  NearestTiesToPosInf,  ///< nearest, ties toward +inf                ac: AC_RND
  NearestTiesToNegInf,  ///< nearest, ties toward -inf                ac: AC_RND_MIN_INF
  NearestAway,          ///< nearest, ties away from zero             ac: AC_RND_INF
  NearestTiesToZero,    ///< nearest, ties toward zero                ac: AC_RND_ZERO
  NearestEven,          ///< nearest, ties to the even code           ac: AC_RND_CONV
  NearestOdd,           ///< nearest, ties to the odd code            ac: AC_RND_CONV_ODD
  Stochastic,           ///< floor(x + U / 2^32), U a uniform 32-bit random word
};

/// What happens when the rounded value does not fit the word.
/// Rounding happens first; a carry out of rounding takes part in the check.
enum class Overflow : unsigned char {
  Saturate,           ///< clamp to [min, max]                        ac: AC_SAT
  SaturateSymmetric,  ///< clamp to [-max, max]; min code never made   ac: AC_SAT_SYM
  SaturateZero,       ///< any overflow gives 0                       ac: AC_SAT_ZERO
  Wrap,               ///< keep the low `word` bits (two's complement) ac: AC_WRAP
  Throw,              ///< throw fixq::overflow_error
};

inline constexpr Round all_rounds[] = {
    Round::Floor,       Round::Ceil,        Round::TowardZero, Round::NearestTiesToPosInf,
    Round::NearestTiesToNegInf, Round::NearestAway, Round::NearestTiesToZero, Round::NearestEven,
    Round::NearestOdd,  Round::Stochastic};

inline constexpr Overflow all_overflows[] = {Overflow::Saturate, Overflow::SaturateSymmetric,
                                             Overflow::SaturateZero, Overflow::Wrap,
                                             Overflow::Throw};

constexpr std::string_view to_string(Round r) {
  switch (r) {
    case Round::Floor: return "Floor";
    case Round::Ceil: return "Ceil";
    case Round::TowardZero: return "TowardZero";
    case Round::NearestTiesToPosInf: return "NearestTiesToPosInf";
    case Round::NearestTiesToNegInf: return "NearestTiesToNegInf";
    case Round::NearestAway: return "NearestAway";
    case Round::NearestTiesToZero: return "NearestTiesToZero";
    case Round::NearestEven: return "NearestEven";
    case Round::NearestOdd: return "NearestOdd";
    case Round::Stochastic: return "Stochastic";
  }
  return "?";
}

constexpr std::string_view to_string(Overflow o) {
  switch (o) {
    case Overflow::Saturate: return "Saturate";
    case Overflow::SaturateSymmetric: return "SaturateSymmetric";
    case Overflow::SaturateZero: return "SaturateZero";
    case Overflow::Wrap: return "Wrap";
    case Overflow::Throw: return "Throw";
  }
  return "?";
}

/// The name a round or overflow mode has in fixq (Round::NearestEven: "NearestEven"),
/// or ac_fixed's name (AC_RND_CONV); nullopt when unknown.
inline std::optional<Round> parse_round(std::string_view s) {
  for (const Round r : all_rounds)
    if (s == to_string(r)) return r;
  static constexpr std::pair<std::string_view, Round> ac[] = {
      {"AC_TRN", Round::Floor},
      {"AC_TRN_ZERO", Round::TowardZero},
      {"AC_RND", Round::NearestTiesToPosInf},
      {"AC_RND_ZERO", Round::NearestTiesToZero},
      {"AC_RND_INF", Round::NearestAway},
      {"AC_RND_MIN_INF", Round::NearestTiesToNegInf},
      {"AC_RND_CONV", Round::NearestEven},
      {"AC_RND_CONV_ODD", Round::NearestOdd}};
  for (const auto& [name, r] : ac)
    if (s == name) return r;
  return std::nullopt;
}
inline std::optional<Overflow> parse_overflow(std::string_view s) {
  for (const Overflow o : all_overflows)
    if (s == to_string(o)) return o;
  static constexpr std::pair<std::string_view, Overflow> ac[] = {{"AC_SAT", Overflow::Saturate},
                                                                 {"AC_SAT_ZERO", Overflow::SaturateZero},
                                                                 {"AC_SAT_SYM", Overflow::SaturateSymmetric},
                                                                 {"AC_WRAP", Overflow::Wrap}};
  for (const auto& [name, o] : ac)
    if (s == name) return o;
  return std::nullopt;
}

/// Thrown by Overflow::Throw, and for NaN or infinity under Overflow::Throw.
class overflow_error : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

/// Limits on a format, shared by the compile-time and run-time checks:
/// 1 <= word <= 64; frac <= max_frac so that the LSB 2^-frac is a normal
/// double; word - frac <= max_int_bits so that every value is a finite double.
inline constexpr int max_word = 64;
inline constexpr int max_frac = 1022;
inline constexpr int max_int_bits = 1023;

/// The run-time description of a fixed-point format: a code c of `word` bits
/// (two's complement when signed) stands for c * 2^-frac. There is no default
/// format: `Format{8, 4}` says what it is, and an invalid one is rejected when made.
struct Format {
  int word;
  int frac;
  bool is_signed;

  /// Throws std::invalid_argument naming the bad field and value (a compile
  /// error in a constant expression).
  constexpr Format(int word_bits, int frac_bits, bool signed_codes = true)
      : word(word_bits), frac(frac_bits), is_signed(signed_codes) {
    validate();
  }

  /// Checks the fields again (they are public and may have been changed).
  constexpr const Format& validate() const {
    if (word < 1 || word > max_word)
      throw std::invalid_argument("fixq::Format: word = " + std::to_string(word) +
                                  " is out of range [1, 64]");
    if (frac > max_frac)
      throw std::invalid_argument("fixq::Format: frac = " + std::to_string(frac) +
                                  " is larger than 1022 (the LSB 2^-frac must be a normal double)");
    if (word - frac > max_int_bits)
      throw std::invalid_argument("fixq::Format: frac = " + std::to_string(frac) +
                                  " is too small for word = " + std::to_string(word) +
                                  " (word - frac must be <= 1023 so that every value is a finite double)");
    return *this;
  }
  /// Whether (word, frac) would make a valid format.
  static constexpr bool valid(int word, int frac) {
    return word >= 1 && word <= max_word && frac <= max_frac && word - frac <= max_int_bits;
  }

  /// Integer bits (including the sign bit when signed), as ac_fixed's I.
  constexpr int int_bits() const { return word - frac; }
  /// Smallest and largest code.
  constexpr std::int64_t min_code() const {
    return is_signed ? static_cast<std::int64_t>(~std::uint64_t{0} << (word - 1)) : 0;
  }
  constexpr std::uint64_t max_code() const {
    return is_signed ? (static_cast<std::uint64_t>(1) << (word - 1)) - 1
                     : (word == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << word) - 1);
  }
  /// The same limits as 128-bit integers (exact for every word).
  constexpr int128 min_code_wide() const { return min_code(); }
  constexpr int128 max_code_wide() const { return static_cast<int128>(max_code()); }

  /// 2^e as a double, for -1074 <= e <= 1023 (exact).
  static constexpr double pow2(int e) {
    const std::uint64_t bits = e >= -1022 ? static_cast<std::uint64_t>(e + 1023) << 52
                                          : std::uint64_t{1} << (e + 1074);
    return std::bit_cast<double>(bits);
  }
  /// Value of one LSB, 2^-frac (exact).
  constexpr double lsb() const { return pow2(-frac); }
  /// Values of the smallest and largest code, rounded to nearest double when the
  /// code has more than 53 significant bits.
  constexpr double min_value() const { return static_cast<double>(min_code()) * lsb(); }
  constexpr double max_value() const { return static_cast<double>(max_code()) * lsb(); }

  /// "Fixed<8,4>" or "UFixed<8,4>", as the C++ type would be written.
  std::string name() const {
    return std::string(is_signed ? "Fixed<" : "UFixed<") + std::to_string(word) + "," +
           std::to_string(frac) + ">";
  }

  friend constexpr bool operator==(const Format&, const Format&) = default;
};

}  // namespace fixq

#endif  // FIXQ_CORE_FORMAT_HPP
