#!/usr/bin/env python3
"""Ratio tables for bench/RESULTS.md from bench_kernels JSON output.

Usage:
  build/release/bench/bench_kernels --benchmark_repetitions=5 \
      --benchmark_report_aggregates_only=true --benchmark_out=k.json --benchmark_out_format=json
  python3 bench/summarize_kernels.py k.json

Every ratio compares medians measured in the same run: a kernel's element rate over
memcpy's (same element count, same thread count), over the naive loop's (one thread)
and, for Stochastic, over the NearestEven kernel with the same output type.
"""
import json
import re
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    rates = {}
    label = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b.get("run_name", b["name"]).replace("/real_time", "")
        rates[name] = b["items_per_second"]
        if b.get("label"):
            label[name] = b["label"]
    return data["context"], rates, label


def main():
    context, rates, label = load(sys.argv[1])
    print(f"host: {context.get('host_name', '?')}, {context.get('num_cpus', '?')} CPUs, "
          f"{context.get('mhz_per_cpu', '?')} MHz, date {context.get('date', '?')}")
    for name, rate in rates.items():
        if name.startswith("ars_fill"):
            print(f"ars_fill ({label.get(name, '?')}): {rate / 1e9:.2f} G words/s")
        if name.startswith("ars_stream0_halves"):
            print(f"ars_stream0_halves ({label.get(name, '?')}): {rate / 1e9:.2f} G elem/s")
    sizes = {"65536": "256 KiB", "16777216": "64 MiB"}
    print()
    print("| kernel | size | threads | G elem/s | vs memcpy | vs naive | vs NearestEven |")
    print("|---|---|---|---|---|---|---|")
    # Rows in a fixed order (JSON order is random under --benchmark_enable_random_interleaving):
    # the naive loops, then per output type each mode, size and thread count.
    modes = ["NearestEven", "Floor", "NearestAway", "Stochastic"]
    rows = []
    for name, rate in rates.items():
        m = re.match(r"(naive_nearbyint|fixq/(\w+))/(f32|i8)/n:(\d+)/threads:(\d+)", name)
        if m:
            mode, out, n, t = m.group(2), m.group(3), m.group(4), m.group(5)
            key = (0 if not mode else 1, out, modes.index(mode) if mode in modes else len(modes), int(n), int(t))
            rows.append((key, rate, mode, out, n, t))
    for _, rate, mode, out, n, t in sorted(rows):
        memcpy = rates.get(f"memcpy/n:{n}/threads:{t}")
        naive = rates.get(f"naive_nearbyint/{out}/n:{n}/threads:1")
        nearest = rates.get(f"fixq/NearestEven/{out}/n:{n}/threads:{t}")
        cells = [
            f"{rate / 1e9:.2f}",
            f"{rate / memcpy:.2f}" if memcpy else "",
            f"{rate / naive:.2f}" if naive and t == "1" and mode else "",
            f"{rate / nearest:.2f}" if nearest and mode == "Stochastic" else "",
        ]
        label_name = f"{'naive' if not mode else mode} -> {out}"
        print(f"| {label_name} | {sizes.get(n, n)} | {t} | " + " | ".join(cells) + " |")
    for n in sizes:
        for t in ("1", "2"):
            r = rates.get(f"memcpy/n:{n}/threads:{t}")
            if r:
                print(f"| memcpy | {sizes[n]} | {t} | {r / 1e9:.2f} | 1 | | |")


if __name__ == "__main__":
    main()
