// The one translation unit that compiles the kernels used by uses_kernels.cpp.
#include <cstdint>

#include <fixq/kernels/quantize_span.hpp>

FIXQ_INSTANTIATE_KERNEL(float, float);
FIXQ_INSTANTIATE_KERNEL(float, std::int8_t);
FIXQ_INSTANTIATE_KERNEL(double, double);
