// The .npy reader and writer against files as NumPy writes them (the headers and
// data below are numpy.save's output, byte for byte), and every malformed case.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
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
  fails(npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f4_data), "Fortran-order");
  fails(npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", f4_data), "unsupported dtype '>f4'");
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
  CHECK_THROWS_WITH(fixq::write_npy(dir / "no" / "x.npy", fixq::NDArray<float>({1}, {1})),
                    Catch::Contains("no/x.npy") && Catch::Contains("No such file or directory"));
  if (fs::exists("/dev/full"))
    CHECK_THROWS_WITH(fixq::write_npy("/dev/full", fixq::NDArray<float>({1}, {1})),
                      Catch::StartsWith("/dev/full: ") && Catch::Contains("No space left on device"));
  fs::remove_all(dir);
}
