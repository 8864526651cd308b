// fixq/layers/registry.hpp - the layer types by name: what model files, calibration,
// the export, the trainer and the tool know about layers, without a list of types.
//
// A built-in layer type names itself in its own header,
//
//   template <> struct detail::BuiltinLayer<0> { using type = Dense; };
//
// and this header, which includes every built-in layer header, registers them all on
// the registry's first use (so a program that includes the layers without using the
// registry compiles none of their code). register_layer checks at compile time that
// a type is complete (the concept DescribedLayer: a name, Params, describe(),
// attributes(), a constructor from Params, a copy constructor, and whether it has a
// training twin); the registry then gives each consumer the type's factory and
// description (layers/describe.hpp):
//   find_layer_type("Dense")   the entry for a model file's "type"
//   layer_type_of(layer)       the entry of a layer object (its file name and Params)
//   layer_types()              every entry, for conformance tests and messages
// Users register their own types with fixq::register_layer<MyLayer>() before reading
// a model file that names them.
// (Models of this shape: TFLite Micro's op resolver, hls4ml's register_layer with
// its expected attributes.)
#ifndef FIXQ_LAYERS_REGISTRY_HPP
#define FIXQ_LAYERS_REGISTRY_HPP

#include <algorithm>
#include <concepts>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include <fixq/layers/activation.hpp>
#include <fixq/layers/batch_norm.hpp>
#include <fixq/layers/conv2d.hpp>
#include <fixq/layers/dense.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/flatten.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/leaky_relu.hpp>
#include <fixq/layers/merge.hpp>
#include <fixq/layers/pool.hpp>

namespace fixq {

/// What a layer type must provide to be registered.
template <class L>
concept DescribedLayer = std::derived_from<L, Layer> && std::copy_constructible<L> &&
                         requires(typename L::Params p, AttrVisitor& v, const L& l, std::string n) {
                           { L::type_name } -> std::convertible_to<std::string_view>;
                           { L::trainable } -> std::convertible_to<bool>;
                           L::describe(v, p);
                           { l.attributes() } -> std::convertible_to<typename L::Params>;
                           L(std::move(n), std::move(p));
                         };

/// One registered layer type.
struct LayerType {
  std::string name;                  ///< the model file's "type"
  std::type_index cls;               ///< the C++ class
  bool trainable = false;            ///< the trainer has a twin of it (train/twins.hpp)
  bool alias = false;                ///< a second name of a class read only (ReLU6); layer_type_of never returns it
  /// Visits the attributes of a default Params (which keys exist; an alias has none).
  std::function<void(AttrVisitor& v)> describe;
  /// A new (unbound) layer from attributes the visitor supplies.
  std::function<std::unique_ptr<Layer>(const std::string& name, AttrVisitor& v)> read;
  /// Visits the attributes of `layer` (of this type) without changing it.
  std::function<void(const Layer& layer, AttrVisitor& v)> visit;
  /// A new (unbound) layer with the attributes of `layer` as the visitor changes them.
  std::function<std::unique_ptr<Layer>(const Layer& layer, AttrVisitor& v)> rebuild;
};

namespace detail {
inline std::vector<LayerType>& layer_registry() {
  static std::vector<LayerType> types;
  return types;
}
}  // namespace detail

/// Registers L under L::type_name; idempotent. Throws std::logic_error when another
/// class has the name.
template <DescribedLayer L>
bool register_layer() {
  auto& types = detail::layer_registry();
  for (const LayerType& t : types)
    if (t.name == L::type_name) {
      if (t.cls == std::type_index(typeid(L))) return true;
      throw std::logic_error("fixq::register_layer: two classes named '" + t.name + "'");
    }
  LayerType t{std::string(L::type_name), std::type_index(typeid(L)), L::trainable, false, {}, {}, {}, {}};
  t.describe = [](AttrVisitor& v) {
    typename L::Params p{};
    L::describe(v, p);
  };
  t.read = [](const std::string& name, AttrVisitor& v) -> std::unique_ptr<Layer> {
    typename L::Params p{};
    L::describe(v, p);
    return std::make_unique<L>(name, std::move(p));
  };
  t.visit = [](const Layer& l, AttrVisitor& v) {
    typename L::Params p = static_cast<const L&>(l).attributes();
    L::describe(v, p);
  };
  t.rebuild = [](const Layer& l, AttrVisitor& v) -> std::unique_ptr<Layer> {
    typename L::Params p = static_cast<const L&>(l).attributes();
    for (int pass = 0; pass < v.passes(); ++pass) {
      v.start_pass(pass);
      L::describe(v, p);
    }
    return std::make_unique<L>(l.name(), std::move(p));
  };
  types.push_back(std::move(t));
  return true;
}


/// Registers a second name that reads into an existing class: `make` builds the
/// layer from its name (the alias has no attributes of its own, e.g. ReLU6).
inline bool register_layer_alias(std::string name, std::type_index cls,
                                 std::function<std::unique_ptr<Layer>(const std::string&)> make) {
  auto& types = detail::layer_registry();
  for (const LayerType& t : types)
    if (t.name == name) return true;
  LayerType t{std::move(name), cls, false, true, {}, {}, {}, {}};
  t.describe = [](AttrVisitor&) {};
  t.read = [make = std::move(make)](const std::string& n, AttrVisitor&) { return make(n); };
  types.push_back(std::move(t));
  return true;
}

namespace detail {
template <int N>
void add_builtin() {
  using B = BuiltinLayer<N>;
  if constexpr (requires { typename B::type; }) {
    register_layer<typename B::type>();
    if constexpr (requires { B::alias; })
      register_layer_alias(std::string(B::alias), typeid(typename B::type), &B::make_alias);
  }
}
template <int... N>
void add_builtins(std::integer_sequence<int, N...>) {
  (add_builtin<N>(), ...);
}
}  // namespace detail

/// Every registered type (the built-in ones are added on the first call). (A
/// template, so that a program that never asks compiles no layer code for it.)
template <class = void>
const std::vector<LayerType>& layer_types() {
  static const bool builtins = (detail::add_builtins(std::make_integer_sequence<int, 64>{}), true);
  (void)builtins;
  return detail::layer_registry();
}

/// The type a model file names, or nullptr.
template <class = void>
const LayerType* find_layer_type(std::string_view name) {
  for (const LayerType& t : layer_types())
    if (t.name == name) return &t;
  return nullptr;
}

/// The registered (non-alias) type of a layer object; throws std::invalid_argument
/// naming the layer when its class was never registered.
template <class = void>
const LayerType& layer_type_of(const Layer& layer) {
  const std::type_index cls(typeid(layer));
  for (const LayerType& t : layer_types())
    if (t.cls == cls && !t.alias) return t;
  throw std::invalid_argument("fixq: layer '" + layer.name() + "' of type " + layer.type() +
                              " is of a class that is not registered (fixq::register_layer)");
}

/// "Add, AvgPool2D, ..." (sorted) for messages.
template <class = void>
std::string layer_type_names() {
  std::vector<std::string> names;
  for (const LayerType& t : layer_types()) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace fixq

#endif  // FIXQ_LAYERS_REGISTRY_HPP
