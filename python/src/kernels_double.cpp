// fixq._core: the array kernels from float64 (see kernels_float.cpp).
#include <cstdint>

#include <fixq/kernels/instantiate.hpp>
#include <fixq/kernels/quantize_span.hpp>

FIXQ_INSTANTIATE_KERNEL(double, double);
FIXQ_INSTANTIATE_KERNEL(double, float);
FIXQ_INSTANTIATE_KERNEL(double, std::int8_t);
FIXQ_INSTANTIATE_KERNEL(double, std::uint8_t);
FIXQ_INSTANTIATE_KERNEL(double, std::int16_t);
FIXQ_INSTANTIATE_KERNEL(double, std::uint16_t);
FIXQ_INSTANTIATE_KERNEL(double, std::int32_t);
FIXQ_INSTANTIATE_KERNEL(double, std::uint32_t);
FIXQ_INSTANTIATE_KERNEL(double, std::int64_t);
FIXQ_INSTANTIATE_KERNEL(double, std::uint64_t);
