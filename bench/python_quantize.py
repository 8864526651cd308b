#!/usr/bin/env python3
"""fixq.quantize from Python against its peers, one thread, in one run (bench/RESULTS.md).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python_quantize.py [--mib 64] [--repeat 15]

A float32 array of normal(0, 3) values (some saturate at +-8, as in bench/kernels.bench.cpp)
is quantized to Fixed<8,4> (NearestEven, Saturate), and the times are compared with:
  - np.copyto(y, x)                    the memory-speed floor (read x, write y)
  - y = x.copy()                       the same into a new array: the floor of any call that
                                       allocates its result (the fresh pages' faults)
  - np.clip(np.round(x * 2**f), lo, hi) / 2**f   the numpy idiom (one rounding: ties to even)
  - torch.fake_quantize_per_tensor_affine(t, 2**-f, 0, lo, hi)   PyTorch's fake quantization
and a 16-element array measures the per-call overhead. Every figure is the median of
`repeat` runs, the peers interleaved with fixq in each round so that a drift of the host's
memory bandwidth reaches all of them alike. The results are checked equal first.
"""

import argparse
import statistics
import time

import numpy as np

import fixq
from host import cpu_name  # bench/host.py, beside this script


def timed(f, repeat):
    f()  # warm-up: page faults of fresh outputs, caches
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mib", type=int, default=64, help="size of the float32 array (MiB)")
    p.add_argument("--repeat", type=int, default=15)
    a = p.parse_args()
    fixq.set_threads(1)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None

    n = a.mib * 2**20 // 4
    x = (np.random.default_rng(1).standard_normal(n, dtype=np.float32) * 3).astype(np.float32)
    y = np.empty_like(x)
    spec = fixq.QuantSpec(fixq.Format(8, 4))
    f, lo, hi = 4, -128, 127
    scale = np.float32(2.0**f)

    def numpy_idiom():
        return np.clip(np.round(x * scale), lo, hi) / scale

    assert np.array_equal(fixq.quantize(x, spec), numpy_idiom())
    if torch is not None:
        t = torch.from_numpy(x)

        def torch_fq():
            return torch.fake_quantize_per_tensor_affine(t, 2.0**-f, 0, lo, hi)

        # PyTorch rounds x / scale with nearbyint (ties to even) like fixq.
        assert np.array_equal(torch_fq().numpy(), fixq.quantize(x, spec))

    cases = {
        "np.copyto(y, x)": lambda: np.copyto(y, x),
        "fixq.quantize(x, spec, out=y)": lambda: fixq.quantize(x, spec, out=y),
        "y = fixq.quantize(x, spec)": lambda: fixq.quantize(x, spec),
        "y = x.copy()": lambda: x.copy(),
        "numpy idiom": numpy_idiom,
    }
    if torch is not None:
        cases["torch.fake_quantize_per_tensor_affine"] = torch_fq
    times = {k: [] for k in cases}
    for _ in range(a.repeat):  # interleaved rounds
        for k, f_ in cases.items():
            times[k] += timed(f_, 1)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["fixq.quantize(x, spec, out=y)"]
    copy = med["np.copyto(y, x)"]
    print(f"{a.mib} MiB float32, one thread, median of {a.repeat} (CPU: {cpu_name()})")
    print(f"{'':40s} {'ms':>9s} {'GB/s':>7s} {'/ copyto':>9s} {'/ fixq out=':>12s}   (time ratios)")
    for k, v in med.items():
        print(f"{k:40s} {v * 1e3:9.2f} {2 * x.nbytes / v / 1e9:7.2f} {v / copy:8.2f}x {v / base:11.2f}x")

    # Per-call overhead: a 16-element array, the smallest kernel work.
    small = x[:16].copy()
    small_out = np.empty_like(small)
    calls = 20000

    def loop(f_):
        t = time.perf_counter()
        for _ in range(calls):
            f_()
        return (time.perf_counter() - t) / calls

    over = {
        "fixq.quantize(x16, spec, out=y16)": lambda: fixq.quantize(small, spec, out=small_out),
        "fixq.quantize(x16, spec)": lambda: fixq.quantize(small, spec),
        "np.copyto(y16, x16)": lambda: np.copyto(small_out, small),
    }
    if torch is not None:
        ts = torch.from_numpy(small)
        over["fixq.quantize(tensor16, spec)"] = lambda: fixq.quantize(ts, spec)
    print("\nper call, 16 elements (mean of", calls, "calls, best of 5 rounds)")
    for k, f_ in over.items():
        print(f"{k:40s} {min(loop(f_) for _ in range(5)) * 1e6:7.2f} us")


if __name__ == "__main__":
    main()
