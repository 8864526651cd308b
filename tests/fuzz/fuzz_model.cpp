// libFuzzer target: model files (fixq/io/model_file.hpp) and, for the models they
// describe, the three forward paths and verify_bit_exact.
//
// The input is the JSON text of a model file. Its weights are the .npy files of a
// fixture folder made once per process in the temp directory (removed at exit):
//
//   conv_w.npy   (3, 3, 2, 4) float32, Conv2D HWIO: 2 input channels, 4 outputs
//   conv1_w.npy  (1, 1, 4, 4) float32, 1x1 Conv2D
//   dw_w.npy     (3, 3, 1, 4) float32, grouped / depthwise Conv2D
//   conv0_w.npy  (1, 1, 2, 0) float32, no output channel
//   tall_w.npy   (4096, 1, 1, 2) float32, a tall kernel (with dilation: windows past 2^31)
//   dense_w.npy  (16, 3) float32, Dense (in, out)
//   dense4_w.npy (4, 3) float64, Dense
//   empty_w.npy  (0, 3) float32
//   b3.npy, b4.npy  (3,), (4,) float32 biases
//   gamma.npy, beta.npy, mean.npy, var.npy  (4,) float32 BatchNorm vectors
//   var_neg.npy  (4,) a negative variance
//   int8_w.npy   (4, 3) int8 (weights must be floating point)
//   trunc.npy    (4, 3) float32, truncated
//   fortran.npy  (4, 3) float32, Fortran order
//   nan.npy      (4,) float32 holding a NaN
//   scalar.npy   () float32, 0-d
//
// parse_model (with LoadOptions::seed for one input in four, by a hash of the text)
// must succeed or throw fixq::file_error (std::invalid_argument and
// fixq::overflow_error are accepted too). A model that loads and is small (at most
// 4096 input elements per sample, at most 10^6 multiply-accumulates and about as
// many elements moved or visited by windows) runs on one random sample: forward_float,
// forward_sim, forward_int, and verify_bit_exact, which must report bit-exactness
// (else the process aborts: the int path differs from the simulation); under
// Overflow::Throw the sim and int paths must both throw fixq::overflow_error or
// neither. At run time std::invalid_argument (e.g. codes too wide for int32) is
// accepted too; any other exception escapes and stops the fuzzer.
//
// Built with -fsanitize=fuzzer when FIXQ_BUILD_FUZZ is ON (Clang), and in every
// build with replay_main.cpp as fuzz_model_replay, which runs the committed corpus.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <fixq/core/format.hpp>
#include <fixq/io/model_file.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>

namespace {

namespace fs = std::filesystem;

fixq::NDArray<float> ramp(fixq::Shape shape, float scale) {
  fixq::NDArray<float> a(std::move(shape));
  for (std::size_t i = 0; i < a.size(); ++i)
    a.data[i] = scale * static_cast<float>(static_cast<int>((i * 7 + 3) % 11) - 5) / 5.0f;
  return a;
}

/// The bytes of a .npy file with the header dictionary `dict` (version 1.0).
std::string npy_bytes(const std::string& dict, std::size_t data_bytes) {
  std::string d = dict;
  while ((10 + d.size() + 1) % 64 != 0) d += ' ';
  d += '\n';
  std::string h("\x93NUMPY\x01\x00", 8);
  h += static_cast<char>(d.size() & 0xff);
  h += static_cast<char>(d.size() >> 8);
  return h + d + std::string(data_bytes, '\0');
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The fixture folder (see the top of this file), made on first use; allocated once
/// and never freed, so that it outlives the exit handler that removes it.
const fs::path& fixture_dir() {
  static const fs::path* const dir = [] {
    const auto* d = new fs::path(fs::temp_directory_path() / ("fixq_fuzz_model_" + std::to_string(::getpid())));
    fs::remove_all(*d);
    fs::create_directories(*d);
    const fs::path& f = *d;
    fixq::write_npy(f / "conv_w.npy", ramp({3, 3, 2, 4}, 0.5f));
    fixq::write_npy(f / "conv1_w.npy", ramp({1, 1, 4, 4}, 0.7f));
    fixq::write_npy(f / "dw_w.npy", ramp({3, 3, 1, 4}, 0.4f));
    fixq::write_npy(f / "conv0_w.npy", fixq::NDArray<float>(fixq::Shape{1, 1, 2, 0}));
    fixq::write_npy(f / "tall_w.npy", ramp({4096, 1, 1, 2}, 0.01f));
    fixq::write_npy(f / "dense_w.npy", ramp({16, 3}, 0.3f));
    {
      const fixq::NDArray<float> w = ramp({4, 3}, 0.6f);
      const std::vector<double> wd(w.data.begin(), w.data.end());
      fixq::write_npy(f / "dense4_w.npy", fixq::NDArray<double>(w.shape, wd));
    }
    fixq::write_npy(f / "empty_w.npy", fixq::NDArray<float>(fixq::Shape{0, 3}));
    fixq::write_npy(f / "b3.npy", ramp({3}, 0.2f));
    fixq::write_npy(f / "b4.npy", ramp({4}, 0.1f));
    fixq::write_npy(f / "gamma.npy", fixq::NDArray<float>({4}, std::vector<float>{1.0f, 0.5f, 2.0f, -1.0f}));
    fixq::write_npy(f / "beta.npy", fixq::NDArray<float>({4}, std::vector<float>{0.0f, 0.25f, -0.5f, 0.125f}));
    fixq::write_npy(f / "mean.npy", fixq::NDArray<float>({4}, std::vector<float>{0.1f, -0.2f, 0.0f, 0.3f}));
    fixq::write_npy(f / "var.npy", fixq::NDArray<float>({4}, std::vector<float>{1.0f, 0.25f, 4.0f, 0.0f}));
    fixq::write_npy(f / "var_neg.npy", fixq::NDArray<float>({4}, std::vector<float>{1.0f, -0.25f, 4.0f, 1.0f}));
    fixq::write_npy(f / "int8_w.npy", fixq::NDArray<std::int8_t>({4, 3}, std::int8_t{3}));
    fixq::write_npy(f / "nan.npy", fixq::NDArray<float>({4}, std::vector<float>{0.0f, std::nanf(""), 1.0f, 2.0f}));
    fixq::write_npy(f / "scalar.npy", fixq::NDArray<float>(fixq::Shape{}, 1.5f));
    write_bytes(f / "trunc.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", 40));
    write_bytes(f / "fortran.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }", 48));
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fixture_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

/// Work of one sample on every path, roughly: multiply-accumulates, elements
/// made, window cells visited and conv patches gathered (in double: the extents
/// of a model that loads may still multiply past int64).
struct Cost {
  double macs = 0, work = 0;
};
Cost model_cost(const fixq::Model& m) {
  Cost c;
  const auto elements = [](const fixq::Shape& s) {
    double n = 1;
    for (const std::int64_t e : s) n *= static_cast<double>(e);
    return n;
  };
  c.work = elements(m.input_shape());
  for (std::size_t i = 0; i < m.size(); ++i) {
    const fixq::Layer& l = m.layer(i);
    const double out = elements(l.output_shape());
    c.macs += static_cast<double>(l.info().macs);
    c.work += out;
    // Pools visit the cells of each window that lie inside the input.
    const auto window_cells = [&](const fixq::WindowGeometry& g) {
      return out * std::min(g.window.size[0], g.in_h) * std::min(g.window.size[1], g.in_w);
    };
    if (const auto* p = dynamic_cast<const fixq::MaxPool2D*>(&l)) {
      c.work += window_cells(p->geometry());
    } else if (const auto* a = dynamic_cast<const fixq::AvgPool2D*>(&l)) {
      c.work += window_cells(a->geometry());
    } else if (const auto* v = dynamic_cast<const fixq::Conv2D*>(&l)) {
      const fixq::Shape& w = v->weights().shape;
      c.work += static_cast<double>(v->geometry().out_h) * v->geometry().out_w * static_cast<double>(w[0]) *
                static_cast<double>(w[1]) * static_cast<double>(w[2]) * v->groups();
    }
  }
  return c;
}

std::uint64_t hash_text(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325u;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3u;
  return h;
}

/// FIXQ_FUZZ_VERBOSE set: say what became of each input (for writing the corpus).
void note(const char* what, const std::string& detail = "") {
  static const bool verbose = std::getenv("FIXQ_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "fuzz_model: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
}

void run(const fixq::ModelFile& f, std::uint64_t seed) {
  const fixq::Model& m = f.model;
  const Cost cost = model_cost(m);
  if (fixq::shape_size(m.input_shape()) > 4096 || cost.macs > 1e6 || cost.work > 1e6) {
    note("loaded, too large to run");
    return;
  }

  // One sample, mostly within the input format's range, sometimes beyond it.
  fixq::Shape shape{1};
  shape.insert(shape.end(), m.input_shape().begin(), m.input_shape().end());
  fixq::NDArray<float> x(shape);
  const fixq::Format& in = m.input_spec().format;
  // (Values beyond float32's range become infinities, which saturate.)
  const double range = f.quantized ? std::min(std::max(std::abs(in.min_value()), in.max_value()), 1e300) : 2.0;
  std::mt19937 rng(static_cast<std::uint32_t>(seed ^ (seed >> 32)));
  std::uniform_real_distribution<double> u(-1.25 * range, 1.25 * range);
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (float& v : x.data) {
    const double d = u(rng);
    v = std::abs(d) <= std::numeric_limits<float>::max() ? static_cast<float>(d) : d > 0 ? inf : -inf;
  }

  try {
    (void)m.forward_float(x);
  } catch (const fixq::overflow_error&) {
  } catch (const std::invalid_argument&) {
  }
  // Under Overflow::Throw the sim and the int path throw on the same inputs.
  try {
    bool sim_threw = false, int_threw = false;
    try {
      (void)m.forward_sim(x);
    } catch (const fixq::overflow_error&) {
      sim_threw = true;
    }
    try {
      (void)m.forward_int(m.input_codes(x));
    } catch (const fixq::overflow_error&) {
      int_threw = true;
    }
    if (sim_threw != int_threw) {
      std::fprintf(stderr, "fuzz_model: Overflow::Throw: the %s path throws, the %s path does not\n",
                   sim_threw ? "sim" : "int", sim_threw ? "int" : "sim");
      std::abort();
    }
    if (sim_threw) {
      note("ran, both paths threw overflow_error");
      return;
    }
    const fixq::VerifyReport r = m.verify_bit_exact(x);
    if (!r.ok) {
      std::fprintf(stderr, "fuzz_model: the int path is not bit-exact (%s model): %s\n",
                   f.quantized ? "quantized" : "float", r.text().c_str());
      std::abort();
    }
    note(f.quantized ? "ran (quantized)" : "ran (float)", r.text());
  } catch (const std::invalid_argument& e) {
    note("ran, invalid_argument", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const fs::path file = fixture_dir() / "model.json";
  try {
    // One input in four with a seed for every stochastic rounding (LoadOptions::seed).
    const std::uint64_t h = hash_text(text);
    fixq::LoadOptions options;
    if (h % 4 == 0) options.seed = h >> 2;
    const fixq::ModelFile f = fixq::parse_model(text, file, options);
    run(f, h);
  } catch (const fixq::file_error& e) {
    note("file_error", e.what());
  } catch (const fixq::overflow_error& e) {
    note("overflow_error", e.what());
  } catch (const std::invalid_argument& e) {
    note("invalid_argument", e.what());
  }
  return 0;
}
