// fixq/fixq.hpp - the whole public library except the Eigen::Tensor overloads
// (include fixq/kernels/quantize_tensor.hpp for those: it pulls in Eigen's
// unsupported Tensor module).
#ifndef FIXQ_FIXQ_HPP
#define FIXQ_FIXQ_HPP

#include <fixq/core.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/eigen/num_traits.hpp>
#include <fixq/kernels/frac_select.hpp>
#include <fixq/kernels/gemm.hpp>
#include <fixq/kernels/parallel.hpp>
#include <fixq/kernels/quantize.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/requantize.hpp>
#include <fixq/kernels/stats.hpp>
#include <fixq/layers.hpp>
#include <fixq/model/model.hpp>
#include <fixq/random.hpp>

#endif  // FIXQ_FIXQ_HPP
