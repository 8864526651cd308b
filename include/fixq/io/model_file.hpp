// fixq/io/model_file.hpp - model files: a JSON description plus .npy weights.
//
//   fixq::ModelFile f = fixq::load_model("examples/mnist/model");   // folder or .json
//   auto logits = f.model.forward_float(x);
//   fixq::save_model(calibrated, "out", {.preprocess = f.preprocess});
//
// The format (version 1) is documented in docs/model-format.md. In short: a JSON
// object {"fixq_model": 1, "input": {...}, "layers": [...], "outputs": [...]}
// whose layers name .npy files relative to the JSON file's folder. A model whose
// input has no "format" is a float model: it runs on the float path, and
// calibrate (fixq/model/calibrate.hpp, `fixq calibrate`) gives it formats; in
// memory its layers carry placeholder formats (8-bit integers), and
// ModelFile::quantized is false.
//
// Every problem (unreadable or malformed JSON, a key given twice, a missing or
// unknown key, a value of the wrong type or out of range, an unknown layer type or
// input name, a cycle, a bad or non-finite weight file or one outside the model's
// folder, a model or weight file that is not a regular file, a layer that cannot be
// bound) throws fixq::file_error naming the file, the layer and the problem.
// save_model writes every file whole or none (io/files.hpp).
#ifndef FIXQ_IO_MODEL_FILE_HPP
#define FIXQ_IO_MODEL_FILE_HPP

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/io/files.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/registry.hpp>
#include <fixq/model/model.hpp>
#include <fixq/random/stream.hpp>

namespace fixq {

/// input.preprocess: raw inputs become model inputs as x * scale + offset.
struct Preprocess {
  double scale = 1.0;
  double offset = 0.0;
  bool identity() const { return scale == 1.0 && offset == 0.0; }
  friend bool operator==(const Preprocess&, const Preprocess&) = default;
};

/// Model inputs from raw values (`fixq run`'s INPUT, Python's arrays): out[i] =
/// float(x[i] * scale + offset), computed in double. x holds samples first_sample,
/// first_sample + 1, ... of `sample_shape` each. Throws std::invalid_argument naming
/// the sample, the element and the value when a result is not finite in float32.
template <class T>
void preprocess_input(const Preprocess& p, const Shape& sample_shape, const T* x, std::size_t n, std::int64_t first_sample,
                      float* out) {
  // float32, the type the model computes in, overflows to infinity from
  // FLT_MAX + half an ulp (2^103) on: 1e300 is finite in double, not in float.
  constexpr double float_overflow = 0x1.ffffffp+127;
  const std::size_t row = shape_size(sample_shape);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    const double y = v * p.scale + p.offset;
    if (!std::isfinite(y) || std::abs(y) >= float_overflow) {
      const std::size_t sample = row == 0 ? 0 : i / row;
      std::ostringstream what;
      what << std::setprecision(9) << "sample " << first_sample + static_cast<std::int64_t>(sample) << ", element "
           << i - sample * row << " of " << shape_text(sample_shape) << ": value " << v;
      if (!p.identity()) what << " preprocessed (x * " << p.scale << " + " << p.offset << ") to " << y;
      what << " is not finite in float32, the type the model computes in";
      throw std::invalid_argument(what.str());
    }
    out[i] = static_cast<float>(y);
  }
}

/// A model as read from a model file.
struct ModelFile {
  Model model;
  bool quantized = true;   ///< false: a float model (placeholder formats; run the float path or calibrate)
  Preprocess preprocess;
  std::filesystem::path path;  ///< the JSON file
};

/// How load_model reads a model.
struct LoadOptions {
  /// Replaces every seed of the file: the input and each Stochastic layer get
  /// derive_seed(seed, 0, position) (position 0 the input, i + 1 layer i of the file).
  std::optional<std::uint64_t> seed = {};
};

/// What save_model writes besides the model.
struct SaveOptions {
  bool quantized = true;  ///< false: write no formats (a float model)
  Preprocess preprocess = {};
};

namespace detail {

using json = nlohmann::json;

/// Reads one JSON object's keys with checks; every failure names file and place.
class JsonReader {
 public:
  JsonReader(const json& j, std::string where, const std::filesystem::path& file)
      : j_(j), where_(std::move(where)), file_(file) {
    if (!j_.is_object()) fail("must be a JSON object");
  }
  [[noreturn]] void fail(const std::string& what) const { throw file_error(file_, where_, what); }
  bool has(const char* key) const { return j_.contains(key); }
  const json& at(const char* key) const {
    if (!j_.contains(key)) fail(std::string("the key \"") + key + "\" is missing");
    return j_.at(key);
  }
  /// Rejects keys outside `allowed` (typos would otherwise be ignored silently).
  void only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : j_.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string list;
      for (const std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail("unknown key \"" + key + "\" (allowed here: " + list + ")");
    }
  }
  std::string str(const char* key) const {
    const json& v = at(key);
    if (!v.is_string()) fail(std::string("\"") + key + "\" must be a string");
    return v.get<std::string>();
  }
  std::int64_t integer(const json& v, const std::string& what, std::int64_t lo, std::int64_t hi) const {
    if (!v.is_number_integer()) fail(what + " must be an integer");
    const std::int64_t x = v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX)
                               ? INT64_MAX
                               : v.get<std::int64_t>();
    if (x < lo || x > hi) fail(what + " = " + v.dump() + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }
  int integer(const char* key, int lo, int hi) const {
    return static_cast<int>(integer(at(key), std::string("\"") + key + "\"", lo, hi));
  }
  double number(const char* key) const {
    const json& v = at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(std::string("\"") + key + "\" must be a finite number");
    return v.get<double>();
  }
  bool boolean(const char* key) const {
    const json& v = at(key);
    if (!v.is_boolean()) fail(std::string("\"") + key + "\" must be true or false");
    return v.get<bool>();
  }
  std::uint64_t seed(const char* key) const {
    const json& v = at(key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
      fail(std::string("\"") + key + "\" must be a non-negative integer");
    return v.get<std::uint64_t>();
  }
  std::array<int, 2> pair(const char* key, std::array<int, 2> dflt, int lo) const {
    if (!has(key)) return dflt;
    const json& v = at(key);
    if (!v.is_array() || v.size() != 2) fail(std::string("\"") + key + "\" must be a list of two integers");
    return {static_cast<int>(integer(v[0], std::string("\"") + key + "\"[0]", lo, 1 << 20)),
            static_cast<int>(integer(v[1], std::string("\"") + key + "\"[1]", lo, 1 << 20))};
  }
  Padding padding() const {
    if (!has("padding")) return Padding::valid();
    const json& v = at("padding");
    if (v.is_string()) {
      if (v == "valid") return Padding::valid();
      if (v == "same") return Padding::same();
      fail("\"padding\" must be \"valid\", \"same\" or [top, bottom, left, right], got " + v.dump());
    }
    if (!v.is_array() || v.size() != 4) fail("\"padding\" must be \"valid\", \"same\" or [top, bottom, left, right]");
    int p[4];
    for (int i = 0; i < 4; ++i) p[i] = static_cast<int>(integer(v[static_cast<std::size_t>(i)], "\"padding\"[" + std::to_string(i) + "]", 0, 1 << 20));
    return Padding::explicit_pads(p[0], p[1], p[2], p[3]);
  }
  /// {"word": w, "frac": f, "signed": s}; with `fracs`, "frac" may be a list.
  Format format(const char* key, std::vector<int>* fracs = nullptr) const {
    const JsonReader f(at(key), where_ + (where_.empty() ? "" : ": ") + "\"" + key + "\"", file_);
    f.only({"word", "frac", "signed"});
    const int word = f.integer("word", 1, 64);
    const bool is_signed = f.has("signed") ? f.boolean("signed") : true;
    const json& fr = f.at("frac");
    int frac = 0;
    if (fr.is_array()) {
      if (!fracs) f.fail("\"frac\" must be an integer here (a list is allowed for weight formats only)");
      if (fr.empty()) f.fail("\"frac\" is an empty list");
      fracs->clear();
      for (std::size_t i = 0; i < fr.size(); ++i)
        fracs->push_back(static_cast<int>(f.integer(fr[i], "\"frac\"[" + std::to_string(i) + "]", -(1 << 16), 1 << 16)));
      frac = (*fracs)[0];
    } else {
      frac = static_cast<int>(f.integer(fr, "\"frac\"", -(1 << 16), 1 << 16));
      if (fracs) fracs->clear();
    }
    if (!Format::valid(word, frac)) f.fail("word " + std::to_string(word) + " with frac " + std::to_string(frac) + " is not a valid format");
    if (fracs)
      for (const int x : *fracs)
        if (!Format::valid(word, x)) f.fail("word " + std::to_string(word) + " with frac " + std::to_string(x) + " is not a valid format");
    return Format{word, frac, is_signed};
  }
  Round round(const char* key, Round dflt) const {
    if (!has(key)) return dflt;
    const std::string s = str(key);
    const auto r = parse_round(s);
    if (!r) fail("unknown rounding mode \"" + s + "\" (e.g. NearestEven, Floor, Stochastic, AC_RND_CONV)");
    return *r;
  }
  Overflow overflow(const char* key, Overflow dflt) const {
    if (!has(key)) return dflt;
    const std::string s = str(key);
    const auto o = parse_overflow(s);
    if (!o) fail("unknown overflow mode \"" + s + "\" (e.g. Saturate, Wrap, AC_SAT)");
    return *o;
  }
  /// A float32/float64 .npy named by `key`, relative to the JSON file's folder and
  /// inside it (symlinks resolved: a model file cannot read files elsewhere); finite
  /// values.
  NDArray<float> weights(const char* key) const {
    const std::string quoted = "\"" + std::string(key) + "\"";
    const std::string name = str(key);
    std::filesystem::path p;
    DType dtype = DType::Float32;
    Shape shape;
    NDArray<float> a;
    try {  // (errors of the weight file itself, which name that file)
      p = resolve_inside(file_.parent_path(), name);
      NpyReader r(p);
      dtype = r.dtype();
      shape = r.shape();
      if (dtype_is_float(dtype) && r.size() != 0) a = r.read<float>();
    } catch (const file_error& e) {
      fail(quoted + ": " + e.what());
    }
    if (!dtype_is_float(dtype))
      fail(quoted + " (" + p.string() + ") holds " + std::string(dtype_name(dtype)) + "; weights must be float32 or float64");
    // (a layer without weights, e.g. without output channels, computes nothing)
    if (shape_size(shape) == 0) fail(quoted + " (" + p.string() + ") has shape " + shape_text(shape) + ", no element");
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!std::isfinite(a.data[i]))
        fail(quoted + " (" + p.string() + ") element " + std::to_string(i) + " is " + std::to_string(a.data[i]) +
             " (weights must be finite, and float64 values must fit float32)");
    return a;
  }
  const std::string& where() const { return where_; }

 private:
  const json& j_;
  std::string where_;
  const std::filesystem::path& file_;
};

inline json format_json(const Format& f) { return json{{"word", f.word}, {"frac", f.frac}, {"signed", f.is_signed}}; }

/// The keys a layer type's description uses, in order (for the unknown-key check).
class KeyCollector final : public AttrVisitor {
 public:
  std::vector<std::string_view> keys{"name", "type", "inputs", "comment"};
  void tensor(const char* key, const char*, NDArray<float>&, TensorRole, bool) override { keys.push_back(key); }
  void vector(const char* key, const char*, std::vector<float>&) override { keys.push_back(key); }
  void integer(const char* key, int&, int, int, std::optional<int>, AttrScope) override { keys.push_back(key); }
  void number(const char* key, double&, std::optional<double>, AttrScope) override { keys.push_back(key); }
  void pair(const char* key, std::array<int, 2>&, int, std::optional<std::array<int, 2>>) override { keys.push_back(key); }
  void padding(const char* key, Padding&) override { keys.push_back(key); }
  void param_format(const char* key, Format&, std::span<const float>) override { keys.push_back(key); }
  void output(QuantSpec&) override { keys.insert(keys.end(), {"output_format", "round", "overflow", "seed"}); }
  void linear(LinearFormats&) override {
    keys.insert(keys.end(), {"weight_format", "bias_format", "output_format", "round", "overflow", "seed", "weight_round"});
  }
};

/// Fills a layer type's Params from its JSON object.
class JsonAttrReader final : public AttrVisitor {
 public:
  /// seed_for(r): the seed of a spec rounding by r (the layer's own, or derived
  /// from the model's for Round::Stochastic).
  JsonAttrReader(const JsonReader& l, bool quantized, const Format& input,
                 std::function<std::optional<std::uint64_t>(Round)> seed_for)
      : l_(l), quantized_(quantized), input_(input), seed_for_(std::move(seed_for)) {}
  void tensor(const char* key, const char*, NDArray<float>& t, TensorRole, bool optional) override {
    t = optional && !l_.has(key) ? NDArray<float>{} : l_.weights(key);
  }
  void vector(const char* key, const char*, std::vector<float>& v) override { v = l_.weights(key).data; }
  void integer(const char* key, int& v, int lo, int hi, std::optional<int> dflt, AttrScope) override {
    if (l_.has(key) || !dflt) v = l_.integer(key, lo, hi);
    else v = *dflt;
  }
  void number(const char* key, double& v, std::optional<double> omit, AttrScope) override {
    if (l_.has(key) || !omit) v = l_.number(key);
    else v = *omit;
  }
  void pair(const char* key, std::array<int, 2>& v, int lo, std::optional<std::array<int, 2>> dflt) override {
    if (!l_.has(key) && !dflt) l_.at(key);  // the "missing" error
    v = l_.pair(key, dflt.value_or(std::array<int, 2>{lo, lo}), lo);
  }
  void padding(const char* key, Padding& p) override {
    if (std::string_view(key) != "padding") l_.fail("internal: padding attributes are named \"padding\"");
    p = l_.padding();
  }
  void param_format(const char* key, Format& f, std::span<const float>) override {
    if (quantized_) {
      f = l_.format(key);
    } else {
      if (l_.has(key)) l_.fail("has \"" + std::string(key) + "\" but the model input has no \"format\" (a model has formats everywhere or nowhere)");
      f = placeholder_format();
    }
  }
  void output(QuantSpec& s) override {
    const Round r = l_.round("round", Round::NearestEven);
    s = QuantSpec{quantized_ ? l_.format("output_format") : placeholder_format(), r,
                  l_.overflow("overflow", Overflow::Saturate), seed_for_(r)};
    if (!quantized_ && l_.has("output_format"))
      l_.fail("has \"output_format\" but the model input has no \"format\" (a model has formats everywhere or nowhere)");
    if (s.round == Round::Stochastic && !s.seed) l_.fail("Stochastic rounding needs a \"seed\" (in the layer or the model)");
  }
  void linear(LinearFormats& f) override {
    QuantSpec out{placeholder_format()};
    output(out);
    f = LinearFormats{input_, placeholder_format(), {}, {}, out, l_.round("weight_round", Round::NearestEven)};
    if (quantized_) {
      f.weight = l_.format("weight_format", &f.weight_frac);
      if (l_.has("bias_format")) f.bias = l_.format("bias_format");
    } else if (l_.has("weight_format") || l_.has("bias_format")) {
      l_.fail("has weight or bias formats but the model input has no \"format\"");
    }
  }

 private:
  const JsonReader& l_;
  bool quantized_;
  Format input_;
  std::function<std::optional<std::uint64_t>(Round)> seed_for_;
};

inline void spec_json(json& j, const QuantSpec& s, const char* format_key, bool quantized) {
  if (quantized) j[format_key] = format_json(s.format);
  j["round"] = std::string(to_string(s.round));
  j["overflow"] = std::string(to_string(s.overflow));
  if (s.seed) j["seed"] = *s.seed;
}

/// Writes a layer's attributes into its JSON object; tensor(layer, suffix, array)
/// writes one weight file and returns its name.
class JsonAttrWriter final : public AttrVisitor {
 public:
  using TensorSink = std::function<std::string(const char* suffix, const NDArray<float>&)>;
  JsonAttrWriter(json& j, bool quantized, TensorSink sink) : j_(j), quantized_(quantized), sink_(std::move(sink)) {}
  void tensor(const char* key, const char* suffix, NDArray<float>& t, TensorRole, bool optional) override {
    if (!(optional && t.size() == 0)) j_[key] = sink_(suffix, t);
  }
  void vector(const char* key, const char* suffix, std::vector<float>& v) override {
    j_[key] = sink_(suffix, NDArray<float>(Shape{static_cast<std::int64_t>(v.size())}, v));
  }
  void integer(const char* key, int& v, int, int, std::optional<int>, AttrScope) override { j_[key] = v; }
  void number(const char* key, double& v, std::optional<double> omit, AttrScope) override {
    if (!(omit && v == *omit)) j_[key] = v;
  }
  void pair(const char* key, std::array<int, 2>& v, int, std::optional<std::array<int, 2>>) override { j_[key] = v; }
  void padding(const char* key, Padding& p) override {
    if (p.kind == Padding::Kind::Valid) j_[key] = "valid";
    else if (p.kind == Padding::Kind::Same) j_[key] = "same";
    else j_[key] = std::array<int, 4>{p.top, p.bottom, p.left, p.right};
  }
  void param_format(const char* key, Format& f, std::span<const float>) override {
    if (quantized_) j_[key] = format_json(f);
  }
  void output(QuantSpec& s) override { spec_json(j_, s, "output_format", quantized_); }
  void linear(LinearFormats& f) override {
    if (quantized_) {
      json w = format_json(f.weight);
      if (!f.weight_frac.empty()) w["frac"] = f.weight_frac;
      j_["weight_format"] = w;
      if (f.bias) j_["bias_format"] = format_json(*f.bias);
    }
    spec_json(j_, f.output, "output_format", quantized_);
    if (f.weight_round != Round::NearestEven) j_["weight_round"] = std::string(to_string(f.weight_round));
  }

 private:
  json& j_;
  bool quantized_;
  TensorSink sink_;
};

}  // namespace detail

/// Builds a model from the text of a model file; weight files are read relative to
/// file's folder, and file names the model in error messages.
inline ModelFile parse_model(std::string_view text, const std::filesystem::path& file, const LoadOptions& options = {}) {
  using detail::json;
  using detail::JsonReader;
  json root;
  // A key given twice in one object is an error (the parser would keep the last one
  // silently): the keys of each open object, innermost last.
  std::vector<std::set<std::string>> open_keys;
  std::string duplicate;
  const json::parser_callback_t no_duplicates = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !open_keys.empty()) open_keys.pop_back();
    else if (event == json::parse_event_t::key && !open_keys.empty() && duplicate.empty() &&
             !open_keys.back().insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  try {
    root = json::parse(text.begin(), text.end(), no_duplicates);
  } catch (const json::exception& e) {
    throw file_error(file.string() + ": not valid JSON: " + e.what());
  }
  if (!duplicate.empty()) throw file_error(file.string() + ": the key \"" + duplicate + "\" appears twice in one object");
  const JsonReader top(root, "", file);
  top.only({"fixq_model", "input", "layers", "outputs", "seed", "comment"});
  const int version = top.integer("fixq_model", 0, 1 << 20);
  if (version != 1) top.fail("\"fixq_model\" is " + std::to_string(version) + "; this fixq reads version 1");
  const std::optional<std::uint64_t> model_seed =
      options.seed ? options.seed : top.has("seed") ? std::optional(top.seed("seed")) : std::nullopt;

  // The input.
  const JsonReader inp(top.at("input"), "input", file);
  inp.only({"shape", "format", "round", "overflow", "seed", "preprocess"});
  Shape shape;
  {
    const json& s = inp.at("shape");
    if (!s.is_array() || s.empty() || s.size() > 3) inp.fail("\"shape\" must be a list of 1 to 3 extents (batch axis excluded)");
    std::int64_t elements = 1;
    for (std::size_t i = 0; i < s.size(); ++i) {
      shape.push_back(inp.integer(s[i], "\"shape\"[" + std::to_string(i) + "]", 1, 1 << 24));
      elements *= shape.back();
      if (elements > (std::int64_t{1} << 31)) inp.fail("\"shape\" has more than 2^31 elements per sample");
    }
  }
  const bool quantized = inp.has("format");
  QuantSpec in_spec{quantized ? inp.format("format") : detail::placeholder_format(), inp.round("round", Round::NearestEven),
                    inp.overflow("overflow", Overflow::Saturate)};
  if (inp.has("seed") && !options.seed) in_spec.seed = inp.seed("seed");
  else if (model_seed && in_spec.round == Round::Stochastic) in_spec.seed = derive_seed(*model_seed, 0, 0);
  if (in_spec.round == Round::Stochastic && !in_spec.seed)
    inp.fail("Stochastic rounding needs a \"seed\" (here or at the model level)");
  Preprocess pre;
  if (inp.has("preprocess")) {
    const JsonReader p(inp.at("preprocess"), "input: \"preprocess\"", file);
    p.only({"scale", "offset"});
    if (p.has("scale")) pre.scale = p.number("scale");
    if (p.has("offset")) pre.offset = p.number("offset");
  }

  // The layers: names, inputs, then a topological order (file order where free).
  const json& layers = top.at("layers");
  if (!layers.is_array() || layers.empty()) top.fail("\"layers\" must be a non-empty list");
  const std::size_t n = layers.size();
  std::vector<std::string> names(n);
  std::vector<std::vector<std::string>> inputs(n);
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) {
    const JsonReader l(layers[i], "layer " + std::to_string(i), file);
    names[i] = l.str("name");
    if (names[i].empty() || names[i] == "input") l.fail("the name \"" + names[i] + "\" is empty or reserved");
    if (!index.emplace(names[i], i).second) l.fail("the name \"" + names[i] + "\" is used twice");
  }
  for (std::size_t i = 0; i < n; ++i) {
    const JsonReader l(layers[i], "layer '" + names[i] + "'", file);
    if (l.has("inputs")) {
      const json& v = l.at("inputs");
      if (!v.is_array() || v.empty()) l.fail("\"inputs\" must be a non-empty list of layer names");
      for (const json& e : v) {
        if (!e.is_string()) l.fail("\"inputs\" must be a list of layer names");
        const std::string s = e.get<std::string>();
        if (s != "input" && !index.count(s)) l.fail("takes \"" + s + "\", which is neither a layer nor \"input\"");
        inputs[i].push_back(s);
      }
    } else {
      inputs[i].push_back(i == 0 ? "input" : names[i - 1]);
    }
  }
  std::vector<std::size_t> order;
  {
    // Depth-first, each layer after its inputs; iterative, as a chain of layers
    // listed before their inputs is as deep as it is long.
    std::vector<int> state(n, 0);  // 0 new, 1 on the path, 2 done
    std::vector<std::pair<std::size_t, std::size_t>> path;  // (layer, its next input to visit)
    for (std::size_t root = 0; root < n; ++root) {
      if (state[root] != 0) continue;
      state[root] = 1;
      path.emplace_back(root, 0);
      while (!path.empty()) {
        auto& [i, next] = path.back();
        if (next == inputs[i].size()) {
          state[i] = 2;
          order.push_back(i);
          path.pop_back();
          continue;
        }
        const std::string& s = inputs[i][next++];
        if (s == "input") continue;
        const std::size_t j = index.at(s);
        if (state[j] == 2) continue;
        if (state[j] == 1) {
          std::string cycle;
          bool on = false;
          for (const auto& step : path)
            if ((on = on || step.first == j)) cycle += (cycle.empty() ? "'" : " -> '") + names[step.first] + "'";
          top.fail("the layers' inputs form a cycle: " + cycle + " -> '" + names[j] + "'");
        }
        state[j] = 1;
        path.emplace_back(j, 0);
      }
    }
  }

  Model model = [&] {
    try {
      return Model(shape, in_spec);
    } catch (const std::invalid_argument& e) {
      inp.fail(e.what());
    }
  }();
  std::map<std::string, Format> out_format{{"input", in_spec.format}};
  for (std::size_t pos = 0; pos < n; ++pos) {
    const std::size_t i = order[pos];
    const std::string where = "layer '" + names[i] + "'";
    const JsonReader l(layers[i], where, file);
    const std::string type = l.str("type");
    const Format in_format = out_format.at(inputs[i][0]);
    // A layer's own seed, else (for Stochastic layers) one derived from the model's.
    const std::optional<std::uint64_t> own_seed = l.has("seed") && !options.seed ? std::optional(l.seed("seed")) : std::nullopt;
    const auto seed_for = [&](Round r) -> std::optional<std::uint64_t> {
      if (own_seed || r != Round::Stochastic || !model_seed) return own_seed;
      return derive_seed(*model_seed, 0, i + 1);
    };
    const LayerType* lt = find_layer_type(type);
    if (!lt) l.fail("unknown layer type \"" + type + "\" (known: " + layer_type_names() + ")");
    try {
      // The keys the type's description uses (an alias has none of its own).
      detail::KeyCollector keys;
      lt->describe(keys);
      for (const auto& [key, value] : layers[i].items())
        if (std::find(keys.keys.begin(), keys.keys.end(), key) == keys.keys.end()) {
          std::string list;
          for (const std::string_view a : keys.keys) list += (list.empty() ? "" : ", ") + std::string(a);
          l.fail("unknown key \"" + key + "\" for a " + type + " layer (allowed: " + list + ")");
        }
      detail::JsonAttrReader reader(l, quantized, in_format, seed_for);
      model.add_layer(lt->read(names[i], reader), inputs[i]);
    } catch (const layer_error& e) {
      if (e.layer().empty()) throw file_error(file, "", e.what());
      throw file_error(file, "layer '" + e.layer() + "' (" + e.type() + ")", e.problem());
    } catch (const std::invalid_argument& e) {
      l.fail(e.what());
    }
    out_format.emplace(names[i], model.layer(pos).output_format());
    // As for the input: the next layers' loops and buffers are sized by the output.
    std::int64_t elements = 1;
    for (const std::int64_t e : model.layer(pos).output_shape()) {
      if (e > 0 && elements > (std::int64_t{1} << 31) / e)
        l.fail("its output " + shape_text(model.layer(pos).output_shape()) + " has more than 2^31 elements per sample");
      elements *= e;
    }
  }

  std::vector<std::string> outs;
  if (top.has("outputs")) {
    const json& v = top.at("outputs");
    if (!v.is_array() || v.empty()) top.fail("\"outputs\" must be a non-empty list of layer names");
    for (const json& e : v) {
      // (only strings are printed: dumping a deeply nested value would recurse as deep)
      if (!e.is_string()) top.fail(std::string("\"outputs\" holds ") + e.type_name() + " where layer names are expected");
      if (!index.count(e.get<std::string>())) top.fail("\"outputs\" names " + e.dump() + ", which is not a layer");
      outs.push_back(e.get<std::string>());
    }
  } else {
    outs.push_back(names.back());
  }
  model.set_outputs(outs);
  return ModelFile{std::move(model), quantized, pre, file};
}

/// Reads a model file: the JSON file itself, or a folder holding model.json.
inline ModelFile load_model(const std::filesystem::path& json_or_dir, const LoadOptions& options = {}) {
  std::filesystem::path file = json_or_dir;
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) file /= "model.json";
  require_regular_file(file, "model file");  // before opening: a FIFO would block
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error(file.string() + ": cannot open the file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw file_error(file.string() + ": read error");
  return parse_model(text, file, options);
}

/// Writes `model` as dir/model.json plus one .npy file per weight tensor (float32),
/// creating dir; each layer's attributes as its type describes them
/// (layers/describe.hpp). Writes all files or none. Throws file_error when a file
/// cannot be written, and std::invalid_argument for a layer of a class that is not
/// registered or for two layers whose weight files would have one name.
inline void save_model(const Model& model, const std::filesystem::path& dir, const SaveOptions& opt = {}) {
  using detail::json;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw file_error(dir.string() + ": cannot create the folder: " + ec.message());
  // Every file is written to a temporary and renamed into place once all were
  // written; two layers whose names make the same file name (a/b and a_b, or Conv
  // and conv on a case-insensitive file system) are an error before anything appears.
  AtomicGroup files;
  FileNames names;
  names.claim("model.json", "the model description");
  const auto tensor = [&](const std::string& layer, const char* what, const NDArray<float>& a) {
    const std::string f = detail::file_stem(layer) + "_" + what + ".npy";
    names.claim(f, "layer '" + layer + "'");
    AtomicFile& file = files.add(dir / f);
    write_npy(file, a);
    file.close();  // one file open at a time, whatever the layer count
    return f;
  };

  json root{{"fixq_model", 1}};
  json input{{"shape", model.input_shape()}};
  detail::spec_json(input, model.input_spec(), "format", opt.quantized);
  if (!opt.preprocess.identity()) input["preprocess"] = json{{"scale", opt.preprocess.scale}, {"offset", opt.preprocess.offset}};
  root["input"] = input;
  json layers = json::array();
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& l = model.layer(i);
    const LayerType& type = layer_type_of(l);
    json j{{"name", l.name()}, {"type", type.name}};
    const auto& from = model.layer_inputs(i);
    const bool previous = from.size() == 1 && from[0] == static_cast<int>(i) - 1;
    if (!previous) {
      json names = json::array();
      for (const int k : from) names.push_back(k < 0 ? std::string("input") : model.layer(static_cast<std::size_t>(k)).name());
      j["inputs"] = names;
    }
    detail::JsonAttrWriter writer(j, opt.quantized,
                                  [&](const char* what, const NDArray<float>& a) { return tensor(l.name(), what, a); });
    type.visit(l, writer);
    layers.push_back(std::move(j));
  }
  root["layers"] = layers;
  root["outputs"] = model.outputs();
  files.add(dir / "model.json").stream() << root.dump(2) << '\n';
  files.commit();
}

}  // namespace fixq

#endif  // FIXQ_IO_MODEL_FILE_HPP
