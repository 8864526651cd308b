// fixq/kernels/parallel.hpp - how many threads the array kernels use.
//
// Kernels split an array into fixed chunks of elements; every element's
// result depends only on its value, its format and (for stochastic rounding)
// its flat index, so results are bit-identical for any thread count.
// Threads come from OpenMP when the code is compiled with it (-fopenmp, or
// CMake's OpenMP::OpenMP_CXX); otherwise kernels run on the calling thread.
#ifndef FIXQ_KERNELS_PARALLEL_HPP
#define FIXQ_KERNELS_PARALLEL_HPP

#include <cstddef>
#include <stdexcept>
#include <string>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace fixq {

namespace detail {
inline int& thread_request() {
  static int n = 0;
  return n;
}
}  // namespace detail

/// Use at most n threads in array kernels; 0 (the default) means OpenMP's
/// default (all cores). Throws std::invalid_argument for n < 0.
inline void set_threads(int n) {
  if (n < 0) throw std::invalid_argument("fixq::set_threads: n = " + std::to_string(n) + " is negative");
  detail::thread_request() = n;
}

/// The number of threads array kernels use (1 without OpenMP).
inline int threads() {
#if defined(_OPENMP)
  return detail::thread_request() > 0 ? detail::thread_request() : omp_get_max_threads();
#else
  return 1;
#endif
}

namespace detail {
/// Calls f(c) for every chunk c in [0, chunks), on several threads when
/// `parallel` is true, more than one thread is allowed and there is more than
/// one chunk. f must not throw when run in parallel.
template <class F>
void for_each_chunk(std::size_t chunks, bool parallel, F&& f) {
#if defined(_OPENMP)
  const int n = threads();
  if (parallel && n > 1 && chunks > 1) {
#pragma omp parallel for schedule(static) num_threads(n)
    for (long long c = 0; c < static_cast<long long>(chunks); ++c) f(static_cast<std::size_t>(c));
    return;
  }
#else
  (void)parallel;
#endif
  for (std::size_t c = 0; c < chunks; ++c) f(c);
}
}  // namespace detail

}  // namespace fixq

#endif  // FIXQ_KERNELS_PARALLEL_HPP
