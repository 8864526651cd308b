#!/usr/bin/env bash
# The README's Python lines on this machine: a venv with the system's packages, then
# `pip install --no-build-isolation --no-index .` from a clean copy of the sources
# (offline: nothing may be downloaded), then the installed package quantizes and runs the
# bundled model. Arguments: the python3 to make the venv with.
set -euo pipefail
python=${1:-/usr/bin/python3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The sources as a fresh clone has them (no build trees), without needing git's history.
mkdir "$work/src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src")
else
  cp -r "$root/." "$work/src" && rm -rf "$work/src/build"
fi

"$python" -m venv --system-site-packages "$work/venv"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/pip" install -q --no-build-isolation --no-index "$work/src"

cd "$work"  # not the sources: the installed package must be the one imported
"$work/venv/bin/python" - "$root" <<'PY'
import os, sys
import numpy as np
import fixq
root = sys.argv[1]
assert "site-packages" in fixq.__file__, fixq.__file__
x = np.array([0.3, -1.26, 7.99, 100.0], np.float32)
assert fixq.quantize(x, (8, 4)).tolist() == [0.3125, -1.25, 7.9375, 7.9375]
assert fixq.quantize_codes(x, (8, 4)).tolist() == [5, -20, 127, 127]
m = fixq.load_model(os.path.join(root, "examples", "mnist", "model"))
q = fixq.calibrate(m, np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1)), bits=8)
assert q.verify(np.random.default_rng(1).integers(0, 256, (8, 28, 28, 1))).ok
import fixq.torch  # noqa: F401  (the importer and the training quantizers are installed too)
print("pip install: ok,", fixq.__file__)
PY
