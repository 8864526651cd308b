// fixq/io/code_files.hpp - integer codes as files that hardware flows load directly.
//
//   .npy  the smallest standard integer type that holds the word (int8 for a signed
//         8-bit word, uint16 for an unsigned 9..16-bit word, ...)
//   .hex  one code per line, two's complement in `word` bits, lower-case hex
//         zero-padded to ceil(word / 4) digits, row-major: Verilog's $readmemh
//   .h    a C99 / C++ header: the array (of that same type) with shape and format
//         macros; compiles with -Wall -Wextra -Werror in both languages
// Codes are written as hexadecimal or binary, never as decimal text of values.
// Each file is written atomically (fixq/io/files.hpp): the path overloads publish
// it when it is complete, so a failure leaves no short file; the AtomicFile&
// overloads write into a file of an AtomicGroup, which publishes all its files at
// once (an export: nothing appears unless every file was written).
#ifndef FIXQ_IO_CODE_FILES_HPP
#define FIXQ_IO_CODE_FILES_HPP

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include <fixq/io/files.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

/// A tensor of integer codes of one word width.
struct CodeTensor {
  std::string name;  ///< also the C identifier's source ("conv1.weight" -> conv1_weight)
  Shape shape;
  int word = 8;
  bool is_signed = true;
  std::vector<std::int64_t> codes;  ///< row-major
};

/// The smallest standard integer type that holds every code of the word.
constexpr DType code_dtype(int word, bool is_signed) {
  if (word <= 8) return is_signed ? DType::Int8 : DType::UInt8;
  if (word <= 16) return is_signed ? DType::Int16 : DType::UInt16;
  if (word <= 32) return is_signed ? DType::Int32 : DType::UInt32;
  return is_signed ? DType::Int64 : DType::UInt64;
}

namespace detail {

/// "conv1.weight" -> "conv1_weight" (a C identifier; a leading digit gets "t_").
inline std::string c_identifier(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) s = "t_" + s;
  return s;
}

inline std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

/// A C integer literal in hexadecimal for v in the type of `bits` (minimum values
/// as (-max - 1), so that no unsigned constant is negated into a signed array).
inline std::string c_hex_literal(std::int64_t v, int type_bits, bool is_signed) {
  std::ostringstream s;
  s << std::hex;
  if (is_signed && type_bits < 64 && v == -(std::int64_t{1} << (type_bits - 1))) {
    s << "(-0x" << ((std::uint64_t{1} << (type_bits - 1)) - 1) << " - 1)";
  } else if (is_signed && v == std::numeric_limits<std::int64_t>::min()) {
    s << "(-0x7fffffffffffffff - 1)";
  } else if (v < 0) {
    s << "-0x" << static_cast<std::uint64_t>(-v);
  } else {
    s << "0x" << static_cast<std::uint64_t>(v);
    if (type_bits == 64) s << (is_signed ? "LL" : "ULL");
    else if (!is_signed && type_bits == 32) s << "U";
  }
  return s.str();
}

inline void check_codes(const CodeTensor& t) {
  if (t.codes.size() != shape_size(t.shape))
    throw std::invalid_argument("fixq: tensor '" + t.name + "' has " + std::to_string(t.codes.size()) +
                                " codes for shape " + shape_text(t.shape));
  if (t.word < 1 || t.word > 64) throw std::invalid_argument("fixq: tensor '" + t.name + "': word out of [1, 64]");
}

}  // namespace detail

/// Writes the codes as .npy of code_dtype(word, is_signed) into `file` (not committed).
inline void write_code_npy(AtomicFile& file, const CodeTensor& t) {
  detail::check_codes(t);
  const auto put = [&]<class T>(T) {
    NDArray<T> a;
    a.shape = t.shape;
    a.data.reserve(t.codes.size());
    for (const std::int64_t c : t.codes) a.data.push_back(static_cast<T>(c));
    write_npy(file, a);
  };
  visit_dtype(code_dtype(t.word, t.is_signed), put);  // (never a float type)
}

/// Writes the codes for $readmemh into `file` (not committed): word-bit two's
/// complement, ceil(word / 4) digits per line.
inline void write_code_hex(AtomicFile& file, const CodeTensor& t) {
  detail::check_codes(t);
  std::ostream& out = file.stream();
  const std::uint64_t mask = t.word == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << t.word) - 1;
  const int digits = (t.word + 3) / 4;
  static constexpr char hex[] = "0123456789abcdef";
  std::string line(static_cast<std::size_t>(digits) + 1, '\n');
  for (const std::int64_t c : t.codes) {
    std::uint64_t u = static_cast<std::uint64_t>(c) & mask;
    for (int d = digits - 1; d >= 0; --d, u >>= 4) line[static_cast<std::size_t>(d)] = hex[u & 15];
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  file.check();
}

/// Writes a C header into `file` (not committed): `static const <type> <id>[N]` and
/// macros <ID>_RANK, <ID>_DIM<k>, <ID>_SIZE, <ID>_WORD, <ID>_SIGNED and <ID>_FRAC
/// (or <ID>_FRACS {..} per channel).
inline void write_code_header(AtomicFile& file, const CodeTensor& t, const nlohmann::json& format) {
  detail::check_codes(t);
  const std::string id = detail::c_identifier(t.name), ID = detail::upper(id);
  const DType dt = code_dtype(t.word, t.is_signed);
  const int bits = static_cast<int>(dtype_size(dt)) * 8;
  std::ostream& out = file.stream();
  out << "/* " << t.name << ": integer codes exported by fixq (C99 and C++). */\n"
      << "#ifndef FIXQ_EXPORT_" << ID << "_H\n#define FIXQ_EXPORT_" << ID << "_H\n\n#include <stdint.h>\n\n"
      << "#define " << ID << "_RANK " << t.shape.size() << "\n";
  for (std::size_t k = 0; k < t.shape.size(); ++k) out << "#define " << ID << "_DIM" << k << " " << t.shape[k] << "\n";
  out << "#define " << ID << "_SIZE " << t.codes.size() << "\n"
      << "#define " << ID << "_WORD " << t.word << "\n"
      << "#define " << ID << "_SIGNED " << (t.is_signed ? 1 : 0) << "\n";
  const nlohmann::json& frac = format.at("frac");
  if (frac.is_array()) {
    out << "#define " << ID << "_FRACS {";
    for (std::size_t k = 0; k < frac.size(); ++k) out << (k ? ", " : "") << frac[k].get<int>();
    out << "}\n";
  } else {
    out << "#define " << ID << "_FRAC " << frac.get<int>() << "\n";
  }
  out << "\nstatic const " << dtype_name(dt) << "_t " << id << "[" << std::max<std::size_t>(t.codes.size(), 1) << "] = {";
  for (std::size_t i = 0; i < t.codes.size(); ++i)
    out << (i % 12 ? " " : "\n  ") << detail::c_hex_literal(t.codes[i], bits, t.is_signed) << (i + 1 < t.codes.size() ? "," : "");
  if (t.codes.empty()) out << "0";
  out << "\n};\n\n#endif\n";
  file.check();
}

/// The same three writers to a path, each file published when complete.
inline void write_code_npy(const std::filesystem::path& path, const CodeTensor& t) {
  AtomicFile f(path);
  write_code_npy(f, t);
  f.commit();
}
inline void write_code_hex(const std::filesystem::path& path, const CodeTensor& t) {
  AtomicFile f(path);
  write_code_hex(f, t);
  f.commit();
}
inline void write_code_header(const std::filesystem::path& path, const CodeTensor& t, const nlohmann::json& format) {
  AtomicFile f(path);
  write_code_header(f, t, format);
  f.commit();
}

}  // namespace fixq

#endif  // FIXQ_IO_CODE_FILES_HPP
