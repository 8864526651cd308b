// tests/support/failures.hpp - one Catch assertion for a loop of millions of
// checks: count the mismatches, keep the first one's description (built only on
// failure), report once. Keeps the sanitizer build fast.
#ifndef FIXQ_TESTS_SUPPORT_FAILURES_HPP
#define FIXQ_TESTS_SUPPORT_FAILURES_HPP

#include <string>

#include <catch2/catch.hpp>

namespace fixq_test {

/// Counts checks and mismatches inside a big loop and keeps the first
/// mismatch's description.
struct Failures {
  long count = 0;
  long checked = 0;
  std::string first;
  template <class Describe>
  void expect(bool ok, Describe&& what) {
    ++checked;
    if (!ok && count++ == 0) first = what();
  }
};

/// Reports to Catch: no mismatch, and at least one check.
inline void require_none(const Failures& f, const std::string& context) {
  INFO(context);
  INFO("first mismatch: " << f.first);
  CHECK(f.count == 0);
  CHECK(f.checked > 0);
}

}  // namespace fixq_test

#endif  // FIXQ_TESTS_SUPPORT_FAILURES_HPP
