#!/usr/bin/env bash
# Configure, build the tests (and the examples they run) and run the whole test suite;
# non-zero on any failure. The benchmarks are not built here (.ci/run builds them).
# Environment (all optional):
#   FIXQ_BUILD_DIR    build directory (default build/release)
#   FIXQ_CMAKE_ARGS   extra configure arguments, e.g. "-DCMAKE_BUILD_TYPE=Debug -DFIXQ_SANITIZE=ON"
#   FIXQ_CTEST_ARGS   extra ctest arguments, e.g. "-LE slow" or "-R core_"
#   FIXQ_REQUIRE_TOOLS=1  fail (rather than skip the tests) when iverilog or PyTorch is missing
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixq_cd_root
fixq_ensure_packages
require_tools=OFF
if [[ ${FIXQ_REQUIRE_TOOLS:-0} == 1 ]]; then
  require_tools=ON
  fixq_ensure_packages "${FIXQ_TOOL_PACKAGES[@]}"
elif [[ $(id -u) -eq 0 ]]; then
  fixq_ensure_packages "${FIXQ_TOOL_PACKAGES[@]}"
fi

build_dir=${FIXQ_BUILD_DIR:-build/release}
jobs=$(nproc)
read -r -a cmake_args <<<"${FIXQ_CMAKE_ARGS:-}"
read -r -a ctest_args <<<"${FIXQ_CTEST_ARGS:-}"

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DFIXQ_BUILD_TESTS=ON -DFIXQ_BUILD_BENCH=OFF \
  -DFIXQ_WERROR=ON -DFIXQ_REQUIRE_TOOLS="$require_tools" \
  "${cmake_args[@]}"
cmake --build "$build_dir" -j "$jobs"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "${ctest_args[@]}"
