// fixq/simd/native.hpp - the widest vector ISA this translation unit is compiled for.
//
// fixq picks its vector code at compile time from the target flags (-march=native,
// -mavx2, -mavx512f ...), like Eigen: `fixq::detail::simd::Native` is Avx512 or Avx2 when
// the flags allow, and FIXQ_SIMD_NATIVE is defined then; otherwise kernels use
// their portable loops (which compilers still auto-vectorize for SSE2/NEON).
// Define FIXQ_NO_EXPLICIT_SIMD to force the portable loops.
#ifndef FIXQ_SIMD_NATIVE_HPP
#define FIXQ_SIMD_NATIVE_HPP

#if !defined(FIXQ_NO_EXPLICIT_SIMD)
#include <fixq/simd/vec_avx2.hpp>
#include <fixq/simd/vec_avx512.hpp>
#endif

namespace fixq::detail::simd {

#if defined(FIXQ_SIMD_HAVE_AVX512)
#define FIXQ_SIMD_NATIVE 1
using Native = Avx512;
#elif defined(FIXQ_SIMD_HAVE_AVX2)
#define FIXQ_SIMD_NATIVE 1
using Native = Avx2;
#endif

/// The vector ISA fixq's kernels use in this translation unit.
inline constexpr const char* isa_name() {
#if defined(FIXQ_SIMD_NATIVE)
  return Native::name;
#else
  return "portable";
#endif
}

}  // namespace fixq::detail::simd

#endif  // FIXQ_SIMD_NATIVE_HPP
