"""fixq: exact fixed-point quantization of neural networks (docs/python.md).

    import numpy as np, fixq
    spec = fixq.QuantSpec(fixq.Format(8, 4), round="Stochastic", seed=7)
    y = fixq.quantize(x, spec)                 # numpy arrays or CPU torch tensors
    m = fixq.load_model("examples/mnist/model")
    logits = m.run(images, path="int")

The functions are fixq's C++ kernels and models (the extension module fixq._core),
with the same results, bit for bit. Training quantizers for PyTorch: fixq.torch.
"""

import os as _os

from ._core import (  # noqa: F401
    FileError,
    Format,
    Model,
    Overflow,
    QuantSpec,
    QuantStats,
    Round,
    VerifyResult,
    calibrate,
    choose_frac,
    choose_frac_per_channel,
    dequantize,
    derive_seed,
    get_threads,
    load_model,
    quantize,
    quantize_codes,
    quantize_stats,
    random_u32,
    set_threads,
)

__version__ = "0.1.0"


def _after_fork_in_child():
    # OpenMP (libgomp) cannot start threads in a process forked after its parent ran
    # a parallel region: the child would hang in its first parallel kernel. A forked
    # child (multiprocessing's default start method on Linux) runs the kernels on one
    # thread; set_threads in the child cannot undo that safely.
    set_threads(1)


if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = [
    "FileError", "Format", "Model", "Overflow", "QuantSpec", "QuantStats", "Round", "VerifyResult",
    "calibrate", "choose_frac", "choose_frac_per_channel", "dequantize", "derive_seed", "get_threads",
    "load_model", "quantize", "quantize_codes", "quantize_stats", "random_u32", "set_threads",
]
