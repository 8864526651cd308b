#!/usr/bin/env python3
"""Writes the .npy fixtures of tests/io/npy.test.cpp with numpy itself (and PyTorch
when importable): Fortran-order and big-endian arrays, which fixq must read as numpy
wrote them. Run once from this folder; the files are committed. Values are small
formulas (arange) that the test recomputes in C order."""
import numpy as np

def save(name, a):
    np.save(name, a)
    print(name, a.dtype.str, a.shape, "fortran" if np.isfortran(a) else "C")

# Fortran order: a C array made column-major, and a transposed array.
save("fortran_f4.npy", np.asfortranarray((np.arange(24, dtype="<f4") / 4).reshape(2, 3, 4)))
save("fortran_i2_transposed.npy", (np.arange(12, dtype="<i2").reshape(3, 4) - 6).T)  # shape (4, 3)
# numpy's spelling of single-byte types: '|u1', '|i1' (here in Fortran order).
save("fortran_u1.npy", np.asfortranarray(np.arange(60, dtype="u1").reshape(5, 3, 4) * 4))
save("fortran_i1.npy", np.asfortranarray((np.arange(24, dtype="i1") - 12).reshape(2, 3, 4)))
# Big-endian, each multi-byte type: arange(6) - 2 as (2, 3), C order, with the
# extremes of the type at the two ends.
for t in ["i2", "i4", "i8", "u2", "u4", "u8", "f4", "f8"]:
    dt = np.dtype(">" + t)
    a = (np.arange(6) - (0 if t[0] == "u" else 2)).astype(dt).reshape(2, 3)
    if t[0] in "iu":
        info = np.iinfo(dt)
        a[0, 0], a[1, 2] = info.min, info.max
    save("big_" + t + ".npy", a)
# Big-endian and Fortran order together.
save("big_fortran_f8.npy", np.asfortranarray((np.arange(24) * 0.5 - 3).astype(">f8").reshape(4, 3, 2)))
# A PyTorch weight reversed with permute() and saved as is: numpy sees a
# Fortran-contiguous array.
try:
    import torch
    w = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5) / 8  # (O, I, kh, kw)
    save("torch_permute.npy", w.permute(3, 2, 1, 0).numpy())  # (kw, kh, I, O)
except ImportError:
    print("no torch: torch_permute.npy not written")
