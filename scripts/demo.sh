#!/usr/bin/env bash
# Build and run the demo program (Release, same settings as scripts/test.sh).
set -euo pipefail

BUILD_DIR=build/release
DEMO_TARGET=fixq_tour
DEMO_CMD=("$BUILD_DIR/examples/tour/fixq_tour")

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixq_cd_root
fixq_ensure_packages

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DFIXQ_WERROR=ON
cmake --build "$BUILD_DIR" --target "$DEMO_TARGET" -j "$(nproc)"
"${DEMO_CMD[@]}"
