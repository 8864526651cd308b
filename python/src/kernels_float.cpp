// fixq._core: the array kernels from float32, and the integer layers' requantize loops,
// compiled once for the module's translation units (which are compiled with
// FIXQ_SEPARATE_KERNELS: fixq/kernels/instantiate.hpp). Two files, so that a parallel
// build compiles the two halves side by side.
#include <cstdint>

#include <fixq/kernels/instantiate.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/requantize.hpp>

FIXQ_INSTANTIATE_KERNEL(float, float);
FIXQ_INSTANTIATE_KERNEL(float, std::int8_t);
FIXQ_INSTANTIATE_KERNEL(float, std::uint8_t);
FIXQ_INSTANTIATE_KERNEL(float, std::int16_t);
FIXQ_INSTANTIATE_KERNEL(float, std::uint16_t);
FIXQ_INSTANTIATE_KERNEL(float, std::int32_t);
FIXQ_INSTANTIATE_KERNEL(float, std::uint32_t);
FIXQ_INSTANTIATE_KERNEL(float, std::int64_t);
FIXQ_INSTANTIATE_REQUANTIZE();
