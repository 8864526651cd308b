// fixq - the command-line tool over model files (docs/cli.md).
//
//   fixq info MODEL
//   fixq run MODEL INPUT.npy --path float|sim|int -o OUT.npy [--codes] [--input-codes] [--seed N] [--all DIR]
//   fixq verify MODEL INPUT.npy
//   fixq calibrate MODEL DATA.npy --bits W [--weight-bits W] [--method M] [--per-channel] -o OUT_DIR
//   fixq export MODEL INPUT.npy -o DIR [--count N] [--force]
//   fixq bench MODEL [--batch B]
//
// Exit status: 0 success, 1 a verification found a mismatch, 2 bad arguments or a
// file that cannot be read or is malformed (the message names it and the problem).
// Inputs are read and processed in batches of rows, so files larger than memory work.
// Every check of an input or an argument happens before anything is written: input
// files must be regular files (a FIFO would block), no output may be an input, and
// the memory a batch needs is estimated from the shapes first (--max-memory). The
// outputs of `run` appear together when the run succeeded (fixq/io/files.hpp).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
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

/// A whole decimal number in [lo, hi] from an argument, else a usage error naming
/// `what`. Numeric options are parsed here rather than by CLI11, which accepts
/// octal ("010" = 8) and hexadecimal and may wrap or clamp out-of-range values.
std::uint64_t parse_whole(const std::string& text, const std::string& what, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  const bool digits = !text.empty() && text[0] >= '0' && text[0] <= '9';
  if (!digits || ec != std::errc() || ptr != end || v < lo || v > hi)
    throw usage_error(what + ": expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got '" +
                      text + "'");
  return v;
}

/// Bytes with an optional binary suffix: 4096, 512M, 4G (K, M, G, T: powers of 1024).
std::uint64_t parse_bytes(const std::string& given, const std::string& what) {
  std::string text = given;
  std::uint64_t unit = 1;
  if (!text.empty()) {
    const char c = text.back();
    const std::string suffixes = "KMGT";
    if (const auto k = suffixes.find(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c)); k != std::string::npos) {
      unit = std::uint64_t{1} << (10 * (k + 1));
      text.pop_back();
    }
  }
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max() / unit;
  try {
    return parse_whole(text, what, 1, max) * unit;
  } catch (const usage_error&) {
    throw usage_error(what + ": expected a number of bytes (1 or more, suffix K, M, G or T allowed), got '" + given + "'");
  }
}

/// The default memory limit of one batch (--max-memory, FIXQ_MAX_MEMORY).
constexpr std::uint64_t default_max_memory = std::uint64_t{4} << 30;

std::string bytes_text(double b) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1);
  if (b >= 1024.0 * 1024 * 1024) s << b / (1024.0 * 1024 * 1024) << " GiB";
  else if (b >= 1024.0 * 1024) s << b / (1024.0 * 1024) << " MiB";
  else s << std::setprecision(0) << b << " bytes";
  return s.str();
}

/// What one sample needs while the model runs, estimated from the shapes: every
/// layer's output, which the paths keep for the whole batch (`bytes_per_output` per
/// element: 4 for one path, 8 for verify's two), plus the input read as double and
/// converted to float32 (12 bytes per element). Temporaries of a layer come on top.
struct SampleMemory {
  double bytes = 0;
  std::string largest;  // the layer with the largest output
  fixq::Shape largest_shape;
  double largest_bytes = 0;
};

SampleMemory sample_memory(const fixq::Model& m, double bytes_per_output) {
  SampleMemory s;
  s.bytes = 12.0 * static_cast<double>(fixq::shape_size(m.input_shape()));
  for (std::size_t i = 0; i < m.size(); ++i) {
    double e = 1;  // in double: a hostile shape must not overflow the estimate
    for (const std::int64_t d : m.layer(i).output_shape()) e *= static_cast<double>(d);
    const double b = e * bytes_per_output;
    s.bytes += b;
    if (b > s.largest_bytes) s.largest = m.layer(i).name(), s.largest_shape = m.layer(i).output_shape(), s.largest_bytes = b;
  }
  return s;
}

/// The most samples that fit in `limit` bytes at once; a usage error naming the
/// largest layer when not even one does.
std::int64_t samples_in_memory(const fixq::ModelFile& mf, double bytes_per_output, std::uint64_t limit) {
  const SampleMemory s = sample_memory(mf.model, bytes_per_output);
  const double fit = std::floor(static_cast<double>(limit) / s.bytes);
  if (fit < 1)
    throw usage_error(mf.path.string() + ": one sample needs about " + bytes_text(s.bytes) + " (layer '" + s.largest +
                      "' alone: output " + fixq::shape_text(s.largest_shape) + ", " + bytes_text(s.largest_bytes) +
                      "), more than the memory limit of " + bytes_text(static_cast<double>(limit)) +
                      " (--max-memory or FIXQ_MAX_MEMORY)");
  return fit >= 9e18 ? std::numeric_limits<std::int64_t>::max() : static_cast<std::int64_t>(fit);
}

/// Samples per batch: `want`, or fewer so that a batch fits in `limit` bytes (said
/// on stderr when the file has more rows than fit at once).
std::int64_t fit_batch(const fixq::ModelFile& mf, std::int64_t want, std::int64_t rows, double bytes_per_output,
                       std::uint64_t limit) {
  const std::int64_t most = samples_in_memory(mf, bytes_per_output, limit);
  if (want <= most) return want;
  if (std::min(want, rows) > most)
    std::cerr << "fixq: a batch of " << std::min(want, rows) << " samples would need about "
              << bytes_text(sample_memory(mf.model, bytes_per_output).bytes * static_cast<double>(std::min(want, rows)))
              << "; using batches of " << most << " to stay within " << bytes_text(static_cast<double>(limit))
              << " (--max-memory)\n";
  return most;
}

/// Refuses to write a folder of outputs (`calibrate`'s model, `export`'s files) over
/// an input: `file` (the input or the model file) is refused when it lies in `dir`
/// and is named like a file written there: `fixed` names, or a layer's file stem
/// followed by `sep` ("conv1_w.npy", "conv1.weight.hex").
void refuse_folder_over(const fs::path& file, const std::string& what, const fs::path& dir, const fixq::Model& m,
                        const std::vector<std::string>& fixed, char sep) {
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(file, ec);
  if (ec || !fixq::same_file(real.parent_path(), dir)) return;
  // (compared without case: on a case-insensitive file system Conv1_w.npy is conv1_w.npy)
  const std::string name = fixq::detail::fold_case(real.filename().string());
  bool clash = false;
  for (const std::string& f : fixed) clash = clash || fixq::detail::fold_case(f) == name;
  for (std::size_t i = 0; i < m.size() && !clash; ++i)
    clash = name.starts_with(fixq::detail::fold_case(fixq::detail::file_stem(m.layer(i).name()) + sep));
  if (clash)
    throw usage_error(file.string() + ": is " + what + ", and writing " + dir.string() + " could replace it; write elsewhere");
}

/// Checks that the model file (`model`, or model.json in the folder `model`) is a
/// regular file before load_model opens it.
void require_model_file(const std::string& model) {
  std::error_code ec;
  const fs::path p(model);
  if (fs::is_directory(p, ec)) fixq::require_regular_file(p / "model.json", "model file");
  else fixq::require_regular_file(p, "model file");
}

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
    const fixq::NDArray<double> x = reader_.read_rows<double>(first, batch_);
    fixq::NDArray<float> v(x.shape);
    try {
      fixq::preprocess_input(mf_.preprocess, mf_.model.input_shape(), x.data.data(), x.size(), first, v.data.data());
    } catch (const std::invalid_argument& e) {
      reader_.fail(e.what());
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

// ---- info ----

int cmd_info(const fixq::ModelFile& mf) {
  std::cout << fixq::model_summary(mf);
  return 0;
}

// ---- run ----

struct RunArgs {
  std::string path = "int";
  fs::path out, all_dir;
  bool codes = false, input_codes = false;
  std::int64_t batch = 0;
  std::uint64_t max_memory = default_max_memory;
};

/// Writes batches of one tensor (float values, or int32 / int64 codes) into a file
/// of an AtomicGroup, which publishes it when the whole run succeeded.
class OutputFile {
 public:
  OutputFile(fixq::AtomicFile& file, const fixq::Shape& shape, bool codes, const fixq::Format& f)
      : codes_(codes), lsb_(f.lsb()) {
    if (!codes) f32_ = std::make_unique<fixq::NpyWriter<float>>(file, shape);
    else if (f.word > 32) i64_ = std::make_unique<fixq::NpyWriter<std::int64_t>>(file, shape);
    else i32_ = std::make_unique<fixq::NpyWriter<std::int32_t>>(file, shape);
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
  fixq::require_regular_file(input, "input file");
  // Every output is checked against the inputs before anything is written.
  std::vector<fs::path> all_files;
  if (!a.all_dir.empty()) {
    fixq::FileNames names;  // two layers must not write one file (in any case: macOS, Windows)
    for (std::size_t i = 0; i < m.size(); ++i) {
      const std::string file = fixq::detail::file_stem(m.layer(i).name()) + ".npy";
      try {
        names.claim(file, "layer '" + m.layer(i).name() + "'");
      } catch (const std::invalid_argument& e) {
        throw usage_error("--all: " + std::string(e.what()).substr(std::string_view(e.what()).starts_with("fixq: ") ? 6 : 0) +
                          " in " + a.all_dir.string());
      }
      all_files.push_back(a.all_dir / file);
    }
  }
  const auto refuse_input = [&](const fs::path& out, const fs::path& in_file, const std::string& what) {
    if (fixq::same_file(out, in_file))
      throw usage_error(out.string() + ": is " + what + " " + in_file.string() + "; writing it would destroy it");
  };
  refuse_input(a.out, input, "the input file");
  refuse_input(a.out, mf.path, "the model file");
  std::error_code ec;
  const fs::path out_canonical = fs::weakly_canonical(a.out, ec);
  for (std::size_t i = 0; i < all_files.size(); ++i) {
    refuse_input(all_files[i], input, "the input file");
    refuse_input(all_files[i], mf.path, "the model file");
    if (fixq::same_file(a.out, all_files[i]) || (!ec && fs::weakly_canonical(all_files[i], ec) == out_canonical && !ec))
      throw usage_error(a.out.string() + ": is also --all's file of layer '" + m.layer(i).name() + "' (" +
                        all_files[i].string() + ")");
  }
  InputBatches in(mf, input, fit_batch(mf, batch, fixq::NpyReader(input).rows(), 4, a.max_memory), a.input_codes);
  const std::int64_t n = in.rows();
  const std::string out_name = m.outputs().front();
  const fixq::Layer& out_layer = m.layer(out_name);
  if (!a.all_dir.empty()) {
    fs::create_directories(a.all_dir, ec);
    if (ec) throw fixq::file_error(a.all_dir.string() + ": cannot create the folder: " + ec.message());
  }
  fixq::AtomicGroup files;  // published together at the end: a failed run leaves the old files
  OutputFile out(files.add(a.out), with_batch(n, out_layer.output_shape()), a.codes, out_layer.output_format());
  std::vector<std::unique_ptr<OutputFile>> all;
  for (std::size_t i = 0; i < all_files.size(); ++i)
    all.push_back(std::make_unique<OutputFile>(files.add(all_files[i]), with_batch(n, m.layer(i).output_shape()), a.codes,
                                               m.layer(i).output_format()));
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
  files.commit();
  std::cerr << "wrote " << a.out.string() << ": " << n << " samples of " << out_name << " " << fixq::shape_text(out_layer.output_shape())
            << " (" << a.path << " path" << (a.codes ? ", codes" : "") << ")\n";
  return 0;
}

// ---- verify ----

int cmd_verify(const fixq::ModelFile& mf, const fs::path& input, std::int64_t batch_arg, std::uint64_t max_memory) {
  require_formats(mf, "integer network to verify");
  const fixq::Model& m = mf.model;
  const std::int64_t batch = default_batch(batch_arg);
  fixq::require_regular_file(input, "input file");
  // Both paths' outputs are kept: 8 bytes per element.
  InputBatches in(mf, input, fit_batch(mf, batch, fixq::NpyReader(input).rows(), 8, max_memory), false);
  const fixq::VerifySummary v = fixq::verify_in_batches(m, in.rows(), in.batch(), [&](std::int64_t first, std::int64_t) {
    return in.values(first);
  });
  std::cout << v.text() << "\n";
  return v.ok ? 0 : 1;
}

// ---- calibrate ----

struct CalibrateArgs {
  int bits = 8, weight_bits = 0;
  std::string method = "MaxAbs";
  double overflow_rate = 0;
  bool per_channel = false;
  std::int64_t count = 0;
  fs::path out;
  std::uint64_t max_memory = default_max_memory;
};

int cmd_calibrate(const fixq::ModelFile& mf, const fs::path& data, const CalibrateArgs& a) {
  fixq::CalibrationSpec c;
  c.activation_bits = a.bits;
  c.weight_bits = a.weight_bits > 0 ? a.weight_bits : a.bits;
  if (const auto method = fixq::parse_frac_method(a.method)) c.method = *method;
  else throw usage_error("--method must be MaxAbs, OverflowRate or MinMSE, got " + a.method);
  if (a.overflow_rate != 0 && c.method != fixq::FracMethod::OverflowRate)
    throw usage_error("--overflow-rate needs --method OverflowRate");
  c.overflow_rate = a.overflow_rate;
  c.per_channel = a.per_channel;
  c.choose_signedness = !mf.quantized;  // a float model says nothing about signedness
  fixq::require_regular_file(data, "data file");
  refuse_folder_over(mf.path, "the model file", a.out, mf.model, {"model.json"}, '_');
  refuse_folder_over(data, "the data file", a.out, mf.model, {"model.json"}, '_');
  const std::int64_t want = a.count > 0 ? a.count : std::numeric_limits<std::int32_t>::max();
  InputBatches in(mf, data, want, false);
  if (in.rows() == 0)
    throw fixq::file_error(data.string() + ": no samples (shape " + fixq::shape_text(fixq::NpyReader(data).shape()) +
                           "): calibration needs at least one");
  // All samples at once: the limit cannot be met by batching, only by --count.
  const std::int64_t samples = std::min(want, in.rows());
  const std::int64_t fit = samples_in_memory(mf, 4, a.max_memory);
  if (fit < samples)
    throw usage_error("calibrating on " + std::to_string(samples) + " samples needs about " +
                      bytes_text(sample_memory(mf.model, 4).bytes * static_cast<double>(samples)) +
                      ", more than the memory limit of " + bytes_text(static_cast<double>(a.max_memory)) + "; use --count " +
                      std::to_string(fit) + " or raise --max-memory");
  const fixq::NDArray<float> x = in.values(0);
  const fixq::Model q = fixq::calibrate(mf.model, x, c);
  fixq::save_model(q, a.out, {.quantized = true, .preprocess = mf.preprocess});
  std::cerr << "wrote " << (a.out / "model.json").string() << ": " << c.activation_bits << "-bit activations, "
            << c.weight_bits << "-bit weights" << (c.per_channel ? " per channel" : "") << ", " << a.method << ", from "
            << x.dim(0) << " samples\n";
  return 0;
}

// ---- export ----

int cmd_export(const fixq::ModelFile& mf, const fs::path& input, const fs::path& dir, std::int64_t count, bool input_codes,
               bool force, std::uint64_t max_memory) {
  require_formats(mf, "integer codes to export");
  fixq::require_regular_file(input, "input file");
  refuse_folder_over(input, "the input file", dir, mf.model, {"manifest.json", "input.npy", "input.hex", "input.h"}, '.');
  refuse_folder_over(mf.path, "the model file", dir, mf.model, {"manifest.json", "input.npy", "input.hex", "input.h"}, '.');
  InputBatches in(mf, input, std::max<std::int64_t>(count, 1), input_codes);
  if (in.rows() == 0) throw fixq::file_error(input.string() + ": no samples to export");
  // The int path's outputs (4 bytes per element) become int64 codes (8 more).
  const std::int64_t samples = std::min(count, in.rows());
  if (samples_in_memory(mf, 12, max_memory) < samples)
    throw usage_error("exporting " + std::to_string(samples) + " samples needs more than the memory limit of " +
                      bytes_text(static_cast<double>(max_memory)) + "; use a smaller --count or raise --max-memory");
  fixq::write_export_codes(mf.model, in.codes(0), dir, {.count = count, .force = force});
  std::cerr << "wrote " << (dir / "manifest.json").string() << ": " << mf.model.size() << " layers, golden vectors for "
            << std::min(count, in.rows()) << " inputs (.npy, .hex, .h per tensor)\n";
  return 0;
}

// ---- bench ----

int cmd_bench(const fixq::ModelFile& mf, std::int64_t batch, int repeat, std::uint64_t max_memory) {
  const fixq::Model& m = mf.model;
  if (samples_in_memory(mf, 4, max_memory) < batch)
    throw usage_error("--batch " + std::to_string(batch) + " needs more than the memory limit of " +
                      bytes_text(static_cast<double>(max_memory)) + "; use a smaller --batch or raise --max-memory");
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
  // Numbers checked by parse_whole / parse_bytes after parsing (see there why).
  std::string seed_text, run_batch_text, batch_text, count_text, export_count_text, bench_batch_text, repeat_text,
      max_memory_text;
  const auto memory_option = [&](CLI::App* c) {
    c->add_option("--max-memory", max_memory_text,
                  "memory limit of one batch in bytes (suffix K, M, G, T; default 4G or FIXQ_MAX_MEMORY)");
  };

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
  runc->add_option("--seed", seed_text, "seed of stochastic rounding, 0 to 2^64 - 1 (replaces the file's seeds)");
  runc->add_option("--all", run.all_dir, "also write every layer's output to DIR/<layer>.npy");
  memory_option(runc);
  runc->add_option("--batch", run_batch_text, "samples per batch (default 256)");

  auto* verify = app.add_subcommand("verify", "check that the int path equals the sim path on every layer");
  verify->add_option("MODEL", model, "model.json or its folder")->required();
  verify->add_option("INPUT", input, ".npy of inputs (N, *input shape)")->required();
  verify->add_option("--seed", seed_text, "seed of stochastic rounding, 0 to 2^64 - 1 (replaces the file's seeds)");
  memory_option(verify);
  verify->add_option("--batch", batch_text, "samples per batch (default 256)");

  CalibrateArgs cal;
  auto* calc = app.add_subcommand("calibrate", "choose every fractional length from data (dynamic fixed point)");
  calc->add_option("MODEL", model, "model.json or its folder")->required();
  calc->add_option("DATA", input, ".npy of calibration inputs (N, *input shape)")->required();
  calc->add_option("--bits", cal.bits, "activation word (and weight word unless --weight-bits)")->required()->check(CLI::Range(1, fixq::Layer::max_word));
  calc->add_option("--weight-bits", cal.weight_bits, "weight word")->check(CLI::Range(1, fixq::Layer::max_word));
  calc->add_option("--method", cal.method, "MaxAbs, OverflowRate or MinMSE")->check(CLI::IsMember({"MaxAbs", "OverflowRate", "MinMSE"}));
  calc->add_option("--overflow-rate", cal.overflow_rate, "fraction of values allowed to saturate (OverflowRate)")->check(CLI::Range(0.0, 1.0));
  calc->add_flag("--per-channel", cal.per_channel, "one weight fraction per output channel");
  calc->add_option("--count", count_text, "use the first N samples of DATA (default: all)");
  memory_option(calc);
  calc->add_option("-o,--output", cal.out, "output folder (model.json and weights)")->required();

  fs::path export_dir;
  std::int64_t count = 10;
  bool export_codes = false;
  auto* exp = app.add_subcommand("export", "integer weights and golden vectors (.npy, .hex, C headers) for test benches");
  exp->add_option("MODEL", model, "model.json or its folder")->required();
  exp->add_option("INPUT", input, ".npy of inputs (N, *input shape)")->required();
  exp->add_option("-o,--output", export_dir, "output folder")->required();
  exp->add_option("--count", export_count_text, "golden vectors for the first N inputs (default 10)");
  memory_option(exp);
  exp->add_flag("--input-codes", export_codes, "INPUT holds codes of the input format");
  bool export_force = false;
  exp->add_flag("--force", export_force, "write into a folder that already holds files (replacing those of the same names)");
  exp->add_option("--seed", seed_text, "seed of stochastic rounding, 0 to 2^64 - 1 (replaces the file's seeds)");

  std::int64_t bench_batch = 64;
  int repeat = 5;
  auto* bench = app.add_subcommand("bench", "time the float, sim and int paths in one run");
  bench->add_option("MODEL", model, "model.json or its folder")->required();
  bench->add_option("--batch", bench_batch_text, "samples per run, 1 to 2^20 (default 64)");
  bench->add_option("--repeat", repeat_text, "runs per path, 1 to 1000 (median reported; default 5)");
  memory_option(bench);

  // An unknown subcommand: CLI11 would only say that the argument was not expected.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const CLI::App* c : app.get_subcommands({})) known = known || c->get_name() == argv[1];
    if (!known) {
      std::cerr << "fixq: unknown subcommand '" << argv[1]
                << "'; the subcommands are info, run, verify, calibrate, export and bench (fixq --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  // A message of the library starts with "fixq: " already.
  const auto message = [](const std::exception& e) {
    const std::string_view w = e.what();
    return std::string(w.starts_with("fixq: ") ? w.substr(6) : w);
  };
  try {
    constexpr std::uint64_t max_batch = std::numeric_limits<std::int32_t>::max();
    // Whether the subcommand run got the option (an empty value is an error too).
    const auto given = [&](const std::string& option) {
      for (const CLI::App* c : app.get_subcommands({}))
        if (const CLI::Option* o = c->parsed() ? c->get_option_no_throw(option) : nullptr; o && o->count()) return true;
      return false;
    };
    if (given("--seed")) seed = parse_whole(seed_text, "--seed", 0, std::numeric_limits<std::uint64_t>::max());
    if (runc->parsed() && given("--batch"))
      run.batch = static_cast<std::int64_t>(parse_whole(run_batch_text, "--batch", 1, max_batch));
    if (verify->parsed() && given("--batch")) batch = static_cast<std::int64_t>(parse_whole(batch_text, "--batch", 1, max_batch));
    if (calc->parsed() && given("--count"))
      cal.count = static_cast<std::int64_t>(parse_whole(count_text, "--count", 1, std::uint64_t{1} << 62));
    if (exp->parsed() && given("--count"))
      count = static_cast<std::int64_t>(parse_whole(export_count_text, "--count", 1, std::uint64_t{1} << 40));
    if (bench->parsed() && given("--batch"))
      bench_batch = static_cast<std::int64_t>(parse_whole(bench_batch_text, "--batch", 1, std::uint64_t{1} << 20));
    if (given("--repeat")) repeat = static_cast<int>(parse_whole(repeat_text, "--repeat", 1, 1000));
    std::uint64_t max_memory = default_max_memory;
    if (const char* env = std::getenv("FIXQ_MAX_MEMORY"); env && *env) max_memory = parse_bytes(env, "FIXQ_MAX_MEMORY");
    if (given("--max-memory")) max_memory = parse_bytes(max_memory_text, "--max-memory");
    run.max_memory = cal.max_memory = max_memory;
    require_model_file(model);
    const fixq::ModelFile mf = fixq::load_model(model, {.seed = seed});
    if (info->parsed()) return cmd_info(mf);
    if (runc->parsed()) return cmd_run(mf, input, run);
    if (verify->parsed()) return cmd_verify(mf, input, batch, max_memory);
    if (calc->parsed()) return cmd_calibrate(mf, input, cal);
    if (exp->parsed()) return cmd_export(mf, input, export_dir, count, export_codes, export_force, max_memory);
    if (bench->parsed()) return cmd_bench(mf, bench_batch, repeat, max_memory);
  } catch (const fixq::file_error& e) {
    std::cerr << "fixq: " << e.what() << "\n";
    return 2;
  } catch (const usage_error& e) {
    std::cerr << "fixq: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {  // layer_error and the library's argument checks
    std::cerr << "fixq: " << message(e) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "fixq: error: " << e.what() << "\n";
    return 2;
  }
  return 2;
}
