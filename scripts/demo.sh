#!/usr/bin/env bash
# Build and run the MNIST example (Release, same settings as scripts/test.sh), offline,
# on the data and the model bundled in examples/: the bit-width sweep of the integer-only
# network with its bit-exactness check. Arguments go to fixq-mnist, e.g.
#   bash scripts/demo.sh --bits 4,8 --rounds NearestEven
#   bash scripts/demo.sh train --data ~/mnist        (needs the training set: scripts/fetch_data.sh)
set -euo pipefail

BUILD_DIR=build/release

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixq_cd_root
fixq_ensure_packages

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DFIXQ_WERROR=ON
cmake --build "$BUILD_DIR" --target fixq_mnist -j "$(nproc)"
"$BUILD_DIR/examples/mnist/fixq-mnist" "$@"
