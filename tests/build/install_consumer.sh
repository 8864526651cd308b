#!/usr/bin/env bash
# Install fixq into a temporary prefix and build a consumer against it, then build the
# same consumer with fixq as a subdirectory (where fixq's own tests must stay off).
# Usage: install_consumer.sh <fixq source dir> <work dir> [C++ compiler]
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cxx=()
if [[ -n ${3:-} ]]; then cxx=(-DCMAKE_CXX_COMPILER="$3"); fi

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== install fixq into $prefix"
cmake -S "$src" -B "$work/fixq" "${cxx[@]}" -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DFIXQ_BUILD_TESTS=OFF -DFIXQ_BUILD_BENCH=OFF -DFIXQ_BUILD_EXAMPLES=OFF
cmake --build "$work/fixq" -j2
cmake --install "$work/fixq"
# The package must be relocatable: no path into the source tree.
if grep -rl "$src/include" "$prefix"; then
  echo "error: the installed package refers to the source tree (files above)" >&2
  exit 1
fi

echo "== consumer of the installed package"
cmake -S "$here/consumer" -B "$work/consumer" "${cxx[@]}" -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$work/consumer" -j2
"$work/consumer/app"
"$work/consumer/app_native"
# fixq::io, built when nlohmann/json and zlib are installed (they are for fixq's tests).
if [[ -x $work/consumer/io_app ]]; then "$work/consumer/io_app"; else echo "(no fixq::io: io_app not built)"; fi

echo "== consumer with fixq as a subdirectory"
cmake -S "$here/consumer_subdir" -B "$work/consumer_subdir" "${cxx[@]}" -DFIXQ_SOURCE_DIR="$src"
cmake --build "$work/consumer_subdir" -j2
"$work/consumer_subdir/app"
"$work/consumer_subdir/app_native"
if [[ -x $work/consumer_subdir/io_app ]]; then "$work/consumer_subdir/io_app"; else echo "(no fixq::io: io_app not built)"; fi
echo "== ok"
