// fixq/core.hpp - the scalar core without Eigen: formats, modes, Fixed.
#ifndef FIXQ_CORE_HPP
#define FIXQ_CORE_HPP

#include <fixq/core/arithmetic.hpp>
#include <fixq/core/convert.hpp>
#include <fixq/core/fixed.hpp>
#include <fixq/core/format.hpp>
#include <fixq/core/io.hpp>
#include <fixq/core/limits.hpp>
#include <fixq/core/overflow.hpp>
#include <fixq/core/rounding.hpp>
#include <fixq/core/spec.hpp>

#endif  // FIXQ_CORE_HPP
