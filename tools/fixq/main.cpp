// fixq - the command-line tool over model files (docs/cli.md).
//
//   fixq info MODEL
//   fixq run MODEL INPUT.npy --path float|sim|int -o OUT.npy [--codes] [--input-codes] [--seed N] [--all DIR]
//   fixq verify MODEL INPUT.npy
//   fixq calibrate MODEL DATA.npy --bits W [--weight-bits W] [--method M] [--per-channel] -o OUT_DIR
//   fixq export MODEL INPUT.npy -o DIR [--count N]
//   fixq bench MODEL [--batch B]
//
// Exit status: 0 success, 1 a verification found a mismatch, 2 bad arguments or a
// file that cannot be read or is malformed (the message names it and the problem).
// Inputs are read and processed in batches of rows, so files larger than memory work.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <fixq/io.hpp>
#include <fixq/model/calibrate.hpp>

namespace {

namespace fs = std::filesystem;

/// A usage problem (exit status 2).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Reads a model's input file in batches: values (preprocessed) or codes.
class InputBatches {
 public:
  InputBatches(const fixq::ModelFile& mf, const fs::path& path, std::int64_t batch, bool codes)
      : mf_(mf), reader_(path), batch_(std::max<std::int64_t>(batch, 1)), codes_(codes) {
    fixq::Shape want = mf.model.input_shape();
    const fixq::Shape& got = reader_.shape();
    if (got.size() != want.size() + 1 || !std::equal(want.begin(), want.end(), got.begin() + 1))
      reader_.fail("has shape " + fixq::shape_text(got) + "; the model takes (N" +
                   (want.empty() ? "" : ", ") + fixq::shape_text(want).substr(1));
    if (codes_ && fixq::dtype_is_float(reader_.dtype()))
      reader_.fail("holds " + std::string(fixq::dtype_name(reader_.dtype())) + "; --input-codes needs integer codes");
  }
  std::int64_t rows() const { return reader_.rows(); }
  std::int64_t batch() const { return batch_; }
  const fs::path& path() const { return reader_.path(); }

  /// Values of rows [first, first + batch), preprocessed.
  fixq::NDArray<float> values(std::int64_t first) {
    fixq::NDArray<double> x = reader_.read_rows<double>(first, batch_);
    fixq::NDArray<float> v;
    v.shape = x.shape;
    v.data.resize(x.size());
    const fixq::Preprocess& p = mf_.preprocess;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double y = x.data[i] * p.scale + p.offset;
      if (!std::isfinite(y)) reader_.fail("element " + std::to_string(first * row_size() + static_cast<std::int64_t>(i)) + " is not finite");
      v.data[i] = static_cast<float>(y);
    }
    return v;
  }
  /// Codes of rows [first, first + batch): given (checked against the input format) or quantized.
  fixq::NDArray<std::int32_t> codes(std::int64_t first) {
    if (!codes_) return mf_.model.input_codes(values(first), static_cast<std::uint64_t>(first));
    fixq::NDArray<std::int64_t> c = reader_.read_rows<std::int64_t>(first, batch_);
    const fixq::Format& f = mf_.model.input_spec().format;
    const std::int64_t lo = f.is_signed ? -(std::int64_t{1} << (f.word - 1)) : 0;
    const std::int64_t hi = f.is_signed ? (std::int64_t{1} << (f.word - 1)) - 1 : (std::int64_t{1} << f.word) - 1;
    fixq::NDArray<std::int32_t> out;
    out.shape = c.shape;
    out.data.resize(c.size());
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (c.data[i] < lo || c.data[i] > hi)
        reader_.fail("code " + std::to_string(c.data[i]) + " at element " +
                     std::to_string(first * row_size() + static_cast<std::int64_t>(i)) + " is outside the input format " +
                     f.name());
      out.data[i] = static_cast<std::int32_t>(c.data[i]);
    }
    return out;
  }

 private:
  std::int64_t row_size() const { return static_cast<std::int64_t>(fixq::shape_size(mf_.model.input_shape())); }
  const fixq::ModelFile& mf_;
  fixq::NpyReader reader_;
  std::int64_t batch_;
  bool codes_;
};

fixq::Shape with_batch(std::int64_t n, const fixq::Shape& s) {
  fixq::Shape b{n};
  b.insert(b.end(), s.begin(), s.end());
  return b;
}

/// Samples per batch: the one asked for, else 256 (stochastic results are keyed by
/// the sample's index in the whole input, so batching never changes them).
std::int64_t default_batch(std::int64_t asked) { return asked > 0 ? asked : 256; }

void require_formats(const fixq::ModelFile& mf, const std::string& what) {
  if (!mf.quantized)
    throw usage_error(mf.path.string() + ": a float model (no formats) has no " + what +
                      "; give it formats with `fixq calibrate`");
}

std::string format_text(const fixq::Format& f) {
  return std::string(f.is_signed ? "s" : "u") + std::to_string(f.word) + "." + std::to_string(f.frac);
}

std::string group(std::int64_t v) {
  std::string s = std::to_string(v), r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0 && s[i - 1] != '-') r += ',';
    r += s[i];
  }
  return r;
}

// ---- info ----

int cmd_info(const fixq::ModelFile& mf) {
  const fixq::Model& m = mf.model;
  std::cout << mf.path.string() << ": " << m.size() << " layers, " << (mf.quantized ? "fixed point" : "float (no formats)")
            << "\n";
  std::cout << "input " << fixq::shape_text(m.input_shape());
  if (mf.quantized)
    std::cout << "  " << format_text(m.input_spec().format) << " " << fixq::to_string(m.input_spec().round) << "/"
              << fixq::to_string(m.input_spec().overflow);
  if (!mf.preprocess.identity()) std::cout << "  preprocess x * " << mf.preprocess.scale << " + " << mf.preprocess.offset;
  std::cout << "\n\n";
  std::ostringstream t;
  t << std::left << std::setw(14) << "layer" << std::setw(16) << "type" << std::setw(16) << "input" << std::setw(16)
    << "output";
  if (mf.quantized) t << std::setw(11) << "in fmt" << std::setw(14) << "weight fmt" << std::setw(11) << "out fmt" << std::setw(5) << "acc";
  t << std::right << std::setw(13) << "MACs" << std::setw(12) << "weight B" << "\n";
  std::int64_t macs = 0, bytes = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const fixq::Layer& l = m.layer(i);
    const fixq::LayerInfo info = l.info();
    std::string in = fixq::shape_text(l.input_shapes()[0]);
    for (std::size_t k = 1; k < l.input_shapes().size(); ++k) in += "+";
    std::string wf = "-";
    if (const fixq::detail::LinearCore* core = l.linear_core()) {
      const auto& f = core->weight_formats();
      const auto [lo, hi] = std::minmax_element(f.begin(), f.end(), [](const auto& a, const auto& b) { return a.frac < b.frac; });
      wf = format_text(*lo);
      if (lo->frac != hi->frac)
        wf = std::string(lo->is_signed ? "s" : "u") + std::to_string(lo->word) + "." + std::to_string(lo->frac) + ".." +
             std::to_string(hi->frac);
    }
    t << std::left << std::setw(14) << l.name() << std::setw(16) << l.type() << std::setw(16) << in << std::setw(16)
      << fixq::shape_text(l.output_shape());
    if (mf.quantized)
      t << std::setw(11) << format_text(l.input_formats()[0]) << std::setw(14) << wf << std::setw(11)
        << format_text(l.output_format()) << std::setw(5) << (info.accumulator_bits ? std::to_string(info.accumulator_bits) : "-");
    t << std::right << std::setw(13) << group(info.macs) << std::setw(12) << group(info.weight_bytes) << "\n";
    macs += info.macs;
    bytes += info.weight_bytes;
  }
  std::cout << t.str() << "\ntotal: " << group(macs) << " MACs per sample, " << group(bytes) << " bytes of weight codes"
            << (mf.quantized ? "" : " (placeholder widths)") << "; outputs:";
  for (const std::string& o : m.outputs()) std::cout << " " << o;
  std::cout << "\n";
  return 0;
}

// ---- run ----

struct RunArgs {
  std::string path = "int";
  fs::path out, all_dir;
  bool codes = false, input_codes = false;
  std::int64_t batch = 0;
};

/// Writes batches of one tensor (float values, or int32 / int64 codes).
class OutputFile {
 public:
  OutputFile(const fs::path& path, const fixq::Shape& shape, bool codes, const fixq::Format& f)
      : codes_(codes), lsb_(f.lsb()) {
    if (!codes) f32_ = std::make_unique<fixq::NpyWriter<float>>(path, shape);
    else if (f.word > 32) i64_ = std::make_unique<fixq::NpyWriter<std::int64_t>>(path, shape);
    else i32_ = std::make_unique<fixq::NpyWriter<std::int32_t>>(path, shape);
  }
  void put(const fixq::NDArray<float>& v) { f32_->append(v.data); }
  void put(const fixq::NDArray<std::int32_t>& c) {
    if (!codes_) {
      std::vector<float> v(c.size());
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(static_cast<double>(c.data[i]) * lsb_);
      f32_->append(v);
    } else if (i64_) {
      i64_->append(std::vector<std::int64_t>(c.data.begin(), c.data.end()));
    } else {
      i32_->append(c.data);
    }
  }
  void close() {
    if (f32_) f32_->close();
    if (i32_) i32_->close();
    if (i64_) i64_->close();
  }

 private:
  bool codes_;
  double lsb_;
  std::unique_ptr<fixq::NpyWriter<float>> f32_;
  std::unique_ptr<fixq::NpyWriter<std::int32_t>> i32_;
  std::unique_ptr<fixq::NpyWriter<std::int64_t>> i64_;
};

int cmd_run(const fixq::ModelFile& mf, const fs::path& input, const RunArgs& a) {
  const fixq::Model& m = mf.model;
  const bool is_float = a.path == "float", is_sim = a.path == "sim";
  if (!is_float) require_formats(mf, "sim or int path");
  if (a.codes && !(a.path == "int")) throw usage_error("--codes needs --path int (the float and sim paths give values)");
  if (a.input_codes && a.path != "int") throw usage_error("--input-codes needs --path int");
  const std::int64_t batch = default_batch(a.batch);
  InputBatches in(mf, input, batch, a.input_codes);
  const std::int64_t n = in.rows();
  const std::string out_name = m.outputs().front();
  const fixq::Layer& out_layer = m.layer(out_name);
  OutputFile out(a.out, with_batch(n, out_layer.output_shape()), a.codes, out_layer.output_format());
  std::vector<std::unique_ptr<OutputFile>> all;
  if (!a.all_dir.empty()) {
    std::error_code ec;
    fs::create_directories(a.all_dir, ec);
    if (ec) throw fixq::file_error(a.all_dir.string() + ": cannot create the folder: " + ec.message());
    std::map<std::string, std::string> stems;  // two layers must not write one file
    for (std::size_t i = 0; i < m.size(); ++i) {
      const auto [at, fresh] = stems.emplace(fixq::detail::file_stem(m.layer(i).name()), m.layer(i).name());
      if (!fresh)
        throw usage_error("--all: layers '" + at->second + "' and '" + m.layer(i).name() + "' would both write " +
                          (a.all_dir / (at->first + ".npy")).string());
    }
    for (std::size_t i = 0; i < m.size(); ++i)
      all.push_back(std::make_unique<OutputFile>(a.all_dir / (fixq::detail::file_stem(m.layer(i).name()) + ".npy"),
                                                 with_batch(n, m.layer(i).output_shape()), a.codes,
                                                 m.layer(i).output_format()));
  }
  std::size_t oi = 0;
  for (std::size_t i = 0; i < m.size(); ++i)
    if (m.layer(i).name() == out_name) oi = i;
  for (std::int64_t first = 0; first < n; first += in.batch()) {
    if (is_float || is_sim) {
      const fixq::NDArray<float> x = in.values(first);
      const auto ys = is_float ? m.forward_float_all(x) : m.forward_sim_all(x, static_cast<std::uint64_t>(first));
      out.put(ys[oi]);
      for (std::size_t i = 0; i < all.size(); ++i) all[i]->put(ys[i]);
    } else {
      const auto ys = m.forward_int_all(in.codes(first), static_cast<std::uint64_t>(first));
      out.put(ys[oi]);
      for (std::size_t i = 0; i < all.size(); ++i) all[i]->put(ys[i]);
    }
  }
  out.close();
  for (auto& f : all) f->close();
  std::cerr << "wrote " << a.out.string() << ": " << n << " samples of " << out_name << " " << fixq::shape_text(out_layer.output_shape())
            << " (" << a.path << " path" << (a.codes ? ", codes" : "") << ")\n";
  return 0;
}

// ---- verify ----

int cmd_verify(const fixq::ModelFile& mf, const fs::path& input, std::int64_t batch_arg) {
  require_formats(mf, "integer network to verify");
  const fixq::Model& m = mf.model;
  const std::int64_t batch = default_batch(batch_arg);
  InputBatches in(mf, input, batch, false);
  std::size_t elements = 0;
  for (std::int64_t first = 0; first < in.rows(); first += in.batch()) {
    const fixq::VerifyReport r = m.verify_bit_exact(in.values(first), static_cast<std::uint64_t>(first));
    elements += r.elements_checked;
    if (!r.ok) {
      // The element's index in the whole input: batch offset plus the index in this batch.
      const std::size_t per_sample = fixq::shape_size(m.layer(r.layer).output_shape());
      std::cout << "MISMATCH in layer '" << r.layer << "' at sample " << (static_cast<std::size_t>(first) + r.index / per_sample)
                << ", element " << r.index % per_sample << " of " << fixq::shape_text(m.layer(r.layer).output_shape())
                << ": sim " << std::setprecision(17) << r.sim_value << ", int code " << r.int_code << " = " << r.int_value
                << "\n";
      return 1;
    }
  }
  std::cout << "bit-exact: " << in.rows() << " samples, " << m.size() << " layers, " << elements
            << " elements: int code * lsb == sim value for every one\n";
  return 0;
}

// ---- calibrate ----

struct CalibrateArgs {
  int bits = 8, weight_bits = 0;
  std::string method = "MaxAbs";
  double overflow_rate = 0;
  bool per_channel = false;
  std::int64_t count = 0;
  fs::path out;
};

int cmd_calibrate(const fixq::ModelFile& mf, const fs::path& data, const CalibrateArgs& a) {
  fixq::CalibrationSpec c;
  c.activation_bits = a.bits;
  c.weight_bits = a.weight_bits > 0 ? a.weight_bits : a.bits;
  if (a.method == "MaxAbs") c.method = fixq::FracMethod::MaxAbs;
  else if (a.method == "OverflowRate") c.method = fixq::FracMethod::OverflowRate;
  else if (a.method == "MinMSE") c.method = fixq::FracMethod::MinMSE;
  else throw usage_error("--method must be MaxAbs, OverflowRate or MinMSE, got " + a.method);
  if (a.overflow_rate != 0 && c.method != fixq::FracMethod::OverflowRate)
    throw usage_error("--overflow-rate needs --method OverflowRate");
  c.overflow_rate = a.overflow_rate;
  c.per_channel = a.per_channel;
  c.choose_signedness = !mf.quantized;  // a float model says nothing about signedness
  InputBatches in(mf, data, a.count > 0 ? a.count : std::numeric_limits<std::int32_t>::max(), false);
  const fixq::NDArray<float> x = in.values(0);
  const fixq::Model q = fixq::calibrate(mf.model, x, c);
  fixq::save_model(q, a.out, {.quantized = true, .preprocess = mf.preprocess});
  std::cerr << "wrote " << (a.out / "model.json").string() << ": " << c.activation_bits << "-bit activations, "
            << c.weight_bits << "-bit weights" << (c.per_channel ? " per channel" : "") << ", " << a.method << ", from "
            << x.dim(0) << " samples\n";
  return 0;
}

// ---- export ----

int cmd_export(const fixq::ModelFile& mf, const fs::path& input, const fs::path& dir, std::int64_t count, bool input_codes) {
  require_formats(mf, "integer codes to export");
  InputBatches in(mf, input, std::max<std::int64_t>(count, 1), input_codes);
  fixq::write_export_codes(mf.model, in.codes(0), dir, {.count = count});
  std::cerr << "wrote " << (dir / "manifest.json").string() << ": " << mf.model.size() << " layers, golden vectors for "
            << std::min(count, in.rows()) << " inputs (.npy, .hex, .h per tensor)\n";
  return 0;
}

// ---- bench ----

int cmd_bench(const fixq::ModelFile& mf, std::int64_t batch, int repeat) {
  const fixq::Model& m = mf.model;
  std::mt19937 gen(1);
  fixq::NDArray<float> x(with_batch(batch, m.input_shape()));
  // Inputs spread over the input format's range (a float model: [-1, 1]).
  double lo = -1, hi = 1;
  if (mf.quantized) {
    const fixq::Format& f = m.input_spec().format;
    hi = static_cast<double>(f.max_code()) * f.lsb();
    lo = f.is_signed ? -hi : 0;
  }
  std::uniform_real_distribution<double> u(lo, hi);
  for (float& v : x.data) v = static_cast<float>(u(gen));
  const auto time = [&](auto&& f) {
    std::vector<double> t;
    for (int r = 0; r < repeat; ++r) {
      const auto s = std::chrono::steady_clock::now();
      f();
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  const double tf = time([&] { (void)m.forward_float_all(x); });
  std::cout << "batch " << batch << ", median of " << repeat << " runs, one process (threads: Eigen's default)\n";
  std::cout << std::fixed << std::setprecision(3) << "float  " << std::setw(9) << tf * 1e3 << " ms  " << std::setw(10)
            << std::setprecision(0) << batch / tf << " samples/s\n";
  if (mf.quantized) {
    const auto codes = m.input_codes(x);
    const double ts = time([&] { (void)m.forward_sim_all(x); });
    const double ti = time([&] { (void)m.forward_int_all(codes); });
    std::cout << std::setprecision(3) << "sim    " << std::setw(9) << ts * 1e3 << " ms  " << std::setw(10)
              << std::setprecision(0) << batch / ts << " samples/s\n"
              << std::setprecision(3) << "int    " << std::setw(9) << ti * 1e3 << " ms  " << std::setw(10)
              << std::setprecision(0) << batch / ti << " samples/s\n"
              << std::setprecision(2) << "ratios: int / float " << ti / tf << ", sim / float " << ts / tf
              << ", int / sim " << ti / ts << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fixq: run, verify, calibrate and export fixed-point neural network models (docs/cli.md)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "fixq 0.1.0");
  std::string model;
  fs::path input;
  std::optional<std::uint64_t> seed;
  std::int64_t batch = 0;

  auto* info = app.add_subcommand("info", "one line per layer: shapes, formats, accumulator, MACs, weight bytes");
  info->add_option("MODEL", model, "model.json or its folder")->required();

  RunArgs run;
  auto* runc = app.add_subcommand("run", "run a path of the model on inputs");
  runc->add_option("MODEL", model, "model.json or its folder")->required();
  runc->add_option("INPUT", input, ".npy of shape (N, *input shape): raw values (preprocessed), or codes")->required();
  runc->add_option("--path", run.path, "float, sim or int")->check(CLI::IsMember({"float", "sim", "int"}))->required();
  runc->add_option("-o,--output", run.out, "output .npy (the model's first output)")->required();
  runc->add_flag("--codes", run.codes, "write integer codes (int path) instead of float values");
  runc->add_flag("--input-codes", run.input_codes, "INPUT holds codes of the input format (int path)");
  runc->add_option("--seed", seed, "seed of stochastic rounding (replaces the file's seeds)");
  runc->add_option("--all", run.all_dir, "also write every layer's output to DIR/<layer>.npy");
  runc->add_option("--batch", run.batch, "samples per batch (default 256)");

  auto* verify = app.add_subcommand("verify", "check that the int path equals the sim path on every layer");
  verify->add_option("MODEL", model, "model.json or its folder")->required();
  verify->add_option("INPUT", input, ".npy of inputs (N, *input shape)")->required();
  verify->add_option("--seed", seed, "seed of stochastic rounding (replaces the file's seeds)");
  verify->add_option("--batch", batch, "samples per batch (default 256)");

  CalibrateArgs cal;
  auto* calc = app.add_subcommand("calibrate", "choose every fractional length from data (dynamic fixed point)");
  calc->add_option("MODEL", model, "model.json or its folder")->required();
  calc->add_option("DATA", input, ".npy of calibration inputs (N, *input shape)")->required();
  calc->add_option("--bits", cal.bits, "activation word (and weight word unless --weight-bits)")->required()->check(CLI::Range(1, fixq::Layer::max_word));
  calc->add_option("--weight-bits", cal.weight_bits, "weight word")->check(CLI::Range(1, fixq::Layer::max_word));
  calc->add_option("--method", cal.method, "MaxAbs, OverflowRate or MinMSE")->check(CLI::IsMember({"MaxAbs", "OverflowRate", "MinMSE"}));
  calc->add_option("--overflow-rate", cal.overflow_rate, "fraction of values allowed to saturate (OverflowRate)")->check(CLI::Range(0.0, 1.0));
  calc->add_flag("--per-channel", cal.per_channel, "one weight fraction per output channel");
  calc->add_option("--count", cal.count, "use the first N samples of DATA (default: all)");
  calc->add_option("-o,--output", cal.out, "output folder (model.json and weights)")->required();

  fs::path export_dir;
  std::int64_t count = 10;
  bool export_codes = false;
  auto* exp = app.add_subcommand("export", "integer weights and golden vectors (.npy, .hex, C headers) for test benches");
  exp->add_option("MODEL", model, "model.json or its folder")->required();
  exp->add_option("INPUT", input, ".npy of inputs (N, *input shape)")->required();
  exp->add_option("-o,--output", export_dir, "output folder")->required();
  exp->add_option("--count", count, "golden vectors for the first N inputs (default 10)")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  exp->add_flag("--input-codes", export_codes, "INPUT holds codes of the input format");
  exp->add_option("--seed", seed, "seed of stochastic rounding (replaces the file's seeds)");

  std::int64_t bench_batch = 64;
  int repeat = 5;
  auto* bench = app.add_subcommand("bench", "time the float, sim and int paths in one run");
  bench->add_option("MODEL", model, "model.json or its folder")->required();
  bench->add_option("--batch", bench_batch, "samples per run (default 64)")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20));
  bench->add_option("--repeat", repeat, "runs per path (median reported; default 5)")->check(CLI::Range(1, 1000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    const fixq::ModelFile mf = fixq::load_model(model, {.seed = seed});
    if (info->parsed()) return cmd_info(mf);
    if (runc->parsed()) return cmd_run(mf, input, run);
    if (verify->parsed()) return cmd_verify(mf, input, batch);
    if (calc->parsed()) return cmd_calibrate(mf, input, cal);
    if (exp->parsed()) return cmd_export(mf, input, export_dir, count, export_codes);
    if (bench->parsed()) return cmd_bench(mf, bench_batch, repeat);
  } catch (const fixq::file_error& e) {
    std::cerr << "fixq: " << e.what() << "\n";
    return 2;
  } catch (const usage_error& e) {
    std::cerr << "fixq: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {  // layer_error and the library's argument checks
    std::cerr << "fixq: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "fixq: error: " << e.what() << "\n";
    return 2;
  }
  return 2;
}
