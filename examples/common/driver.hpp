// examples/common/driver.hpp - the command line both examples share:
//
//   PROGRAM [sweep] [--model M] [--data DIR] [--bits 2,4,8] [--rounds NearestEven,Floor] ...
//   PROGRAM train [--epochs N] [--out DIR] [--qat BITS] ...
//   PROGRAM export DIR [--bits 8] [--count 16]
//   PROGRAM study [--quick] [--check] [--json FILE] [--out DIR] ...   (common/study.hpp)
//
// A Task (examples/<name>/main.cpp) says what differs: the data set, its loader,
// the preprocessing, the network, the training recipe and the targets. run() is
// compiled once (driver.cpp, library fixq_examples_driver) for both programs.
#ifndef FIXQ_EXAMPLES_DRIVER_HPP
#define FIXQ_EXAMPLES_DRIVER_HPP

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fixq/fixq.hpp>
#include <fixq/io.hpp>
#include <fixq/train.hpp>

#include "progress.hpp"
#include "report.hpp"
#include "study.hpp"
#include "sweep.hpp"
#include "task.hpp"

namespace fixq_examples {

namespace fs = std::filesystem;


class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The data folder: --data, else $FIXQ_DATA_DIR/<subdir> (or $FIXQ_DATA_DIR itself
/// when it has no such folder), else the bundled data.
inline fs::path data_dir(const Task& t, const std::string& given, bool& bundled) {
  bundled = false;
  if (!given.empty()) return given;
  if (const char* e = std::getenv("FIXQ_DATA_DIR"); e && *e) {
    const fs::path sub = fs::path(e) / t.data_subdir;
    std::error_code ec;
    return fs::is_directory(sub, ec) ? sub : fs::path(e);
  }
  bundled = true;
  return t.bundled_data;
}

inline Labeled labeled(const fixq::Dataset& d, std::size_t count, const fixq::Preprocess& p) {
  const std::size_t n = std::min(count, d.size());
  return {fixq::to_float(d, 0, n, p.scale, p.offset), std::vector<std::uint8_t>(d.labels.begin(), d.labels.begin() + static_cast<std::ptrdiff_t>(n))};
}

/// Calibration images: the first n of the training split, or the bundled sample
/// when the folder has no training split.
inline fixq::Dataset calibration_set(const Task& t, const fs::path& dir, bool bundled, std::string& from) {
  if (!bundled) {
    try {
      fixq::Dataset d = t.load(dir, true);
      from = "the training set in " + dir.string();
      return d;
    } catch (const fixq::file_error&) {
      // no training split there: fall back to the bundled sample
    }
  }
  from = "the bundled training sample in " + t.bundled_data.string();
  return t.load_calibration(t.bundled_data);
}

inline fixq::ModelFile load_float_model(const std::string& path) {
  fixq::ModelFile mf = fixq::load_model(path);
  if (mf.quantized)
    throw usage_error(path + " is a quantized model; the examples calibrate float models (their own formats)");
  return mf;
}

inline fixq::Round parse_round_or_throw(const std::string& s) {
  const auto r = fixq::parse_round(s);
  if (!r) throw usage_error("unknown rounding mode '" + s + "'");
  return *r;
}

/// What the sweep and the export start from: the float model, the test set and the
/// calibration batch (preprocessed as the model says).
struct Inputs {
  std::string model_path;
  fixq::ModelFile mf;
  fs::path dir;
  fixq::Dataset test_set;
  NDArray<float> calib;
  std::string calib_from;
};

inline Inputs load_inputs(const Task& t, const std::string& model, const std::string& data, std::size_t calibration) {
  const std::string path = model.empty() ? t.bundled_model.string() : model;
  Inputs in{path, load_float_model(path), {}, {}, {}, {}};
  bool bundled = false;
  in.dir = data_dir(t, data, bundled);
  in.test_set = t.load(in.dir, false);
  const fixq::Dataset calib_set = calibration_set(t, in.dir, bundled, in.calib_from);
  in.calib = fixq::to_float(calib_set, 0, std::min(calibration ? calibration : t.calibration_images, calib_set.size()),
                            in.mf.preprocess.scale, in.mf.preprocess.offset);
  return in;
}

// ---- sweep ----

struct SweepArgs {
  std::string model, data, out, json;
  std::vector<int> bits = {2, 3, 4, 5, 6, 8, 10, 12, 16};
  std::vector<std::string> rounds = {"NearestEven", "Floor", "Stochastic"};
  std::size_t count = 0, calibration = 0;
  double margin = 1.0;  // points
  bool no_search = false, check = false;
  std::uint64_t seed = 1;
};

inline int cmd_sweep(const Task& t, const SweepArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  const Inputs in = load_inputs(t, a.model, a.data, a.calibration);
  const fixq::ModelFile& mf = in.mf;
  const std::string& model_path = in.model_path;
  const fs::path& dir = in.dir;
  const NDArray<float>& calib = in.calib;
  const Labeled test = labeled(in.test_set, a.count ? a.count : in.test_set.size(), mf.preprocess);
  const std::size_t nc = static_cast<std::size_t>(calib.dim(0));
  const std::string& calib_from = in.calib_from;
  std::vector<fixq::Round> rounds;
  for (const std::string& r : a.rounds) rounds.push_back(parse_round_or_throw(r));
  for (const int b : a.bits)
    if (b < 2 || b > fixq::Layer::max_word)
      throw usage_error("--bits: " + std::to_string(b) + " is not in [2, " + std::to_string(fixq::Layer::max_word) + "]");

  SweepReport r;
  r.dataset = t.dataset;
  r.model = model_path;
  r.test_images = test.size();
  r.calibration_images = nc;
  r.float_accuracy = float_accuracy(mf.model, test);
  std::printf("%s: model %s\n  %zu test images from %s, calibration on %zu images of %s\n  float accuracy %s\n\n",
              t.program.c_str(), model_path.c_str(), test.size(), dir.string().c_str(), nc, calib_from.c_str(),
              percent(r.float_accuracy).c_str());
  std::printf("%4s  %-11s  %12s  %9s  %9s  %10s\n", "bits", "round", "weights-only", "sim", "int", "mismatches");
  std::fflush(stdout);
  // The rows run two (or more) at a time, each on one thread (nested kernels run
  // serially inside them); a row is printed once every row before it is.
  std::vector<Row> rows;
  for (const int bits : a.bits)
    for (const fixq::Round round : rounds) rows.push_back(Row{bits, round, {}, 0});
  std::vector<char> done(rows.size(), 0);
  std::size_t printed = 0;
  const auto print_ready = [&] {
    for (; printed < rows.size() && done[printed]; ++printed) {
      const Row& row = rows[printed];
      std::printf("%4d  %-11s  %12s  %9s  %9s  %10lld\n", row.bits, std::string(fixq::to_string(row.round)).c_str(),
                  percent(row.eval.weights_only).c_str(), percent(row.eval.sim).c_str(),
                  percent(row.eval.integer).c_str(), static_cast<long long>(row.eval.mismatches));
      std::fflush(stdout);
    }
  };
  // One more job: 4-bit conv weights, 8 bits elsewhere (Ristretto's LeNet experiment).
  const std::string conv4 = "conv weights 4 bits, dense weights and activations 8 bits (NearestEven)";
  Eval conv4_eval;
  for_each_job(rows.size() + 1, [&](std::size_t i) {
    if (i == rows.size()) {
      conv4_eval = evaluate(fixq::calibrate(mf.model, calib, group_spec(mf.model, 4, 8, 8, a.seed, t.per_channel)), test, false);
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const Model q = fixq::calibrate(mf.model, calib, spec_for(rows[i].bits, rows[i].bits, rows[i].round, a.seed, t.per_channel));
    rows[i].eval = evaluate(q, test);
    rows[i].seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }, [&](std::size_t i) {
    if (i == rows.size()) return;
    done[i] = 1;
    print_ready();
  });
  r.rows = rows;
  r.extra.emplace_back(conv4, conv4_eval);
  if (!a.no_search) {
    std::vector<int> widths;
    for (int w = 2; w <= 16; ++w) widths.push_back(w);
    r.search = search(mf.model, calib, test, r.float_accuracy, a.margin / 100, widths, a.seed, t.per_channel);
    r.has_search = true;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string text = table_text(r);
  // the rows were printed as they came; the rest of the table now
  const std::size_t tail = text.find("\n\n", text.find("mismatches"));
  if (tail != std::string::npos) std::printf("%s", text.substr(tail).c_str());
  const fs::path out = a.out.empty() ? fs::path(t.program + "-out") : fs::path(a.out);
  write_text(out / "sweep.txt", text);
  write_text(out / "sweep.svg", plot_svg(r));
  const std::string json = report_json(r).dump(2) + "\n";
  write_text(out / "sweep.json", json);
  if (!a.json.empty()) write_text(a.json, json);
  std::printf("\nwrote %s, %s and %s (%.0f s)\n", (out / "sweep.txt").string().c_str(), (out / "sweep.svg").string().c_str(),
              (out / "sweep.json").string().c_str(), r.seconds);

  int status = 0;
  std::int64_t mismatches = 0;
  for (const Row& row : r.rows) mismatches += row.eval.mismatches;
  for (const auto& e : r.extra) mismatches += e.second.mismatches;
  if (r.has_search) mismatches += r.search.combined.mismatches;
  if (mismatches != 0) {
    std::printf("FAIL: %lld test images have integer logits that differ from the simulation\n",
                static_cast<long long>(mismatches));
    status = 1;
  }
  if (a.check) {
    const auto check = [&](bool ok, const std::string& what) {
      std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
      if (!ok) status = 1;
    };
    check(mismatches == 0, "integer-only logits equal the simulation's on every image, width and mode");
    check(r.float_accuracy >= t.float_min, "float accuracy " + percent(r.float_accuracy) + " >= " + percent(t.float_min));
    for (const Row& row : r.rows)
      if (row.bits == 8 && row.round == fixq::Round::NearestEven)
        check(row.eval.integer >= r.float_accuracy - t.int8_within - 1e-12,
              "8-bit integer-only " + percent(row.eval.integer) + " within " + percent(t.int8_within) + " of float");
    if (t.conv4_min)
      check(r.extra.front().second.integer >= *t.conv4_min,
            "4-bit conv weights " + percent(r.extra.front().second.integer) + " >= " + percent(*t.conv4_min));
  }
  return status;
}

// ---- train ----

struct TrainArgs {
  std::string data, out, model;
  int epochs = 0;
  std::size_t batch = 0, count = 0;
  double lr = 0;
  std::uint64_t seed = 1;
  int qat = 0, qat_act = 0;
};

/// The integer-only test accuracy of m calibrated at (weights, activations) bits.
inline Eval int_eval(const Task& t, const Model& m, const NDArray<float>& calib, const Labeled& test, int weight_bits,
                     int act_bits) {
  return evaluate(fixq::calibrate(m, calib, spec_for(act_bits, weight_bits, fixq::Round::NearestEven, 0, t.per_channel)),
                  test, false);
}

inline int cmd_train(const Task& t, const TrainArgs& a, const std::vector<std::string>& argv) {
  bool bundled = false;
  const fs::path dir = data_dir(t, a.data, bundled);
  fixq::Dataset train_set;
  try {
    train_set = t.load(dir, true);
  } catch (const fixq::file_error& e) {
    throw fixq::file_error(std::string(e.what()) + "\n  training needs the training set: pass --data DIR or set "
                           "FIXQ_DATA_DIR (scripts/fetch_data.sh downloads it)");
  }
  const fixq::Dataset test_set = t.load(dir, false);
  const fixq::Preprocess pre = a.qat ? load_float_model(a.model.empty() ? t.bundled_model.string() : a.model).preprocess
                                     : t.preprocess;
  const Labeled train = labeled(train_set, a.count ? a.count : train_set.size(), pre);
  const Labeled test = labeled(test_set, test_set.size(), pre);
  const NDArray<float> calib = rows(train.x, 0, std::min(t.calibration_images, train.size()));

  fixq::train::Network net = t.network();
  fixq::train::TrainOptions o;
  o.epochs = a.epochs ? a.epochs : (a.qat ? 2 : t.epochs);
  o.batch = a.batch ? a.batch : t.batch;
  o.seed = a.seed;
  o.optimizer.lr = a.lr > 0 ? a.lr : (a.qat ? t.lr / 10 : t.lr);
  o.optimizer.weight_decay = t.weight_decay;
  o.augment = [&](NDArray<float>& b, std::uint64_t s) {
    fixq::train::random_shift_flip(b, t.shift, t.flip, s, static_cast<float>(pre.offset));
  };
  o.val_x = &test.x;
  o.val_y = test.y;
  ProgressBar bar;
  o.on_progress = [&](const fixq::train::Progress& p) { bar(p); };
  o.progress_every = 100;
  nlohmann::json record = {{"program", t.program}, {"command", argv}, {"seed", a.seed}, {"epochs", o.epochs},
                           {"batch", o.batch}, {"lr", o.optimizer.lr}, {"weight_decay", o.optimizer.weight_decay},
                           {"training_images", train.size()}, {"data", dir.string()}};
  std::optional<Eval> before;
  const int qat_act = a.qat_act ? a.qat_act : a.qat;
  if (a.qat) {
    const std::string path = a.model.empty() ? t.bundled_model.string() : a.model;
    const fixq::ModelFile mf = load_float_model(path);
    net = fixq::train::Network::from_model(mf.model);
    before = int_eval(t, mf.model, calib, test, a.qat, qat_act);
    std::printf("%s: quantization-aware fine-tuning of %s at %d-bit weights, %d-bit activations\n"
                "  before: integer-only test accuracy %s\n",
                t.program.c_str(), path.c_str(), a.qat, qat_act, percent(before->integer).c_str());
    const int wbits = a.qat;
    o.hooks.at = [wbits, qat_act](const fixq::train::Layer* l, fixq::train::HookPoint p) -> std::optional<fixq::train::Quantizer> {
      using fixq::train::HookPoint;
      if (p == HookPoint::Weights && l && (l->type() == "Dense" || l->type() == "Conv2D"))
        return fixq::train::Quantizer{.word = wbits};
      if (p == HookPoint::Activations) return fixq::train::Quantizer{.word = qat_act, .is_signed = l != nullptr};
      return std::nullopt;
    };
    record["qat"] = {{"weight_bits", a.qat}, {"activation_bits", qat_act}, {"from", path}};
  } else {
    net.build(a.seed);
    std::printf("%s: training %zu parameters on %zu images for %d epochs (batch %zu, Adam lr %g, seed %llu)\n",
                t.program.c_str(), net.parameter_count(), train.size(), o.epochs, o.batch, o.optimizer.lr,
                static_cast<unsigned long long>(a.seed));
  }
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  const auto history = fixq::train::fit(net, train.x, train.y, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  net.clear_quantized();
  const Model m = net.to_model();
  const double acc = float_accuracy(m, test);
  std::printf("trained in %.0f s; float test accuracy %s\n", seconds, percent(acc).c_str());
  record["seconds"] = seconds;
  record["float_test_accuracy"] = acc;
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& h : history)
    epochs.push_back({{"epoch", h.epoch + 1}, {"loss", h.loss}, {"train_accuracy", h.accuracy},
                      {"test_accuracy", h.val_accuracy}, {"seconds", h.seconds}});
  record["history"] = epochs;
  if (a.qat) {
    const Eval after = int_eval(t, m, calib, test, a.qat, qat_act);
    std::printf("  after: integer-only test accuracy %s (was %s), %lld mismatches\n", percent(after.integer).c_str(),
                percent(before->integer).c_str(), static_cast<long long>(after.mismatches));
    record["qat"]["int_accuracy_before"] = before->integer;
    record["qat"]["int_accuracy_after"] = after.integer;
  }
  const fs::path out = a.out.empty() ? fs::path(t.dataset + "-model") : fs::path(a.out);
  fixq::save_model(m, out, {.quantized = false, .preprocess = pre});
  write_text(out / "training.json", record.dump(2) + "\n");
  std::printf("wrote %s and %s\n", (out / "model.json").string().c_str(), (out / "training.json").string().c_str());
  return 0;
}

// ---- export ----

struct ExportArgs {
  std::string model, data, dir, round = "NearestEven";
  int bits = 8;
  std::int64_t count = 16;
  std::uint64_t seed = 1;
};

inline int cmd_export(const Task& t, const ExportArgs& a) {
  const Inputs in = load_inputs(t, a.model, a.data, 0);
  const fixq::ModelFile& mf = in.mf;
  const fixq::Dataset& test_set = in.test_set;
  const NDArray<float>& calib = in.calib;
  const Model q = fixq::calibrate(mf.model, calib, spec_for(a.bits, a.bits, parse_round_or_throw(a.round), a.seed, t.per_channel));
  const auto n = static_cast<std::size_t>(std::max<std::int64_t>(a.count, 1));
  const NDArray<float> x = fixq::to_float(test_set, 0, n, mf.preprocess.scale, mf.preprocess.offset);
  const fixq::VerifyReport v = q.verify_bit_exact(x);
  fixq::write_export(q, x, a.dir, {.count = a.count, .force = true});  // the folder is this command's own output
  fixq::save_model(q, fs::path(a.dir) / "model", {.quantized = true, .preprocess = mf.preprocess});
  std::printf("%s: exported the %d-bit integer network (%s) and golden vectors of %lld test images to %s\n  %s\n"
              "  the quantized model: %s\n",
              t.program.c_str(), a.bits, a.round.c_str(), static_cast<long long>(x.dim(0)), a.dir.c_str(),
              v.text().c_str(), (fs::path(a.dir) / "model" / "model.json").string().c_str());
  return v.ok ? 0 : 1;
}

// ---- study ----

/// The study's data: the training split (or, with none in the folder, the bundled
/// training sample), the test split, the first calibration_images training images.
inline int cmd_study_main(const Task& t, StudyArgs a, const std::string& data, std::size_t test_count,
                          const std::vector<std::string>& argv) {
  bool bundled = false;
  const fs::path dir = data_dir(t, data, bundled);
  fixq::Dataset train_set;
  study::Data d;
  try {
    train_set = t.load(dir, true);
    d.train_from = "the training set in " + dir.string();
  } catch (const fixq::file_error& e) {
    if (!bundled)
      throw fixq::file_error(std::string(e.what()) + "\n  the study trains: it needs the training set in " + dir.string() +
                             " (scripts/fetch_data.sh downloads it); with neither --data nor FIXQ_DATA_DIR it uses the "
                             "bundled training sample");
    train_set = t.load_calibration(t.bundled_data);
    d.train_from = "the bundled training sample; FIXQ_DATA_DIR or --data for the full set";
  }
  const fixq::Dataset test_set = t.load(dir, false);
  const std::size_t train_n = a.train_count ? a.train_count : (a.quick ? 2000 : train_set.size());
  const std::size_t test_n = test_count ? test_count : (a.quick ? 2000 : test_set.size());
  d.train = labeled(train_set, train_n, t.preprocess);
  d.test = labeled(test_set, test_n, t.preprocess);
  d.calib = rows(d.train.x, 0, std::min(t.calibration_images, d.train.size()));
  if (a.out.empty()) a.out = t.program + "-study";
  return cmd_study(t, a, d, argv);
}

// ---- main ----

int run(const Task& t, int argc, char** argv) {
#if defined(__GLIBC__)
  // Training allocates its activations afresh at every step: keep freed blocks in
  // the heap instead of handing them back to the kernel, which costs page faults.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  CLI::App app{t.program + ": " + t.dataset +
               " end to end: train, sweep bit widths on the integer-only network (bit-exact check), export. "
               "With no subcommand: the sweep."};
  app.require_subcommand(0, 1);
  SweepArgs s;
  TrainArgs tr;
  ExportArgs ex;
  std::string data;
  std::string model;
  std::uint64_t seed = 1;
  int threads = 0;
  app.add_option("--data", data, "data folder (default: $FIXQ_DATA_DIR/" + t.data_subdir + ", else the bundled data)");
  app.add_option("--model", model, "float model (model.json or its folder; default: the bundled one)");
  app.add_option("--seed", seed, "seed of training and of stochastic rounding")->capture_default_str();
  app.add_option("--threads", threads, "threads (default: all cores)");
  app.add_option("--bits", s.bits, "word widths of the sweep")->delimiter(',')->capture_default_str();
  app.add_option("--rounds", s.rounds, "rounding modes of the sweep")->delimiter(',')->capture_default_str();
  app.add_option("--count", s.count, "test images (default: all)");
  app.add_option("--calibration", s.calibration, "calibration images (default: " + std::to_string(t.calibration_images) + ")");
  app.add_option("--margin", s.margin, "accuracy margin of the width search, in points")->capture_default_str();
  app.add_flag("--no-search", s.no_search, "skip the width search");
  app.add_option("--out", s.out, "folder for sweep.txt, sweep.svg, sweep.json (default: " + t.program + "-out)");
  app.add_option("--json", s.json, "also write the JSON report here");
  app.add_flag("--check", s.check, "exit 1 unless the accuracy targets are met");
  app.add_subcommand("sweep", "the bit-width sweep (the default)")->fallthrough();
  auto* train = app.add_subcommand("train", "train the float network (or fine-tune it quantization-aware: --qat)");
  train->fallthrough();
  train->add_option("--epochs", tr.epochs, "epochs (default: " + std::to_string(t.epochs) + ", 2 with --qat)");
  train->add_option("--batch", tr.batch, "mini-batch size");
  train->add_option("--lr", tr.lr, "peak learning rate of Adam (cosine schedule)");
  train->add_option("--train-count", tr.count, "training images (default: all)");
  train->add_option("--qat", tr.qat, "fine-tune the model (--model) with BITS-bit weights and activations")->check(CLI::Range(2, 16));
  train->add_option("--qat-act", tr.qat_act, "activation bits of --qat (default: the same)")->check(CLI::Range(2, 16));
  train->add_option("-o,--output", tr.out, "model folder to write (default: " + t.dataset + "-model)");
  auto* exp = app.add_subcommand("export", "export the integer network and golden vectors for a test bench");
  exp->fallthrough();
  exp->add_option("dir", ex.dir, "output folder")->required();
  exp->add_option("--width", ex.bits, "word width of weights and activations")->capture_default_str();
  exp->add_option("--round", ex.round, "rounding mode")->capture_default_str();
  exp->add_option("-n,--vectors", ex.count, "golden vectors (test images)")->capture_default_str();
  StudyArgs st;
  auto* stu = app.add_subcommand("study", "the low-precision training study: Gupta et al.'s <16,FL> table and methods "
                                          "x widths (examples/mnist/README.md)");
  stu->fallthrough();
  stu->add_flag("--quick", st.quick, "a training subset and few epochs (about a minute on two cores)");
  stu->add_option("--tables", st.tables, "tables to run: gupta, methods")->delimiter(',')->check(CLI::IsMember({"gupta", "methods"}))
      ->capture_default_str();
  stu->add_option("--widths", st.bits, "weight widths of the methods table")->delimiter(',')->check(CLI::Range(2, 16))
      ->capture_default_str();
  stu->add_option("--fracs", st.fracs, "fractional lengths FL of <16,FL> in the Gupta table (the last one also with a "
                                      "float master)")->delimiter(',')->check(CLI::Range(0, 15))->capture_default_str();
  stu->add_option("--gupta-epochs", st.gupta_epochs, "epochs of the Gupta table (default 3)")->check(CLI::Range(1, 1000));
  stu->add_option("--methods-epochs", st.methods_epochs, "epochs of the methods table (default 2; --quick 3)")->check(CLI::Range(1, 1000));
  stu->add_option("--gupta-lr", st.gupta_lr, "learning rate of plain SGD in the Gupta table")->check(CLI::PositiveNumber)
      ->capture_default_str();
  stu->add_option("--train-count", st.train_count, "training images (default: all; --quick 2000)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (threads > 0) {
    fixq::set_threads(threads);
    Eigen::setNbThreads(threads);
  }
  try {
    if (train->parsed()) {
      tr.data = data;
      tr.model = model;
      tr.seed = seed;
      return cmd_train(t, tr, std::vector<std::string>(argv, argv + argc));
    }
    if (stu->parsed()) {
      st.seed = seed;
      st.check = s.check;
      st.out = s.out;
      st.json = s.json;
      return cmd_study_main(t, st, data, s.count, std::vector<std::string>(argv, argv + argc));
    }
    if (exp->parsed()) {
      ex.data = data;
      ex.model = model;
      ex.seed = seed;
      return cmd_export(t, ex);
    }
    s.data = data;
    s.model = model;
    s.seed = seed;
    return cmd_sweep(t, s);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s: %s\n", t.program.c_str(), e.what());
    return 2;
  } catch (const fixq::file_error& e) {
    std::fprintf(stderr, "%s: %s\n", t.program.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", t.program.c_str(), e.what());
    return 2;
  }
}

}  // namespace fixq_examples

#endif  // FIXQ_EXAMPLES_DRIVER_HPP
