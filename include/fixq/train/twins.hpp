// fixq/train/twins.hpp - the training twin of each inference layer type.
//
// A training layer's header says, beside its class, how to make it from the
// inference layer it mirrors (a detail::BuiltinTwin<N> specialization, see
// train/layer.hpp); this header includes them all and registers them on first use
// (Network::from_model uses them), so that a program including a training header
// compiles no twin it does not ask for. Users add twins of their own layer types
// with register_twin<I>(make). The registry of inference types
// (fixq/layers/registry.hpp) says which types have a twin (LayerType::trainable);
// the layer conformance test checks that each of them is registered here.
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
#include <fixq/train/activation.hpp>
#include <fixq/train/batch_norm.hpp>
#include <fixq/train/layer.hpp>
#include <fixq/train/linear.hpp>
#include <fixq/train/pool.hpp>

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

namespace detail {
template <int N>
void add_builtin_twin() {
  using B = BuiltinTwin<N>;
  if constexpr (requires { typename B::inference; }) register_twin<typename B::inference>(&B::make);
}
template <int... N>
void add_builtin_twins(std::integer_sequence<int, N...>) {
  (add_builtin_twin<N>(), ...);
}
}  // namespace detail

/// The twin factory of a layer's class, or nullptr. (A template: see the top.)
template <class = void>
const TwinFactory* find_twin(const fixq::Layer& l) {
  static const bool builtins = (detail::add_builtin_twins(std::make_integer_sequence<int, 64>{}), true);
  (void)builtins;
  const auto& twins = detail::twin_registry();
  const auto it = twins.find(std::type_index(typeid(l)));
  return it == twins.end() ? nullptr : &it->second;
}

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_TWINS_HPP
