// fixq/core/spec.hpp - QuantSpec: how one tensor is quantized, as one value.
//
//   fixq::QuantSpec w{.format = {8, 6}};                                  // NearestEven, Saturate
//   fixq::QuantSpec g{.format = {16, 14}, .round = fixq::Round::Stochastic,
//                     .seed = fixq::derive_seed(run_seed, step, tensor)};
//   auto a = fixq::QuantSpec::of<fixq::Fixed<8, 4, fixq::Round::Floor>>();
//
// The array kernels, the statistics and the layers take their settings as a
// QuantSpec. Round::Stochastic needs a seed, and there is no default one: a
// spec without it is rejected (std::invalid_argument) when used, so a training
// loop cannot draw the same noise at every step by accident.
#ifndef FIXQ_CORE_SPEC_HPP
#define FIXQ_CORE_SPEC_HPP

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <fixq/core/fixed.hpp>
#include <fixq/core/format.hpp>

namespace fixq {

struct QuantSpec {
  Format format;                             ///< the grid and range (required)
  Round round = Round::NearestEven;          ///< how values between codes are rounded
  Overflow overflow = Overflow::Saturate;    ///< what happens outside the range
  std::optional<std::uint64_t> seed = {};    ///< the random stream of Round::Stochastic (required by it)

  /// The spec of a Fixed type: its format and modes (and a seed, which a
  /// Round::Stochastic type needs).
  template <FixedPoint Q>
  static constexpr QuantSpec of(std::optional<std::uint64_t> seed = {}) {
    return QuantSpec{Q::format(), Q::rounding, Q::overflow, seed};
  }

  /// Throws std::invalid_argument for an invalid format, or for Round::Stochastic
  /// without a seed.
  const QuantSpec& validate() const {
    format.validate();
    if (round == Round::Stochastic && !seed)
      throw std::invalid_argument(
          "fixq::QuantSpec: Round::Stochastic needs a seed (set .seed, e.g. to "
          "fixq::derive_seed(run_seed, step, tensor) for fresh, reproducible noise at every step)");
    return *this;
  }

  /// The seed of the random stream (0 for deterministic roundings, which draw nothing).
  std::uint64_t stream_seed() const { return seed.value_or(0); }

  friend bool operator==(const QuantSpec&, const QuantSpec&) = default;
};

}  // namespace fixq

#endif  // FIXQ_CORE_SPEC_HPP
