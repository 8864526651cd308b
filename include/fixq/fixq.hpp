// fixq/fixq.hpp - the whole public library.
#ifndef FIXQ_FIXQ_HPP
#define FIXQ_FIXQ_HPP

#include <fixq/core.hpp>
#include <fixq/eigen/num_traits.hpp>

#endif  // FIXQ_FIXQ_HPP
