// tests/support/kernel_reference.hpp - the reference the array-kernel tests compare
// with: code_from_scaled on the exactly decomposed input (core/convert.hpp's slow
// path, itself checked against an independent big-integer reference in tests/core/),
// with random word random_u32(seed, index). It shares nothing with the kernels'
// float/double lanes.
#ifndef FIXQ_TESTS_SUPPORT_KERNEL_REFERENCE_HPP
#define FIXQ_TESTS_SUPPORT_KERNEL_REFERENCE_HPP

#include <bit>
#include <cstdint>
#include <type_traits>

#include <fixq/core.hpp>
#include <fixq/random.hpp>

namespace fixq_test {

/// The exact code of v, or throws fixq::overflow_error (Throw mode).
template <fixq::Round R, fixq::Overflow O, class In>
fixq::int128 reference_code(In v, const fixq::Format& f, std::uint32_t u) {
  const fixq::detail::Decomposed d = fixq::detail::decompose(v);
  if (d.kind == fixq::detail::Kind::NaN) return fixq::detail::code_for_nan<O>(f);
  if (d.kind == fixq::detail::Kind::Inf) return fixq::detail::code_for_inf<O>(d.negative, f);
  return fixq::detail::code_from_scaled<R, O>(d.mant, d.exp + f.frac, f, u);
}

/// A code as a kernel's output type: its value (correctly rounded) or the code.
template <class Out>
Out reference_out(fixq::int128 code, const fixq::Format& f) {
  if constexpr (std::is_floating_point_v<Out>)
    return fixq::detail::to_floating<Out>(code, f.frac);
  else
    return static_cast<Out>(code);
}

/// Equal bit for bit (floating: -0.0 differs from 0.0).
template <class T>
bool same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    return std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(a) ==
           std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(b);
  else
    return a == b;
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_KERNEL_REFERENCE_HPP
