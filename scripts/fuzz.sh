#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz: fuzz_npy, fuzz_model, fuzz_idx, fuzz_cifar) with
# Clang in build/fuzz and run each for SECONDS seconds (default 60) on a copy of the committed
# corpus; non-zero on any crash, sanitizer report, leak, timeout or out-of-memory,
# with the path of the input that caused it.
#   bash scripts/fuzz.sh [SECONDS]
# Environment (all optional):
#   FIXQ_FUZZ_JOBS   parallel compile jobs (default: the number of cores)
#   FIXQ_FUZZ_ARGS   extra libFuzzer arguments for every target, e.g. "-seed=1"
# The working corpus (build/fuzz/corpus/<target>) keeps what earlier runs found; the
# inputs of a failure are in build/fuzz/artifacts/. To replay one:
#   build/fuzz/tests/fuzz/fuzz_model build/fuzz/artifacts/fuzz_model-crash-...
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixq_cd_root

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: bash scripts/fuzz.sh [SECONDS]  (a whole number of seconds per target, default 60)" >&2
  exit 2
fi
fixq_ensure_packages "${FIXQ_PACKAGES[@]}" clang libclang-rt-dev
if ! command -v clang++ >/dev/null 2>&1; then
  echo "scripts/fuzz.sh needs clang++ and libFuzzer; on Debian: apt-get install clang libclang-rt-dev" >&2
  exit 1
fi

build_dir=build/fuzz
jobs=${FIXQ_FUZZ_JOBS:-$(nproc)}
read -r -a extra_args <<<"${FIXQ_FUZZ_ARGS:-}"

start=$SECONDS
CXX=clang++ cmake -S . -B "$build_dir" -DFIXQ_BUILD_FUZZ=ON -DFIXQ_BUILD_TESTS=ON -DFIXQ_BUILD_BENCH=OFF \
  -DFIXQ_BUILD_EXAMPLES=OFF -DFIXQ_BUILD_TOOLS=OFF -DCMAKE_BUILD_TYPE=Debug -DFIXQ_REQUIRE_TOOLS=OFF >/dev/null
if ! grep -q '^FIXQ_HAVE_LIBFUZZER:INTERNAL=1$' "$build_dir/CMakeCache.txt"; then
  echo "clang++ cannot link -fsanitize=fuzzer; on Debian: apt-get install libclang-rt-dev" \
       "(libclang-rt-<version>-dev for the clang++ found: $(command -v clang++))" >&2
  exit 1
fi
cmake --build "$build_dir" --target fuzz_npy fuzz_model fuzz_idx fuzz_cifar -j "$jobs"
echo "fuzz targets built in $((SECONDS - start)) s"

artifacts="$build_dir/artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The targets run side by side, up to $jobs at a time (each fuzzer is one process on
# one core), then report in order.
targets=(npy model idx cifar)
run_target() {
  local target=$1 corpus="$build_dir/corpus/$1" log="$build_dir/fuzz_$1.log"
  mkdir -p "$corpus"
  for f in tests/fuzz/corpus/"$target"/*; do   # the committed corpus, added to what earlier runs found
    [[ -e $corpus/${f##*/} ]] || cp "$f" "$corpus"/
  done
  # A CIFAR-10 record is 3073 bytes: room for two uncompressed ones.
  local max_len=4096
  [[ $target == cifar ]] && max_len=8192
  local args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="$max_len" -print_final_stats=1
              -artifact_prefix="$artifacts/fuzz_$target-")
  [[ $target == model ]] && args+=(-dict=tests/fuzz/model.dict)
  local status=0
  "$build_dir/tests/fuzz/fuzz_$target" "${args[@]}" "${extra_args[@]}" "$corpus" >"$log" 2>&1 || status=$?
  echo "$status" >"$log.status"
}
echo
echo "=== fuzzing ${targets[*]}: $seconds s each, $jobs at a time"
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_target "$target" &
done
wait

failed=()
for target in "${targets[@]}"; do
  log="$build_dir/fuzz_$target.log"
  status=$(cat "$log.status" 2>/dev/null || echo 1)
  echo
  echo "=== fuzz_$target"
  # The last status line (executions, coverage, speed) and the final statistics.
  grep -E '^#[0-9]+' "$log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  if ((status)); then
    failed+=("fuzz_$target")
    echo "FAILED: fuzz_$target (exit status $status); the end of $log:"
    tail -n 60 "$log"
    echo "the input that failed:"
    grep -oE 'Test unit written to .*' "$log" | sed 's/^Test unit written to /  /' || echo "  (none written; see $log)"
  fi
done

echo
if ((${#failed[@]})); then
  echo "fuzzing failed: ${failed[*]} (inputs in $artifacts; logs in $build_dir/fuzz_*.log)"
  exit 1
fi
echo "fuzzing: no failure in ${seconds} s per target (total $((SECONDS - start)) s)"
