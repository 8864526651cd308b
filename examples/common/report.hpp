// examples/common/report.hpp - the sweep as a text table, an SVG plot (accuracy
// against bits, one line per rounding mode) and JSON; writing a report file.
#ifndef FIXQ_EXAMPLES_REPORT_HPP
#define FIXQ_EXAMPLES_REPORT_HPP

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <fixq/io/files.hpp>

#include "sweep.hpp"

namespace fixq_examples {

/// Writes a report file whole (or not at all), creating its folder.
inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) throw fixq::file_error(file.parent_path().string() + ": cannot create the folder: " + ec.message());
  fixq::AtomicFile f(file);
  f.stream() << text;
  f.commit();
}

/// What a sweep found, with what it ran on.
struct SweepReport {
  std::string dataset, model;
  std::size_t test_images = 0, calibration_images = 0;
  double float_accuracy = 0;
  std::vector<Row> rows;
  bool has_search = false;
  SearchResult search;
  /// Named extra configurations (e.g. "conv weights 4 bits, rest 8").
  std::vector<std::pair<std::string, Eval>> extra;
  double seconds = 0;
};

inline std::string percent(double a) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100 * a);
  return b;
}

inline std::string table_text(const SweepReport& r) {
  std::ostringstream o;
  o << r.dataset << ": " << r.test_images << " test images, float accuracy " << percent(r.float_accuracy)
    << "; formats calibrated (MaxAbs) on " << r.calibration_images << " training images\n\n";
  char line[160];
  std::snprintf(line, sizeof line, "%4s  %-11s  %12s  %9s  %9s  %10s\n", "bits", "round", "weights-only", "sim", "int",
                "mismatches");
  o << line;
  for (const Row& row : r.rows) {
    std::snprintf(line, sizeof line, "%4d  %-11s  %12s  %9s  %9s  %10lld\n", row.bits,
                  std::string(fixq::to_string(row.round)).c_str(), percent(row.eval.weights_only).c_str(),
                  percent(row.eval.sim).c_str(), percent(row.eval.integer).c_str(),
                  static_cast<long long>(row.eval.mismatches));
    o << line;
  }
  for (const auto& [name, e] : r.extra)
    o << "\n" << name << ": sim " << percent(e.sim) << ", int " << percent(e.integer) << ", mismatches "
      << e.mismatches << "\n";
  if (r.has_search) {
    const SearchResult& s = r.search;
    o << "\nsmallest widths within " << 100 * s.margin << " points of float (integer-only, NearestEven; each group "
      << "alone, the others at 16 bits): conv weights " << s.conv << ", dense weights " << s.dense
      << ", activations " << s.act << "\n  all three together: int " << percent(s.combined.integer)
      << ", mismatches " << s.combined.mismatches << "\n";
  }
  return o.str();
}

inline nlohmann::json eval_json(const Eval& e) {
  return {{"sim_accuracy", e.sim}, {"int_accuracy", e.integer}, {"bit_exact_mismatches", e.mismatches}};
}

inline nlohmann::json report_json(const SweepReport& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Row& row : r.rows)
    rows.push_back({{"bits", row.bits},
                    {"round", std::string(fixq::to_string(row.round))},
                    {"weights_only_accuracy", row.eval.weights_only},
                    {"sim_accuracy", row.eval.sim},
                    {"int_accuracy", row.eval.integer},
                    {"bit_exact_mismatches", row.eval.mismatches},
                    {"seconds", row.seconds}});
  nlohmann::json j = {{"dataset", r.dataset},
                      {"model", r.model},
                      {"test_images", r.test_images},
                      {"calibration_images", r.calibration_images},
                      {"float_accuracy", r.float_accuracy},
                      {"rows", rows},
                      {"seconds", r.seconds}};
  nlohmann::json extra = nlohmann::json::object();
  for (const auto& [name, e] : r.extra) extra[name] = eval_json(e);
  j["configurations"] = extra;
  if (r.has_search) {
    const SearchResult& s = r.search;
    j["search"] = {{"margin", s.margin},
                   {"conv_weights_bits", s.conv},
                   {"dense_weights_bits", s.dense},
                   {"activation_bits", s.act},
                   {"combined", eval_json(s.combined)}};
  }
  return j;
}

/// Accuracy (integer-only, solid; weights only, dashed) against bits, one colour
/// per rounding mode, float as a grey line; x spaced evenly over the widths swept.
inline std::string plot_svg(const SweepReport& r) {
  const double W = 820, H = 460, left = 70, right = 250, top = 50, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  std::vector<int> bits;
  std::vector<fixq::Round> rounds;
  for (const Row& row : r.rows) {
    if (std::find(bits.begin(), bits.end(), row.bits) == bits.end()) bits.push_back(row.bits);
    if (std::find(rounds.begin(), rounds.end(), row.round) == rounds.end()) rounds.push_back(row.round);
  }
  std::sort(bits.begin(), bits.end());
  const auto xat = [&](int b) {
    const auto i = static_cast<double>(std::find(bits.begin(), bits.end(), b) - bits.begin());
    return left + (bits.size() > 1 ? i / static_cast<double>(bits.size() - 1) : 0.5) * pw;
  };
  const auto yat = [&](double a) { return top + (1 - std::clamp(a, 0.0, 1.0)) * ph; };
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << left + pw / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" << r.dataset
    << ": test accuracy against word width (" << r.test_images << " images)</text>\n";
  for (int t = 0; t <= 10; ++t) {  // grid and y labels
    const double a = t / 10.0, y = yat(a);
    o << "<line x1=\"" << left << "\" y1=\"" << y << "\" x2=\"" << left + pw << "\" y2=\"" << y
      << "\" stroke=\"#e0e0e0\"/>\n";
    o << "<text x=\"" << left - 8 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">" << t * 10 << "%</text>\n";
  }
  for (const int b : bits) {
    const double x = xat(b);
    o << "<line x1=\"" << x << "\" y1=\"" << top << "\" x2=\"" << x << "\" y2=\"" << top + ph
      << "\" stroke=\"#f0f0f0\"/>\n";
    o << "<text x=\"" << x << "\" y=\"" << top + ph + 18 << "\" text-anchor=\"middle\">" << b << "</text>\n";
  }
  o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  o << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 16 << "\" text-anchor=\"middle\">word width (bits) of "
    << "weights and activations</text>\n";
  o << "<text x=\"18\" y=\"" << top + ph / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << top + ph / 2
    << ")\">accuracy</text>\n";
  const double fy = yat(r.float_accuracy);
  o << "<line x1=\"" << left << "\" y1=\"" << fy << "\" x2=\"" << left + pw << "\" y2=\"" << fy
    << "\" stroke=\"#777\" stroke-dasharray=\"2,3\"/>\n";
  double ly = top + 10;
  const auto legend = [&](const std::string& colour, const std::string& dash, const std::string& text) {
    o << "<line x1=\"" << left + pw + 14 << "\" y1=\"" << ly << "\" x2=\"" << left + pw + 44 << "\" y2=\"" << ly
      << "\" stroke=\"" << colour << "\" stroke-width=\"2\"" << dash << "/>\n";
    o << "<text x=\"" << left + pw + 50 << "\" y=\"" << ly + 4 << "\">" << text << "</text>\n";
    ly += 20;
  };
  legend("#777", " stroke-dasharray=\"2,3\"", "float " + percent(r.float_accuracy));
  for (std::size_t k = 0; k < rounds.size(); ++k) {
    const std::string colour = colours[k % 6];
    for (const bool weights_only : {false, true}) {
      o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\""
        << (weights_only ? " stroke-dasharray=\"6,4\" stroke-opacity=\"0.6\"" : "") << " points=\"";
      for (const Row& row : r.rows)
        if (row.round == rounds[k])
          o << xat(row.bits) << "," << yat(weights_only ? row.eval.weights_only : row.eval.integer) << " ";
      o << "\"/>\n";
      if (!weights_only)
        for (const Row& row : r.rows)
          if (row.round == rounds[k])
            o << "<circle cx=\"" << xat(row.bits) << "\" cy=\"" << yat(row.eval.integer) << "\" r=\"3\" fill=\""
              << colour << "\"/>\n";
    }
    legend(colour, "", std::string(fixq::to_string(rounds[k])) + " (integer-only)");
    legend(colour, " stroke-dasharray=\"6,4\" stroke-opacity=\"0.6\"",
           std::string(fixq::to_string(rounds[k])) + " (weights only)");
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace fixq_examples

#endif  // FIXQ_EXAMPLES_REPORT_HPP
