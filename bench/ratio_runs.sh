#!/bin/bash
# Stochastic against NearestEven, measured in the same process, N times.
# usage: bench/ratio_runs.sh BENCH_KERNELS_BINARY [RUNS=3]
# Each run executes the one-thread NearestEven and Stochastic benchmarks (f32 and i8
# output, 256 KiB and 64 MiB) and ars_stream0_halves, 3 repetitions each, and prints
# the medians and the ratio Stochastic / NearestEven of that run. On a shared host,
# where memory bandwidth drifts between minutes, ratios within one run are the figure
# to compare (bench/RESULTS.md).
set -euo pipefail
bin=${1:?usage: bench/ratio_runs.sh BENCH_KERNELS_BINARY [RUNS]}
runs=${2:-3}
for _ in $(seq "$runs"); do
  "$bin" --benchmark_filter='fixq/(NearestEven|Stochastic)/(f32|i8)/n:(65536|16777216)/threads:1|ars_stream0' \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json 2>/dev/null |
    python3 -c '
import json, sys
d = {b["run_name"].replace("/real_time", ""): b["items_per_second"] / 1e9
     for b in json.load(sys.stdin)["benchmarks"] if b.get("aggregate_name") == "median"}
out = []
for t in ("f32", "i8"):
    for n, size in (("65536", "cache"), ("16777216", "64MiB")):
        ne = d["fixq/NearestEven/%s/n:%s/threads:1" % (t, n)]
        st = d["fixq/Stochastic/%s/n:%s/threads:1" % (t, n)]
        out.append("%s %s NE %.2f St %.2f = %.2fx" % (t, size, ne, st, st / ne))
p = [v for k, v in d.items() if k.startswith("ars_stream0")]
print(" | ".join(out) + (" | ars_stream0 %.2f" % p[0] if p else ""))'
done
