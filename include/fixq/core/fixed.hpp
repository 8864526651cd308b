// fixq/core/fixed.hpp - the scalar type fixq::Fixed<Word, Frac, Round, Overflow, Signed>.
//
// A Fixed holds one code of `Word` bits in the smallest standard integer that
// fits; its value is code * 2^-Frac. Every conversion into a Fixed applies the
// type's Round and Overflow modes exactly (convert.hpp); arithmetic, including
// the compound assignments, is in arithmetic.hpp.
//
// Round::Stochastic needs random words, and fixq has no hidden stream: a
// conversion into a stochastic type that can round takes a generator
// (`Fixed(v, rng)`, e.g. a fixq::RandomStream); without one it does not compile.
#ifndef FIXQ_CORE_FIXED_HPP
#define FIXQ_CORE_FIXED_HPP

#include <concepts>
#include <random>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fixq/core/convert.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/int128.hpp>

namespace fixq {

template <int Word, int Frac, Round R = Round::NearestEven, Overflow O = Overflow::Saturate,
          bool Signed = true>
class Fixed;

/// Unsigned fixed point: UFixed<8, 8> holds [0, 255/256].
template <int Word, int Frac, Round R = Round::NearestEven, Overflow O = Overflow::Saturate>
using UFixed = Fixed<Word, Frac, R, O, false>;

template <class T>
struct is_fixed : std::false_type {};
template <int W, int F, Round R, Overflow O, bool S>
struct is_fixed<Fixed<W, F, R, O, S>> : std::true_type {};
template <class T>
inline constexpr bool is_fixed_v = is_fixed<std::remove_cv_t<T>>::value;
template <class T>
concept FixedPoint = is_fixed_v<T>;

/// A source of uniform 32-bit random words for Round::Stochastic: a standard
/// uniform random bit generator with range [0, 2^32 - 1], such as
/// fixq::RandomStream (random/stream.hpp) or std::mt19937.
template <class G>
concept Uniform32Generator = std::uniform_random_bit_generator<std::remove_reference_t<G>> &&
                             (std::remove_reference_t<G>::min() == 0) &&
                             (std::remove_reference_t<G>::max() == 0xFFFFFFFFu);

namespace detail {
template <int W, bool S>
using storage_t = std::conditional_t<
    (W <= 8), std::conditional_t<S, std::int8_t, std::uint8_t>,
    std::conditional_t<
        (W <= 16), std::conditional_t<S, std::int16_t, std::uint16_t>,
        std::conditional_t<(W <= 32), std::conditional_t<S, std::int32_t, std::uint32_t>,
                           std::conditional_t<S, std::int64_t, std::uint64_t>>>>;

/// True when every value of format (W1,F1,S1) is exactly a value of (W2,F2,S2)
/// under overflow mode o2 (SaturateSymmetric gives up the most negative code).
constexpr bool holds_all(int w1, int f1, bool s1, int w2, int f2, bool s2, Overflow o2) {
  if (f2 < f1) return false;
  if (s1 && !s2) return false;
  const int spare = o2 == Overflow::SaturateSymmetric && s1 ? 1 : 0;  // -2^(I-1) must be > min
  return (w2 - f2) - (s2 && !s1 ? 1 : 0) >= (w1 - f1) + spare;
}

template <class I>
concept plain_integer = std::integral<I> && !std::same_as<std::remove_cv_t<I>, bool>;

struct unchecked_t {};
inline constexpr unchecked_t unchecked{};
}  // namespace detail

template <int Word, int Frac, Round R, Overflow O, bool Signed>
class Fixed {
  static_assert(Word >= 1 && Word <= max_word, "fixq::Fixed: Word must be in [1, 64]");
  static_assert(Frac <= max_frac,
                "fixq::Fixed: Frac must be <= 1022 (the LSB 2^-Frac must be a normal double)");
  static_assert(Word - Frac <= max_int_bits,
                "fixq::Fixed: Word - Frac must be <= 1023 (every value must be a finite double)");

 public:
  using storage_type = detail::storage_t<Word, Signed>;
  static constexpr int word = Word;
  static constexpr int frac = Frac;
  static constexpr bool is_signed = Signed;
  static constexpr Round rounding = R;
  static constexpr Overflow overflow = O;
  static constexpr bool is_deterministic = R != Round::Stochastic;

  /// The run-time description of this type's format.
  static constexpr Format format() { return Format{Word, Frac, Signed}; }

  /// Zero.
  constexpr Fixed() = default;

  /// From a floating-point value, rounded by R and narrowed by O. NaN gives 0
  /// (throws under Overflow::Throw); +-inf overflows (see convert.hpp).
  template <std::floating_point T>
  constexpr explicit Fixed(T v) : code_(from_floating(v, draw<true>())) {}
  /// Same, drawing the stochastic-rounding word from `rng` (one draw, taken
  /// even when the value needs no rounding; deterministic modes draw nothing).
  template <std::floating_point T, Uniform32Generator G>
  constexpr Fixed(T v, G&& rng) : code_(from_floating(v, draw(rng))) {}

  /// From an integer; implicit when every value of the integer type fits exactly.
  template <detail::plain_integer I>
  constexpr explicit(!detail::holds_all(std::numeric_limits<I>::digits + std::is_signed_v<I>, 0,
                                        std::is_signed_v<I>, Word, Frac, Signed, O))
      Fixed(I v)
      : code_(make(detail::code_from_integer<R, O>(static_cast<int128>(v), format(), draw<(Frac < 0)>()))) {}
  template <detail::plain_integer I, Uniform32Generator G>
  constexpr Fixed(I v, G&& rng)
      : code_(make(detail::code_from_integer<R, O>(static_cast<int128>(v), format(), draw(rng)))) {}

  /// From any other Fixed, exactly (no floating-point round trip); implicit
  /// only when every value of the source format fits exactly.
  template <int W2, int F2, Round R2, Overflow O2, bool S2>
  constexpr explicit(!detail::holds_all(W2, F2, S2, Word, Frac, Signed, O))
      Fixed(const Fixed<W2, F2, R2, O2, S2>& other)
      : code_(from_code<W2, F2, S2>(other.raw(), draw<(F2 > Frac)>())) {}
  template <int W2, int F2, Round R2, Overflow O2, bool S2, Uniform32Generator G>
  constexpr Fixed(const Fixed<W2, F2, R2, O2, S2>& other, G&& rng)
      : code_(from_code<W2, F2, S2>(other.raw(), draw(rng))) {}

  /// The low-level door: the Fixed whose code is `code`. Throws
  /// std::invalid_argument when the code is outside [min code, max code].
  template <detail::plain_integer I>
  static constexpr Fixed from_raw(I code) {
    const auto c = static_cast<int128>(code);
    if (c < format().min_code_wide() || c > format().max_code_wide())
      throw std::invalid_argument("fixq::Fixed::from_raw: code " + detail::int128_to_string(c) +
                                  " is outside the range of " + format().name());
    return Fixed(detail::unchecked, static_cast<storage_type>(code));
  }
  /// No range check: the caller guarantees min code <= code <= max code.
  constexpr Fixed(detail::unchecked_t, storage_type code) : code_(code) {}

  /// The code.
  constexpr storage_type raw() const { return code_; }

  /// The value, correctly rounded to nearest (ties to even) where the target
  /// type cannot hold it exactly (only for codes of more than 53 / 24 bits or
  /// results outside the target's range).
  constexpr double to_double() const { return detail::to_floating<double>(code_, Frac); }
  constexpr float to_float() const { return detail::to_floating<float>(code_, Frac); }
  long double to_long_double() const { return detail::to_long_double(code_, Frac); }
  constexpr explicit operator double() const { return to_double(); }
  constexpr explicit operator float() const { return to_float(); }
  explicit operator long double() const { return to_long_double(); }

  /// Most negative and largest value of the format, and the step between codes,
  /// named as std::numeric_limits names them: lowest() is the most negative value
  /// (numeric_limits<Fixed>::lowest()); numeric_limits<Fixed>::min() is the
  /// smallest positive one, as for floating point.
  static constexpr Fixed lowest() { return Fixed(detail::unchecked, static_cast<storage_type>(format().min_code())); }
  static constexpr Fixed max() { return Fixed(detail::unchecked, static_cast<storage_type>(format().max_code())); }
  static constexpr double lsb() { return format().lsb(); }

 private:
  static constexpr storage_type make(int128 code) { return static_cast<storage_type>(code); }

  // Conversions pick the narrowest exact computation the formats allow at
  // compile time; tests check every path against the exact int128 one.
  template <class T>
  static constexpr storage_type from_floating(T v, std::uint32_t u) {
    if constexpr (detail::branch_free_applies<T, R, O>(format()))
      return static_cast<storage_type>(detail::code_branch_free<R, O>(v, detail::branch_free_plan<T, O>(format())));
    return make(detail::code_from_floating<R, O>(v, format(), u));
  }
  template <int W2, int F2, bool S2, class Code>
  static constexpr storage_type from_code(Code code, std::uint32_t u) {
    constexpr int shift = Frac - F2;
    using Int = detail::code_int_t<W2, S2, shift, Word, Signed>;
    if constexpr (std::is_same_v<Int, int128>)
      return make(detail::code_from_code<R, O>(code, F2, format(), u));
    else
      return static_cast<storage_type>(
          detail::code_from_code_in<R, O, Int>(static_cast<Int>(code), shift, format(), u));
  }
  /// The random word of a conversion without a generator: none is needed unless
  /// the type is stochastic and the conversion can round (MayRound).
  template <bool MayRound>
  static constexpr std::uint32_t draw() {
    static_assert(R != Round::Stochastic || !MayRound,
                  "fixq::Fixed: this conversion into a Round::Stochastic type can round and needs random "
                  "words: pass a generator, e.g. Fixed(v, rng) with fixq::RandomStream rng(seed)");
    return 0;
  }
  template <class G>
  static constexpr std::uint32_t draw(G& rng) {
    if constexpr (R == Round::Stochastic)
      return static_cast<std::uint32_t>(rng());
    else
      return 0;
  }

  storage_type code_ = 0;
};

}  // namespace fixq

#endif  // FIXQ_CORE_FIXED_HPP
