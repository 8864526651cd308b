// Exports for test benches: the three file forms of a code tensor (.npy, .hex, C
// header) against hand-written expectations, and a whole export against the model:
// weight codes in file order, golden vectors equal to the int path, and a Dense layer
// recomputed from the exported files and the manifest's shifts alone.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <fixq/io/code_files.hpp>
#include <fixq/io/export.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>

#include "support/random_layers.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("fixq_export_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::string> lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// A .hex line back to a code: word bits, two's complement when signed.
std::int64_t from_hex(const std::string& line, int word, bool is_signed) {
  const std::uint64_t u = std::stoull(line, nullptr, 16);
  if (is_signed && word < 64 && (u >> (word - 1)) & 1) return static_cast<std::int64_t>(u | (~std::uint64_t{0} << word));
  return static_cast<std::int64_t>(u);
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

}  // namespace

TEST_CASE("code files: hex lines, dtypes and C literals", "[io][export]") {
  const fs::path d = fresh_dir("hex");
  const auto hex = [&](int word, bool is_signed, std::vector<std::int64_t> codes) {
    const fixq::CodeTensor t{"t", {static_cast<std::int64_t>(codes.size())}, word, is_signed, codes};
    fixq::write_code_hex(d / "t.hex", t);
    return lines(d / "t.hex");
  };
  CHECK(hex(1, true, {-1, 0}) == std::vector<std::string>{"1", "0"});
  CHECK(hex(4, true, {-8, 7, -1, 0}) == std::vector<std::string>{"8", "7", "f", "0"});
  CHECK(hex(5, false, {31, 16, 0}) == std::vector<std::string>{"1f", "10", "00"});
  CHECK(hex(5, true, {-16, -1, 15}) == std::vector<std::string>{"10", "1f", "0f"});
  CHECK(hex(12, true, {-2048, 2047, -2}) == std::vector<std::string>{"800", "7ff", "ffe"});
  CHECK(hex(32, true, {INT32_MIN, -1}) == std::vector<std::string>{"80000000", "ffffffff"});
  CHECK(hex(64, true, {INT64_MIN, -1, 1}) ==
        std::vector<std::string>{"8000000000000000", "ffffffffffffffff", "0000000000000001"});

  // Random codes of every word round-trip through the .hex and the .npy form.
  fixq_test::Rng r(1);
  for (int word = 1; word <= 64; ++word)
    for (const bool is_signed : {true, false}) {
      if (!is_signed && word == 64) continue;  // codes are int64
      std::vector<std::int64_t> codes;
      for (int i = 0; i < 50; ++i) {
        const std::uint64_t u = (static_cast<std::uint64_t>(r.g()) >> (64 - word));
        codes.push_back(is_signed && word < 64 && (u >> (word - 1)) ? static_cast<std::int64_t>(u | (~std::uint64_t{0} << word))
                                                                     : static_cast<std::int64_t>(u));
      }
      const fixq::CodeTensor t{"t", {5, 10}, word, is_signed, codes};
      fixq::write_code_hex(d / "t.hex", t);
      const auto ls = lines(d / "t.hex");
      REQUIRE(ls.size() == codes.size());
      for (std::size_t i = 0; i < codes.size(); ++i) {
        CHECK(ls[i].size() == static_cast<std::size_t>((word + 3) / 4));
        CHECK(from_hex(ls[i], word, is_signed) == codes[i]);
      }
      fixq::write_code_npy(d / "t.npy", t);
      fixq::NpyReader npy(d / "t.npy");
      CHECK(npy.dtype() == fixq::code_dtype(word, is_signed));
      CHECK(npy.shape() == fixq::Shape{5, 10});
      CHECK(npy.read<std::int64_t>().data == codes);
    }
  CHECK(fixq::code_dtype(8, true) == fixq::DType::Int8);
  CHECK(fixq::code_dtype(9, false) == fixq::DType::UInt16);
  CHECK(fixq::code_dtype(17, true) == fixq::DType::Int32);
  CHECK(fixq::code_dtype(33, true) == fixq::DType::Int64);

  CHECK(fixq::detail::c_hex_literal(-128, 8, true) == "(-0x7f - 1)");
  CHECK(fixq::detail::c_hex_literal(-127, 8, true) == "-0x7f");
  CHECK(fixq::detail::c_hex_literal(INT32_MIN, 32, true) == "(-0x7fffffff - 1)");
  CHECK(fixq::detail::c_hex_literal(INT64_MIN, 64, true) == "(-0x7fffffffffffffff - 1)");
  CHECK(fixq::detail::c_hex_literal(255, 8, false) == "0xff");
  CHECK(fixq::detail::c_hex_literal(4000000000, 32, false) == "0xee6b2800U");
  CHECK(fixq::detail::c_hex_literal(-5, 64, true) == "-0x5");
  CHECK(fixq::detail::c_identifier("conv1.weight") == "conv1_weight");
  CHECK(fixq::detail::c_identifier("1x/y") == "t_1x_y");
}

TEST_CASE("code files: the C header holds the codes and the format", "[io][export]") {
  const fs::path d = fresh_dir("header");
  const fixq::CodeTensor t{"fc.weight", {2, 3}, 8, true, {-128, 127, -1, 0, 5, -6}};
  fixq::write_code_header(d / "fc.weight.h", t, json{{"word", 8}, {"frac", {3, 4, 5}}, {"signed", true}});
  std::ifstream in(d / "fc.weight.h");
  std::stringstream s;
  s << in.rdbuf();
  const std::string h = s.str();
  for (const char* part : {"#ifndef FIXQ_EXPORT_FC_WEIGHT_H", "#include <stdint.h>", "#define FC_WEIGHT_RANK 2",
                           "#define FC_WEIGHT_DIM0 2", "#define FC_WEIGHT_DIM1 3", "#define FC_WEIGHT_SIZE 6",
                           "#define FC_WEIGHT_WORD 8", "#define FC_WEIGHT_SIGNED 1", "#define FC_WEIGHT_FRACS {3, 4, 5}",
                           "static const int8_t fc_weight[6] = {", "(-0x7f - 1), 0x7f, -0x1, 0x0, 0x5, -0x6"}) {
    INFO(part << "\n" << h);
    CHECK(h.find(part) != std::string::npos);
  }
}

TEST_CASE("export: manifest, weight order, golden vectors and the Dense arithmetic", "[io][export]") {
  fixq_test::Rng r(21);
  const auto arr = [&](fixq::Shape s, float sc) {
    fixq::NDArray<float> a(std::move(s));
    for (float& v : a.data) v = r.normal(sc);
    return a;
  };
  fixq::Model m({6, 6, 2}, {.format = {8, 7, false}});
  fixq::Window2D w;
  w.strides = {2, 1};
  w.padding = fixq::Padding::same();
  fixq::LinearFormats cf{{8, 7, false}, {6, 5}, {4, 5, 6}, {}, {.format = {8, 4}}};
  m.add(fixq::Conv2D("conv", arr({3, 2, 2, 3}, 0.4f), arr({3}, 0.1f), w, 1, cf));
  // Depthwise, 2 x 2 windows: in HWIO the group's weights are not contiguous.
  fixq::Window2D dww;
  dww.padding = fixq::Padding::explicit_pads(1, 0, 1, 0);
  fixq::LinearFormats dwf{{8, 4}, {8, 6}, {}, {}, {.format = {8, 4}}};
  m.add(fixq::Conv2D("dw", arr({2, 2, 1, 3}, 0.4f), {}, dww, 3, dwf));
  m.add(fixq::ReLU("relu"));
  m.add(fixq::Flatten("flat"));
  fixq::LinearFormats df{{8, 4}, {8, 6}, {}, fixq::Format{16, 8}, {.format = {8, 6}, .overflow = fixq::Overflow::Wrap}};
  const auto& dense = m.add(fixq::Dense("fc", arr({54, 4}, 1.5f), arr({4}, 0.5f), df));
  fixq::NDArray<float> x({7, 6, 6, 2});
  for (float& v : x.data) v = static_cast<float>(r.uniform(0, 255)) / 256;

  const fs::path d = fresh_dir("model");
  fixq::write_export(m, x, d, {.count = 5});
  const json man = read_json(d / "manifest.json");
  CHECK(man["count"] == 5);
  CHECK(man["outputs"] == json{"fc"});

  // Every tensor: the three files agree, and the manifest describes them.
  std::map<std::string, fixq::NDArray<std::int64_t>> t;
  for (const json& e : man["tensors"]) {
    const std::string name = e["name"];
    INFO(name);
    fixq::NpyReader npy(d / e["files"]["npy"].get<std::string>());
    CHECK(std::string(fixq::dtype_name(npy.dtype())) == e["dtype"].get<std::string>());
    CHECK(json(npy.shape()) == e["shape"]);
    t[name] = npy.read<std::int64_t>();
    const auto ls = lines(d / e["files"]["hex"].get<std::string>());
    REQUIRE(ls.size() == t[name].size());
    for (std::size_t i = 0; i < ls.size(); ++i)
      CHECK(from_hex(ls[i], e["format"]["word"], e["format"]["signed"]) == t[name].data[i]);
    CHECK(fs::exists(d / e["files"]["c"].get<std::string>()));
  }
  CHECK(t.size() == 1 + 3 * 2 + 5);  // input, 3 weighted layers x (weight, bias), 5 outputs

  // Golden vectors: the input codes and every layer's int-path output.
  fixq::NDArray<float> x5 = x;
  x5.shape[0] = 5;
  x5.data.resize(5 * 72);
  const auto nearest_even_codes = [](const fixq::NDArray<float>& w, const std::vector<int>& frac, double lo, double hi) {
    std::vector<std::int64_t> c;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double q = std::nearbyint(std::ldexp(static_cast<double>(w.data[i]), frac[i % frac.size()]));
      c.push_back(static_cast<std::int64_t>(std::clamp(q, lo, hi)));
    }
    return c;
  };
  const auto codes = m.input_codes(x5);
  CHECK(t["input"].data == std::vector<std::int64_t>(codes.data.begin(), codes.data.end()));
  const auto outs = m.forward_int_all(codes);
  for (std::size_t i = 0; i < m.size(); ++i) {
    const auto& o = t[m.layer(i).name() + ".output"];
    CHECK(o.shape == outs[i].shape);
    CHECK(o.data == std::vector<std::int64_t>(outs[i].data.begin(), outs[i].data.end()));
  }

  // Conv weights in HWIO: each code is the float weight on its channel's grid
  // (NearestEven, saturated to 6 bits), computed here without the library.
  const auto& conv = dynamic_cast<const fixq::Conv2D&>(m.layer("conv"));
  const json& cl = man["layers"][0];
  CHECK(cl["weight_format"]["frac"] == json{4, 5, 6});
  CHECK(cl["strides"] == json{2, 1});
  CHECK(cl["padding"] == json{0, 1, 0, 1});  // same: 3 rows at stride 2 over 6 -> 1 extra at the bottom
  CHECK(t["conv.weight"].shape == fixq::Shape{3, 2, 2, 3});
  CHECK(t["conv.weight"].data == nearest_even_codes(conv.weights(), cf.weight_frac, -32, 31));
  const auto& dw = dynamic_cast<const fixq::Conv2D&>(m.layer("dw"));
  CHECK(t["dw.weight"].shape == fixq::Shape{2, 2, 1, 3});
  CHECK(t["dw.weight"].data == nearest_even_codes(dw.weights(), {6}, -128, 127));
  CHECK(man["layers"][1]["groups"] == 3);
  CHECK(man["layers"][1]["padding"] == json{1, 0, 1, 0});

  // The Dense layer from the files and the manifest alone: T = (P << product_shift) +
  // (b << bias_shift), then a right shift by `shift` with ties to even, wrapped to 8 bits.
  const json& dl = man["layers"][4];
  CHECK(dl["type"] == "Dense");
  CHECK(dl["round"] == "NearestEven");
  CHECK(dl["overflow"] == "Wrap");
  CHECK(dl["accumulator_bits"] == dense.info().accumulator_bits);
  const auto& xin = t["flat.output"];
  const auto& wc = t["fc.weight"];
  const auto& bc = t["fc.bias"];
  const auto& golden = t["fc.output"];
  int wrapped = 0;
  for (std::int64_t n = 0; n < 5; ++n)
    for (std::int64_t c = 0; c < 4; ++c) {
      std::int64_t p = 0;
      for (std::int64_t k = 0; k < 54; ++k) p += xin.data[static_cast<std::size_t>(n * 54 + k)] * wc.data[static_cast<std::size_t>(k * 4 + c)];
      const auto cc = static_cast<std::size_t>(c);
      const std::int64_t total = p * (std::int64_t{1} << dl["requantize"]["product_shift"][cc].get<int>()) +
                                 bc.data[cc] * (std::int64_t{1} << dl["requantize"]["bias_shift"][cc].get<int>());
      const int s = dl["requantize"]["shift"][cc];
      REQUIRE(s > 0);
      const double exact = std::ldexp(static_cast<double>(total), -s);  // exact: |total| < 2^53
      const auto q = static_cast<std::int64_t>(std::nearbyint(exact));  // ties to even (default FE mode)
      std::int64_t y = ((q % 256) + 256) % 256;
      if (y >= 128) y -= 256;
      wrapped += y != q;
      CHECK(golden.data[static_cast<std::size_t>(n * 4 + c)] == y);
    }
  CHECK(wrapped > 0);  // the test covers the wrap-around
  CHECK(dl["bias_format"] == json{{"word", 16}, {"frac", 8}, {"signed", true}});
}

TEST_CASE("export: unsigned bias codes keep their type", "[io][export]") {
  fixq::Model m({3}, {.format = {8, 4}});
  fixq::LinearFormats f{{8, 4}, {8, 6}, {}, fixq::Format{8, 4, false}, {.format = {8, 4}}};
  m.add(fixq::Dense("fc", fixq::NDArray<float>({3, 2}, {0.5f, -0.25f, 1, 0, 0.125f, 1}),
                    fixq::NDArray<float>({2}, {12.0f, 15.1875f}), f));
  const fs::path d = fresh_dir("unsigned_bias");
  fixq::write_export(m, fixq::NDArray<float>({1, 3}, {1, -1, 0.5f}), d, {.count = 1});
  fixq::NpyReader b(d / "fc.bias.npy");
  CHECK(b.dtype() == fixq::DType::UInt8);
  CHECK(b.read<std::int64_t>().data == std::vector<std::int64_t>{192, 243});
  CHECK(lines(d / "fc.bias.hex") == std::vector<std::string>{"c0", "f3"});
  std::ifstream h(d / "fc.bias.h");
  const std::string text((std::istreambuf_iterator<char>(h)), {});
  CHECK(text.find("#define FC_BIAS_SIGNED 0") != std::string::npos);
  CHECK(text.find("static const uint8_t fc_bias[2] = {\n  0xc0, 0xf3") != std::string::npos);
}

TEST_CASE("export: a folder holding files is refused unless forced; colliding names before any write", "[io][export]") {
  fixq::Model m({3}, {.format = {8, 4}});
  const fixq::LinearFormats f{{8, 4}, {8, 6}, {}, {}, {.format = {8, 4}}};
  m.add(fixq::Dense("fc", fixq::NDArray<float>({3, 2}, {0.5f, -0.25f, 1, 0, 0.125f, 1}), {}, f));
  const fixq::NDArray<float> x({1, 3}, {1, -1, 0.5f});
  const fs::path d = fresh_dir("non_empty");
  std::ofstream(d / "input.npy") << "the user's own file";
  CHECK_THROWS_WITH(fixq::write_export(m, x, d), Catch::Contains("not empty") && Catch::Contains("force"));
  CHECK(lines(d / "input.npy") == std::vector<std::string>{"the user's own file"});
  CHECK(std::distance(fs::directory_iterator(d), fs::directory_iterator()) == 1);
  fixq::write_export(m, x, d, {.count = 1, .force = true});
  CHECK(fixq::NpyReader(d / "input.npy").shape() == fixq::Shape{1, 3});

  // Layers "a/b" and "a_b" (or "Net" and "net") would write the same files: an error,
  // and the folder stays as it was (here: absent).
  for (const auto& [first, second] : {std::pair{"a/b", "a_b"}, std::pair{"Net", "net"}}) {
    fixq::Model two({3}, {.format = {8, 4}});
    two.add(fixq::ReLU(first));
    two.add(fixq::ReLU(second));
    const fs::path e = fs::temp_directory_path() / "fixq_export_test_collide";
    fs::remove_all(e);
    CHECK_THROWS_WITH(fixq::write_export(two, x, e), Catch::Contains(first) && Catch::Contains(second));
    CHECK_FALSE(fs::exists(e));
  }
}
