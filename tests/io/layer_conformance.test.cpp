// Every registered layer type through the whole pipeline: int == sim in every
// rounding mode, clone, save and load (byte-stable), calibration, the export's
// manifest and codes, the trip through its training twin, stochastic detection and
// results independent of batching. A registered type without an example here, or
// missing a hook, fails. LeakyReLU's codes also against a reference written from
// its definition.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

#include <fixq/io.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/calibrate.hpp>
#include <fixq/model/model.hpp>
#include <fixq/train.hpp>

namespace {

namespace fs = std::filesystem;
using fixq::Format;
using fixq::Model;
using fixq::NDArray;
using fixq::QuantSpec;
using fixq::Round;
using json = nlohmann::json;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("fixq_conformance_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

NDArray<float> random_array(std::mt19937& g, fixq::Shape s, float scale) {
  NDArray<float> a(std::move(s));
  std::normal_distribution<float> n(0.0f, scale);
  for (float& v : a.data) v = n(g);
  return a;
}

const Format kIn{8, 5, true};  // the examples' input format, shape (6, 6, 2)

/// The output spec of the layer under test: `round` with a seed when stochastic.
QuantSpec out_spec(Format f, Round round) {
  QuantSpec s{f, round, fixq::Overflow::Saturate};
  if (round == Round::Stochastic) s.seed = 77;
  return s;
}
fixq::LinearFormats linear(Format in, Format out, Round round) {
  return {in, Format{8, 6, true}, {}, {}, out_spec(out, round)};
}

/// A quantized model around the layer under test, named "t": one per registered
/// type. `round` is the rounding of t's output (where t makes a format); every
/// other rounding is NearestEven. Trainable types get chains.
using Example = std::function<Model(Round)>;
std::map<std::string, Example> examples() {
  std::mt19937 g(3);
  const auto w_conv = random_array(g, {3, 3, 1, 4}, 0.4f);
  const auto b4 = random_array(g, {4}, 0.2f);
  const auto w_dense = random_array(g, {72, 5}, 0.2f);
  const auto b5 = random_array(g, {5}, 0.2f);
  const auto w_1x1 = random_array(g, {1, 1, 2, 3}, 0.5f);
  const auto w_1x1b = random_array(g, {1, 1, 2, 2}, 0.5f);
  std::map<std::string, Example> e;
  const auto model = [] { return Model({6, 6, 2}, QuantSpec{kIn}); };
  e["Dense"] = [=](Round r) {
    Model m = model();
    m.add(fixq::Flatten("flat"));
    m.add(fixq::Dense("t", w_dense, b5, linear(kIn, {10, 6}, r)));
    return m;
  };
  e["Conv2D"] = [=](Round r) {
    Model m = model();
    fixq::Window2D w;
    w.padding = fixq::Padding::same();
    w.dilation = {2, 1};
    m.add(fixq::Conv2D("t", w_conv, b4, w, 2, linear(kIn, {9, 5}, r)));
    return m;
  };
  e["BatchNorm"] = [=](Round r) {
    Model m = model();
    m.add(fixq::BatchNorm("t", {{1.0f, 0.5f}, {0.1f, -0.2f}, {0.05f, 0.0f}, {1.0f, 2.0f}, 1e-3f}, linear(kIn, {8, 4}, r)));
    return m;
  };
  e["MaxPool2D"] = [=](Round) {
    Model m = model();
    m.add(fixq::MaxPool2D("t", {3, 3}, std::array<int, 2>{2, 2}, fixq::Padding::same()));
    return m;
  };
  e["AvgPool2D"] = [=](Round r) {
    Model m = model();
    m.add(fixq::AvgPool2D("t", {3, 3}, out_spec({8, 6}, r), std::array<int, 2>{2, 1}, fixq::Padding::same()));
    return m;
  };
  e["GlobalAvgPool2D"] = [=](Round r) {
    Model m = model();
    m.add(fixq::GlobalAvgPool2D("t", out_spec({8, 7}, r)));
    return m;
  };
  e["ReLU"] = [=](Round) {
    Model m = model();
    m.add(fixq::ReLU("t", 1.5));
    return m;
  };
  e["LeakyReLU"] = [=](Round r) {
    Model m = model();
    m.add(fixq::LeakyReLU("t", 0.1, Format{8, 7, true}, out_spec({8, 6}, r)));
    return m;
  };
  e["Flatten"] = [=](Round) {
    Model m = model();
    m.add(fixq::Flatten("t"));
    return m;
  };
  e["Add"] = [=](Round r) {
    Model m = model();
    m.add(fixq::Conv2D("a", w_1x1b, {}, {}, 1, linear(kIn, {8, 4}, Round::NearestEven)));
    m.add(fixq::Add("t", out_spec({9, 4}, r)), {"input", "a"});
    return m;
  };
  e["Concat"] = [=](Round r) {
    Model m = model();
    m.add(fixq::Conv2D("a", w_1x1, {}, {}, 1, linear(kIn, {8, 3}, Round::NearestEven)));
    m.add(fixq::Concat("t", out_spec({8, 4}, r)), {"input", "a"});
    return m;
  };
  return e;
}

}  // namespace

TEST_CASE("Every registered layer type has an example and passes the pipeline", "[conformance]") {
  const auto ex = examples();
  std::mt19937 g(11);
  const NDArray<float> x = random_array(g, {6, 6, 6, 2}, 1.0f);
  int checked = 0;
  for (const fixq::LayerType& type : fixq::layer_types()) {
    if (type.alias) continue;
    INFO("layer type " << type.name);
    REQUIRE(ex.count(type.name) == 1);  // a new type needs an example above
    const Model m = ex.at(type.name)(Round::NearestEven);
    const fixq::Layer& t = m.layer("t");
    CHECK(fixq::layer_type_of(t).name == type.name);

    // int == sim, and clone.
    CHECK(m.verify_bit_exact(x).ok);
    const Model copy = m;  // clones every layer
    CHECK(typeid(copy.layer("t")) == typeid(t));
    CHECK(t.clone()->type() == t.type());
    CHECK(copy.forward_int(m.input_codes(x)).data == m.forward_int(m.input_codes(x)).data);

    // save and load: the same bits on every path, and the same file when saved again.
    const fs::path dir = fresh_dir(type.name);
    fixq::save_model(m, dir / "q");
    const fixq::ModelFile back = fixq::load_model(dir / "q");
    CHECK(back.model.forward_int(m.input_codes(x)).data == m.forward_int(m.input_codes(x)).data);
    CHECK(back.model.forward_sim(x).data == m.forward_sim(x).data);
    CHECK(back.model.forward_float(x).data == m.forward_float(x).data);
    fixq::save_model(back.model, dir / "q2");
    CHECK(read_text(dir / "q" / "model.json") == read_text(dir / "q2" / "model.json"));

    // A float model file, calibrated.
    fixq::save_model(m, dir / "f", {.quantized = false});
    const fixq::ModelFile fl = fixq::load_model(dir / "f");
    CHECK_FALSE(fl.quantized);
    CHECK(fl.model.forward_float(x).data == m.forward_float(x).data);
    const Model cal = fixq::calibrate(fl.model, x, {.activation_bits = 7, .weight_bits = 6});
    CHECK(fixq::layer_type_of(cal.layer("t")).name == type.name);
    CHECK(cal.verify_bit_exact(x).ok);
    const Model wq = fixq::with_quantized_weights(cal);
    CHECK(wq.layer("t").type() == t.type());

    // The export: the layer's entry, its golden vectors, and its weight codes as the core has them.
    fixq::write_export(m, x, dir / "e", {.count = 3});
    const json manifest = json::parse(read_text(dir / "e" / "manifest.json"));
    bool found = false;
    for (const json& l : manifest.at("layers"))
      if (l.at("name") == "t") {
        found = true;
        CHECK(l.at("type") == t.type());
        CHECK(l.at("output_shape") == json(t.output_shape()));
        if (t.sliding_window()) CHECK(l.contains("padding"));
        if (const QuantSpec* s = t.output_quantization()) CHECK(l.at("round") == std::string(fixq::to_string(s->round)));
        for (const fixq::LayerNote& n : t.notes()) CHECK(l.contains(n.key));
        if (const fixq::detail::LinearCore* core = t.linear_core()) {
          const NDArray<std::int64_t> w = fixq::read_npy<std::int64_t>(dir / "e" / "t.weight.npy");
          CHECK(w.shape == core->weight_shape());
          CHECK(std::vector<std::int64_t>(core->weight_codes().begin(), core->weight_codes().end()) == w.data);
          CHECK(l.at("requantize").at("shift") == json(core->output_shifts()));
        }
      }
    CHECK(found);
    const NDArray<std::int64_t> golden = fixq::read_npy<std::int64_t>(dir / "e" / "t.output.npy");
    NDArray<float> x3 = x;
    x3.shape[0] = 3;
    x3.data.resize(fixq::shape_size(x3.shape));
    const auto ints = m.forward_int_all(m.input_codes(x3));
    const auto& t_out = ints[m.size() - 1];
    CHECK(std::vector<std::int64_t>(t_out.data.begin(), t_out.data.end()) == golden.data);

    // The training twin: a float model goes to a network and back unchanged.
    const bool has_twin = fixq::train::find_twin(t) != nullptr;
    CHECK(has_twin == type.trainable);
    if (type.trainable) {
      fixq::train::Network net = fixq::train::Network::from_model(fl.model);
      const Model again = net.to_model();
      const auto a = again.forward_float(x), b = fl.model.forward_float(x);
      REQUIRE(a.shape == b.shape);
      for (std::size_t k = 0; k < a.size(); ++k) CHECK(a.data[k] == Approx(b.data[k]).margin(1e-6));
    } else {
      CHECK_THROWS_AS(fixq::train::Network::from_model(fl.model), fixq::train::train_error);
    }

    // Stochastic rounding: detected, int == sim, and independent of the batching.
    const Model s = ex.at(type.name)(Round::Stochastic);
    CHECK(s.stochastic() == (s.layer("t").output_quantization() != nullptr));
    CHECK(s.verify_bit_exact(x).ok);
    const auto whole = s.forward_int(s.input_codes(x));
    for (const std::int64_t batch : {1, 2, 4}) {
      std::vector<std::int32_t> pieces;
      for (std::int64_t first = 0; first < x.dim(0); first += batch) {
        const std::int64_t n = std::min(batch, x.dim(0) - first);
        NDArray<float> part({n, 6, 6, 2});
        const std::size_t row = fixq::shape_size(part.shape) / static_cast<std::size_t>(n);
        std::copy_n(x.data.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(first) * row),
                    part.size(), part.data.begin());
        const auto y = s.forward_int(s.input_codes(part, static_cast<std::uint64_t>(first)), static_cast<std::uint64_t>(first));
        pieces.insert(pieces.end(), y.data.begin(), y.data.end());
        CHECK(s.verify_bit_exact(part, static_cast<std::uint64_t>(first)).ok);
      }
      INFO("batches of " << batch);
      CHECK(pieces == whole.data);
    }
    ++checked;
  }
  CHECK(checked >= 11);
}

namespace {
/// A described layer that claims Dense's name.
class FakeDense : public fixq::ReLU {
 public:
  static constexpr std::string_view type_name = "Dense";
  FakeDense(std::string name, Params p) : ReLU(std::move(name), p) {}
  std::unique_ptr<fixq::Layer> clone() const override { return std::make_unique<FakeDense>(*this); }
};
}  // namespace

TEST_CASE("A layer type registered twice under one name by two classes is refused", "[conformance]") {
  (void)fixq::layer_types();  // the built-in types
  CHECK_THROWS_AS(fixq::register_layer<FakeDense>(), std::logic_error);
  CHECK(fixq::layer_type_of(fixq::Dense("d", NDArray<float>({1, 1}, {1.0f}), {}, linear(kIn, kIn, Round::NearestEven)))
            .cls == typeid(fixq::Dense));
  // (registration is idempotent for the same class)
  CHECK(fixq::register_layer<fixq::Dense>());
  CHECK(fixq::find_layer_type("Dense") != nullptr);
  CHECK(fixq::find_layer_type("ReLU6")->alias);
  CHECK(fixq::find_layer_type("NoSuchLayer") == nullptr);
}

TEST_CASE("A model file written before the layer registry reads and writes back byte for byte", "[conformance]") {
  // The bundled MNIST model (written by save_model) and the tool's fixture kind of
  // quantized model: load, save, compare the JSON text.
  const fs::path src = fs::path(FIXQ_SOURCE_DIR) / "examples" / "mnist" / "model";
  const fixq::ModelFile mf = fixq::load_model(src);
  const fs::path d = fresh_dir("mnist_resave");
  fixq::save_model(mf.model, d, {.quantized = mf.quantized, .preprocess = mf.preprocess});
  CHECK(read_text(d / "model.json") == read_text(src / "model.json"));
  for (const auto& e : fs::directory_iterator(src))
    if (e.path().extension() == ".npy") CHECK(read_text(d / e.path().filename()) == read_text(e.path()));
}

TEST_CASE("LeakyReLU: int == sim in every mode, and codes equal a reference from its definition", "[leaky_relu]") {
  std::mt19937 g(5);
  const NDArray<float> x = random_array(g, {7, 4, 4, 3}, 2.0f);
  for (const double slope : {0.01, 0.1, 0.3, -0.25, 1.5})
    for (const Format sf : {Format{8, 7, true}, Format{4, 2, true}, Format{12, 13, true}, Format{6, -1, true}})
      for (const Round r : fixq::all_rounds)
        for (const fixq::Overflow o : fixq::all_overflows) {
          if (o == fixq::Overflow::Throw) continue;  // (it throws on these inputs, by design)
          QuantSpec spec{Format{7, 4, true}, r, o};
          if (r == Round::Stochastic) spec.seed = 9;
          Model m({4, 4, 3}, QuantSpec{Format{8, 5, true}});
          m.add(fixq::LeakyReLU("l", slope, sf, spec));
          INFO("slope " << slope << " format " << sf.name() << " " << fixq::to_string(r) << " " << fixq::to_string(o));
          REQUIRE(m.verify_bit_exact(x).ok);
          if (r != Round::NearestEven || o != fixq::Overflow::Saturate) continue;
          // Reference: the exact value in long double (at most 8 + 12 significant
          // bits), rounded half to even, saturated to 7 bits.
          const auto& l = static_cast<const fixq::LeakyReLU&>(m.layer(0));
          const long double a = std::ldexp(static_cast<long double>(l.slope_code()), -sf.frac);
          const long double max_slope = std::ldexp(static_cast<long double>((1 << (sf.word - 1)) - 1), -sf.frac);
          const long double min_slope = -std::ldexp(static_cast<long double>(1 << (sf.word - 1)), -sf.frac);
          const long double want_a = std::clamp<long double>(
              std::nearbyint(std::ldexp(static_cast<long double>(static_cast<float>(slope)), sf.frac)), min_slope * std::ldexp(1.0L, sf.frac),
              max_slope * std::ldexp(1.0L, sf.frac));
          CHECK(static_cast<long double>(l.slope_code()) == want_a);
          const auto codes = m.input_codes(x);
          const auto y = m.forward_int(codes);
          for (std::size_t k = 0; k < codes.size(); ++k) {
            const long double v = std::ldexp(static_cast<long double>(codes.data[k]), -5);
            const long double exact = v >= 0 ? v : v * a;
            const long double c = std::clamp<long double>(std::nearbyint(std::ldexp(exact, 4)), -64, 63);
            REQUIRE(static_cast<long double>(y.data[k]) == c);
          }
        }
}

TEST_CASE("LeakyReLU: bad slopes and formats are refused with the layer's name", "[leaky_relu]") {
  CHECK_THROWS_WITH(fixq::LeakyReLU("lk", std::nan(""), Format{8, 7}, QuantSpec{Format{8, 4}}),
                    Catch::Contains("'lk'") && Catch::Contains("finite"));
  CHECK_THROWS_WITH(fixq::LeakyReLU("lk", 0.1, Format{30, 7}, QuantSpec{Format{8, 4}}),
                    Catch::Contains("'lk'") && Catch::Contains("30 bits"));
  Model m({4}, QuantSpec{Format{24, 0}});
  CHECK_THROWS_WITH(m.add(fixq::LeakyReLU("lk", 0.1, Format{24, 60}, QuantSpec{Format{8, 4}})),
                    Catch::Contains("'lk'") && Catch::Contains("too far apart"));
}
