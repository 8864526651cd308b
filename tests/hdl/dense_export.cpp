// dense_export - exports random Dense layers with fixq::write_export and prepares
// tests/hdl/tb_dense.sv for each of them.
//
//   dense_export DIR
//
// For every configuration below: DIR/<config>/ receives the export (manifest.json
// and the tensors' .npy/.hex/.h files), then, read back from manifest.json (the
// interface a hardware flow uses, not the model in memory):
//   requant.hex   per output channel {product_shift, bias_shift, shift}, 8-bit signed each
//   params.txt    the test bench's iverilog parameters, one -P argument per line
//   plusargs.txt  its vvp plusargs (the .hex files), one per line
// DIR/configs.txt lists the configurations, one per line. tests/hdl/run_dense.sh runs them.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <fixq/io/export.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>

namespace fs = std::filesystem;
using fixq::Format;
using fixq::Overflow;
using fixq::Round;
using json = nlohmann::json;

namespace {

/// One Dense layer to export: shapes, formats, modes and the spread of the random
/// inputs, weights and bias (normal, standard deviations in value units).
struct Config {
  std::string name;
  int count, in, out;
  Format input, weight;
  std::vector<int> weight_frac;  // per output channel, or empty
  std::optional<Format> bias;    // default: 32 bits at the product fraction
  fixq::QuantSpec output;
  float x_sd, w_sd, b_sd;
};

std::vector<Config> configs() {
  return {
      // The common case: 8-bit codes, fixq's default modes; some outputs saturate.
      {"int8_nearest_even_saturate", 16, 32, 8, Format{8, 6}, Format{8, 7}, {}, {},
       {Format{8, 5}, Round::NearestEven, Overflow::Saturate}, 1.0f, 0.3f, 0.5f},
      // Unsigned 4-bit input, 4-bit weights with a fraction per output channel, Floor
      // and Wrap: many outputs wrap.
      {"uint4_per_channel_floor_wrap", 16, 24, 8, Format{4, 4, false}, Format{4, 2}, {1, 2, 3, 4, 2, 3, 1, 0}, {},
       {Format{6, 3}, Round::Floor, Overflow::Wrap}, 0.5f, 1.5f, 0.5f},
      // 12-bit codes, a 24-bit bias finer than the products (product_shift 2),
      // NearestAway and SaturateSymmetric.
      {"int12_nearest_away_symmetric", 12, 16, 8, Format{12, 10}, Format{12, 11}, {}, Format{24, 23},
       {Format{12, 9}, Round::NearestAway, Overflow::SaturateSymmetric}, 1.5f, 0.5f, 0.4f},
      // Weight fractions from -1 to 4: the shift runs from -3 (a left shift: the
      // accumulator is coarser than the output) to 2; SaturateZero.
      {"negative_shift_ties_pos_inf_saturate_zero", 16, 8, 6, Format{8, 2}, Format{8, 0}, {-1, 0, 1, 2, 3, 4}, {},
       {Format{10, 4}, Round::NearestTiesToPosInf, Overflow::SaturateZero}, 2.0f, 4.0f, 2.0f},
      // Unsigned weights and an unsigned output (negative sums saturate to 0), a
      // 16-bit bias coarser than the products (bias_shift 3), NearestOdd.
      {"unsigned_out_nearest_odd", 16, 12, 6, Format{6, 3}, Format{5, 4, false}, {}, Format{16, 4},
       {Format{6, 2, false}, Round::NearestOdd, Overflow::Saturate}, 1.0f, 0.6f, 2.0f},
      // 16-bit codes and 64 inputs: an exact sum of about 38 bits (an int64
      // accumulator in fixq), TowardZero and Wrap.
      {"int16_wide_sum_toward_zero_wrap", 8, 64, 4, Format{16, 12}, Format{16, 14}, {}, {},
       {Format{16, 10}, Round::TowardZero, Overflow::Wrap}, 3.0f, 0.8f, 4.0f},
  };
}

fixq::NDArray<float> normal_array(std::mt19937& g, fixq::Shape shape, float sd) {
  fixq::NDArray<float> a(std::move(shape));
  std::normal_distribution<float> d(0.0f, sd);
  for (float& v : a.data) v = d(g);
  return a;
}

template <class Mode, std::size_t K>
int mode_index(const Mode (&all)[K], const std::string& name, const char* what) {
  for (std::size_t i = 0; i < K; ++i)
    if (fixq::to_string(all[i]) == name) return static_cast<int>(i);
  throw std::runtime_error(std::string("manifest: unknown ") + what + " '" + name + "'");
}

std::string hex8(int v) {
  if (v < -128 || v > 127) throw std::runtime_error("manifest: shift " + std::to_string(v) + " does not fit 8 bits");
  std::ostringstream s;
  s << std::hex << std::setw(2) << std::setfill('0') << (static_cast<unsigned>(v) & 0xffu);
  return s.str();
}

/// The .hex file of the tensor `name` listed in the manifest, checked to have `shape`.
fs::path tensor_hex(const json& manifest, const fs::path& dir, const std::string& name, const fixq::Shape& shape) {
  for (const json& t : manifest.at("tensors"))
    if (t.at("name") == name) {
      if (t.at("shape").get<fixq::Shape>() != shape)
        throw std::runtime_error("manifest: tensor " + name + " has shape " + t.at("shape").dump());
      return fs::absolute(dir / t.at("files").at("hex").get<std::string>());
    }
  throw std::runtime_error("manifest: no tensor " + name);
}

void export_one(const Config& cfg, const fs::path& dir, std::uint64_t seed) {
  std::mt19937 g(static_cast<std::mt19937::result_type>(seed));
  fixq::Model model({cfg.in}, fixq::QuantSpec{cfg.input});
  model.add(fixq::Dense("fc", normal_array(g, {cfg.in, cfg.out}, cfg.w_sd), normal_array(g, {cfg.out}, cfg.b_sd),
                        fixq::LinearFormats{cfg.input, cfg.weight, cfg.weight_frac, cfg.bias, cfg.output}));
  const fixq::NDArray<float> x = normal_array(g, {cfg.count, cfg.in}, cfg.x_sd);
  fixq::write_export(model, x, dir, fixq::ExportOptions{.count = cfg.count});

  // Everything below comes from the manifest.
  json m;
  std::ifstream(dir / "manifest.json") >> m;
  const json& layer = m.at("layers").at(0);
  if (layer.at("type") != "Dense") throw std::runtime_error("manifest: layer 0 is not Dense");
  const std::string name = layer.at("name");
  const json& in_f = layer.at("input_format");
  const json& w_f = layer.at("weight_format");
  const json& b_f = layer.at("bias_format");
  const json& out_f = layer.at("output_format");
  const json& rq = layer.at("requantize");
  const auto n = m.at("count").get<std::int64_t>();
  const auto in = layer.at("input_shape").at(0).get<std::int64_t>();
  const auto out = layer.at("output_shape").at(0).get<std::int64_t>();

  std::ofstream r(dir / "requant.hex");
  const auto ps = rq.at("product_shift").get<std::vector<int>>();
  const auto bs = rq.at("bias_shift").get<std::vector<int>>();
  const auto sh = rq.at("shift").get<std::vector<int>>();
  if (static_cast<std::int64_t>(sh.size()) != out || ps.size() != sh.size() || bs.size() != sh.size())
    throw std::runtime_error("manifest: requantize arrays do not have one entry per output channel");
  for (std::size_t c = 0; c < sh.size(); ++c) r << hex8(ps[c]) << hex8(bs[c]) << hex8(sh[c]) << "\n";

  const auto flag = [](const json& f) { return f.at("signed").get<bool>() ? 1 : 0; };
  std::ofstream p(dir / "params.txt");
  const std::string top = "-Ptb_dense.";
  p << top << "N=" << n << "\n"
    << top << "IN=" << in << "\n"
    << top << "OUT=" << out << "\n"
    << top << "IN_W=" << in_f.at("word") << "\n"
    << top << "IN_SIGNED=" << flag(in_f) << "\n"
    << top << "W_W=" << w_f.at("word") << "\n"
    << top << "W_SIGNED=" << flag(w_f) << "\n"
    << top << "B_W=" << b_f.at("word") << "\n"
    << top << "B_SIGNED=" << flag(b_f) << "\n"
    << top << "OUT_W=" << out_f.at("word") << "\n"
    << top << "OUT_SIGNED=" << flag(out_f) << "\n"
    << top << "ROUND=" << mode_index(fixq::all_rounds, layer.at("round"), "round") << "\n"
    << top << "OVERFLOW=" << mode_index(fixq::all_overflows, layer.at("overflow"), "overflow") << "\n"
    << top << "ACC_W=" << layer.at("exact_sum_bits") << "\n";

  std::ofstream a(dir / "plusargs.txt");
  a << "+input=" << tensor_hex(m, dir, "input", {n, in}).string() << "\n"
    << "+weight=" << tensor_hex(m, dir, name + ".weight", {in, out}).string() << "\n"
    << "+bias=" << tensor_hex(m, dir, name + ".bias", {out}).string() << "\n"
    << "+output=" << tensor_hex(m, dir, name + ".output", {n, out}).string() << "\n"
    << "+requant=" << fs::absolute(dir / "requant.hex").string() << "\n";
  for (std::ofstream* f : {&r, &p, &a}) {
    f->close();
    if (!*f) throw std::runtime_error("cannot write the test bench files in " + dir.string());
  }
  std::cout << cfg.name << ": " << name << " " << in << " -> " << out << ", shifts " << rq.at("shift").dump() << ", "
            << n << " samples\n";
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::cerr << "usage: dense_export DIR\n";
    return 2;
  }
  const fs::path root = argv[1];
  fs::create_directories(root);
  std::ofstream list(root / "configs.txt");
  std::uint64_t seed = 20240601;
  for (const Config& cfg : configs()) {
    const fs::path dir = root / cfg.name;
    fs::remove_all(dir);
    export_one(cfg, dir, seed++);
    list << cfg.name << "\n";
  }
  list.close();
  if (!list) throw std::runtime_error("cannot write " + (root / "configs.txt").string());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "dense_export: " << e.what() << "\n";
  return 1;
}
