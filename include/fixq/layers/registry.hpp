// fixq/layers/registry.hpp - the layer types by name: what model files, calibration,
// the export, the trainer and the tool know about layers, without a list of types.
//
// A layer type registers itself in its own header:
//
//   inline const bool registered_dense = fixq::register_layer<fixq::Dense>();
//
// register_layer checks at compile time that the type is complete (the concept
// DescribedLayer: a name, Params, describe(), attributes(), a constructor from Params,
// a copy constructor, and whether it has a training twin); the registry then gives
// each consumer the type's factory and description (layers/describe.hpp):
//   find_layer_type("Dense")   the entry for a model file's "type"
//   layer_type_of(layer)       the entry of a layer object (its file name and Params)
//   layer_types()              every entry, for conformance tests and messages
// Users register their own types the same way; a model file can then name them.
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

#include <fixq/layers/describe.hpp>
#include <fixq/layers/layer.hpp>

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

/// Every registered type, in registration order.
inline const std::vector<LayerType>& layer_types() { return detail::layer_registry(); }

/// The type a model file names, or nullptr.
inline const LayerType* find_layer_type(std::string_view name) {
  for (const LayerType& t : layer_types())
    if (t.name == name) return &t;
  return nullptr;
}

/// The registered (non-alias) type of a layer object; throws std::invalid_argument
/// naming the layer when its class was never registered.
inline const LayerType& layer_type_of(const Layer& layer) {
  const std::type_index cls(typeid(layer));
  for (const LayerType& t : layer_types())
    if (t.cls == cls && !t.alias) return t;
  throw std::invalid_argument("fixq: layer '" + layer.name() + "' of type " + layer.type() +
                              " is of a class that is not registered (fixq::register_layer)");
}

/// "Add, AvgPool2D, ..." (sorted) for messages.
inline std::string layer_type_names() {
  std::vector<std::string> names;
  for (const LayerType& t : layer_types()) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace fixq

#endif  // FIXQ_LAYERS_REGISTRY_HPP
