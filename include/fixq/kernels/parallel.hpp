// fixq/kernels/parallel.hpp - how many threads the array kernels use.
//
// Kernels split an array into fixed chunks of elements; every element's
// result depends only on its value, its format and (for stochastic rounding)
// its flat index, so results are bit-identical for any thread count.
// Threads come from OpenMP when the code is compiled with it (-fopenmp, or
// CMake's OpenMP::OpenMP_CXX); otherwise kernels run on the calling thread.
#ifndef FIXQ_KERNELS_PARALLEL_HPP
#define FIXQ_KERNELS_PARALLEL_HPP

#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <string>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace fixq {

namespace detail {
inline std::atomic<int>& thread_request() {
  static std::atomic<int> n{0};
  return n;
}

/// Below this many elements a call runs on one thread: an OpenMP fork/join costs
/// a few microseconds, so the threshold grows with the speed of the path (tuned
/// on 2-core machines: bench/RESULTS.md).
constexpr std::size_t parallel_min(bool float_path, bool double_path, bool stochastic) {
  if (float_path) return stochastic ? std::size_t{1} << 17 : std::size_t{1} << 18;
  return double_path ? std::size_t{1} << 14 : std::size_t{1} << 12;
}
}  // namespace detail

/// Use at most n threads in array kernels; 0 (the default) means OpenMP's
/// default (all cores). Throws std::invalid_argument for n < 0. Safe to call
/// from any thread; calls already running keep their thread count.
inline void set_threads(int n) {
  if (n < 0) throw std::invalid_argument("fixq::set_threads: n = " + std::to_string(n) + " is negative");
  detail::thread_request().store(n, std::memory_order_relaxed);
}

/// The number of threads array kernels use (1 without OpenMP).
inline int threads() {
#if defined(_OPENMP)
  const int n = detail::thread_request().load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
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
