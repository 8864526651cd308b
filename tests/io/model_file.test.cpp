// Model files: a model written and read back computes the same on every path, the
// file's rules (defaults, inputs by name, order, seeds, ac_fixed names) hold, and
// each malformed case gives a clear error naming the file, the layer and the problem.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <fixq/io/model_file.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/calibrate.hpp>
#include <fixq/model/model.hpp>

#include "support/random_layers.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("fixq_model_file_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

fixq::NDArray<float> random_array(fixq_test::Rng& r, fixq::Shape s, float scale) {
  fixq::NDArray<float> a(std::move(s));
  for (float& v : a.data) v = r.normal(scale);
  return a;
}

/// A model with every layer type, inputs by name, per-channel weights and a
/// stochastic layer.
fixq::Model every_layer_model() {
  fixq_test::Rng r(7);
  fixq::Model m({8, 8, 3}, {.format = {8, 6, true}});
  const auto lf = [](fixq::Format in, fixq::Format out, fixq::Round round = fixq::Round::NearestEven) {
    return fixq::LinearFormats{in, {8, 6}, {}, {}, fixq::QuantSpec{out, round, fixq::Overflow::Saturate}};
  };
  fixq::Window2D w;
  w.padding = fixq::Padding::same();
  auto f1 = lf({8, 6}, {8, 4});
  f1.weight_frac = {5, 6, 7, 6};
  m.add(fixq::Conv2D("conv1", random_array(r, {3, 3, 3, 4}, 0.3f), random_array(r, {4}, 0.1f), w, 1, f1));
  m.add(fixq::ReLU("relu1"));
  fixq::Window2D dw;
  dw.strides = {2, 2};
  dw.padding = fixq::Padding::explicit_pads(1, 0, 0, 1);
  dw.dilation = {1, 1};
  m.add(fixq::Conv2D("dw", random_array(r, {2, 2, 1, 4}, 0.3f), {}, dw, 4, lf({8, 4}, {8, 3})), {"relu1"});
  m.add(fixq::BatchNorm("bn", {{1, 2, 0.5f, 1}, {0, 0.1f, -0.1f, 0}, {0.1f, 0, 0, 0.2f}, {1, 2, 0.5f, 1}, 1e-5f},
                        lf({8, 3}, {8, 3})));
  m.add(fixq::ReLU("relu6", 6.0));
  m.add(fixq::MaxPool2D("maxp", {2, 2}, std::array<int, 2>{1, 1}, fixq::Padding::same()));
  m.add(fixq::AvgPool2D("avgp", {2, 2}, {.format = {8, 4}, .round = fixq::Round::Floor}, {}, fixq::Padding::valid()),
        {"relu1"});
  m.add(fixq::Conv2D("proj", random_array(r, {1, 1, 4, 4}, 0.3f), {}, {}, 1, lf({8, 4}, {8, 3})));
  m.add(fixq::Add("sum", {.format = {8, 3}, .round = fixq::Round::Stochastic, .overflow = fixq::Overflow::Wrap, .seed = 99}),
        {"proj", "relu6"});
  m.add(fixq::Concat("cat", {.format = {8, 3}}), {"sum", "maxp"});
  m.add(fixq::GlobalAvgPool2D("gap", {.format = {10, 6}, .round = fixq::Round::NearestAway}));
  m.add(fixq::Flatten("flat"));
  auto fd = lf({10, 6}, {12, 6});
  fd.bias = fixq::Format{16, 10};
  fd.weight_round = fixq::Round::TowardZero;
  m.add(fixq::Dense("fc", random_array(r, {8, 5}, 0.3f), random_array(r, {5}, 0.2f), fd));
  m.set_outputs({"fc", "gap"});
  return m;
}

void check_same(const fixq::Model& a, const fixq::Model& b, const fixq::NDArray<float>& x) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a.layer(i).name() == b.layer(i).name());
    CHECK(a.layer(i).type() == b.layer(i).type());
    CHECK(a.layer(i).output_format() == b.layer(i).output_format());
    CHECK(a.layer(i).output_shape() == b.layer(i).output_shape());
    CHECK(a.layer_inputs(i) == b.layer_inputs(i));
  }
  CHECK(a.outputs() == b.outputs());
  CHECK(a.forward_float_all(x) == b.forward_float_all(x));
  CHECK(a.forward_sim_all(x) == b.forward_sim_all(x));
  CHECK(a.forward_int_all(a.input_codes(x)) == b.forward_int_all(b.input_codes(x)));
}

/// A small valid model folder written as JSON text; tests break one thing at a time.
struct Folder {
  fs::path dir;
  json j;
  explicit Folder(const std::string& name) : dir(fresh_dir(name)) {
    fixq_test::Rng r(3);
    fixq::write_npy(dir / "w.npy", random_array(r, {3, 3, 2, 4}, 0.3f));
    fixq::write_npy(dir / "b.npy", random_array(r, {4}, 0.1f));
    fixq::write_npy(dir / "fc.npy", random_array(r, {16, 3}, 0.3f));
    j = json::parse(R"({
      "fixq_model": 1,
      "input": {"shape": [6, 6, 2], "format": {"word": 8, "frac": 7, "signed": false}},
      "layers": [
        {"name": "conv", "type": "Conv2D", "weights": "w.npy", "bias": "b.npy",
         "weight_format": {"word": 8, "frac": 6}, "output_format": {"word": 8, "frac": 4},
         "round": "AC_RND_CONV", "overflow": "AC_SAT"},
        {"name": "relu", "type": "ReLU"},
        {"name": "pool", "type": "MaxPool2D", "pool": [2, 2]},
        {"name": "flat", "type": "Flatten"},
        {"name": "fc", "type": "Dense", "weights": "fc.npy",
         "weight_format": {"word": 8, "frac": 6}, "output_format": {"word": 8, "frac": 3}}
      ]})");
  }
  fixq::ModelFile load() const {
    std::ofstream(dir / "model.json") << j.dump(1);
    return fixq::load_model(dir);
  }
  /// Loading fails with a message that names model.json and contains every part.
  void fails(std::initializer_list<std::string> parts) const {
    std::ofstream(dir / "model.json") << j.dump(1);
    try {
      fixq::load_model(dir);
      FAIL("no error for " << j.dump());
    } catch (const fixq::file_error& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find((dir / "model.json").string()) != std::string::npos);
      for (const std::string& p : parts) CHECK(msg.find(p) != std::string::npos);
    }
  }
};

}  // namespace

TEST_CASE("model file: save and load give the same model on every path", "[io][model_file]") {
  const fixq::Model m = every_layer_model();
  const fs::path d = fresh_dir("round_trip");
  fixq::save_model(m, d, {.preprocess = {0.5, -1}});
  const fixq::ModelFile f = fixq::load_model(d / "model.json");
  CHECK(f.quantized);
  CHECK(f.preprocess == fixq::Preprocess{0.5, -1});
  fixq_test::Rng r(11);
  check_same(m, f.model, random_array(r, {3, 8, 8, 3}, 0.7f));
  // Saving the loaded model again gives the same JSON.
  const fs::path d2 = fresh_dir("round_trip_2");
  fixq::save_model(f.model, d2, {.preprocess = f.preprocess});
  std::ifstream a(d / "model.json"), b(d2 / "model.json");
  CHECK(json::parse(a) == json::parse(b));
}

TEST_CASE("model file: a float model runs the float path and calibrates", "[io][model_file]") {
  const fixq::Model m = every_layer_model();
  const fs::path d = fresh_dir("float");
  fixq::save_model(m, d, {.quantized = false});
  std::ifstream in(d / "model.json");
  const json j = json::parse(in);
  CHECK_FALSE(j["input"].contains("format"));
  CHECK_FALSE(j["layers"][0].contains("weight_format"));
  const fixq::ModelFile f = fixq::load_model(d);
  CHECK_FALSE(f.quantized);
  fixq_test::Rng r(5);
  const auto x = random_array(r, {4, 8, 8, 3}, 0.7f);
  CHECK(f.model.forward_float_all(x) == m.forward_float_all(x));
  // Calibrating the float model and the original gives the same formats (signedness kept).
  const fixq::CalibrationSpec c{.activation_bits = 8, .weight_bits = 6};
  const fixq::Model qa = fixq::calibrate(f.model, x, c), qb = fixq::calibrate(m, x, c);
  for (std::size_t i = 0; i < qa.size(); ++i) CHECK(qa.layer(i).output_format() == qb.layer(i).output_format());
  CHECK(qa.verify_bit_exact(x).ok);
}

TEST_CASE("model file: rules of the format", "[io][model_file]") {
  SECTION("defaults and ac_fixed names") {
    Folder f("rules");
    const fixq::ModelFile mf = f.load();
    const auto& conv = dynamic_cast<const fixq::Conv2D&>(mf.model.layer("conv"));
    CHECK(conv.formats().output.round == fixq::Round::NearestEven);
    CHECK(conv.formats().output.overflow == fixq::Overflow::Saturate);
    CHECK(conv.window().strides == std::array<int, 2>{1, 1});
    CHECK(conv.window().padding == fixq::Padding::valid());
    CHECK(conv.groups() == 1);
    CHECK(dynamic_cast<const fixq::MaxPool2D&>(mf.model.layer("pool")).window().strides == std::array<int, 2>{2, 2});
    CHECK(mf.model.outputs() == std::vector<std::string>{"fc"});
    CHECK(mf.preprocess.identity());
    CHECK(mf.model.layer("fc").output_shape() == fixq::Shape{3});
  }
  SECTION("every ac_fixed name maps to its mode") {
    Folder f("ac_names");
    const std::pair<const char*, fixq::Round> rounds[] = {
        {"AC_TRN", fixq::Round::Floor},          {"AC_TRN_ZERO", fixq::Round::TowardZero},
        {"AC_RND", fixq::Round::NearestTiesToPosInf}, {"AC_RND_ZERO", fixq::Round::NearestTiesToZero},
        {"AC_RND_INF", fixq::Round::NearestAway},     {"AC_RND_MIN_INF", fixq::Round::NearestTiesToNegInf},
        {"AC_RND_CONV", fixq::Round::NearestEven},    {"AC_RND_CONV_ODD", fixq::Round::NearestOdd}};
    for (const auto& [name, r] : rounds) CHECK(fixq::parse_round(name) == r);
    for (const fixq::Round r : fixq::all_rounds) CHECK(fixq::parse_round(fixq::to_string(r)) == r);
    CHECK(fixq::parse_overflow("AC_SAT_SYM") == fixq::Overflow::SaturateSymmetric);
    CHECK(fixq::parse_overflow("AC_SAT_ZERO") == fixq::Overflow::SaturateZero);
    CHECK(fixq::parse_overflow("AC_WRAP") == fixq::Overflow::Wrap);
    CHECK_FALSE(fixq::parse_round("nearest"));
  }
  SECTION("layers may name later layers; the order follows the inputs") {
    Folder f("order");
    json relu = f.j["layers"][1];
    f.j["layers"].erase(1);
    f.j["layers"][1]["inputs"] = {"relu"};
    relu["inputs"] = {"conv"};
    f.j["layers"].push_back(relu);
    f.j["outputs"] = {"fc"};
    const fixq::ModelFile mf = f.load();
    CHECK(mf.model.layer(1).name() == "relu");
    CHECK(mf.model.outputs() == std::vector<std::string>{"fc"});
  }
  SECTION("model seed: derived per stochastic layer, replaced by LoadOptions") {
    Folder f("seed");
    f.j["seed"] = 5;
    f.j["layers"][0]["round"] = "Stochastic";
    const auto seed_of = [](const fixq::ModelFile& mf) {
      return dynamic_cast<const fixq::Conv2D&>(mf.model.layer("conv")).formats().output.seed;
    };
    const fixq::ModelFile a = f.load();
    CHECK(seed_of(a) == fixq::derive_seed(5, 0, 1));
    CHECK_FALSE(dynamic_cast<const fixq::Dense&>(a.model.layer("fc")).formats().output.seed);  // not stochastic
    const fixq::ModelFile b = fixq::load_model(f.dir, {.seed = 6});
    CHECK(seed_of(b) == fixq::derive_seed(6, 0, 1));
    f.j["layers"][0]["seed"] = 1234;
    CHECK(seed_of(f.load()) == 1234u);
    f.j.erase("seed");
    f.j["layers"][0].erase("seed");
    f.fails({"layer 'conv'", "Stochastic rounding needs a \"seed\""});
  }
}

TEST_CASE("model file: malformed files give clear errors", "[io][model_file]") {
  SECTION("JSON and top level") {
    Folder f("top");
    std::ofstream(f.dir / "model.json") << "{\"fixq_model\": 1, ";
    CHECK_THROWS_WITH(fixq::load_model(f.dir), Catch::Contains("model.json: not valid JSON"));
    CHECK_THROWS_WITH(fixq::load_model(f.dir / "nothing.json"), Catch::Contains("nothing.json: cannot open"));
    f.j["fixq_model"] = 2;
    f.fails({"\"fixq_model\" is 2; this fixq reads version 1"});
    f.j["fixq_model"] = 1;
    f.j["extra"] = 1;
    f.fails({"unknown key \"extra\""});
    f.j.erase("extra");
    f.j.erase("layers");
    f.fails({"the key \"layers\" is missing"});
  }
  SECTION("layers") {
    Folder f("layers");
    f.j["layers"][1]["type"] = "Sigmoid";
    f.fails({"layer 'relu'", "unknown layer type \"Sigmoid\""});
    f.j["layers"][1]["type"] = "ReLU";
    f.j["layers"][0].erase("weights");
    f.fails({"layer 'conv'", "the key \"weights\" is missing"});
    f.j["layers"][0]["weights"] = "w.npy";
    f.j["layers"][0]["stride"] = {2, 2};
    f.fails({"layer 'conv'", "unknown key \"stride\" for a Conv2D layer"});
    f.j["layers"][0].erase("stride");
    f.j["layers"][0]["strides"] = {2};
    f.fails({"layer 'conv'", "\"strides\" must be a list of two integers"});
    f.j["layers"][0]["strides"] = {1, 1};
    f.j["layers"][0]["padding"] = "full";
    f.fails({"layer 'conv'", "\"padding\" must be \"valid\", \"same\""});
    f.j["layers"][0]["padding"] = "valid";
    f.j["layers"][2]["inputs"] = {"nope"};
    f.fails({"layer 'pool'", "takes \"nope\", which is neither a layer nor \"input\""});
    f.j["layers"][2]["inputs"] = {"flat"};
    f.fails({"cycle", "'pool'", "'flat'"});
    f.j["layers"][2].erase("inputs");
    f.j["layers"][3]["name"] = "pool";
    f.fails({"the name \"pool\" is used twice"});
    f.j["layers"][3]["name"] = "input";
    f.fails({"reserved"});
    f.j["layers"][3]["name"] = "flat";
    f.j["outputs"] = {"missing"};
    f.fails({"\"outputs\" names \"missing\", which is not a layer"});
  }
  SECTION("formats and modes") {
    Folder f("formats");
    f.j["layers"][0]["output_format"]["word"] = 65;
    f.fails({"layer 'conv'", "\"word\" = 65 is out of range [1, 64]"});
    f.j["layers"][0]["output_format"]["word"] = 40;
    f.fails({"layer 'conv'", "words must be <= 24"});
    f.j["layers"][0]["output_format"]["word"] = 8;
    f.j["input"]["format"]["word"] = 25;
    f.fails({"input format UFixed<25,7> has more than 24 bits"});
    f.j["input"]["format"]["word"] = 8;
    f.j["layers"].push_back(json{{"name", "sum"}, {"type", "Add"}, {"inputs", {"fc", "fc"}},
                                 {"output_format", {{"word", 30}, {"frac", 3}}}});
    f.fails({"layer 'sum' (Add): its output format has 30 bits; activations have at most 24"});
    f.j["layers"].erase(5);
    f.j["layers"][0]["output_format"]["frac"] = 1.5;
    f.fails({"layer 'conv'", "\"frac\" must be an integer"});
    f.j["layers"][0]["output_format"]["frac"] = {1, 2};
    f.fails({"layer 'conv'", "a list is allowed for weight formats only"});
    f.j["layers"][0]["output_format"]["frac"] = 4;
    f.j["layers"][0]["weight_format"]["frac"] = {5, 6};
    f.fails({"layer 'conv'", "weight_frac has 2 entries for 4 output channels"});
    f.j["layers"][0]["weight_format"]["frac"] = 6;
    f.j["layers"][0]["round"] = "Nearest";
    f.fails({"layer 'conv'", "unknown rounding mode \"Nearest\""});
    f.j["layers"][0]["round"] = "Floor";
    f.j["layers"][0]["overflow"] = "Clip";
    f.fails({"layer 'conv'", "unknown overflow mode \"Clip\""});
    f.j["layers"][0]["overflow"] = "Wrap";
    f.j["layers"][0].erase("output_format");
    f.fails({"layer 'conv'", "\"output_format\" is missing"});
  }
  SECTION("float and fixed point do not mix") {
    Folder f("mix");
    f.j["input"].erase("format");
    f.fails({"layer 'conv'", "the model input has no \"format\""});
  }
  SECTION("weight files") {
    Folder f("weights");
    f.j["layers"][0]["weights"] = "fc.npy";
    f.fails({"layer 'conv'", "weights must have shape (kh, kw, in / groups, out)"});
    f.j["layers"][0]["weights"] = "w.npy";
    f.j["layers"][4]["weights"] = "w.npy";
    f.fails({"layer 'fc'", "weights must have shape (in, out)"});
    fixq::write_npy(f.dir / "fc_wrong.npy", fixq::NDArray<float>({15, 3}));
    f.j["layers"][4]["weights"] = "fc_wrong.npy";
    f.fails({"layer 'fc'", "expects inputs of shape (batch, 15)"});
    fixq::NDArray<float> nan_w = fixq::read_npy<float>(f.dir / "fc.npy");
    nan_w.data[7] = std::numeric_limits<float>::quiet_NaN();
    fixq::write_npy(f.dir / "fc_nan.npy", nan_w);
    f.j["layers"][4]["weights"] = "fc_nan.npy";
    f.fails({"layer 'fc'", "fc_nan.npy", "element 7 is nan", "must be finite"});
    fixq::write_npy(f.dir / "fc_int.npy", fixq::NDArray<std::int8_t>({16, 3}));
    f.j["layers"][4]["weights"] = "fc_int.npy";
    f.fails({"layer 'fc'", "holds int8; weights must be float32 or float64"});
    f.j["layers"][4]["weights"] = "absent.npy";
    f.fails({"layer 'fc'", "absent.npy: cannot open the file"});
    {
      std::ifstream in(f.dir / "fc.npy", std::ios::binary);
      const std::string text(std::istreambuf_iterator<char>(in), {});
      REQUIRE(text.size() > 3);
      std::ofstream(f.dir / "fc_cut.npy", std::ios::binary) << text.substr(0, text.size() - 3);
    }
    f.j["layers"][4]["weights"] = "fc_cut.npy";
    f.fails({"layer 'fc'", "fc_cut.npy: truncated"});
  }
}

TEST_CASE("model file: save_model writes all files or none; weight files stay in the model's folder", "[io][model_file]") {
  const fixq::LinearFormats f{{8, 4}, {8, 6}, {}, {}, {.format = {8, 4}}};
  const fixq::NDArray<float> w({3, 3}, {0.5f, -0.25f, 1, 0, 0.125f, 1, 0.25f, 0, -1});
  for (const auto& [first, second] : {std::pair{"a/b", "a_b"}, std::pair{"Dense", "dense"}}) {
    fixq::Model m({3}, {.format = {8, 4}});
    m.add(fixq::Dense(first, w, {}, f));
    m.add(fixq::Dense(second, w, {}, f));
    const fs::path d = fs::temp_directory_path() / "fixq_model_file_collide";
    fs::remove_all(d);
    fs::create_directories(d);
    CHECK_THROWS_WITH(fixq::save_model(m, d), Catch::Contains(first) && Catch::Contains(second));
    CHECK(fs::is_empty(d));  // neither model.json nor a weight file
  }

  // A weight path outside the folder (absolute, or escaping with ../, or through a
  // symlink) is refused, whether or not the file exists.
  fixq::Model m({3}, {.format = {8, 4}});
  m.add(fixq::Dense("fc", w, {}, f));
  const fs::path d = fs::temp_directory_path() / "fixq_model_file_escape";
  fs::remove_all(d);
  fixq::save_model(m, d / "model");
  fixq::write_npy(d / "outside_w.npy", w);
  std::ifstream in(d / "model" / "model.json");
  json j;
  in >> j;
  fs::create_directory_symlink(d, d / "model" / "up");
  for (const std::string& path : {std::string("../outside_w.npy"), (d / "outside_w.npy").string(), std::string("up/outside_w.npy"),
                                 std::string("../no_such_file.npy")}) {
    INFO(path);
    j["layers"][0]["weights"] = path;
    std::ofstream(d / "model" / "model.json") << j.dump();
    CHECK_THROWS_WITH(fixq::load_model(d / "model"), Catch::Contains("layer 'fc'") && Catch::Contains("outside"));
  }

  // A key given twice in one object is an error, not the last one silently.
  std::ofstream(d / "model" / "model.json") << R"({"fixq_model": 1, "fixq_model": 1, "input": {"shape": [3]}, "layers": []})";
  CHECK_THROWS_WITH(fixq::load_model(d / "model"), Catch::Contains("\"fixq_model\" appears twice"));
  // A folder without model.json, and a model.json that is a folder (a folder means
  // its model.json), and a FIFO.
  fs::remove(d / "model" / "model.json");
  CHECK_THROWS_WITH(fixq::load_model(d / "model"), Catch::Contains("model.json") && Catch::Contains("No such file"));
  fs::create_directory(d / "model" / "model.json");
  CHECK_THROWS_WITH(fixq::load_model(d / "model" / "model.json"),
                    Catch::Contains("model.json/model.json") && Catch::Contains("No such file"));
  fs::remove(d / "model" / "model.json");
  REQUIRE(mkfifo((d / "model" / "model.json").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(fixq::load_model(d / "model"), Catch::Contains("FIFO, not a regular file"));
}
