// The .npy reader and writer against files as NumPy writes them (the headers and
// data below are numpy.save's output, byte for byte; tests/io/data/ holds Fortran-order
// and big-endian files numpy and PyTorch wrote, see make_npy.py there), every layout
// on random shapes read whole and in batches of rows, and every malformed case.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fixq/io/npy.hpp>

namespace {

namespace fs = std::filesystem;

std::vector<char> unhex(const std::string& h) {
  std::vector<char> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

/// A version-1.0 .npy file as numpy.save writes it: the dict padded with spaces and a
/// newline so that the data starts at a multiple of 64.
std::vector<char> npy_file(const std::string& dict, const std::string& data_hex, int version = 1) {
  const std::size_t prefix = version == 1 ? 10 : 12;
  std::string d = dict;
  while ((prefix + d.size() + 1) % 64 != 0) d += ' ';
  d += '\n';
  std::vector<char> f = {'\x93', 'N', 'U', 'M', 'P', 'Y', static_cast<char>(version), 0};
  f.push_back(static_cast<char>(d.size() & 0xff));
  f.push_back(static_cast<char>(d.size() >> 8));
  if (version != 1) {
    f.push_back(0);
    f.push_back(0);
  }
  f.insert(f.end(), d.begin(), d.end());
  const auto data = unhex(data_hex);
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

fs::path temp_file(const std::string& name, const std::vector<char>& bytes) {
  const fs::path p = fs::temp_directory_path() / ("fixq_npy_test_" + name);
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}

std::vector<char> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

const std::string f4_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
const std::string f4_data = "000000000000803e0000003f0000403f0000803f0000a03f";  // arange(6) / 4

}  // namespace

TEST_CASE("npy: reads what numpy writes", "[io][npy]") {
  const auto a = fixq::parse_npy<float>(npy_file(f4_dict, f4_data), "a.npy");
  CHECK(a.shape == fixq::Shape{2, 3});
  CHECK(a.data == std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1, 1.25f});

  const auto i2 = fixq::parse_npy<std::int32_t>(
      npy_file("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", "feff2c010080"), "i.npy");
  CHECK(i2.shape == fixq::Shape{3});
  CHECK(i2.data == std::vector<std::int32_t>{-2, 300, -32768});

  const auto s = fixq::parse_npy<double>(npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", "07"), "s.npy");
  CHECK(s.shape.empty());
  CHECK(s.data == std::vector<double>{7});

  const auto e = fixq::parse_npy<double>(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }", ""), "e.npy");
  CHECK(e.shape == fixq::Shape{0, 2});
  CHECK(e.data.empty());

  // Versions 2.0 and 3.0 (4-byte header length), and a header with other spacing.
  CHECK(fixq::parse_npy<float>(npy_file(f4_dict, f4_data, 2), "v2").data.size() == 6);
  CHECK(fixq::parse_npy<float>(npy_file(f4_dict, f4_data, 3), "v3").data.size() == 6);
  CHECK(fixq::parse_npy<float>(npy_file("{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}", f4_data), "x").data[5] == 1.25f);
}

TEST_CASE("npy: writes what numpy writes, byte for byte", "[io][npy]") {
  const fs::path p = fs::temp_directory_path() / "fixq_npy_test_write.npy";
  fixq::write_npy(p, fixq::NDArray<float>({2, 3}, {0, 0.25f, 0.5f, 0.75f, 1, 1.25f}));
  CHECK(read_all(p) == npy_file(f4_dict, f4_data));
  fixq::write_npy(p, fixq::NDArray<std::int16_t>({3}, {-2, 300, -32768}));
  CHECK(read_all(p) == npy_file("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", "feff2c010080"));
  fixq::write_npy(p, fixq::NDArray<std::uint8_t>(fixq::Shape{}, std::vector<std::uint8_t>{7}));
  CHECK(read_all(p) == npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", "07"));
  fixq::write_npy(p, fixq::NDArray<double>({0, 2}));
  CHECK(read_all(p) == npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }", ""));
}

TEST_CASE("npy: every element type round-trips", "[io][npy]") {
  const fs::path p = fs::temp_directory_path() / "fixq_npy_test_types.npy";
  const auto round_trip = [&]<class T>(std::vector<T> v) {
    fixq::write_npy(p, fixq::NDArray<T>({static_cast<std::int64_t>(v.size())}, v));
    fixq::NpyReader r(p);
    CHECK(r.dtype() == fixq::dtype_of<T>());
    CHECK(r.read<T>().data == v);
  };
  round_trip(std::vector<std::int8_t>{-128, 127, 0});
  round_trip(std::vector<std::int16_t>{-32768, 32767});
  round_trip(std::vector<std::int32_t>{INT32_MIN, INT32_MAX});
  round_trip(std::vector<std::int64_t>{INT64_MIN, INT64_MAX});
  round_trip(std::vector<std::uint8_t>{0, 255});
  round_trip(std::vector<std::uint16_t>{0, 65535});
  round_trip(std::vector<std::uint32_t>{0, UINT32_MAX});
  round_trip(std::vector<std::uint64_t>{0, UINT64_MAX});
  round_trip(std::vector<float>{-1.5f, 3e38f});
  round_trip(std::vector<double>{-1.5, 1e300});
}

TEST_CASE("npy: rows in batches", "[io][npy]") {
  const fs::path p = fs::temp_directory_path() / "fixq_npy_test_rows.npy";
  std::vector<std::int32_t> v(5 * 3);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::int32_t>(i);
  {
    fixq::NpyWriter<std::int32_t> w(p, {5, 3});
    w.append(std::span<const std::int32_t>(v).first(6));
    w.append(std::span<const std::int32_t>(v).subspan(6));
    w.close();
  }
  fixq::NpyReader r(p);
  CHECK(r.rows() == 5);
  const auto b = r.read_rows<double>(3, 4);  // clamped to the 2 rows left
  CHECK(b.shape == fixq::Shape{2, 3});
  CHECK(b.data == std::vector<double>{9, 10, 11, 12, 13, 14});
  CHECK(r.read_rows<float>(1, 1).data == std::vector<float>{3, 4, 5});
  // A writer that got fewer elements than its shape says fails on close.
  fixq::NpyWriter<float> short_writer(p, {2});
  short_writer.append(std::vector<float>{1});
  CHECK_THROWS_WITH(short_writer.close(), Catch::Contains("1 elements written for shape (2,)"));
}

TEST_CASE("npy: conversions are exact or refused", "[io][npy]") {
  const auto i2 = npy_file("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", "feff2c010080");
  CHECK_THROWS_WITH(fixq::parse_npy<std::int8_t>(i2, "i.npy"), Catch::Contains("i.npy") && Catch::Contains("element 1 = 300 does not fit int8"));
  CHECK_THROWS_WITH(fixq::parse_npy<std::uint16_t>(i2, "i.npy"), Catch::Contains("element 0 = -2 does not fit uint16"));
  CHECK_THROWS_WITH(fixq::parse_npy<std::int32_t>(npy_file(f4_dict, f4_data), "f.npy"),
                    Catch::Contains("f.npy") && Catch::Contains("float32 values where integer codes are expected"));
}

TEST_CASE("npy: malformed files give an error naming the file and the problem", "[io][npy]") {
  const auto good = npy_file(f4_dict, f4_data);
  const auto fails = [](const std::vector<char>& bytes, const std::string& what) {
    INFO(what);
    CHECK_THROWS_WITH(fixq::parse_npy<float>(bytes, "bad.npy"), Catch::StartsWith("bad.npy: ") && Catch::Contains(what));
    const fs::path p = temp_file("bad.npy", bytes);
    CHECK_THROWS_WITH(fixq::read_npy<float>(p), Catch::StartsWith(p.string() + ": ") && Catch::Contains(what));
  };
  std::vector<char> b = good;
  b[1] = 'X';
  fails(b, "bad magic");
  b = good;
  b[6] = 4;
  fails(b, "version 4");
  fails(std::vector<char>(good.begin(), good.begin() + 5), "bad magic");
  fails(std::vector<char>(good.begin(), good.begin() + 40), "truncated header");
  fails(std::vector<char>(good.begin(), good.end() - 1), "truncated");
  b = good;
  b.push_back(0);
  fails(b, "1 bytes after the data");
  fails(npy_file("{'descr': '<f4', 'fortran_order': Tru, 'shape': (2, 3), }", f4_data), "neither True nor False");
  fails(npy_file("{'descr': '|f4', 'fortran_order': False, 'shape': (2, 3), }", f4_data), "unsupported dtype '|f4'");
  fails(npy_file("{'descr': '>f2', 'fortran_order': False, 'shape': (2, 3), }", f4_data), "unsupported dtype '>f2'");
  fails(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", "01"), "unsupported dtype '|b1'");
  fails(npy_file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "0000000000000000"), "unsupported dtype");
  fails(npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "00000000"), "malformed header");
  fails(npy_file("{'descr': '<f4', 'shape': (2, 3), }", f4_data), "is missing");
  fails(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", f4_data), "expected an extent");
  fails(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", f4_data), "unexpected key 'extra'");
  fails(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999), }", f4_data),
        "too large");
  fails(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", f4_data), "malformed header");
  CHECK_THROWS_WITH(fixq::read_npy<float>("/nonexistent/x.npy"), Catch::StartsWith("/nonexistent/x.npy: cannot open"));
}

namespace {

const fs::path data_dir = fs::path(FIXQ_SOURCE_DIR) / "tests" / "io" / "data";

/// Reads `file` whole as T and in batches of every size from every start, and checks
/// each against `want` (C order).
template <class T>
void check_file(const std::string& file, const fixq::Shape& shape, const std::vector<T>& want) {
  INFO(file);
  const fs::path p = data_dir / file;
  const auto a = fixq::read_npy<T>(p);
  CHECK(a.shape == shape);
  CHECK(a.data == want);
  fixq::NpyReader r(p);
  const std::int64_t rows = r.rows();
  const std::size_t per_row = want.size() / static_cast<std::size_t>(rows);
  for (std::int64_t count = 1; count <= rows; ++count)
    for (std::int64_t first = 0; first < rows; ++first) {
      const auto b = r.read_rows<T>(first, count);
      const std::size_t from = static_cast<std::size_t>(first) * per_row;
      const std::size_t to = std::min(want.size(), static_cast<std::size_t>(first + count) * per_row);
      INFO("rows " << first << " + " << count);
      CHECK(b.data == std::vector<T>(want.begin() + static_cast<std::ptrdiff_t>(from), want.begin() + static_cast<std::ptrdiff_t>(to)));
    }
}

template <class T>
std::vector<T> arange(std::size_t n, double scale, double offset) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<T>(static_cast<double>(i) * scale + offset);
  return v;
}

}  // namespace

TEST_CASE("npy: reads Fortran-order and big-endian files that numpy wrote", "[io][npy]") {
  CHECK(fixq::NpyReader(data_dir / "fortran_f4.npy").fortran_order());
  CHECK(fixq::NpyReader(data_dir / "big_f4.npy").big_endian());
  check_file("fortran_f4.npy", {2, 3, 4}, arange<float>(24, 0.25, 0));
  check_file("fortran_f4.npy", {2, 3, 4}, arange<double>(24, 0.25, 0));
  // (arange(12) - 6).reshape(3, 4).T: element (i, j) is 4 * j + i - 6.
  std::vector<std::int16_t> t(12);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) t[static_cast<std::size_t>(i * 3 + j)] = static_cast<std::int16_t>(4 * j + i - 6);
  check_file("fortran_i2_transposed.npy", {4, 3}, t);
  check_file("fortran_u1.npy", {5, 3, 4}, arange<std::uint8_t>(60, 4, 0));
  check_file("fortran_u1.npy", {5, 3, 4}, arange<double>(60, 4, 0));
  check_file("fortran_i1.npy", {2, 3, 4}, arange<std::int8_t>(24, 1, -12));
  check_file("big_fortran_f8.npy", {4, 3, 2}, arange<double>(24, 0.5, -3));
  // w = arange(120).reshape(2, 3, 4, 5) / 8 (O, I, kh, kw), saved as w.permute(3, 2, 1, 0).
  std::vector<float> p(120);
  for (int kw = 0; kw < 5; ++kw)
    for (int kh = 0; kh < 4; ++kh)
      for (int i = 0; i < 3; ++i)
        for (int o = 0; o < 2; ++o)
          p[static_cast<std::size_t>(((kw * 4 + kh) * 3 + i) * 2 + o)] = static_cast<float>(o * 60 + i * 20 + kh * 5 + kw) / 8;
  check_file("torch_permute.npy", {5, 4, 3, 2}, p);

  // Big-endian: arange(6) - 2 (unsigned: arange(6)) with the type's extremes at both ends.
  const auto big = [&]<class T>(const std::string& name, T) {
    std::vector<T> v = arange<T>(6, 1, std::is_signed_v<T> ? -2 : 0);
    if constexpr (std::is_integral_v<T>) {
      v.front() = std::numeric_limits<T>::min();
      v.back() = std::numeric_limits<T>::max();
    }
    check_file(name, {2, 3}, v);
  };
  big("big_i2.npy", std::int16_t{});
  big("big_i4.npy", std::int32_t{});
  big("big_i8.npy", std::int64_t{});
  big("big_u2.npy", std::uint16_t{});
  big("big_u4.npy", std::uint32_t{});
  big("big_u8.npy", std::uint64_t{});
  big("big_f4.npy", float{});
  big("big_f8.npy", double{});
  // A value that does not fit is named by its index in C order, as for any file.
  CHECK_THROWS_WITH(fixq::read_npy<std::int8_t>(data_dir / "big_i2.npy"), Catch::Contains("element 0 = -32768 does not fit int8"));
  CHECK_THROWS_WITH(fixq::read_npy<std::uint8_t>(data_dir / "fortran_i2_transposed.npy"),
                    Catch::Contains("element 0 = -6 does not fit uint8"));
  CHECK_THROWS_WITH(fixq::read_npy<std::int8_t>(data_dir / "fortran_u1.npy"), Catch::Contains("element 32 = 128 does not fit int8"));
}

TEST_CASE("npy: hand-written Fortran-order and big-endian headers", "[io][npy]") {
  // arange(6) / 4 as (2, 3): Fortran order stores 0, 0.75, 0.25, 1, 0.5, 1.25.
  const std::vector<float> want{0, 0.25f, 0.5f, 0.75f, 1, 1.25f};
  CHECK(fixq::parse_npy<float>(npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                        "000000000000403f0000803e0000803f0000003f0000a03f"), "f").data == want);
  CHECK(fixq::parse_npy<float>(npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
                                        "000000003e8000003f0000003f4000003f8000003fa00000"), "b").data == want);
  CHECK(fixq::parse_npy<float>(npy_file("{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }",
                                        "000000003f4000003e8000003f8000003f0000003fa00000"), "bf").data == want);
  CHECK(fixq::parse_npy<float>(npy_file("{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }", f4_data), "n").data == want);
  CHECK(fixq::parse_npy<int>(npy_file("{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }", "fffe012c8000"), "i").data ==
        std::vector<int>{-2, 300, -32768});
  CHECK(fixq::parse_npy<int>(npy_file("{'descr': '<u1', 'fortran_order': True, 'shape': (1, 2), }", "0102"), "u").data ==
        std::vector<int>{1, 2});
  // One-dimensional and 0-d arrays are the same in both orders; empty ones hold nothing.
  CHECK(fixq::parse_npy<int>(npy_file("{'descr': '<i2', 'fortran_order': True, 'shape': (3,), }", "feff2c010080"), "1").data ==
        std::vector<int>{-2, 300, -32768});
  CHECK(fixq::parse_npy<int>(npy_file("{'descr': '>i2', 'fortran_order': True, 'shape': (), }", "0102"), "0").data ==
        std::vector<int>{258});
  CHECK(fixq::parse_npy<int>(npy_file("{'descr': '>i2', 'fortran_order': True, 'shape': (3, 0, 2), }", ""), "e").data.empty());
}

TEST_CASE("npy: every layout of random shapes, whole and in random batches of rows", "[io][npy]") {
  std::mt19937 g(7);
  const fs::path p = fs::temp_directory_path() / "fixq_npy_test_layouts.npy";
  static constexpr std::pair<const char*, std::size_t> types[] = {{"i1", 1}, {"u1", 1}, {"i2", 2}, {"u2", 2}, {"i4", 4},
                                                                  {"u4", 4}, {"i8", 8}, {"u8", 8}, {"f4", 4}, {"f8", 8}};
  for (int trial = 0; trial < 300; ++trial) {
    const auto [code, item] = types[g() % 10];
    const bool fortran = g() % 2 != 0, big = item > 1 && g() % 2 != 0;
    fixq::Shape shape(g() % 5);
    for (auto& e : shape) e = static_cast<std::int64_t>(g() % (trial % 10 == 0 ? 3 : 6));  // sometimes 0
    const std::size_t n = fixq::shape_size(shape);
    std::vector<double> want(n);  // C order; small values every type holds exactly
    for (double& v : want) v = static_cast<double>(static_cast<int>(g() % 120)) - (code[0] == 'u' ? 0 : 60);
    std::string data(n * item, '\0');
    for (std::size_t c = 0; c < n; ++c) {
      std::size_t f = c;  // c's offset in the file
      if (fortran) {  // the multi-index of c (last axis fastest), then Fortran strides (first axis fastest)
        f = 0;
        std::size_t rest = c;
        for (std::size_t a = shape.size(); a-- > 0;) {
          const std::size_t i = rest % static_cast<std::size_t>(shape[a]);
          rest /= static_cast<std::size_t>(shape[a]);
          std::size_t stride = 1;
          for (std::size_t b = 0; b < a; ++b) stride *= static_cast<std::size_t>(shape[b]);
          f += i * stride;
        }
      }
      char bytes[8];
      const double v = want[c];
      if (code[0] == 'f' && item == 4) { const float x = static_cast<float>(v); std::memcpy(bytes, &x, 4); }
      else if (code[0] == 'f') std::memcpy(bytes, &v, 8);
      else { const auto x = static_cast<std::int64_t>(v); std::memcpy(bytes, &x, item); }  // little-endian host
      for (std::size_t k = 0; k < item; ++k) data[f * item + k] = bytes[big ? item - 1 - k : k];
    }
    std::string dict = std::string("{'descr': '") + (item == 1 ? '|' : big ? '>' : '<') + code +
                       "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (";
    for (std::size_t a = 0; a < shape.size(); ++a) dict += std::to_string(shape[a]) + (shape.size() == 1 || a + 1 < shape.size() ? "," : "");
    dict += "), }";
    std::string hex;
    static constexpr char digits[] = "0123456789abcdef";
    for (const char ch : data) {
      hex += digits[static_cast<unsigned char>(ch) >> 4];
      hex += digits[static_cast<unsigned char>(ch) & 15];
    }
    const auto file = npy_file(dict, hex);
    INFO("trial " << trial << ": " << dict);
    CHECK(fixq::parse_npy<double>(file, "x").data == want);
    std::ofstream(p, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
    fixq::NpyReader r(p);
    CHECK(r.read<double>().data == want);
    if (shape.empty()) continue;
    const std::size_t per_row = shape[0] == 0 ? 0 : n / static_cast<std::size_t>(shape[0]);
    for (std::int64_t first = 0; first < r.rows();) {
      const std::int64_t count = 1 + static_cast<std::int64_t>(g() % 4);
      const auto b = r.read_rows<double>(first, count);
      const std::size_t from = static_cast<std::size_t>(first) * per_row;
      const std::size_t to = std::min(n, static_cast<std::size_t>(first + count) * per_row);
      CHECK(b.data == std::vector<double>(want.begin() + static_cast<std::ptrdiff_t>(from), want.begin() + static_cast<std::ptrdiff_t>(to)));
      first += count;
    }
  }
}

TEST_CASE("npy: a large Fortran-order file in batches (runs merged into one read, and not)", "[io][npy]") {
  // 3000 rows of 40 elements: batches of 1000 rows (gaps between runs small: merged
  // reads) and of 7 rows (gaps large: one read per column).
  const fs::path p = fs::temp_directory_path() / "fixq_npy_test_large_fortran.npy";
  const std::int64_t rows = 3000, cols = 40;
  std::vector<std::int32_t> c_order(static_cast<std::size_t>(rows * cols)), f_order(c_order.size());
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      const auto v = static_cast<std::int32_t>(i * 1000 + j);
      c_order[static_cast<std::size_t>(i * cols + j)] = v;
      f_order[static_cast<std::size_t>(j * rows + i)] = v;
    }
  std::string dict = "{'descr': '<i4', 'fortran_order': True, 'shape': (3000, 40), }";
  std::vector<char> file = npy_file(dict, "");
  const auto* bytes = reinterpret_cast<const char*>(f_order.data());
  file.insert(file.end(), bytes, bytes + f_order.size() * 4);
  std::ofstream(p, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
  fixq::NpyReader r(p);
  CHECK(r.read<std::int32_t>().data == c_order);
  for (const std::int64_t batch : {std::int64_t{1000}, std::int64_t{7}, std::int64_t{2999}}) {
    std::vector<std::int32_t> got;
    for (std::int64_t first = 0; first < rows; first += batch) {
      const auto b = r.read_rows<std::int32_t>(first, batch);
      got.insert(got.end(), b.data.begin(), b.data.end());
    }
    CHECK(got == c_order);
  }
}

TEST_CASE("npy: writers leave no short file and keep the previous one", "[io][npy]") {
  const fs::path dir = fs::temp_directory_path() / "fixq_npy_test_atomic";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path p = dir / "x.npy";
  fixq::write_npy(p, fixq::NDArray<float>({2}, {1, 2}));
  const auto before = read_all(p);
  {
    fixq::NpyWriter<float> w(p, {4});
    w.append(std::vector<float>{5, 6});
    CHECK(read_all(p) == before);  // nothing visible before close()
    // destroyed without close(): an exception half-way
  }
  CHECK(read_all(p) == before);
  {
    fixq::NpyWriter<float> w(p, {4});
    w.append(std::vector<float>{5, 6});
    CHECK_THROWS_WITH(w.close(), Catch::Contains("2 elements written for shape (4,)"));
  }
  CHECK(read_all(p) == before);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temporary left
  // A missing folder and a full device: the system's reason.
  CHECK_THROWS_WITH(fixq::write_npy(dir / "no" / "x.npy", fixq::NDArray<float>({1}, std::vector<float>{1})),
                    Catch::Contains("no/x.npy") && Catch::Contains("No such file or directory"));
  if (fs::exists("/dev/full"))
    CHECK_THROWS_WITH(fixq::write_npy("/dev/full", fixq::NDArray<float>({1}, std::vector<float>{1})),
                      Catch::StartsWith("/dev/full: ") && Catch::Contains("No space left on device"));
  fs::remove_all(dir);
}
