// The array kernels and the integer layers' requantize loops, compiled once for the
// programs built with FIXQ_SEPARATE_KERNELS (kernels/instantiate.hpp): the fixq
// tool and the layer, model and io tests. Each would otherwise compile them again
// (about a minute per program in a release build). CMake target: fixq_dev_kernels.
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/requantize.hpp>

FIXQ_INSTANTIATE_KERNELS();
FIXQ_INSTANTIATE_REQUANTIZE();
