// fixq/kernels/instantiate.hpp - compiling the kernels once per program (opt-in).
//
// Every translation unit that calls quantize_span (through quantize,
// quantize_codes, quantize_stats, choose_frac, the tensor overloads) with
// run-time modes compiles 10 roundings x 3 path kernels for each (In, Out) pair
// it uses, about 4 s per pair. With FIXQ_SEPARATE_KERNELS defined, the pairs
// below are declared `extern template`: such translation units compile none of
// them, and one .cpp of the program (compiled with the same flags, which choose
// the SIMD code) defines them, at namespace scope, with
//   FIXQ_INSTANTIATE_KERNELS();                    every pair below, or
//   FIXQ_INSTANTIATE_KERNEL(float, std::int8_t);  one pair (a pair that is used but
//                                                   never defined fails to link).
// Pairs not in the list are compiled where they are used, as without the macro.
#ifndef FIXQ_KERNELS_INSTANTIATE_HPP
#define FIXQ_KERNELS_INSTANTIATE_HPP

#include <cstddef>
#include <cstdint>

#include <fixq/kernels/quantize_span.hpp>

#define FIXQ_KERNEL_PAIRS(X)                                                                      \
  X(float, float) X(float, std::int8_t) X(float, std::uint8_t) X(float, std::int16_t)             \
  X(float, std::uint16_t) X(float, std::int32_t) X(float, std::uint32_t) X(float, std::int64_t)   \
  X(double, double) X(double, float) X(double, std::int8_t) X(double, std::uint8_t)               \
  X(double, std::int16_t) X(double, std::uint16_t) X(double, std::int32_t) X(double, std::uint32_t) \
  X(double, std::int64_t) X(double, std::uint64_t)
#define FIXQ_DETAIL_KERNEL_SIGNATURE(In, Out) \
  void fixq::quantize_span<In, Out>(const In*, Out*, std::size_t, const fixq::QuantSpec&, std::uint64_t)
#define FIXQ_INSTANTIATE_KERNEL(In, Out) template FIXQ_DETAIL_KERNEL_SIGNATURE(In, Out)
#define FIXQ_DETAIL_INSTANTIATE_KERNEL(In, Out) FIXQ_INSTANTIATE_KERNEL(In, Out);
// (the static_assert takes the caller's semicolon)
#define FIXQ_INSTANTIATE_KERNELS() FIXQ_KERNEL_PAIRS(FIXQ_DETAIL_INSTANTIATE_KERNEL) static_assert(true)
#if defined(FIXQ_SEPARATE_KERNELS)
#define FIXQ_DETAIL_EXTERN_KERNEL(In, Out) extern template FIXQ_DETAIL_KERNEL_SIGNATURE(In, Out);
FIXQ_KERNEL_PAIRS(FIXQ_DETAIL_EXTERN_KERNEL)
#undef FIXQ_DETAIL_EXTERN_KERNEL
#endif


#endif  // FIXQ_KERNELS_INSTANTIATE_HPP
