// fixq/io/npy.hpp - NumPy .npy files: read and write, whole or in batches of rows.
//
//   fixq::NDArray<float> w = fixq::read_npy<float>("conv1_w.npy");
//   fixq::write_npy("codes.npy", codes);                        // NDArray<std::int8_t>, ...
//   fixq::NpyReader r("big.npy");                               // header only
//   auto rows = r.read_rows<float>(1000, 256);                  // rows 1000..1255
//
// Reads every .npy file numpy writes for the element types int8..int64,
// uint8..uint64, float32 and float64: format versions 1.0, 2.0 and 3.0; C
// (row-major) or Fortran (column-major: np.save of a transposed array, a PyTorch
// tensor after permute()) order; little-endian ('<'), big-endian ('>'), native
// ('=') or byte-order-free ('|', single-byte types) descriptors. Arrays are always
// returned in C order and host byte order. Whole reads and read_rows() batches of a
// little-endian C-order file are one contiguous read; a Fortran-order batch gathers
// the batch's run of rows from every column (the first axis varies fastest there).
// Anything else (bool, complex, strings, structured or object arrays), a bad magic
// string, a malformed header, a size that disagrees with the shape, a truncated or
// overlong file, or a path that is not a regular file (a FIFO would block the
// reader) gives fixq::file_error naming the file and the problem.
// Values are converted to the type asked for: integers to floating point exactly
// where the type can hold them, floating point never to integers, integers to
// integers only when every value fits (else the first that does not is named, by
// its index in C order).
//
// Writing is always C order, little-endian, format version 1.0, and atomic
// (fixq/io/files.hpp): the file appears at close(), whole, or not at all.
#ifndef FIXQ_IO_NPY_HPP
#define FIXQ_IO_NPY_HPP

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fixq/io/files.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

/// The element types of .npy files fixq reads and writes.
enum class DType : unsigned char { Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float32, Float64 };

constexpr std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::Int8: case DType::UInt8: return 1;
    case DType::Int16: case DType::UInt16: return 2;
    case DType::Int32: case DType::UInt32: case DType::Float32: return 4;
    default: return 8;
  }
}
constexpr bool dtype_is_float(DType t) { return t == DType::Float32 || t == DType::Float64; }

/// Calls f(T{}) with the C++ element type of t (the one switch over DType).
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Int8: return f(std::int8_t{});
    case DType::Int16: return f(std::int16_t{});
    case DType::Int32: return f(std::int32_t{});
    case DType::Int64: return f(std::int64_t{});
    case DType::UInt8: return f(std::uint8_t{});
    case DType::UInt16: return f(std::uint16_t{});
    case DType::UInt32: return f(std::uint32_t{});
    case DType::UInt64: return f(std::uint64_t{});
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
  }
  return f(double{});  // (unreachable: every enumerator is handled)
}

/// NumPy's name: "int8", ..., "float64".
constexpr std::string_view dtype_name(DType t) {
  constexpr std::string_view names[] = {"int8",   "int16",  "int32",  "int64",   "uint8",
                                        "uint16", "uint32", "uint64", "float32", "float64"};
  return names[static_cast<int>(t)];
}

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, std::int8_t>) return DType::Int8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return DType::Int16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::Int32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::Int64;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::UInt8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return DType::UInt16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return DType::UInt32;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return DType::UInt64;
  else if constexpr (std::is_same_v<T, float>) return DType::Float32;
  else {
    static_assert(std::is_same_v<T, double>, "fixq npy: the element type must be a fixed-width integer, float or double");
    return DType::Float64;
  }
}

namespace detail {

static_assert(std::endian::native == std::endian::little, "fixq's .npy code assumes a little-endian host");

/// A file name stem for a layer or tensor name: characters outside [A-Za-z0-9_.-]
/// replaced by '_' (so that "block1/conv" names no folder).
inline std::string file_stem(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      c = '_';
  return s;
}

/// The parsed header of a .npy file.
struct NpyHeader {
  DType dtype = DType::Float32;
  bool big_endian = false;     ///< '>' with a multi-byte type: bytes to swap
  bool fortran_order = false;  ///< column-major data: the first axis varies fastest
  Shape shape;
  std::size_t data_offset = 0;  ///< bytes before the data
};

/// Parses the header dictionary, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
/// `fail` throws with the problem.
template <class Fail>
inline void parse_npy_dict(std::string_view h, NpyHeader& out, Fail&& fail) {
  std::size_t i = 0;
  const auto skip = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == '\n' || h[i] == '\r')) ++i;
  };
  const auto expect = [&](char c) {
    skip();
    if (i >= h.size() || h[i] != c) fail(std::string("malformed header: expected '") + c + "' at byte " + std::to_string(i));
    ++i;
  };
  const auto quoted = [&] {
    skip();
    if (i >= h.size() || (h[i] != '\'' && h[i] != '"')) fail("malformed header: expected a quoted string at byte " + std::to_string(i));
    const char q = h[i++];
    const std::size_t start = i;
    while (i < h.size() && h[i] != q) ++i;
    if (i >= h.size()) fail("malformed header: unterminated string");
    return std::string(h.substr(start, i++ - start));
  };
  bool have_descr = false, have_order = false, have_shape = false;
  expect('{');
  for (;;) {
    skip();
    if (i < h.size() && h[i] == '}') { ++i; break; }
    const std::string key = quoted();
    expect(':');
    skip();
    if (key == "descr") {
      const std::string d = quoted();
      static constexpr std::pair<std::string_view, DType> known[] = {
          {"i1", DType::Int8},   {"i2", DType::Int16},  {"i4", DType::Int32},  {"i8", DType::Int64},
          {"u1", DType::UInt8},  {"u2", DType::UInt16}, {"u4", DType::UInt32}, {"u8", DType::UInt64},
          {"f4", DType::Float32}, {"f8", DType::Float64}};
      bool found = false;
      // '<' little-endian, '>' big-endian, '=' native (little-endian here), '|' no
      // byte order (numpy's spelling for single-byte types).
      if (d.size() == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=' || d[0] == '|')) {
        for (const auto& [code, t] : known)
          if (std::string_view(d).substr(1) == code && (d[0] != '|' || dtype_size(t) == 1)) {
            out.dtype = t;
            out.big_endian = d[0] == '>' && dtype_size(t) > 1;
            found = true;
          }
      }
      if (!found)
        fail("unsupported dtype '" + d + "' (fixq reads int8..int64, uint8..uint64, float32 and float64, either byte order)");
      have_descr = true;
    } else if (key == "fortran_order") {
      if (h.substr(i, 5) == "False") {
        i += 5;
        out.fortran_order = false;
      } else if (h.substr(i, 4) == "True") {
        i += 4;
        out.fortran_order = true;
      } else {
        fail("malformed header: fortran_order is neither True nor False");
      }
      have_order = true;
    } else if (key == "shape") {
      expect('(');
      out.shape.clear();
      for (;;) {
        skip();
        if (i < h.size() && h[i] == ')') { ++i; break; }
        std::int64_t v = 0;
        const std::size_t start = i;
        while (i < h.size() && h[i] >= '0' && h[i] <= '9') {
          if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) fail("malformed header: an extent is too large");
          v = v * 10 + (h[i++] - '0');
        }
        if (i == start) fail("malformed header: expected an extent in the shape at byte " + std::to_string(i));
        if (i < h.size() && h[i] == 'L') ++i;  // Python 2 longs
        out.shape.push_back(v);
        skip();
        if (i < h.size() && h[i] == ',') ++i;
        else if (i < h.size() && h[i] == ')') { ++i; break; }
        else fail("malformed header: expected ',' or ')' in the shape");
      }
      have_shape = true;
    } else {
      fail("malformed header: unexpected key '" + key + "'");
    }
    skip();
    if (i < h.size() && h[i] == ',') ++i;
  }
  if (!have_descr || !have_order || !have_shape) fail("malformed header: 'descr', 'fortran_order' or 'shape' is missing");
}

/// Parses the bytes before the data (at least the first 10, up to the header's end).
template <class Fail>
inline NpyHeader parse_npy_header(std::span<const char> bytes, Fail&& fail) {
  static constexpr char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0) fail("not a .npy file (bad magic string)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) fail("unsupported .npy format version " + std::to_string(major));
  const auto b = [&](std::size_t k) { return static_cast<std::size_t>(static_cast<unsigned char>(bytes[k])); };
  std::size_t len, start;
  if (major == 1) {
    len = b(8) | b(9) << 8;
    start = 10;
  } else {
    if (bytes.size() < 12) fail("truncated header");
    len = b(8) | b(9) << 8 | b(10) << 16 | b(11) << 24;
    start = 12;
  }
  if (bytes.size() < start + len) fail("truncated header (" + std::to_string(len) + " bytes announced)");
  NpyHeader h;
  parse_npy_dict(std::string_view(bytes.data() + start, len), h, fail);
  h.data_offset = start + len;
  return h;
}

/// Number of elements of a shape, or fail when it overflows.
template <class Fail>
inline std::size_t checked_elements(const Shape& s, std::size_t item, Fail&& fail) {
  std::size_t n = 1;
  for (const std::int64_t e : s) {
    const auto u = static_cast<std::size_t>(e);
    if (u != 0 && n > std::numeric_limits<std::size_t>::max() / u / item) fail("the shape " + shape_text(s) + " is too large");
    n *= u;
  }
  return n;
}

/// The value of the `sizeof(S)` bytes at p, stored in the other byte order.
template <class S>
inline S load_swapped(const char* p) {
  if constexpr (sizeof(S) == 1) {
    S v;
    std::memcpy(&v, p, 1);
    return v;
  } else {
    using U = std::conditional_t<sizeof(S) == 2, std::uint16_t, std::conditional_t<sizeof(S) == 4, std::uint32_t, std::uint64_t>>;
    U u;
    std::memcpy(&u, p, sizeof(U));
    if constexpr (sizeof(S) == 2) u = __builtin_bswap16(u);
    else if constexpr (sizeof(S) == 4) u = __builtin_bswap32(u);
    else u = __builtin_bswap64(u);
    S v;
    std::memcpy(&v, &u, sizeof(S));
    return v;
  }
}

/// Converts n elements of type `from` at `src` (big-endian when `swap`) to T; fail
/// names a value that does not fit, by its index plus `index_base`.
template <class T, class Fail>
inline void convert_npy(DType from, bool swap, const char* src, std::size_t n, T* dst, Fail&& fail,
                        std::size_t index_base = 0) {
  const auto put = [&]<class S>(std::size_t i, S v) {
    if constexpr (std::is_floating_point_v<T>) {
      dst[i] = static_cast<T>(v);
    } else if constexpr (std::is_floating_point_v<S>) {
      fail(std::string("holds ") + std::string(dtype_name(dtype_of<S>())) + " values where integer codes are expected");
    } else {
      if (!std::in_range<T>(v))
        fail("element " + std::to_string(index_base + i) + " = " + std::to_string(v) + " does not fit " +
             std::string(dtype_name(dtype_of<T>())));
      dst[i] = static_cast<T>(v);
    }
  };
  const auto each = [&]<class S>(S) {
    if (swap) {
      for (std::size_t i = 0; i < n; ++i) put(i, load_swapped<S>(src + i * sizeof(S)));
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        S v;
        std::memcpy(&v, src + i * sizeof(S), sizeof(S));
        put(i, v);
      }
    }
  };
  visit_dtype(from, each);
}

/// Copies the elements of `src`, an array of `shape` in Fortran order, to `dst` in C
/// order (Size: the element's bytes).
template <std::size_t Size>
inline void fortran_to_c(const char* src, char* dst, const Shape& shape) {
  const std::size_t rank = shape.size(), n = shape_size(shape);
  if (n == 0) return;
  std::vector<std::size_t> stride(rank), extent(rank), index(rank, 0);  // Fortran strides, in elements
  for (std::size_t a = 0, s = 1; a < rank; ++a) {
    extent[a] = static_cast<std::size_t>(shape[a]);
    stride[a] = s;
    s *= extent[a];
  }
  std::size_t f = 0;  // the Fortran offset of the C-order element c
  for (std::size_t c = 0; c < n; ++c) {
    std::memcpy(dst + c * Size, src + f * Size, Size);
    for (std::size_t a = rank; a-- > 0;) {  // the next C index: the last axis fastest
      if (++index[a] < extent[a]) {
        f += stride[a];
        break;
      }
      f -= stride[a] * (extent[a] - 1);
      index[a] = 0;
    }
  }
}

/// Rows [first, first + count) of the data `h` describes (`elements` in all) as T:
/// C order, host byte order. `read(offset, n, buffer)` copies n bytes from `offset`
/// bytes into the data. A C-order batch is one read; a Fortran-order batch is one
/// run of `count` elements per column (offset first + rows * column), neighbouring
/// runs merged into one read when the gap between them is small.
template <class T, class Read, class Fail>
inline void read_npy_rows(const NpyHeader& h, std::size_t elements, std::size_t first, std::size_t count, T* dst,
                          Read&& read, Fail&& fail) {
  const std::size_t item = dtype_size(h.dtype);
  const std::size_t rows = h.shape.empty() ? 1 : static_cast<std::size_t>(h.shape[0]);
  const std::size_t per_row = rows == 0 ? 0 : elements / rows;
  const std::size_t n = count * per_row;
  if (n == 0) return;
  std::vector<char> raw(n * item);
  if (!h.fortran_order || h.shape.size() < 2 || per_row == 1) {  // Fortran order equals C order here
    read(first * per_row * item, raw.size(), raw.data());
  } else {
    // In Fortran order, column j (the Fortran-order index of the trailing axes)
    // holds `rows` elements; the batch is the run [first, first + count) of each
    // column, gathered in Fortran order and converted to C order below.
    constexpr std::size_t chunk = std::size_t{4} << 20;
    const std::size_t run = count * item, column = rows * item;
    std::vector<char> span;
    for (std::size_t j = 0; j < per_row;) {
      std::size_t k = 1;  // columns read at once
      if (column - run <= std::max<std::size_t>(run, 4096) && chunk > run)
        k = std::min(per_row - j, (chunk - run) / column + 1);
      const std::size_t bytes = (k - 1) * column + run;
      span.resize(bytes);
      read((first + rows * j) * item, bytes, span.data());
      for (std::size_t q = 0; q < k; ++q) std::memcpy(raw.data() + (j + q) * run, span.data() + q * column, run);
      j += k;
    }
    // raw is now the batch (count, ...) in Fortran order.
    Shape batch = h.shape;
    batch[0] = static_cast<std::int64_t>(count);
    std::vector<char> c_order(raw.size());
    switch (item) {
      case 1: fortran_to_c<1>(raw.data(), c_order.data(), batch); break;
      case 2: fortran_to_c<2>(raw.data(), c_order.data(), batch); break;
      case 4: fortran_to_c<4>(raw.data(), c_order.data(), batch); break;
      default: fortran_to_c<8>(raw.data(), c_order.data(), batch); break;
    }
    raw.swap(c_order);
  }
  convert_npy(h.dtype, h.big_endian, raw.data(), n, dst, fail, first * per_row);
}

/// The header bytes (version 1.0, padded so that the data starts at a multiple of 64).
inline std::string npy_header_bytes(DType t, const Shape& shape) {
  static constexpr std::string_view descr[] = {"|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f4", "<f8"};
  std::string dict = "{'descr': '" + std::string(descr[static_cast<int>(t)]) + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i)
    dict += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  dict += "), }";
  const std::size_t total = 10 + dict.size() + 1;
  const std::size_t pad = (64 - total % 64) % 64;
  dict.append(pad, ' ');
  dict += '\n';
  if (dict.size() > 65535) throw std::invalid_argument("fixq: .npy header too long for shape " + shape_text(shape));
  std::string h("\x93NUMPY\x01\x00", 8);
  h += static_cast<char>(dict.size() & 0xff);
  h += static_cast<char>(dict.size() >> 8);
  return h + dict;
}

}  // namespace detail

/// Reads a .npy file's header on construction, then its data whole or by rows
/// (along the first axis), so that files larger than memory can be processed in
/// batches. Either way the data comes in C order and host byte order.
class NpyReader {
 public:
  explicit NpyReader(std::filesystem::path path) : path_(std::move(path)) {
    require_regular_file(path_, "file");  // before opening: a FIFO would block
    in_.open(path_, std::ios::binary);
    if (!in_) fail("cannot open the file");
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_, ec);
    if (ec) fail("cannot read the file size: " + ec.message());
    std::vector<char> head(static_cast<std::size_t>(std::min<std::uintmax_t>(size, 12)));
    in_.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::size_t need = 10;
    if (head.size() >= 10) {
      const auto b = [&](std::size_t k) { return static_cast<std::size_t>(static_cast<unsigned char>(head[k])); };
      need = head[6] == 1 ? 10 + (b(8) | b(9) << 8)
                          : (head.size() >= 12 ? 12 + (b(8) | b(9) << 8 | b(10) << 16 | b(11) << 24) : 12);
    }
    std::vector<char> bytes(static_cast<std::size_t>(std::min<std::uintmax_t>(size, need)));
    in_.seekg(0);
    in_.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!in_) fail("read error in the header");
    header_ = detail::parse_npy_header(std::span<const char>(bytes), [&](const std::string& w) { fail(w); });
    elements_ = detail::checked_elements(header_.shape, dtype_size(header_.dtype), [&](const std::string& w) { fail(w); });
    const std::uintmax_t want = header_.data_offset + elements_ * dtype_size(header_.dtype);
    if (size < want)
      fail("truncated: " + std::to_string(size) + " bytes, the header announces " + std::to_string(want) + " (shape " +
           shape_text(header_.shape) + ", " + std::string(dtype_name(header_.dtype)) + ")");
    if (size > want)
      fail(std::to_string(size - want) + " bytes after the data of shape " + shape_text(header_.shape));
  }

  const std::filesystem::path& path() const { return path_; }
  DType dtype() const { return header_.dtype; }
  const Shape& shape() const { return header_.shape; }
  std::size_t size() const { return elements_; }
  /// How the file stores the data (the arrays returned are C order, host byte order).
  bool fortran_order() const { return header_.fortran_order; }
  bool big_endian() const { return header_.big_endian; }
  /// Extent of the first axis (1 for a 0-d array).
  std::int64_t rows() const { return header_.shape.empty() ? 1 : header_.shape[0]; }

  /// The whole array as T.
  template <class T>
  NDArray<T> read() {
    NDArray<T> a;
    a.shape = header_.shape;
    a.data.resize(elements_);
    read_into(0, static_cast<std::size_t>(rows()), a.data.data());
    return a;
  }
  /// `count` rows from row `first` (clamped to the end) as T, shape (count, ...).
  template <class T>
  NDArray<T> read_rows(std::int64_t first, std::int64_t count) {
    if (header_.shape.empty()) fail("a 0-d array has no rows");
    if (first < 0) fail("rows from " + std::to_string(first) + ": a negative row");
    count = std::max<std::int64_t>(0, std::min(count, rows() - first));
    const std::size_t per_row = rows() == 0 ? 0 : elements_ / static_cast<std::size_t>(rows());
    NDArray<T> a;
    a.shape = header_.shape;
    a.shape[0] = count;
    a.data.resize(per_row * static_cast<std::size_t>(count));
    read_into(static_cast<std::size_t>(first), static_cast<std::size_t>(count), a.data.data());
    return a;
  }

  [[noreturn]] void fail(const std::string& what) const { throw file_error(path_.string() + ": " + what); }

 private:
  template <class T>
  void read_into(std::size_t first_row, std::size_t count, T* dst) {
    detail::read_npy_rows(
        header_, elements_, first_row, count, dst,
        [&](std::size_t offset, std::size_t n, char* buf) {
          in_.clear();
          in_.seekg(static_cast<std::streamoff>(header_.data_offset + offset));
          in_.read(buf, static_cast<std::streamsize>(n));
          if (!in_) fail("read error in the data");
        },
        [&](const std::string& w) { fail(w); });
  }

  std::filesystem::path path_;
  std::ifstream in_;
  detail::NpyHeader header_;
  std::size_t elements_ = 0;
};

/// The whole file as T (see the top of this file for the conversions).
template <class T>
NDArray<T> read_npy(const std::filesystem::path& path) {
  return NpyReader(path).read<T>();
}

/// Parses a .npy file held in memory; `name` is used in error messages.
template <class T>
NDArray<T> parse_npy(std::span<const char> bytes, const std::string& name) {
  const auto fail = [&](const std::string& w) -> void { throw file_error(name + ": " + w); };
  const detail::NpyHeader h = detail::parse_npy_header(bytes, fail);
  const std::size_t n = detail::checked_elements(h.shape, dtype_size(h.dtype), fail);
  const std::size_t want = h.data_offset + n * dtype_size(h.dtype);
  if (bytes.size() < want) fail("truncated: " + std::to_string(bytes.size()) + " bytes, the header announces " + std::to_string(want));
  if (bytes.size() > want) fail(std::to_string(bytes.size() - want) + " bytes after the data");
  NDArray<T> a;
  a.shape = h.shape;
  a.data.resize(n);
  const std::size_t rows = h.shape.empty() ? 1 : static_cast<std::size_t>(h.shape[0]);
  detail::read_npy_rows(
      h, n, 0, rows, a.data.data(),
      [&](std::size_t offset, std::size_t count, char* buf) { std::memcpy(buf, bytes.data() + h.data_offset + offset, count); },
      fail);
  return a;
}

/// Writes rows of a .npy file whose shape is known up front: the header first,
/// then append() batches; close() checks that exactly the announced number of
/// elements was written. The file is an AtomicFile: with the path constructor it
/// appears at close(), whole; a writer destroyed before close() (an exception
/// half-way) leaves no file and the previous one as it was. With the AtomicFile&
/// constructor (a file of an AtomicGroup) the group's commit() publishes it.
template <class T>
class NpyWriter {
 public:
  NpyWriter(std::filesystem::path path, Shape shape)
      : own_(std::make_unique<AtomicFile>(std::move(path))), file_(own_.get()), shape_(std::move(shape)) {
    start();
  }
  NpyWriter(AtomicFile& file, Shape shape) : file_(&file), shape_(std::move(shape)) { start(); }
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  void append(std::span<const T> values) {
    if (written_ + values.size() > expected_)
      throw file_error(file_->target().string() + ": more elements written than the shape " + shape_text(shape_) + " holds");
    file_->stream().write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size_bytes()));
    file_->check();  // a full disk shows at once, not after the whole run
    written_ += values.size();
  }
  void close() {
    if (written_ != expected_)
      throw file_error(file_->target().string() + ": " + std::to_string(written_) + " elements written for shape " +
                       shape_text(shape_));
    if (own_) own_->commit();
    else file_->check();
  }

 private:
  void start() {
    expected_ = shape_size(shape_);
    const std::string h = detail::npy_header_bytes(dtype_of<T>(), shape_);
    file_->stream().write(h.data(), static_cast<std::streamsize>(h.size()));
  }

  std::unique_ptr<AtomicFile> own_;
  AtomicFile* file_;
  Shape shape_;
  std::size_t expected_ = 0, written_ = 0;
};

/// Writes a whole array (atomically: see NpyWriter).
template <class T>
void write_npy(const std::filesystem::path& path, const NDArray<T>& a) {
  NpyWriter<T> w(path, a.shape);
  w.append(a.data);
  w.close();
}

/// Writes a whole array into a file of an AtomicGroup (published by the group's commit()).
template <class T>
void write_npy(AtomicFile& file, const NDArray<T>& a) {
  NpyWriter<T> w(file, a.shape);
  w.append(a.data);
  w.close();
}

}  // namespace fixq

#endif  // FIXQ_IO_NPY_HPP
