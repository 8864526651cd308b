// fixq/train/twins.hpp - the training twin of each inference layer type.
//
// A training layer file registers, beside its class, how to make it from the
// inference layer it mirrors (Network::from_model uses them):
//
//   inline const bool twin_dense = fixq::train::register_twin<fixq::Dense>(
//       [](const fixq::Dense& d) { return std::make_unique<Dense>(d.name(), d.weights(), d.bias()); });
//
// The registry of inference types (fixq/layers/registry.hpp) says which types have
// a twin (LayerType::trainable); the layer conformance test checks that each of
// them is registered here.
#ifndef FIXQ_TRAIN_TWINS_HPP
#define FIXQ_TRAIN_TWINS_HPP

#include <concepts>
#include <functional>
#include <map>
#include <memory>
#include <typeindex>
#include <typeinfo>
#include <utility>

#include <fixq/layers/layer.hpp>
#include <fixq/train/layer.hpp>

namespace fixq::train {

/// Makes the training twin of an inference layer (of the registered class).
using TwinFactory = std::function<std::unique_ptr<Layer>(const fixq::Layer&)>;

namespace detail {
inline std::map<std::type_index, TwinFactory>& twin_registry() {
  static std::map<std::type_index, TwinFactory> twins;
  return twins;
}
}  // namespace detail

/// Registers the twin of inference class I: make(const I&) returns the training layer.
template <std::derived_from<fixq::Layer> I, class Make>
bool register_twin(Make make) {
  detail::twin_registry()[std::type_index(typeid(I))] = [make = std::move(make)](const fixq::Layer& l) -> std::unique_ptr<Layer> {
    return make(static_cast<const I&>(l));
  };
  return true;
}

/// The twin factory of a layer's class, or nullptr.
inline const TwinFactory* find_twin(const fixq::Layer& l) {
  const auto& twins = detail::twin_registry();
  const auto it = twins.find(std::type_index(typeid(l)));
  return it == twins.end() ? nullptr : &it->second;
}

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_TWINS_HPP
