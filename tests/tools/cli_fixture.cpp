// Writes the fixture of the `fixq` tool's test (cli.sh) into a folder: a model with
// most layer types as a float and as a quantized model file (with a preprocess),
// raw uint8 inputs, their codes, and what each path must give, computed here with the
// library's API: the tool's output files must equal these byte for byte. Also the
// same inputs as numpy stores them in Fortran order and big-endian, and hostile
// inputs (no samples, values that overflow float32).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <fixq/io.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>

namespace {

/// Writes `a` as numpy does with the given layout: Fortran order (the first axis
/// fastest) and / or big-endian bytes, as element type T ('descr' names it).
template <class T, class S>
void write_layout(const std::filesystem::path& path, const fixq::NDArray<S>& a, const std::string& descr, bool fortran) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (";
  for (std::size_t i = 0; i < a.shape.size(); ++i) dict += std::to_string(a.shape[i]) + (i + 1 < a.shape.size() ? ", " : "");
  dict += "), }";
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(dict.size() & 0xff);
  bytes += static_cast<char>(dict.size() >> 8);
  bytes += dict;
  const std::size_t n = a.size(), rank = a.shape.size();
  std::vector<char> data(n * sizeof(T));
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t f = c;
    if (fortran) {  // c's multi-index (last axis fastest), placed with the first axis fastest
      f = 0;
      for (std::size_t k = rank, rest = c; k-- > 0;) {
        std::size_t stride = 1;
        for (std::size_t j = 0; j < k; ++j) stride *= static_cast<std::size_t>(a.shape[j]);
        f += rest % static_cast<std::size_t>(a.shape[k]) * stride;
        rest /= static_cast<std::size_t>(a.shape[k]);
      }
    }
    const T v = static_cast<T>(a.data[c]);
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (descr[0] == '>') std::reverse(b, b + sizeof(T));
    std::memcpy(data.data() + f * sizeof(T), b, sizeof(T));
  }
  bytes.append(data.begin(), data.end());
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cli_fixture DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::mt19937 g(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto arr = [&](fixq::Shape s, float scale) {
    fixq::NDArray<float> a(std::move(s));
    for (float& v : a.data) v = normal(g) * scale;
    return a;
  };
  fixq::Model m({8, 8, 1}, {.format = {8, 8, false}});
  fixq::Window2D same;
  same.padding = fixq::Padding::same();
  m.add(fixq::Conv2D("conv1", arr({3, 3, 1, 4}, 0.5f), arr({4}, 0.1f), same, 1,
                     {{8, 8, false}, {8, 7}, {}, {}, {.format = {8, 5}}}));
  m.add(fixq::ReLU("relu1"));
  m.add(fixq::BatchNorm("bn", {{1, 0.5f, 2, 1}, {0, 0.1f, 0, -0.1f}, {0.2f, 0, 0.1f, 0}, {1, 2, 0.5f, 1}, 1e-5f},
                        {{8, 5}, {8, 6}, {}, {}, {.format = {8, 4}, .round = fixq::Round::Floor}}));
  m.add(fixq::Add("sum", {.format = {8, 4}, .overflow = fixq::Overflow::SaturateSymmetric}), {"bn", "relu1"});
  m.add(fixq::MaxPool2D("pool", {2, 2}));
  m.add(fixq::Flatten("flat"));
  m.add(fixq::Dense("fc/out", arr({64, 5}, 0.2f), arr({5}, 0.2f),
                    {{8, 4}, {8, 7}, {}, {}, {.format = {12, 6}, .round = fixq::Round::NearestAway}}));
  const fixq::Preprocess pre{1.0 / 255, 0};
  fixq::save_model(m, dir / "float", {.quantized = false, .preprocess = pre});
  fixq::save_model(m, dir / "quant", {.quantized = true, .preprocess = pre});

  // 20 raw images and what each path gives on them after the preprocess.
  fixq::NDArray<std::uint8_t> raw({20, 8, 8, 1});
  std::uniform_int_distribution<int> pixel(0, 255);
  for (std::uint8_t& v : raw.data) v = static_cast<std::uint8_t>(pixel(g));
  fixq::write_npy(dir / "raw.npy", raw);
  // The same pixels as numpy may store them: Fortran order ('|u1'), and big-endian
  // float32 in Fortran order.
  write_layout<std::uint8_t>(dir / "raw_fortran.npy", raw, "|u1", true);
  write_layout<float>(dir / "raw_big_fortran.npy", raw, ">f4", true);
  // Hostile inputs: no samples; a float64 value that float32 cannot hold (sample 1,
  // element 28); a 1x1x1 sample for a hand-written model.
  fixq::write_npy(dir / "empty.npy", fixq::NDArray<std::uint8_t>({0, 8, 8, 1}));
  fixq::NDArray<double> huge({2, 8, 8, 1});
  for (std::size_t i = 0; i < huge.size(); ++i) huge.data[i] = static_cast<double>(raw.data[i]);
  huge.data[64 + 28] = 1e300;
  fixq::write_npy(dir / "huge.npy", huge);
  fixq::write_npy(dir / "one.npy", fixq::NDArray<float>({1, 1, 1, 1}, std::vector<float>{1.0f}));
  fixq::NDArray<float> x({20, 8, 8, 1});
  for (std::size_t i = 0; i < x.size(); ++i) x.data[i] = static_cast<float>(static_cast<double>(raw.data[i]) * pre.scale + pre.offset);
  fixq::write_npy(dir / "x_float.npy", x);
  const auto codes = m.input_codes(x);
  fixq::NDArray<std::uint8_t> codes8({20, 8, 8, 1});
  for (std::size_t i = 0; i < codes.size(); ++i) codes8.data[i] = static_cast<std::uint8_t>(codes.data[i]);
  fixq::write_npy(dir / "input_codes.npy", codes8);
  fixq::write_npy(dir / "expected_float.npy", m.forward_float(x));
  fixq::write_npy(dir / "expected_sim.npy", m.forward_sim(x));
  fixq::write_npy(dir / "expected_codes.npy", m.forward_int(codes));
  // Codes one past the input format (8 bits unsigned): the tool must refuse them.
  fixq::NDArray<std::int16_t> bad({1, 8, 8, 1});
  bad.data[5] = 256;
  fixq::write_npy(dir / "bad_codes.npy", bad);
  return 0;
}
