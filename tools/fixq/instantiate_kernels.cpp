// The array kernels and the integer layers' requantize loops, compiled once for the
// programs built with FIXQ_SEPARATE_KERNELS (kernels/instantiate.hpp): the fixq
// tool, the examples, the training benchmark and the layer, model, train and io
// tests. Each would otherwise compile them again (about a minute per program in a
// release build). CMake target: fixq_dev_kernels.
//
// Only the (In, Out) pairs these programs call are defined here (a third of
// FIXQ_INSTANTIATE_KERNELS()'s, at about 5 s of compile each): a program that
// calls another pair fails to link, naming quantize_span<In, Out>; add it below.
#include <cstdint>

#include <fixq/kernels/instantiate.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/requantize.hpp>

FIXQ_INSTANTIATE_KERNEL(float, float);
FIXQ_INSTANTIATE_KERNEL(float, std::int8_t);
FIXQ_INSTANTIATE_KERNEL(float, std::int32_t);
FIXQ_INSTANTIATE_KERNEL(float, std::int64_t);
FIXQ_INSTANTIATE_KERNEL(double, float);
FIXQ_INSTANTIATE_KERNEL(double, double);
FIXQ_INSTANTIATE_REQUANTIZE();
