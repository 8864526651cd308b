// fixq/io/export.hpp - integer weights and golden vectors for hardware test benches.
//
//   fixq::write_export(model, inputs, "out", {.count = 16});
//
// Writes, for a quantized model, every tensor an implementation needs as integer
// codes, and a manifest that says what each one is:
//   input           the first `count` inputs' codes, (count, *input_shape)
//   <layer>.weight  weight codes (Dense (in, out), Conv2D HWIO, BatchNorm (C,) scales)
//   <layer>.bias    bias codes (out,) (BatchNorm: the shifts t)
//   <layer>.output  the layer's output codes for those inputs (golden vectors)
// (file names: the tensor's name with characters outside [A-Za-z0-9_.-] as '_')
// Each tensor is written three ways (io/code_files.hpp): <name>.npy (the smallest
// standard integer type holding the word), <name>.hex (one two's-complement code
// per line, $readmemh) and <name>.h (a C99 / C++ header). Codes are never written as
// decimal text. manifest.json lists the tensors (name, kind, layer, shape, layout,
// format, dtype, files) and, per layer, what an implementer needs: type, inputs,
// shapes, formats, window and padding (resolved to amounts), accumulator width and
// the requantization (per-channel accumulator fraction, the shifts that align the
// products and the bias, the output shift) with its rounding and overflow modes.
// docs/model-format.md documents the manifest.
#ifndef FIXQ_IO_EXPORT_HPP
#define FIXQ_IO_EXPORT_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <fixq/core/format.hpp>
#include <fixq/io/code_files.hpp>
#include <fixq/io/files.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/registry.hpp>
#include <fixq/model/model.hpp>

namespace fixq {

struct ExportOptions {
  std::int64_t count = 10;  ///< golden vectors for the first `count` inputs (fewer when there are fewer)
  /// Write into a folder that already holds files (replacing those of the same
  /// names). Without it a non-empty folder is refused, so that an export never
  /// overwrites a user's files (an input.npy, a weight file) without a word.
  bool force = false;
};

namespace detail {

using json = nlohmann::json;

inline json spec_json(const QuantSpec& s) {
  json j{{"round", std::string(to_string(s.round))}, {"overflow", std::string(to_string(s.overflow))}};
  if (s.seed) j["seed"] = *s.seed;
  return j;
}

/// Formats of one per-channel tensor: one format, "frac" a list when they differ.
inline json formats_json(const std::vector<Format>& f) {
  json j{{"word", f.at(0).word}, {"frac", f[0].frac}, {"signed", f[0].is_signed}};
  if (std::any_of(f.begin(), f.end(), [&](const Format& x) { return x.frac != f[0].frac; })) {
    std::vector<int> fr;
    for (const Format& x : f) fr.push_back(x.frac);
    j["frac"] = fr;
  }
  return j;
}

inline json window_json(const Window2D& w, const WindowGeometry& g) {
  const int eh = (w.size[0] - 1) * w.dilation[0] + 1, ew = (w.size[1] - 1) * w.dilation[1] + 1;
  const int bottom = std::max(0, (g.out_h - 1) * w.strides[0] + eh - g.in_h - g.pad_top);
  const int right = std::max(0, (g.out_w - 1) * w.strides[1] + ew - g.in_w - g.pad_left);
  return json{{"kernel", w.size}, {"strides", w.strides}, {"dilation", w.dilation},
              {"padding", {g.pad_top, bottom, g.pad_left, right}}};
}

/// A layer's scalar attributes as the manifest lists them (the window, formats and
/// weights have their own entries).
class ManifestAttrs final : public AttrVisitor {
 public:
  explicit ManifestAttrs(json& j) : j_(j) {}
  void tensor(const char*, const char*, NDArray<float>&, TensorRole, bool) override {}
  void vector(const char*, const char*, std::vector<float>&) override {}
  void integer(const char* key, int& v, int, int, std::optional<int>, AttrScope scope) override {
    if (scope == AttrScope::FileAndManifest) j_[key] = v;
  }
  void number(const char* key, double& v, std::optional<double> omit, AttrScope scope) override {
    if (scope == AttrScope::FileAndManifest && !(omit && v == *omit)) j_[key] = v;
  }
  void pair(const char*, std::array<int, 2>&, int, std::optional<std::array<int, 2>>) override {}
  void padding(const char*, Padding&) override {}
  void param_format(const char* key, Format& f, std::span<const float>) override { j_[key] = formats_json({f}); }
  void output(QuantSpec&) override {}
  void linear(LinearFormats&) override {}

 private:
  json& j_;
};

/// The layout of an activation tensor (batch first).
inline std::string layout_of(const Shape& s) {
  if (s.size() == 4) return "NHWC";
  if (s.size() == 2) return "(batch, features)";
  return "row-major, batch first";
}

/// Where an export's files go: all names claimed (case-insensitively) before the
/// first byte is computed, all files renamed into place together at the end.
struct ExportFiles {
  std::filesystem::path dir;
  FileNames names;
  AtomicGroup files;
};

/// Writes one tensor's three files and returns its manifest entry. The files are
/// named after the tensor with characters outside [A-Za-z0-9_.-] replaced by '_'.
inline json export_tensor(ExportFiles& out, const std::string& name, const std::string& kind,
                          const std::string& layer, const Shape& shape, const std::string& layout,
                          const json& format, int word, bool is_signed, const std::vector<std::int64_t>& codes) {
  const CodeTensor t{name, shape, word, is_signed, codes};
  const std::string file = detail::file_stem(name);
  // (each file closed when written: one open at a time, whatever the layer count)
  AtomicFile& npy = out.files.add(out.dir / (file + ".npy"));
  write_code_npy(npy, t);
  npy.close();
  AtomicFile& hex = out.files.add(out.dir / (file + ".hex"));
  write_code_hex(hex, t);
  hex.close();
  AtomicFile& header = out.files.add(out.dir / (file + ".h"));
  write_code_header(header, t, format);
  header.close();
  return json{{"name", name},
              {"kind", kind},
              {"layer", layer},
              {"shape", shape},
              {"layout", layout},
              {"format", format},
              {"dtype", std::string(dtype_name(code_dtype(word, is_signed)))},
              {"files", {{"npy", file + ".npy"}, {"hex", file + ".hex"}, {"c", file + ".h"}}}};
}

}  // namespace detail

/// Writes the export of `model` for the first options.count inputs given as codes
/// of the model's input format (batch first). Creates dir; writes every file or
/// none. Throws file_error when dir holds files (unless options.force) or a file
/// cannot be written, std::invalid_argument when two tensors' files would have one
/// name (checked before anything is written).
inline void write_export_codes(const Model& model, const NDArray<std::int32_t>& input_codes,
                               const std::filesystem::path& dir, const ExportOptions& options = {}) {
  using detail::json;
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    if (!std::filesystem::is_directory(dir, ec)) throw file_error(dir.string() + ": exists and is not a folder");
    if (!options.force && !std::filesystem::is_empty(dir, ec))
      throw file_error(dir.string() + ": the folder is not empty (an export would replace files in it; " +
                       "give an empty or new folder, or force it: --force, ExportOptions::force)");
  }
  // Every file's name, claimed before anything is computed or written.
  detail::ExportFiles out{dir, {}, {}};
  const auto claim = [&](const std::string& tensor, const std::string& owner) {
    const std::string stem = detail::file_stem(tensor);
    for (const char* ext : {".npy", ".hex", ".h"}) out.names.claim(stem + ext, owner);
  };
  out.names.claim("manifest.json", "the manifest");
  claim("input", "the input");
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& l = model.layer(i);
    const std::string owner = "layer '" + l.name() + "'";
    if (l.linear_core()) {
      claim(l.name() + ".weight", owner);
      claim(l.name() + ".bias", owner);
    }
    claim(l.name() + ".output", owner);
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) throw file_error(dir.string() + ": cannot create the folder: " + ec.message());
  const std::int64_t count = std::clamp<std::int64_t>(options.count, 0, input_codes.shape.empty() ? 0 : input_codes.dim(0));
  NDArray<std::int32_t> x = input_codes;
  x.shape[0] = count;
  x.data.resize(shape_size(x.shape));
  const auto outs = model.forward_int_all(x);
  const auto as64 = [](const auto& v) { return std::vector<std::int64_t>(v.begin(), v.end()); };
  const auto fmt = [](const Format& f) { return detail::formats_json({f}); };
  const auto shape_of = [](const Shape& s) { return json(s); };

  json tensors = json::array();
  const QuantSpec& in = model.input_spec();
  tensors.push_back(detail::export_tensor(out, "input", "input", "", x.shape,
                                          detail::layout_of(x.shape), fmt(in.format),
                                          in.format.word, in.format.is_signed, as64(x.data)));
  json manifest{{"fixq_export", 1}, {"count", count}};
  json input{{"tensor", "input"}, {"shape", shape_of(model.input_shape())}, {"format", fmt(in.format)}};
  input.update(detail::spec_json(in));
  manifest["input"] = input;
  manifest["outputs"] = model.outputs();
  const auto outputs = model.outputs();

  json layers = json::array();
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& l = model.layer(i);
    const std::string& name = l.name();
    json j{{"name", name}, {"type", l.type()}};
    json from = json::array();
    json in_shapes = json::array(), in_formats = json::array();
    for (std::size_t k = 0; k < l.input_shapes().size(); ++k) {
      const int src = model.layer_inputs(i)[k];
      from.push_back(src < 0 ? std::string("input") : model.layer(static_cast<std::size_t>(src)).name());
      in_shapes.push_back(l.input_shapes()[k]);
      in_formats.push_back(fmt(l.input_formats()[k]));
    }
    j["inputs"] = from;
    j["input_shape"] = l.input_shapes().size() == 1 ? in_shapes[0] : in_shapes;
    j["input_format"] = l.input_formats().size() == 1 ? in_formats[0] : in_formats;
    j["output_shape"] = l.output_shape();
    j["output_format"] = fmt(l.output_format());
    const LayerInfo info = l.info();
    j["macs"] = info.macs;
    json files = json::object();

    // What the layer describes: its window, scalar attributes and notes; a weighted
    // layer's codes and requantization; a new format's modes.
    if (const WindowGeometry* g = l.sliding_window()) j.update(detail::window_json(g->window, *g));
    detail::ManifestAttrs attrs(j);
    layer_type_of(l).visit(l, attrs);
    for (const LayerNote& n : l.notes()) std::visit([&](const auto& v) { j[n.key] = v; }, n.value);
    if (const QuantSpec* out = l.output_quantization()) j.update(detail::spec_json(*out));
    if (const detail::LinearCore* core = l.linear_core()) {
      const auto& wf = core->weight_formats();
      const auto& bf = core->bias_formats();
      j["weight_format"] = detail::formats_json(wf);
      j["bias_format"] = detail::formats_json(bf);
      j["accumulator_bits"] = info.accumulator_bits;
      j["exact_sum_bits"] = info.exact_sum_bits;
      j["requantize"] = {{"accumulator_frac", core->accumulator_fracs()},
                         {"product_shift", core->product_shifts()},
                         {"bias_shift", core->bias_shifts()},
                         {"shift", core->output_shifts()}};
      tensors.push_back(detail::export_tensor(out, name + ".weight", "weight", name, core->weight_shape(),
                                              core->weight_layout(), j["weight_format"], wf[0].word, wf[0].is_signed,
                                              as64(core->weight_codes())));
      tensors.push_back(detail::export_tensor(out, name + ".bias", "bias", name,
                                              Shape{static_cast<std::int64_t>(bf.size())}, "(out,)", j["bias_format"],
                                              bf[0].word, bf[0].is_signed, core->bias_codes()));
      files["weight"] = name + ".weight";
      files["bias"] = name + ".bias";
    }
    const bool is_output = std::find(outputs.begin(), outputs.end(), name) != outputs.end();
    const Shape oshape = outs[i].shape;
    tensors.push_back(detail::export_tensor(out, name + ".output", is_output ? "output" : "activation", name, oshape,
                                            detail::layout_of(oshape), fmt(l.output_format()),
                                            l.output_format().word, l.output_format().is_signed, as64(outs[i].data)));
    files["output"] = name + ".output";
    j["tensors"] = files;
    layers.push_back(std::move(j));
  }
  manifest["layers"] = layers;
  manifest["tensors"] = tensors;
  out.files.add(dir / "manifest.json").stream() << manifest.dump(2) << '\n';
  out.files.commit();
}

/// The same for inputs given as values (put on the input grid first).
inline void write_export(const Model& model, const NDArray<float>& inputs, const std::filesystem::path& dir,
                         const ExportOptions& options = {}) {
  NDArray<float> x = inputs;
  if (!x.shape.empty()) {
    x.shape[0] = std::clamp<std::int64_t>(options.count, 0, x.dim(0));
    x.data.resize(shape_size(x.shape));
  }
  write_export_codes(model, model.input_codes(x), dir, options);
}

}  // namespace fixq

#endif  // FIXQ_IO_EXPORT_HPP
