// tests/support/fixed_printer.hpp - how Catch2 prints a fixq::Fixed in failure
// messages: the exact value, the type, the code and its `word` bits in hex, e.g.
//   -0.3125 (Fixed<8,4> code -5 = 0xfb)
//   3 (UFixed<4,-1,Floor,Wrap> code 6 = 0x6)
// Non-default Round / Overflow modes are appended to the type name.
#ifndef FIXQ_TESTS_SUPPORT_FIXED_PRINTER_HPP
#define FIXQ_TESTS_SUPPORT_FIXED_PRINTER_HPP

#include <cstdint>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>
#include <fixq/core.hpp>

namespace fixq_test {

/// "Fixed<8,4>" or "UFixed<8,4,Floor,Wrap>" for the type's format and modes.
template <int W, int F, fixq::Round R, fixq::Overflow O, bool S>
std::string fixed_type_name() {
  std::string name = fixq::Format{W, F, S}.name();
  if (R != fixq::Round::NearestEven || O != fixq::Overflow::Saturate) {
    name.pop_back();  // the closing '>'
    name += ",";
    name += fixq::to_string(R);
    name += ",";
    name += fixq::to_string(O);
    name += ">";
  }
  return name;
}

/// The low `word` bits of a code, in hex.
inline std::string code_hex(std::int64_t code, int word) {
  auto bits = static_cast<std::uint64_t>(code);
  if (word < 64) bits &= (std::uint64_t{1} << word) - 1;
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(bits));
  return buf;
}

}  // namespace fixq_test

namespace Catch {
template <int W, int F, fixq::Round R, fixq::Overflow O, bool S>
struct StringMaker<fixq::Fixed<W, F, R, O, S>> {
  static std::string convert(const fixq::Fixed<W, F, R, O, S>& x) {
    const auto code = x.raw();
    const std::string code_text =
        S ? std::to_string(static_cast<long long>(code))
          : std::to_string(static_cast<unsigned long long>(code));
    return fixq::to_string(x) + " (" + fixq_test::fixed_type_name<W, F, R, O, S>() + " code " +
           code_text + " = " + fixq_test::code_hex(static_cast<std::int64_t>(code), W) + ")";
  }
};
}  // namespace Catch

#endif  // FIXQ_TESTS_SUPPORT_FIXED_PRINTER_HPP
