// tests/support/random_layers.hpp - random draws for the layer tests: integers,
// coins, normal values and fixed-point formats.
#ifndef FIXQ_TESTS_SUPPORT_RANDOM_LAYERS_HPP
#define FIXQ_TESTS_SUPPORT_RANDOM_LAYERS_HPP

#include <cstdint>
#include <random>

#include <fixq/core/format.hpp>

namespace fixq_test {

struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t seed) : g(seed) {}
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }
  bool coin() { return uniform(0, 1) == 1; }
  float normal(float s) { return std::normal_distribution<float>(0.0f, s)(g); }
};

/// A format of wlo..whi bits, frac from -3 to word + 3, either signedness.
inline fixq::Format random_format(Rng& r, int wlo, int whi) {
  const int word = r.uniform(wlo, whi);
  return fixq::Format{word, r.uniform(-3, word + 3), r.coin()};
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_RANDOM_LAYERS_HPP
