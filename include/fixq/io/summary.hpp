// fixq/io/summary.hpp - a model file as a table: one line per layer (`fixq info`).
//
//   std::cout << fixq::model_summary(fixq::load_model("examples/mnist/model"));
//
// Each line: the layer's name, type, input and output shapes, and for a model with
// formats its input, weight and output formats ("s8.4": signed, word 8, frac 4;
// "s8.3..6": per-channel fracs from 3 to 6) and accumulator width; then MACs and
// bytes of weight codes per sample. A last line gives the totals and the outputs.
#ifndef FIXQ_IO_SUMMARY_HPP
#define FIXQ_IO_SUMMARY_HPP

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>

#include <fixq/core/format.hpp>
#include <fixq/io/model_file.hpp>

namespace fixq {

namespace detail {
/// "s8.4" / "u8.8".
inline std::string short_format(const Format& f) {
  return std::string(f.is_signed ? "s" : "u") + std::to_string(f.word) + "." + std::to_string(f.frac);
}
/// 1234567 -> "1,234,567".
inline std::string grouped(std::int64_t v) {
  std::string s = std::to_string(v), r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0 && s[i - 1] != '-') r += ',';
    r += s[i];
  }
  return r;
}
}  // namespace detail

/// The table of `fixq info` (lines end with '\n').
inline std::string model_summary(const ModelFile& mf) {
  using detail::grouped;
  using detail::short_format;
  const Model& m = mf.model;
  std::ostringstream t;
  t << (mf.path.empty() ? std::string("model") : mf.path.string()) << ": " << m.size() << " layers, " << (mf.quantized ? "fixed point" : "float (no formats)") << "\n";
  t << "input " << shape_text(m.input_shape());
  if (mf.quantized)
    t << "  " << short_format(m.input_spec().format) << " " << to_string(m.input_spec().round) << "/"
      << to_string(m.input_spec().overflow);
  if (!mf.preprocess.identity()) t << "  preprocess x * " << mf.preprocess.scale << " + " << mf.preprocess.offset;
  t << "\n\n";
  t << std::left << std::setw(14) << "layer" << std::setw(16) << "type" << std::setw(16) << "input" << std::setw(16)
    << "output";
  if (mf.quantized)
    t << std::setw(11) << "in fmt" << std::setw(14) << "weight fmt" << std::setw(11) << "out fmt" << std::setw(5) << "acc";
  t << std::right << std::setw(13) << "MACs" << std::setw(12) << "weight B" << "\n";
  std::int64_t macs = 0, bytes = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const Layer& l = m.layer(i);
    const LayerInfo info = l.info();
    std::string in = shape_text(l.input_shapes()[0]);
    for (std::size_t k = 1; k < l.input_shapes().size(); ++k) in += "+";
    std::string wf = "-";
    if (const detail::LinearCore* core = l.linear_core()) {
      const auto& f = core->weight_formats();
      const auto [lo, hi] =
          std::minmax_element(f.begin(), f.end(), [](const auto& a, const auto& b) { return a.frac < b.frac; });
      wf = short_format(*lo);
      if (lo->frac != hi->frac) wf += ".." + std::to_string(hi->frac);
    }
    t << std::left << std::setw(14) << l.name() << std::setw(16) << l.type() << std::setw(16) << in << std::setw(16)
      << shape_text(l.output_shape());
    if (mf.quantized)
      t << std::setw(11) << short_format(l.input_formats()[0]) << std::setw(14) << wf << std::setw(11)
        << short_format(l.output_format()) << std::setw(5)
        << (info.accumulator_bits ? std::to_string(info.accumulator_bits) : "-");
    t << std::right << std::setw(13) << grouped(info.macs) << std::setw(12) << grouped(info.weight_bytes) << "\n";
    macs += info.macs;
    bytes += info.weight_bytes;
  }
  t << "\ntotal: " << grouped(macs) << " MACs per sample, " << grouped(bytes) << " bytes of weight codes"
    << (mf.quantized ? "" : " (placeholder widths)") << "; outputs:";
  for (const std::string& o : m.outputs()) t << " " << o;
  t << "\n";
  return t.str();
}

}  // namespace fixq

#endif  // FIXQ_IO_SUMMARY_HPP
