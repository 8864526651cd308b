// fixq/random.hpp - the random words of stochastic rounding: fixq::RandomStream,
// fixq::random_u32, fixq::derive_seed (random/stream.hpp) over the ARS-7
// generator (random/ars.hpp). Needs no Eigen.
#ifndef FIXQ_RANDOM_HPP
#define FIXQ_RANDOM_HPP

#include <fixq/random/ars.hpp>
#include <fixq/random/stream.hpp>

#endif  // FIXQ_RANDOM_HPP
