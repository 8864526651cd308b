"""fixq: exact fixed-point quantization of neural networks (docs/python.md).

    import numpy as np, fixq
    spec = fixq.QuantSpec(fixq.Format(8, 4), round="Stochastic", seed=7)
    y = fixq.quantize(x, spec)                 # numpy arrays or CPU torch tensors
    m = fixq.load_model("examples/mnist/model")
    logits = m.run(images, path="int")

The functions are fixq's C++ kernels and models (the extension module fixq._core),
with the same results, bit for bit. Training quantizers for PyTorch: fixq.torch.
"""

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

__all__ = [
    "FileError", "Format", "Model", "Overflow", "QuantSpec", "QuantStats", "Round", "VerifyResult",
    "calibrate", "choose_frac", "choose_frac_per_channel", "dequantize", "derive_seed", "get_threads",
    "load_model", "quantize", "quantize_codes", "quantize_stats", "random_u32", "set_threads",
]
