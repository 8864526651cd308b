// fixq/core/io.hpp - text output: exact decimal text of a Fixed, and a Format's name.
//
// Every value code * 2^-frac has a finite decimal expansion; to_string and
// operator<< print all of it (no rounding), e.g. Fixed<8,4>(-0.3) prints
// "-0.3125". Fixed<W,F> with F < 0 prints an integer.
// A Format prints its name(): "Fixed<8,4>", "UFixed<8,8>".
#ifndef FIXQ_CORE_IO_HPP
#define FIXQ_CORE_IO_HPP

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <fixq/core/fixed.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/int128.hpp>

namespace fixq {

namespace detail {
/// Exact decimal text of code * 2^-frac.
inline std::string exact_decimal(int128 code, int frac) {
  // Big number in base 1e9 limbs, least significant first.
  constexpr std::uint32_t base = 1000000000u;
  std::vector<std::uint32_t> limbs;
  for (uint128 m = magnitude(code); m != 0; m /= base)
    limbs.push_back(static_cast<std::uint32_t>(m % base));
  auto multiply = [&](std::uint32_t k) {
    std::uint64_t carry = 0;
    for (auto& limb : limbs) {
      const std::uint64_t t = static_cast<std::uint64_t>(limb) * k + carry;
      limb = static_cast<std::uint32_t>(t % base);
      carry = t / base;
    }
    if (carry != 0) limbs.push_back(static_cast<std::uint32_t>(carry));
  };
  // value = m * 2^-frac = m * 5^frac / 10^frac (frac > 0) or m * 2^-frac (frac <= 0)
  for (int i = 0; i < (frac > 0 ? frac : -frac); ++i) multiply(frac > 0 ? 5 : 2);
  std::string digits;
  for (std::size_t i = limbs.size(); i-- > 0;) {
    const std::string part = std::to_string(limbs[i]);
    if (i + 1 != limbs.size()) digits.append(9 - part.size(), '0');
    digits += part;
  }
  if (digits.empty()) return "0";
  if (frac > 0) {
    const auto f = static_cast<std::size_t>(frac);
    if (digits.size() <= f) digits = std::string(f + 1 - digits.size(), '0') + digits;
    std::string fraction = digits.substr(digits.size() - f);
    digits.resize(digits.size() - f);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    if (!fraction.empty()) digits += "." + fraction;
  }
  return code < 0 ? "-" + digits : digits;
}
}  // namespace detail

template <int W, int F, Round R, Overflow O, bool S>
std::string to_string(const Fixed<W, F, R, O, S>& x) {
  return detail::exact_decimal(x.raw(), F);
}

template <int W, int F, Round R, Overflow O, bool S>
std::ostream& operator<<(std::ostream& os, const Fixed<W, F, R, O, S>& x) {
  return os << to_string(x);
}

/// Writes f.name(), e.g. "Fixed<8,4>" or "UFixed<8,8>".
inline std::ostream& operator<<(std::ostream& os, const Format& f) {
  return os << f.name();
}

}  // namespace fixq

#endif  // FIXQ_CORE_IO_HPP
