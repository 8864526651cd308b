// examples/common/study.hpp - the low-precision training study (`PROGRAM study`):
//
//   Table "gupta": Gupta et al. 2015, "Deep Learning with Limited Numerical
//   Precision": a fully connected IN-1000-1000-10 ReLU network and the example's
//   CNN trained with weights, biases, activations, activation gradients and weight
//   gradients in <16, FL> fixed point, FL in {8, 10, 14}, weights and biases
//   stored in fixed point (no float master: HookPoint::StoredWeights and
//   StoredBiases), round-to-nearest-even against stochastic rounding at every
//   point; the largest FL's rows again with a float master copy of the weights
//   (dual copy; biases float); a float baseline. Plain SGD (no momentum, learning rate 0.01, batch 100): test accuracy
//   after every epoch.
//
//   Table "methods": the example's CNN with weights of 2..10 bits and 8-bit
//   activations, trained from the same initialisation and seed by four methods:
//     randomized  weights stored in fixed point, stochastic rounding
//     dual        a float master and a round-to-nearest forward copy
//     dynamic     dual copy whose weight and activation fractions are re-chosen
//                 from the tensors' ranges at every step (MaxAbs)
//     iterative   INQ-style stages (train/iterative.hpp): 50, 75, 87.5% of each
//                 layer frozen on its grid during the run, 100% at its end
//   Biases stay float in training (the integer network gives them the accumulator's
//   grid). Randomized and dual keep the weight fractions fixed, chosen at the start
//   from the initial network (MaxAbs, one bit of headroom); iterative's grid is
//   chosen by MaxAbs from the weights at its first stage, a quarter into the run
//   (INQ quantizes trained weights). All but dynamic keep the activation fractions
//   fixed (8-bit MaxAbs over the first 256 training images through the initial
//   network, two bits of headroom, since training grows them). Weight fractions
//   are per tensor. Result: the integer-only test accuracy of the
//   trained network calibrated at the trained weight width (its weights already on
//   their grid, so calibration keeps them) and 8-bit activations, checked bit for
//   bit against its simulation.
//
// Outputs: study.txt (the tables), gupta.svg and methods.svg, study.json (the rows,
// the command line, the seed, the machine's thread count and the time taken).
#ifndef FIXQ_EXAMPLES_STUDY_HPP
#define FIXQ_EXAMPLES_STUDY_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fixq/train.hpp>

#include "report.hpp"
#include "sweep.hpp"
#include "task.hpp"

namespace fixq_examples {

struct StudyArgs {
  bool quick = false, check = false;
  std::vector<std::string> tables = {"gupta", "methods"};
  std::vector<int> bits = {2, 3, 4, 5, 6, 8, 10};
  std::vector<int> fracs = {8, 10, 14};
  int gupta_epochs = 0, methods_epochs = 0;  // 0: the defaults (quick or full)
  std::size_t train_count = 0, test_count = 0;
  double gupta_lr = 0.01;
  std::uint64_t seed = 1;
  std::string out, json;
};

namespace study {

namespace train = fixq::train;
using train::HookPoint;
using train::Quantizer;

/// The paper's fully connected network on the task's input.
inline train::Network fully_connected(const fixq::Shape& input) {
  train::Network n(input);
  n.add(train::Flatten("flatten"));
  n.add(train::Dense("fc1", 1000));
  n.add(train::ReLU("relu1"));
  n.add(train::Dense("fc2", 1000));
  n.add(train::ReLU("relu2"));
  n.add(train::Dense("fc3", 10));
  return n;
}

inline bool has_weights(const train::Layer* l) { return l && (l->type() == "Dense" || l->type() == "Conv2D"); }

/// Everything in <16, frac> with rounding `round`: weights stored (or, dual, a
/// forward copy of a float master), weight gradients, activations, activation gradients.
inline train::QuantHooks gupta_hooks(int frac, fixq::Round round, bool dual) {
  train::QuantHooks h;
  h.at = [=](const train::Layer* l, HookPoint p) -> std::optional<Quantizer> {
    const Quantizer q{.word = 16, .frac = frac, .round = round};
    switch (p) {
      case HookPoint::StoredWeights:
      case HookPoint::StoredBiases:
        return has_weights(l) && !dual ? std::optional<Quantizer>(q) : std::nullopt;
      case HookPoint::Weights:
        return has_weights(l) && dual ? std::optional<Quantizer>(q) : std::nullopt;
      case HookPoint::WeightGrads:
        return has_weights(l) ? std::optional<Quantizer>(q) : std::nullopt;
      case HookPoint::Activations:
      case HookPoint::ActivationGrads:
        return q;
    }
    return std::nullopt;
  };
  return h;
}

/// The fractions a fixed-format method uses, chosen from the initial network:
/// per layer with weights, MaxAbs at `bits` minus one bit of headroom; per
/// activation point (input, then each layer that makes a new grid), 8-bit MaxAbs
/// over `x` minus two bits.
struct FixedFracs {
  std::map<const train::Layer*, int> weights, activations;
  std::optional<int> input;
};

inline FixedFracs fixed_fracs(train::Network& net, int bits, const NDArray<float>& x) {
  FixedFracs f;
  for (std::size_t i = 0; i < net.size(); ++i) {
    train::Layer& l = net.layer(i);
    if (!has_weights(&l)) continue;
    for (const train::Param* p : static_cast<const train::Layer&>(l).params())
      if (p->name == "weights") f.weights[&l] = Quantizer{.word = bits}.format_for(p->value.data).frac - 1;
  }
  NDArray<float> a = x;
  f.input = Quantizer{.word = 8, .is_signed = false}.format_for(a.data).frac - 2;
  train::Cache unused;
  for (std::size_t i = 0; i < net.size(); ++i) {
    a = net.layer(i).forward(a, unused, false);
    if (net.layer(i).new_format()) f.activations[&net.layer(i)] = Quantizer{.word = 8}.format_for(a.data).frac - 2;
  }
  return f;
}

const std::vector<std::string> methods = {"randomized", "dual", "dynamic", "iterative"};

/// The hooks of a method at `bits`-bit weights and 8-bit activations (iterative:
/// activations only; its weights are frozen by the IterativeQuantizer).
inline train::QuantHooks method_hooks(const std::string& method, int bits, const FixedFracs& f) {
  train::QuantHooks h;
  const bool dynamic = method == "dynamic";
  h.at = [=](const train::Layer* l, HookPoint p) -> std::optional<Quantizer> {
    if (p == HookPoint::Activations) {
      if (!l) return Quantizer{.word = 8, .is_signed = false, .frac = dynamic ? std::nullopt : f.input};
      return Quantizer{.word = 8, .frac = dynamic ? std::nullopt : std::optional<int>(f.activations.at(l))};
    }
    if (!has_weights(l)) return std::nullopt;
    const std::optional<int> frac = dynamic ? std::nullopt : std::optional<int>(f.weights.at(l));
    const Quantizer q{.word = bits, .frac = frac};
    if (method == "randomized" && p == HookPoint::StoredWeights) {
      Quantizer s = q;
      s.round = fixq::Round::Stochastic;
      return s;
    }
    if ((method == "dual" || dynamic) && p == HookPoint::Weights) return q;
    return std::nullopt;
  };
  return h;
}

/// What the study trains and tests on.
struct Data {
  Labeled train, test;
  NDArray<float> calib;    ///< calibration images (of the training set)
  std::string train_from;  ///< where the training images came from
};

/// One line of a plot.
struct Line {
  std::string label, colour, dash;
  std::vector<std::pair<double, double>> points;  ///< (x, accuracy)
};

/// Text for an SVG element ("<16,14>" is not markup).
inline std::string xml_text(const std::string& s) {
  std::string o;
  for (const char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

/// Accuracy against x, one polyline per line, the x ticks labelled.
inline std::string line_plot(const std::string& title, const std::string& xlabel,
                             const std::vector<std::pair<double, std::string>>& xticks, const std::vector<Line>& lines) {
  const double W = 860, H = 480, left = 70, right = 290, top = 50, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  double x0 = xticks.front().first, x1 = xticks.back().first;
  if (x1 <= x0) x1 = x0 + 1;
  const auto xat = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  const auto yat = [&](double a) { return top + (1 - std::clamp(a, 0.0, 1.0)) * ph; };
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " "
    << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << left + pw / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" << xml_text(title) << "</text>\n";
  for (int t = 0; t <= 10; ++t) {
    const double y = yat(t / 10.0);
    o << "<line x1=\"" << left << "\" y1=\"" << y << "\" x2=\"" << left + pw << "\" y2=\"" << y << "\" stroke=\"#e0e0e0\"/>\n"
      << "<text x=\"" << left - 8 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">" << t * 10 << "%</text>\n";
  }
  for (const auto& [x, text] : xticks)
    o << "<text x=\"" << xat(x) << "\" y=\"" << top + ph + 18 << "\" text-anchor=\"middle\">" << text << "</text>\n";
  o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n<text x=\"" << left + pw / 2 << "\" y=\"" << H - 16
    << "\" text-anchor=\"middle\">" << xlabel << "</text>\n<text x=\"18\" y=\"" << top + ph / 2
    << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << top + ph / 2 << ")\">test accuracy</text>\n";
  double ly = top + 10;
  for (const Line& l : lines) {
    o << "<polyline fill=\"none\" stroke=\"" << l.colour << "\" stroke-width=\"2\"" << l.dash << " points=\"";
    for (const auto& [x, a] : l.points) o << xat(x) << "," << yat(a) << " ";
    o << "\"/>\n";
    for (const auto& [x, a] : l.points)
      o << "<circle cx=\"" << xat(x) << "\" cy=\"" << yat(a) << "\" r=\"2.5\" fill=\"" << l.colour << "\"/>\n";
    o << "<line x1=\"" << left + pw + 14 << "\" y1=\"" << ly << "\" x2=\"" << left + pw + 44 << "\" y2=\"" << ly
      << "\" stroke=\"" << l.colour << "\" stroke-width=\"2\"" << l.dash << "/>\n<text x=\"" << left + pw + 50
      << "\" y=\"" << ly + 4 << "\">" << xml_text(l.label) << "</text>\n";
    ly += 18;
  }
  o << "</svg>\n";
  return o.str();
}

struct GuptaRow {
  std::string network, weights;  // weights: "float", "stored" or "dual"
  int frac = 0;
  fixq::Round round = fixq::Round::NearestEven;
  std::vector<double> epochs;
  double seconds = 0;
  std::string label() const {
    if (weights == "float") return "float";
    return "<16," + std::to_string(frac) + "> " + std::string(fixq::to_string(round)) + " " + weights;
  }
};

struct MethodRow {
  std::string method;
  int bits = 0;  // 0: the float baseline
  double accuracy = 0, trained_accuracy = 0, seconds = 0;
  std::int64_t mismatches = 0;
};

/// Trains one network; the test accuracy after each epoch (with `hooks`' activation
/// quantizers, rounding to nearest) goes to `epochs`.
inline std::vector<double> fit_epochs(train::Network& net, const Data& d, train::TrainOptions o) {
  o.val_x = &d.test.x;
  o.val_y = d.test.y;
  o.threads = 1;  // the runs themselves go two at a time
  std::vector<double> acc;
  for (const train::EpochRecord& r : train::fit(net, d.train.x, d.train.y, o)) acc.push_back(r.val_accuracy);
  return acc;
}

inline std::string pct(double a) { return percent(a); }

}  // namespace study

inline int cmd_study_sorted(const Task& t, const StudyArgs& a, const study::Data& d, const std::vector<std::string>& argv);

/// The study on data d (train, test, calibration images); argv goes to the report.
/// Returns the exit status (1 when --check fails or int != sim).
inline int cmd_study(const Task& t, const StudyArgs& a, const study::Data& d, const std::vector<std::string>& argv) {
  if (a.tables.empty() || a.bits.empty() || a.fracs.empty())
    throw std::invalid_argument("study: --tables, --widths and --fracs need at least one value each");
  for (const int b : a.bits)
    if (b < 2 || b > 16) throw std::invalid_argument("study: weight width " + std::to_string(b) + " is not in [2, 16]");
  for (const int f : a.fracs)
    if (f < 0 || f > 15) throw std::invalid_argument("study: FL " + std::to_string(f) + " is not in [0, 15]");
  StudyArgs sorted = a;  // widths and fractions in increasing order, once each
  for (std::vector<int>* v : {&sorted.bits, &sorted.fracs}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return cmd_study_sorted(t, sorted, d, argv);
}

inline int cmd_study_sorted(const Task& t, const StudyArgs& a, const study::Data& d, const std::vector<std::string>& argv) {
  namespace train = fixq::train;
  using namespace study;
  const auto start = std::chrono::steady_clock::now();
  const bool do_gupta = std::find(a.tables.begin(), a.tables.end(), "gupta") != a.tables.end();
  const bool do_methods = std::find(a.tables.begin(), a.tables.end(), "methods") != a.tables.end();
  const int gupta_epochs = a.gupta_epochs ? a.gupta_epochs : 3;
  const int methods_epochs = a.methods_epochs ? a.methods_epochs : (a.quick ? 3 : 2);
  const fixq::Shape input(d.train.x.shape.begin() + 1, d.train.x.shape.end());
  std::printf("%s study: %zu training images (%s), %zu test images, seed %llu, %d threads\n", t.program.c_str(),
              d.train.size(), d.train_from.c_str(), d.test.size(), static_cast<unsigned long long>(a.seed),
              fixq::threads());
  std::fflush(stdout);
  nlohmann::json report_rows = nlohmann::json::array();
  std::string text;
  char line[512];
  int status = 0;
  const auto check = [&](bool ok, const std::string& what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
    if (!ok) status = 1;
  };

  // ---- Table 1: Gupta et al. ----
  std::vector<GuptaRow> gupta;
  if (do_gupta) {
    const std::vector<std::string> nets = a.quick ? std::vector<std::string>{"fc"} : std::vector<std::string>{"fc", "cnn"};
    for (const std::string& n : nets) {
      gupta.push_back({n, "float", 0, fixq::Round::NearestEven, {}, 0});
      for (const int f : a.fracs)
        for (const fixq::Round r : {fixq::Round::NearestEven, fixq::Round::Stochastic})
          if (!a.quick || f == a.fracs.front() || f == a.fracs.back()) gupta.push_back({n, "stored", f, r, {}, 0});
      for (const fixq::Round r : {fixq::Round::NearestEven, fixq::Round::Stochastic})
        gupta.push_back({n, "dual", a.fracs.back(), r, {}, 0});
    }
    std::printf("\nTable 1 (Gupta et al. 2015): <16,FL> everywhere, plain SGD lr %g, batch 100, %d epochs\n",
                a.gupta_lr, gupta_epochs);
    std::fflush(stdout);
    for_each_job(gupta.size(), [&](std::size_t i) {
      GuptaRow& r = gupta[i];
      const auto t0 = std::chrono::steady_clock::now();
      train::Network net = r.network == "fc" ? fully_connected(input) : t.network();
      net.build(a.seed);
      train::TrainOptions o;
      o.epochs = gupta_epochs;
      o.batch = 100;
      o.chunk = 25;
      o.seed = a.seed;
      o.optimizer = {.kind = train::OptimizerKind::SGD, .lr = a.gupta_lr, .momentum = 0};
      o.schedule = {.kind = train::Schedule::Kind::Constant};
      if (r.weights != "float") o.hooks = gupta_hooks(r.frac, r.round, r.weights == "dual");
      r.epochs = fit_epochs(net, d, o);
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }, [&](std::size_t i) {
      std::printf("  %-4s %-32s %s  (%.0f s)\n", gupta[i].network.c_str(), gupta[i].label().c_str(),
                  pct(gupta[i].epochs.back()).c_str(), gupta[i].seconds);
      std::fflush(stdout);
    });
    std::snprintf(line, sizeof line, "Table 1 (Gupta et al. 2015): test accuracy after each epoch; <16,FL> weights, "
                  "biases, activations and both gradients; SGD lr %g, batch 100\n\n%-8s %-34s", a.gupta_lr, "network", "training");
    text += line;
    for (int e = 1; e <= gupta_epochs; ++e) {
      std::snprintf(line, sizeof line, " %8s", ("epoch " + std::to_string(e)).c_str());
      text += line;
    }
    text += "\n";
    for (const GuptaRow& r : gupta) {
      std::snprintf(line, sizeof line, "%-8s %-34s", r.network == "fc" ? "FC" : "CNN", r.label().c_str());
      text += line;
      for (const double acc : r.epochs) {
        std::snprintf(line, sizeof line, " %8s", pct(acc).c_str());
        text += line;
      }
      text += "\n";
      nlohmann::json j = {{"table", "gupta"}, {"network", r.network == "fc" ? "fc-1000-1000" : "cnn"},
                          {"weights", r.weights}, {"epochs", r.epochs}, {"seconds", r.seconds}};
      if (r.weights != "float") {
        j["word"] = 16;
        j["frac"] = r.frac;
        j["round"] = std::string(fixq::to_string(r.round));
      }
      report_rows.push_back(j);
    }
    text += "\n";
    // The plot: accuracy against epoch, one line per row.
    const char* colours[] = {"#777777", "#1f77b4", "#aec7e8", "#d62728", "#ff9896", "#2ca02c", "#98df8a", "#9467bd", "#c5b0d5"};
    std::vector<std::pair<double, std::string>> xt;
    for (int e = 1; e <= gupta_epochs; ++e) xt.emplace_back(e, std::to_string(e));
    if (gupta_epochs == 1) xt.emplace_back(2, "");
    std::vector<Line> lines;
    std::size_t k = 0;
    std::string prev;
    for (const GuptaRow& r : gupta) {
      if (r.network != prev) k = 0, prev = r.network;
      Line l{(r.network == "fc" ? "FC " : "CNN ") + r.label(), colours[k++ % 9], r.network == "fc" ? "" : " stroke-dasharray=\"6,3\"", {}};
      for (std::size_t e = 0; e < r.epochs.size(); ++e) l.points.emplace_back(static_cast<double>(e + 1), r.epochs[e]);
      lines.push_back(l);
    }
    write_text(fs::path(a.out) / "gupta.svg",
               line_plot(t.dataset + ": training with <16,FL> everywhere (Gupta et al. 2015)", "epoch", xt, lines));
  }

  // ---- Table 2: methods x widths ----
  std::vector<MethodRow> mrows;
  if (do_methods) {
    mrows.push_back({"float", 0, 0, 0, 0, 0});
    for (const std::string& m : methods)
      for (const int b : a.bits) mrows.push_back({m, b, 0, 0, 0, 0});
    std::printf("\nTable 2: methods x weight widths, 8-bit activations, %d epochs (Adam, the example's recipe)\n",
                methods_epochs);
    std::fflush(stdout);
    const NDArray<float> first = rows(d.train.x, 0, std::min<std::size_t>(256, d.train.size()));
    for_each_job(mrows.size(), [&](std::size_t i) {
      MethodRow& r = mrows[i];
      const auto t0 = std::chrono::steady_clock::now();
      train::Network net = t.network();
      net.build(a.seed);
      train::TrainOptions o;
      o.epochs = methods_epochs;
      o.batch = t.batch;
      o.seed = a.seed;
      o.optimizer.lr = t.lr;
      o.optimizer.weight_decay = t.weight_decay;
      o.augment = [&](NDArray<float>& b, std::uint64_t s) { train::random_shift_flip(b, t.shift, t.flip, s); };
      std::optional<train::IterativeQuantizer> iq;
      if (r.bits) {
        const FixedFracs f = fixed_fracs(net, r.bits, first);
        o.hooks = method_hooks(r.method, r.bits, f);
        if (r.method == "iterative") {
          iq.emplace(train::Quantizer{.word = r.bits}, std::vector<double>{0.5, 0.75, 0.875, 1.0}, a.seed);
          o.before_step = iq->schedule(net);
        }
      }
      r.trained_accuracy = fit_epochs(net, d, o).back();
      if (iq) iq->finish(net);
      net.commit_quantized();
      const Model m = net.to_model();
      if (r.bits) {
        const Eval e = evaluate(fixq::calibrate(m, d.calib, spec_for(8, r.bits, fixq::Round::NearestEven, a.seed, false)),
                                d.test, false);
        r.accuracy = e.integer;
        r.mismatches = e.mismatches;
      } else {
        r.accuracy = float_accuracy(m, d.test);
      }
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }, [&](std::size_t i) {
      const MethodRow& r = mrows[i];
      std::printf("  %-10s %2d bits  %s (integer-only; %s in training)  (%.0f s)\n", r.method.c_str(), r.bits,
                  pct(r.accuracy).c_str(), pct(r.trained_accuracy).c_str(), r.seconds);
      std::fflush(stdout);
    });
    std::snprintf(line, sizeof line, "Table 2: integer-only test accuracy, 8-bit activations, weights of the width shown; "
                  "float %s\n\n%-11s", pct(mrows[0].accuracy).c_str(), "method");
    text += line;
    for (const int b : a.bits) {
      std::snprintf(line, sizeof line, " %8s", (std::to_string(b) + " bits").c_str());
      text += line;
    }
    text += "\n";
    report_rows.push_back({{"table", "methods"}, {"method", "float"}, {"test_accuracy", mrows[0].accuracy}, {"seconds", mrows[0].seconds}});
    for (const std::string& m : methods) {
      std::snprintf(line, sizeof line, "%-11s", m.c_str());
      text += line;
      for (const MethodRow& r : mrows)
        if (r.method == m) {
          std::snprintf(line, sizeof line, " %8s", pct(r.accuracy).c_str());
          text += line;
          report_rows.push_back({{"table", "methods"}, {"method", m}, {"bits", r.bits}, {"test_accuracy", r.accuracy},
                          {"training_forward_accuracy", r.trained_accuracy}, {"mismatches", r.mismatches},
                          {"seconds", r.seconds}});
        }
      text += "\n";
    }
    text += "\n";
    const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
    std::vector<std::pair<double, std::string>> xt;
    for (const int b : a.bits) xt.emplace_back(b, std::to_string(b));
    if (a.bits.size() == 1) xt.emplace_back(a.bits[0] + 1, "");
    std::vector<Line> lines{{"float " + pct(mrows[0].accuracy), "#777777", " stroke-dasharray=\"2,3\"",
                             {{xt.front().first, mrows[0].accuracy}, {xt.back().first, mrows[0].accuracy}}}};
    for (std::size_t k = 0; k < methods.size(); ++k) {
      Line l{methods[k], colours[k], "", {}};
      for (const MethodRow& r : mrows)
        if (r.method == methods[k]) l.points.emplace_back(r.bits, r.accuracy);
      lines.push_back(l);
    }
    write_text(fs::path(a.out) / "methods.svg",
               line_plot(t.dataset + ": low-precision training methods, 8-bit activations", "weight width (bits)", xt, lines));
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::snprintf(line, sizeof line, "%zu training images (%s), %zu test images; seed %llu; %.0f s on %d threads\n",
                d.train.size(), d.train_from.c_str(), d.test.size(), static_cast<unsigned long long>(a.seed), seconds,
                fixq::threads());
  text += line;
  std::printf("\n%s", text.c_str());
  const nlohmann::json report = {{"program", t.program}, {"command", argv}, {"seed", a.seed}, {"quick", a.quick},
                                 {"training_images", d.train.size()}, {"training_data", d.train_from},
                                 {"test_images", d.test.size()}, {"gupta_epochs", gupta_epochs},
                                 {"gupta_lr", a.gupta_lr}, {"methods_epochs", methods_epochs},
                                 {"threads", fixq::threads()},
                                 {"seconds", seconds}, {"rows", report_rows}};
  const std::string json = report.dump(2) + "\n";
  write_text(fs::path(a.out) / "study.txt", text);
  write_text(fs::path(a.out) / "study.json", json);
  if (!a.json.empty()) write_text(a.json, json);
  std::printf("wrote %s/study.txt, study.json%s%s\n", a.out.c_str(), do_gupta ? ", gupta.svg" : "",
              do_methods ? ", methods.svg" : "");

  std::int64_t mismatches = 0;
  for (const MethodRow& r : mrows) mismatches += r.mismatches;
  if (mismatches) {
    std::printf("FAIL: %lld test images have integer logits that differ from the simulation\n", static_cast<long long>(mismatches));
    status = 1;
  }
  if (a.check) {
    // What must hold at any size: stochastic rounding keeps training alive where
    // round-to-nearest loses the updates, and 8-bit weights train by every method to
    // near the float network.
    const auto find = [&](const std::string& w, int f, fixq::Round r) -> const GuptaRow* {
      for (const GuptaRow& g : gupta)
        if (g.network == "fc" && g.weights == w && (w == "float" || (g.frac == f && g.round == r))) return &g;
      return nullptr;
    };
    // Round-to-nearest loses the updates below half an LSB: most at the coarsest grid.
    const GuptaRow* fp = find("float", 0, fixq::Round::NearestEven);
    const int coarse = a.fracs.front();
    const GuptaRow *ne = find("stored", coarse, fixq::Round::NearestEven), *st = find("stored", coarse, fixq::Round::Stochastic);
    if (do_gupta && (!ne || !st || !fp)) check(false, "the Gupta table's float and stored <16," + std::to_string(coarse) + "> rows ran");
    if (ne && st)
      check(st->epochs.back() >= ne->epochs.back() + 0.2,
            "stored <16," + std::to_string(coarse) + ">: stochastic " + pct(st->epochs.back()) + " beats nearest " +
                pct(ne->epochs.back()) + " by 20 points or more");
    for (const int f : a.fracs)
      if (const GuptaRow* g = find("stored", f, fixq::Round::Stochastic); g && fp)
        check(g->epochs.back() >= fp->epochs.back() - 0.05,
              "stored <16," + std::to_string(f) + "> stochastic " + pct(g->epochs.back()) + " within 5 points of float " +
                  pct(fp->epochs.back()));
    if (do_methods && std::find(a.bits.begin(), a.bits.end(), 8) == a.bits.end())
      check(false, "the methods table has 8-bit rows to check (--widths includes 8)");
    for (const MethodRow& r : mrows)
      if (r.bits == 8)
        check(r.accuracy >= mrows[0].accuracy - 0.08,
              r.method + " at 8 bits " + pct(r.accuracy) + " within 8 points of float " + pct(mrows[0].accuracy));
    check(mismatches == 0, "integer-only logits equal the simulation's for every trained network");
  }
  return status;
}

}  // namespace fixq_examples

#endif  // FIXQ_EXAMPLES_STUDY_HPP
