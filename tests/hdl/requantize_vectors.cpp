// requantize_vectors - expected outputs of hdl/fixq_requantize.sv from fixq's scalar core.
//
//   requantize_vectors ACC_W OUT_W OUT_SIGNED ROUND OVERFLOW SHIFT_W SHIFT_MIN SHIFT_MAX FILE
//
// For every shift in [SHIFT_MIN, SHIFT_MAX] (outer loop) and every ACC_W-bit signed
// accumulator from the smallest to the largest (inner loop), one line of FILE, in
// hex that $readmemh loads as one word:
//
//   <acc><shift><code><ovf>
//
// each field two's complement in its width (ACC_W, SHIFT_W, OUT_W, 1 bits), lower-case
// and zero-padded to whole hex digits (ceil(width / 4) digits; ovf is one digit).
// tests/hdl/tb_requantize_exhaustive.sv cuts the fields at those digit boundaries.
//
// The expected code is the scalar core's Fixed-to-Fixed conversion (code_from_code,
// which every Fixed<ACC_W, F_in> -> Fixed<OUT_W, F_out, R, O> conversion calls) with
// shift = F_in - F_out, not the requantize kernel: this ties the hardware to the core.
// `ovf` is 1 when the overflow mode changed the rounded value (round_scaled, the same
// rounding code_from_code applies before narrowing).
// ROUND and OVERFLOW are the positions in fixq::Round / fixq::Overflow; Stochastic and
// Throw are refused. The number of lines is printed on stdout.
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include <fixq/core.hpp>

namespace {

/// The low `width` bits of v as ceil(width / 4) lower-case hex digits.
std::string hex_field(std::int64_t v, int width) {
  const int digits = (width + 3) / 4;
  const std::uint64_t mask = width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  const std::uint64_t bits = static_cast<std::uint64_t>(v) & mask;
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = 0; i < digits; ++i)
    s[static_cast<std::size_t>(digits - 1 - i)] = "0123456789abcdef"[(bits >> (4 * i)) & 0xf];
  return s;
}

int parse_int(const char* text, const char* what, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi)
    throw std::invalid_argument(std::string(what) + " = '" + text + "' is not an integer in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 10) {
    std::cerr << "usage: requantize_vectors ACC_W OUT_W OUT_SIGNED ROUND OVERFLOW SHIFT_W SHIFT_MIN "
                 "SHIFT_MAX FILE\n";
    return 2;
  }
  const int acc_w = parse_int(argv[1], "ACC_W", 1, 20);
  const int out_w = parse_int(argv[2], "OUT_W", 1, 62);
  const bool out_signed = parse_int(argv[3], "OUT_SIGNED", 0, 1) != 0;
  const int round_index = parse_int(argv[4], "ROUND", 0, 8);           // Stochastic (9) refused
  const int overflow_index = parse_int(argv[5], "OVERFLOW", 0, 3);     // Throw (4) refused
  const int shift_w = parse_int(argv[6], "SHIFT_W", 2, 16);
  const int shift_lo = -(1 << (shift_w - 1));
  const int shift_hi = (1 << (shift_w - 1)) - 1;
  const int shift_min = parse_int(argv[7], "SHIFT_MIN", shift_lo, shift_hi);
  const int shift_max = parse_int(argv[8], "SHIFT_MAX", shift_min, shift_hi);
  const auto round = fixq::all_rounds[round_index];
  const auto overflow = fixq::all_overflows[overflow_index];

  std::ofstream out(argv[9]);
  if (!out) throw std::runtime_error(std::string("cannot write ") + argv[9]);
  // Any output fraction works (only the difference matters); a nonzero one keeps
  // both formats away from the special case frac = 0.
  constexpr int out_frac = 3;
  const fixq::Format to{out_w, out_frac, out_signed};
  const std::int64_t acc_min = -(std::int64_t{1} << (acc_w - 1));
  const std::int64_t acc_max = (std::int64_t{1} << (acc_w - 1)) - 1;
  std::int64_t lines = 0;
  fixq::detail::dispatch_round(round, [&]<fixq::Round R>() {
    fixq::detail::dispatch_overflow(overflow, [&]<fixq::Overflow O>() {
      for (int shift = shift_min; shift <= shift_max; ++shift) {
        const int acc_frac = out_frac + shift;
        for (std::int64_t acc = acc_min; acc <= acc_max; ++acc) {
          const fixq::int128 code = fixq::detail::code_from_code<R, O>(acc, acc_frac, to);
          const fixq::int128 rounded = fixq::detail::round_scaled<R>(acc, to.frac - acc_frac);
          out << hex_field(acc, acc_w) << hex_field(shift, shift_w)
              << hex_field(static_cast<std::int64_t>(code), out_w) << (code != rounded ? '1' : '0')
              << '\n';
          ++lines;
        }
      }
    });
  });
  out.close();
  if (!out) throw std::runtime_error(std::string("error writing ") + argv[9]);
  std::cout << lines << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "requantize_vectors: " << e.what() << "\n";
  return 1;
}
