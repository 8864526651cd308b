"""What fixq's importers share: building and writing a fixq model folder.

A fixq float model folder (model format version 1, docs/model-format.md) is a
model.json plus the float32 .npy files its layers name. The importers (PyTorch:
fixq/_torch_import.py, i.e. fixq.torch.export_model; ONNX: fixq/onnx.py) differ in
what they read; this module holds the rest, so that both follow one rule:

  - FORMAT_VERSION and model_json(): the top-level object of model.json;
  - _Exporter: the layer entries and their parameters (kept in float64 until
    finish(), so that BatchNorm folding, fold_affine(), works in float64), named
    <layer>_<suffix>.npy and stored as float32;
  - bn_scale_shift(): a BatchNorm's y = x * s + t from its statistics;
  - the window and layout helpers: window_out(), spatial_out(), same_pads(),
    padding_value(), flatten_perm(), chw_to_hwc();
  - check_preprocess(): the {"scale", "offset"} of the input;
  - check_out_dir() and write_model_folder(): the folder is written atomically. The
    files go into a new temporary folder beside out_dir (same parent, so the final
    rename is atomic), which is then renamed to out_dir. An out_dir that exists and is
    not an empty folder is refused (ValueError naming it) unless force=True, which
    replaces it. On any failure no partial folder and no temporary folder is left.

Private to the package (no API promise). Only numpy and the standard library are used:
importing it needs neither torch nor onnx.
"""

import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping

import numpy as np

FORMAT_VERSION = 1


# --- model.json ---------------------------------------------------------------------

class _Exporter:
    """The layer entries of model.json and the parameters they will name."""

    def __init__(self):
        self.layers = []   # model.json layer entries
        self.arrays = {}   # file name -> float32 array, filled by finish()
        self.pending = {}  # id(entry) -> [[key, file suffix, float64 array], ...]; folding edits them

    def add(self, entry, params=None):
        """Appends a layer entry; params: [[key, file suffix, array], ...], written as
        entry[key] = "<name>_<suffix>.npy" by finish()."""
        self.layers.append(entry)
        if params is not None:
            self.pending[id(entry)] = params

    def fold_affine(self, entry, s, t):
        """Folds y = x * s + t per output channel (float64) into a Conv2D / Dense entry
        added with a "weights" (output channels on the last axis) and maybe a "bias"
        parameter: w' = w * s, b' = b * s + t (b' = t without a bias)."""
        params = self.pending[id(entry)]
        for item in params:
            if item[0] == "weights":
                item[2] = item[2] * s  # scales the last axis: the output channels
        bias = next((item for item in params if item[0] == "bias"), None)
        if bias is None:
            params.append(["bias", "b", np.broadcast_to(t, np.shape(s)).astype(np.float64)])
        else:
            bias[2] = bias[2] * s + t

    def finish(self):
        """Names each layer's parameter files (<layer>_<suffix>.npy) and makes the float32 arrays."""
        for entry in self.layers:
            params = self.pending.get(id(entry))
            if params is None:
                continue
            for key, suffix, value in params:
                file = f"{entry['name']}_{suffix}.npy"
                if file in self.arrays or file == "model.json":
                    raise AssertionError(f"parameter file {file} named twice")
                entry[key] = file
                self.arrays[file] = np.ascontiguousarray(value, dtype=np.float32)


def model_json(input_shape, layers, outputs, preprocess=None, comment=None):
    """The model.json object. input_shape: fixq's per-sample shape, (H, W, C) or (features,);
    preprocess: as returned by check_preprocess (None: none)."""
    model = {"fixq_model": FORMAT_VERSION}
    if comment is not None:
        model["comment"] = comment
    model["input"] = {"shape": [int(v) for v in input_shape]}
    if preprocess is not None:
        model["input"]["preprocess"] = preprocess
    model["layers"] = layers
    model["outputs"] = list(outputs)
    return model


def check_preprocess(preprocess):
    """None, or {"scale": S, "offset": O} (either key may be left out: 1 and 0) as a dict
    of two finite floats. Raises ValueError otherwise."""
    if preprocess is None:
        return None
    if not isinstance(preprocess, Mapping) or set(preprocess) - {"scale", "offset"}:
        raise ValueError(f"preprocess must be a dict with keys 'scale' and 'offset', got {preprocess!r}")
    try:
        scale = float(preprocess.get("scale", 1.0))
        offset = float(preprocess.get("offset", 0.0))
    except (TypeError, ValueError):
        raise ValueError(f"preprocess scale and offset must be numbers, got {dict(preprocess)!r}") from None
    if not (math.isfinite(scale) and math.isfinite(offset)):
        raise ValueError(f"preprocess scale and offset must be finite, got {dict(preprocess)!r}")
    return {"scale": scale, "offset": offset}


# --- layers -------------------------------------------------------------------------

def bn_scale_shift(gamma, beta, mean, var, eps):
    """s, t (float64) of a BatchNorm's y = x * s + t: s = gamma / sqrt(var + eps), t = beta - mean * s."""
    s = np.asarray(gamma, dtype=np.float64) / np.sqrt(np.asarray(var, dtype=np.float64) + float(eps))
    return s, np.asarray(beta, dtype=np.float64) - np.asarray(mean, dtype=np.float64) * s


def window_out(size, kernel, stride, dilation, before, after):
    """The output extent of a window (conv or pool) along one axis (rounding down)."""
    e = (kernel - 1) * dilation + 1
    return (size + before + after - e) // stride + 1


def spatial_out(hw, kernel, strides, dilation, padding):
    """(out H, out W) of a window over an (H, W) input; padding "valid" or [top, bottom, left, right]."""
    pads = [0, 0, 0, 0] if padding == "valid" else padding
    return (window_out(hw[0], kernel[0], strides[0], dilation[0], pads[0], pads[1]),
            window_out(hw[1], kernel[1], strides[1], dilation[1], pads[2], pads[3]))


def same_pads(hw, kernel, strides, dilation, upper=True):
    """[top, bottom, left, right] of 'same' padding (output extent ceil(n / stride)): the odd
    extra row / column at the bottom / right (upper=True: ONNX SAME_UPPER, TensorFlow, and
    PyTorch's padding='same', which pads dilation * (k - 1) at stride 1) or at the top / left."""
    pads = []
    for n, k, s, d in zip(hw, kernel, strides, dilation):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        small, large = total // 2, total - total // 2
        pads += [small, large] if upper else [large, small]
    return pads


def padding_value(pads):
    """model.json's "padding": the list [top, bottom, left, right], or "valid" when all are 0."""
    return list(pads) if any(pads) else "valid"


def chw_to_hwc(shape):
    """fixq's per-sample shape of a channels-first (C, H, W) one; (features,) stays."""
    shape = tuple(int(v) for v in shape)
    return (shape[1], shape[2], shape[0]) if len(shape) == 3 else shape


def flatten_perm(h, w, c):
    """fixq's flat element j (of (H, W, C), row-major) is the channels-first framework's
    element perm[j] (of (C, H, W)); None when both orders are the same."""
    if (h == 1 and w == 1) or c == 1:
        return None
    return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)


# --- the folder ---------------------------------------------------------------------

def check_out_dir(out_dir, force=False):
    """Raises ValueError unless out_dir is absent, an empty folder, or (force) a folder."""
    out_dir = os.fspath(out_dir)
    if not out_dir:
        raise ValueError("out_dir is empty")
    if os.path.lexists(out_dir):
        if not os.path.isdir(out_dir) or os.path.islink(out_dir):
            raise ValueError(f"{out_dir} exists and is not a folder")
        if os.listdir(out_dir) and not force:
            raise ValueError(f"{out_dir} exists and is not empty (force=True / --force replaces it)")


def write_model_folder(out_dir, model, arrays, force=False):
    """Writes model.json (`model`) and the .npy files `arrays` ({file name: array}) as the
    folder out_dir, atomically: into a new temporary folder beside out_dir, then renamed
    to it. An out_dir that exists and is not an empty folder is refused (ValueError) unless
    force, which replaces it (the old folder is moved aside, then removed). On failure
    nothing is left: no temporary folder, no partial out_dir, and a forced old out_dir is
    put back. Missing parent folders are created (and removed again on failure)."""
    shown = os.fspath(out_dir)
    check_out_dir(shown, force)
    path = os.path.abspath(shown)
    parent, base = os.path.split(path)
    if not base:
        raise ValueError(f"{shown} cannot be a model folder")

    created = []  # parent folders made here, deepest first
    p = parent
    while not os.path.isdir(p) and os.path.dirname(p) != p:
        created.append(p)
        p = os.path.dirname(p)
    tmp = old = None
    try:
        if created:
            os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{base}.", suffix=".tmp", dir=parent)
        for file, array in arrays.items():
            if os.path.basename(file) != file or file in ("", ".", "..", "model.json"):
                raise ValueError(f"invalid parameter file name {file!r}")
            np.save(os.path.join(tmp, file), array, allow_pickle=False)
        with open(os.path.join(tmp, "model.json"), "w", encoding="utf-8") as f:
            json.dump(model, f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp made it 0700: a folder as mkdir would make it
        check_out_dir(shown, force)  # again: it may have changed meanwhile
        if os.path.isdir(path) and os.listdir(path):  # force: move the old folder aside, then remove it
            old = tempfile.mkdtemp(prefix=f".{base}.", suffix=".old", dir=parent)
            aside = os.path.join(old, base)
            os.rename(path, aside)
            try:
                os.rename(tmp, path)
            except BaseException:
                os.rename(aside, path)  # put it back
                raise
            tmp = None
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)  # onto nothing or onto an empty folder
            tmp = None
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            try:
                os.rmdir(old)  # empty unless the old folder could not be put back
            except OSError:
                pass
        for d in created:
            try:
                os.rmdir(d)
            except OSError:
                break
        raise


def _umask():
    try:  # Linux: read it without changing it (os.umask would, for every thread, briefly)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
