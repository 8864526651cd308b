"""fixq.torch: fixed-point training quantizers for PyTorch, over fixq's kernels.

Pure Python over the module `fixq` (fixq.quantize, fixq.choose_frac, fixq.derive_seed):
the values a quantizer produces are fixq's C++ kernel's, bit for bit, whatever rounding
and overflow mode, stochastic rounding included. It offers the four quantization points
of fixq's C++ trainer (include/fixq/train/quantizer.hpp, docs/training.md) and weights
stored in fixed point:

    quantize(x, spec)                 autograd function: fixq.quantize forward, straight-
                                      through backward, zero where the forward saturated
    quantize_grad(x, spec)            identity forward, the gradient quantized in backward
    Quantizer(word, frac=None, ...)   nn.Module for activations (A): a fixed format, or
                                      dynamic fixed point (the fraction chosen per batch)
    GradQuantizer(word, ...)          nn.Module for activation gradients (dA)
    WeightQuantizer(word, ...)        the quantized forward copy of a weight (W), as a
                                      parametrization; dual_copy(module, ...) installs it
                                      on every Linear / Conv2d (float master kept)
    WeightGradQuantizer(params, ...)  quantizes weight gradients (dW), by tensor hooks
    StoredFixedPoint(params, ...)     weights stored in fixed point: after each optimizer
                                      step the parameters themselves are rounded into the
                                      format (nearest or stochastic), no float master
    assign_tensor_ids(model), set_step(model, step), fixq_modules(model)
    export_model(...)                 the PyTorch -> fixq model folder importer
                                      (also `python3 -m fixq.torch MODULE_FILE OUT_DIR ...`)

Formats. Every quantizer takes `word` (1..64 bits), `signed`, and either `frac` (a fixed
format: values k * 2**-frac) or `frac=None` with `method` ("MaxAbs", "OverflowRate" with
`overflow_rate`, "MinMSE"): the fraction is then chosen from the tensor by
fixq.choose_frac, as fixq's C++ trainer does (dynamic fixed point, Courbariaux et al.
2014). `update_every=N` re-chooses it every N steps (1: every step; 0: once, at the
first tensor seen, then kept). The last fraction chosen is in `.last_frac` (a list of
per-channel fractions when `per_channel=True`). `round` and `overflow` are fixq's mode
names ("NearestEven", "Stochastic", "Saturate", "Wrap", ...; ac_fixed's names and the
fixq.Round / fixq.Overflow enums work too).

Gradients (straight-through estimator). The derivative of a quantizer is taken as 1,
except where the forward pass saturated (the input outside [format.min, format.max]):
there it is 0, as in fixq's trainer, so that a clipped activation stops pulling.

Steps and seeds. Stochastic rounding needs a seed (there is no default, as in
fixq.QuantSpec). Its noise is keyed by

    derive_seed(seed, step, tensor_id)        (fixq.derive_seed, C++'s derive_seed)

and element k of the tensor (C order) uses random word k of that key, so a run is
reproducible from its seed and the noise is fresh at every step, independent of
torch's global random state and of threads. Per-channel formats quantize channel c with
derive_seed(seed, step, tensor_id, c). Each quantizer has a step counter `.step`: a
module in training mode uses it and then advances it by one at each forward (each
backward for gradient quantizers: the step of the forward pass that made the
gradient), unless `auto_step=False`; set it explicitly with `q.step = n` or
`set_step(model, n)` (e.g. the optimizer step, to resume a run). In eval mode the step
does not advance and a dynamic fraction is not re-chosen (the last one is kept: the
format a deployed network would have). Quantizers that share a seed need distinct
`tensor_id`s (else their noise is correlated): `assign_tensor_ids(model)` numbers the
fixq modules of a model in `model.modules()` order.

Bad arguments raise ValueError naming the value.
"""

import sys

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn.utils import parametrize as _parametrize

import fixq as _fq

from . import _torch_import
from ._torch_import import export_model

__all__ = [
    "quantize", "Quantize", "quantize_grad", "QuantizeGrad",
    "Quantizer", "GradQuantizer", "WeightQuantizer", "dual_copy", "WeightGradQuantizer",
    "StoredFixedPoint", "assign_tensor_ids", "set_step", "fixq_modules", "export_model",
]

_METHODS = ("MaxAbs", "OverflowRate", "MinMSE")
_U64 = (1 << 64) - 1
_WEIGHT_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


# --- argument checks --------------------------------------------------------------------

def _int(name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= int(v) <= hi:
        raise ValueError(f"{name}={v!r}: expected an integer in [{lo}, {hi}]")
    return int(v)


def _mode_name(v):
    """'Stochastic' for a string or an enum value (fixq.Round.Stochastic)."""
    if isinstance(v, str):
        return v
    name = getattr(v, "name", None)
    return name if isinstance(name, str) else str(v)


def _check_modes(word, signed, round, overflow, seed):
    """Validates round and overflow through fixq.QuantSpec; returns whether round is stochastic."""
    stochastic = _mode_name(round) == "Stochastic"
    f = _fq.Format(word, 0, signed=signed)
    for name, value, kw in (("round", round, dict(round=round, seed=0 if stochastic else None)),
                            ("overflow", overflow, dict(overflow=overflow))):
        try:
            _fq.QuantSpec(f, **kw)
        except (ValueError, TypeError) as e:
            msg = str(e)
            raise ValueError(msg if repr(value) in msg else f"{name}={value!r}: {msg}") from None
    if stochastic and seed is None:
        raise ValueError(f"round={round!r} needs seed= (an integer in [0, 2**64 - 1]); there is no default seed")
    return stochastic


def _format(word, frac, signed):
    try:
        return _fq.Format(word, frac, signed=signed)
    except (ValueError, TypeError, OverflowError) as e:
        raise ValueError(f"frac={frac!r} with word={word!r}: not a fixq format ({e})") from None


def _as_spec(spec):
    """(QuantSpec, Format) for a QuantSpec, a Format or a (word, frac[, signed]) tuple."""
    if isinstance(spec, _fq.QuantSpec):
        return spec, spec.format
    if isinstance(spec, _fq.Format):
        return _fq.QuantSpec(spec), spec
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        f = _fq.Format(*spec)
        return _fq.QuantSpec(f), f
    raise ValueError(f"spec={spec!r}: expected a fixq.QuantSpec, a fixq.Format or a (word, frac[, signed]) tuple")


# --- kernels on tensors -----------------------------------------------------------------

def _cpu_float(x):
    """x (detached) as a CPU float32 / float64 tensor: itself when it is one, else a copy
    (float64 stays float64; float16 and bfloat16 become float32, exactly). Integer,
    boolean and complex tensors are refused: their values would not survive the trip."""
    if not x.dtype.is_floating_point:
        raise ValueError(f"fixq.torch: a tensor of dtype {x.dtype}; the quantizers take floating-point tensors")
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        return x
    return x.to("cpu", torch.float64 if x.dtype == torch.float64 else torch.float32)


def _kernel(x, spec, out=None):
    """fixq.quantize on x (detached). CPU float32/float64 tensors go to the kernel without
    a copy (contiguous or strided); other floating-point dtypes and devices through a CPU
    copy (_cpu_float), the result converted back to x's dtype and device."""
    x = x.detach()
    _cpu_float(x[:0])  # the dtype check, before any work
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        if out is None:
            return _fq.quantize(x, spec)
        if out.device.type == "cpu" and out.dtype in (torch.float32, torch.float64):
            _fq.quantize(x, spec, out=out)
            return out
        out.copy_(_fq.quantize(x, spec))
        return out
    y = _fq.quantize(_cpu_float(x), spec).to(x.device, x.dtype)
    if out is None:
        return y
    out.copy_(y)
    return out


def _bounds(fmt, dtype):
    """[lo, hi] as numbers of `dtype` such that for x of that dtype, x < lo or x > hi
    exactly when x is outside [fmt.min, fmt.max] (fmt.max may not be a float32)."""
    lo, hi = float(fmt.min), float(fmt.max)
    if dtype == torch.float64:
        return lo, hi
    with np.errstate(over="ignore"):
        lo32, hi32 = np.float32(lo), np.float32(hi)
    if float(hi32) > hi:
        hi32 = np.nextafter(hi32, np.float32(-np.inf))
    if float(lo32) < lo:
        lo32 = np.nextafter(lo32, np.float32(np.inf))
    return float(lo32), float(hi32)


def _outside(x, fmt):
    """The mask of elements outside the format's range, or None when there are none."""
    lo, hi = _bounds(fmt, x.dtype)
    m = (x < lo) | (x > hi)
    return m if bool(m.any()) else None


class _Ste(torch.autograd.Function):
    """y = fn(x) forward (fn returns the values and the saturation mask or None);
    backward: the gradient, zeroed where the mask is set."""

    @staticmethod
    def forward(ctx, x, fn):
        y, mask = fn(x.detach())
        ctx.mask = mask
        return y

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        return (g if mask is None else g.masked_fill(mask, 0)), None


class _GradFn(torch.autograd.Function):
    """Identity forward; backward: fn(gradient)."""

    @staticmethod
    def forward(ctx, x, fn):
        ctx.fn = fn
        return x.view_as(x)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        return ctx.fn(g.contiguous()), None


class Quantize(torch.autograd.Function):
    """The autograd function behind quantize(x, spec): forward fixq.quantize(x, spec),
    backward the gradient where x was inside [format.min, format.max], 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, spec, fmt):
        x = x.detach()
        ctx.mask = _outside(x, fmt)
        return _kernel(x, spec)

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        return (g if mask is None else g.masked_fill(mask, 0)), None, None


def quantize(x, spec):
    """x on the grid of `spec` (a fixq.QuantSpec, fixq.Format or (word, frac[, signed])),
    differentiably.

    Forward: fixq.quantize(x, spec), bit for bit (a contiguous or strided CPU float32 /
    float64 tensor is read by the kernel without a copy; stochastic rounding uses the
    spec's seed, element k of x.ravel() word k). Backward (straight-through estimator,
    as fixq's trainer): the incoming gradient where x lies inside [format.min,
    format.max], 0 where the forward saturated. For a seed that changes per step use
    Quantizer, or build the spec with seed=fixq.derive_seed(run_seed, step, tensor_id).
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x: expected a torch.Tensor, got {type(x).__name__}")
    spec, fmt = _as_spec(spec)
    return Quantize.apply(x, spec, fmt)


class QuantizeGrad(torch.autograd.Function):
    """The autograd function behind quantize_grad(x, spec)."""

    @staticmethod
    def forward(ctx, x, spec):
        ctx.spec = spec
        return x.view_as(x)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        return _kernel(g.contiguous(), ctx.spec), None


def quantize_grad(x, spec):
    """x unchanged in the forward pass; the gradient flowing back through it is put on
    the grid of `spec` (fixq.quantize, saturating or wrapping as the spec says). The
    spec's seed is used as it is: for fresh noise at every step use GradQuantizer."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x: expected a torch.Tensor, got {type(x).__name__}")
    spec, _ = _as_spec(spec)
    return QuantizeGrad.apply(x, spec)


# --- the quantization rule shared by the modules ----------------------------------------

class _Rule:
    """A format (fixed, or a fraction chosen from the tensor), modes, a seed, a tensor id,
    optionally one fraction per channel along `axis`."""

    def __init__(self, word, frac, method, overflow_rate, round, overflow, signed, seed, tensor_id,
                 per_channel=False, axis=0, update_every=1):
        self.word = _int("word", word, 1, 64)
        if not isinstance(signed, (bool, np.bool_)):
            raise ValueError(f"signed={signed!r}: expected True or False")
        self.signed = bool(signed)
        if frac is not None:
            frac = _int("frac", frac, -(1 << 31), (1 << 31) - 1)
            _format(self.word, frac, self.signed)
        self.frac = frac
        if method not in _METHODS:
            raise ValueError(f"method={method!r}: expected one of {', '.join(_METHODS)}")
        self.method = method
        if isinstance(overflow_rate, bool) or not isinstance(overflow_rate, (int, float, np.floating, np.integer)) \
                or not 0.0 <= float(overflow_rate) <= 1.0:
            raise ValueError(f"overflow_rate={overflow_rate!r}: expected a number in [0, 1]")
        if float(overflow_rate) != 0.0 and method != "OverflowRate":
            raise ValueError(f"overflow_rate={overflow_rate!r} is only for method='OverflowRate' (method={method!r})")
        self.overflow_rate = float(overflow_rate)
        if seed is not None:
            seed = _int("seed", seed, 0, _U64)
        self.stochastic = _check_modes(self.word, self.signed, round, overflow, seed)
        self.round, self.overflow, self.seed = round, overflow, seed
        self.tensor_id = _int("tensor_id", tensor_id, 0, _U64)
        if not isinstance(per_channel, (bool, np.bool_)):
            raise ValueError(f"per_channel={per_channel!r}: expected True or False")
        self.per_channel = bool(per_channel)
        self.axis = _int("axis", axis, -64, 63)
        self.update_every = _int("update_every", update_every, 0, 1 << 62)
        self.last_frac = None

    def key(self, step, channel=None):
        if not self.stochastic:
            return None
        if channel is None:
            return _fq.derive_seed(self.seed, step, self.tensor_id)
        return _fq.derive_seed(self.seed, step, self.tensor_id, channel)

    def _choose(self, x, step, update):
        """The fraction(s) for x at this step: fixed, kept, or chosen from x."""
        if self.frac is not None:
            self.last_frac = self.frac if not self.per_channel else [self.frac] * x.shape[self.axis]
            return self.last_frac
        again = self.last_frac is None or (update and self.update_every and step % self.update_every == 0)
        if self.per_channel and self.last_frac is not None and len(self.last_frac) != x.shape[self.axis]:
            again = True
        if again:
            kw = dict(signed=self.signed, method=self.method, round=self.round if not self.stochastic else "NearestEven")
            if self.method == "OverflowRate":
                kw["overflow_rate"] = self.overflow_rate
            xd = _cpu_float(x.detach())
            if self.per_channel:
                fr = _fq.choose_frac_per_channel(xd, self.word, axis=self.axis % x.dim(), **kw)
                self.last_frac = [int(v) for v in np.asarray(fr).ravel()]
            else:
                self.last_frac = int(_fq.choose_frac(xd, self.word, **kw))
        return self.last_frac

    def spec(self, frac, step, channel=None):
        return _fq.QuantSpec(_fq.Format(self.word, frac, signed=self.signed), round=self.round,
                             overflow=self.overflow, seed=self.key(step, channel))

    def apply(self, x, step, update, mask=True, out=None):
        """(values on the grid, saturation mask or None); into `out` when given."""
        if self.per_channel and not -x.dim() <= self.axis < x.dim():
            raise ValueError(f"axis={self.axis}: no such axis in a tensor of shape {tuple(x.shape)} (per_channel=True)")
        fr = self._choose(x, step, update)
        if not self.per_channel:
            spec = self.spec(fr, step)
            m = _outside(x, spec.format) if mask else None
            return _kernel(x, spec, out), m
        axis = self.axis % x.dim()
        y = torch.empty_like(x) if out is None else out
        xm, ym = x.detach().movedim(axis, 0), y.movedim(axis, 0)
        m = None
        if mask:
            lo, hi = zip(*(_bounds(_fq.Format(self.word, f, signed=self.signed), x.dtype) for f in fr))
            shape = (len(fr),) + (1,) * (x.dim() - 1)
            lo = torch.tensor(lo, dtype=x.dtype, device=x.device).view(shape)
            hi = torch.tensor(hi, dtype=x.dtype, device=x.device).view(shape)
            mm = (xm < lo) | (xm > hi)
            m = mm.movedim(0, axis) if bool(mm.any()) else None
        for c, f in enumerate(fr):
            _kernel(xm[c], self.spec(f, step, c), out=ym[c])
        return y, m


class _StepCounter:
    """`step`: the step the next quantization or rounding uses (0 to 2**64 - 1); a module in
    training mode advances it after each use."""

    _step = 0

    @property
    def step(self):
        return self._step

    @step.setter
    def step(self, value):
        self._step = _int("step", value, 0, _U64)


class _FixqModule(_StepCounter, nn.Module):
    """Shared by the fixq quantizer modules: the rule, the step counter, last_frac."""

    def __init__(self, word, frac, method, overflow_rate, round, overflow, signed, seed, tensor_id,
                 auto_step, **kw):
        super().__init__()
        self._rule = _Rule(word, frac, method, overflow_rate, round, overflow, signed, seed, tensor_id, **kw)
        if not isinstance(auto_step, (bool, np.bool_)):
            raise ValueError(f"auto_step={auto_step!r}: expected True or False")
        self.auto_step = bool(auto_step)
        self._step = 0

    @property
    def last_frac(self):
        """The last fraction used (an int, or a list per channel); None before the first."""
        return self._rule.last_frac

    @property
    def tensor_id(self):
        return self._rule.tensor_id

    @tensor_id.setter
    def tensor_id(self, value):
        self._rule.tensor_id = _int("tensor_id", value, 0, _U64)

    @property
    def seed(self):
        return self._rule.seed

    @seed.setter
    def seed(self, value):
        if value is None and self._rule.stochastic:
            raise ValueError("seed=None: stochastic rounding needs a seed")
        self._rule.seed = None if value is None else _int("seed", value, 0, _U64)

    word = property(lambda self: self._rule.word)
    frac = property(lambda self: self._rule.frac)
    signed = property(lambda self: self._rule.signed)
    method = property(lambda self: self._rule.method)
    stochastic = property(lambda self: self._rule.stochastic)

    def format(self):
        """The fixq.Format of the last quantization (None before it, a list per channel)."""
        fr = self._rule.last_frac if self._rule.frac is None else self._rule.frac
        if fr is None:
            return None
        if isinstance(fr, list):
            return [_fq.Format(self.word, f, signed=self.signed) for f in fr]
        return _fq.Format(self.word, fr, signed=self.signed)

    def _take_step(self, advance):
        s = self._step
        if advance and self.auto_step:
            self._step = s + 1
        return s

    def extra_repr(self):
        r = self._rule
        parts = [f"word={r.word}", f"frac={r.frac}" if r.frac is not None else f"method={r.method!r}"]
        if r.method == "OverflowRate" and r.frac is None:
            parts.append(f"overflow_rate={r.overflow_rate}")
        parts += [f"round={_mode_name(r.round)!r}", f"overflow={_mode_name(r.overflow)!r}"]
        if not r.signed:
            parts.append("signed=False")
        if r.seed is not None:
            parts.append(f"seed={r.seed}")
        parts.append(f"tensor_id={r.tensor_id}")
        if r.per_channel:
            parts.append(f"per_channel=True, axis={r.axis}")
        return ", ".join(parts)


class Quantizer(_FixqModule):
    """An activation quantizer (point A of fixq's trainer): y = x on a fixed-point grid.

    Quantizer(word, frac=None, method="MaxAbs", overflow_rate=0., round="NearestEven",
              overflow="Saturate", signed=True, seed=None, *, tensor_id=0,
              update_every=1, auto_step=True)

    With `frac` the format is fixed (word, frac, signed). With frac=None the fraction is
    chosen from each batch by fixq.choose_frac(x, word, signed, method, overflow_rate)
    (dynamic fixed point; every `update_every` steps, 0: once), and kept in eval mode;
    `.last_frac` holds the last one. The forward pass is fixq.quantize (bit for bit);
    the backward pass is the straight-through estimator, zero where x was outside the
    format's range. round="Stochastic" draws its noise from derive_seed(seed, step,
    tensor_id): reproducible for a seed, fresh at every step (`.step` advances after
    each forward in training mode; set it with `q.step = n` or set_step(model, n)).
    Put one after each layer whose output should be on a grid, e.g.
    nn.Sequential(nn.Conv2d(1, 20, 5), Quantizer(8), nn.ReLU(), ...).
    """

    def __init__(self, word, frac=None, method="MaxAbs", overflow_rate=0.0, round="NearestEven",
                 overflow="Saturate", signed=True, seed=None, *, tensor_id=0, update_every=1, auto_step=True):
        super().__init__(word, frac, method, overflow_rate, round, overflow, signed, seed, tensor_id, auto_step,
                         update_every=update_every)

    def forward(self, x):
        step = self._take_step(self.training)
        rule, training = self._rule, self.training
        return _Ste.apply(x, lambda t: rule.apply(t, step, training))


class GradQuantizer(_FixqModule):
    """An activation-gradient quantizer (point dA of fixq's trainer): the identity in the
    forward pass; in the backward pass the gradient flowing through it is put on a
    fixed-point grid (fixed `frac`, or chosen from the gradient by `method`: dynamic
    fixed point), with `round` and `overflow` (saturation of a gradient is not masked).

    GradQuantizer(word, frac=None, method="MaxAbs", overflow_rate=0., round="NearestEven",
                  overflow="Saturate", signed=True, seed=None, *, tensor_id=0,
                  update_every=1, auto_step=True)

    Stochastic noise: derive_seed(seed, step, tensor_id), where step is the value of
    `.step` at the forward pass that made the gradient (advanced after each forward in
    training mode). In eval mode, or when x does not require grad, it does nothing.
    Place it where the gradient of a layer's input should be quantized, e.g. before the
    layer: nn.Sequential(..., GradQuantizer(8, round="Stochastic", seed=1), nn.Linear(...)).
    """

    def __init__(self, word, frac=None, method="MaxAbs", overflow_rate=0.0, round="NearestEven",
                 overflow="Saturate", signed=True, seed=None, *, tensor_id=0, update_every=1, auto_step=True):
        super().__init__(word, frac, method, overflow_rate, round, overflow, signed, seed, tensor_id, auto_step,
                         update_every=update_every)

    def forward(self, x):
        if not self.training or not torch.is_grad_enabled() or not x.requires_grad:
            return x
        step = self._take_step(True)
        rule = self._rule
        return _GradFn.apply(x, lambda g: rule.apply(g, step, True, mask=False)[0])


class WeightQuantizer(_FixqModule):
    """The quantized forward copy of a weight (point W of fixq's trainer, "dual copy"):
    a parametrization (torch.nn.utils.parametrize) whose forward(w) is w on a grid, with
    the straight-through gradient (0 where w saturated) flowing to the float master,
    which the optimizer updates. dual_copy(module, ...) installs it.

    WeightQuantizer(word, frac=None, method="MaxAbs", overflow_rate=0., round="NearestEven",
                    overflow="Saturate", signed=True, seed=None, *, per_channel=False,
                    axis=0, tensor_id=0, update_every=1, auto_step=True)

    frac=None: the fraction is chosen from the master weights (per output channel along
    `axis` with per_channel=True) every `update_every` steps. The step advances at each
    evaluation in training mode (module.weight is evaluated once per forward pass);
    stochastic noise: derive_seed(seed, step, tensor_id) (per channel c:
    derive_seed(seed, step, tensor_id, c)).
    """

    def __init__(self, word, frac=None, method="MaxAbs", overflow_rate=0.0, round="NearestEven",
                 overflow="Saturate", signed=True, seed=None, *, per_channel=False, axis=0, tensor_id=0,
                 update_every=1, auto_step=True):
        super().__init__(word, frac, method, overflow_rate, round, overflow, signed, seed, tensor_id, auto_step,
                         per_channel=per_channel, axis=axis, update_every=update_every)

    def forward(self, w):
        step = self._take_step(self.training)
        rule, training = self._rule, self.training
        return _Ste.apply(w, lambda t: rule.apply(t, step, training))


def _weights_of(target, what):
    """[(module or None, name, parameter)] for an nn.Module (the `weight` of each Linear /
    ConvNd in it, itself included) or an iterable of tensors."""
    if isinstance(target, nn.Module):
        out = []
        for m in target.modules():
            if isinstance(m, _WEIGHT_TYPES):
                if _parametrize.is_parametrized(m, "weight"):
                    p = m.parametrizations.weight.original
                else:
                    p = m.weight
                out.append((m, "weight", p))
        if not out:
            raise ValueError(f"{what}: the module {type(target).__name__} holds no Linear or Conv layer")
        return out
    if isinstance(target, torch.Tensor):
        return [(None, None, target)]
    try:
        items = list(target)
    except TypeError:
        raise ValueError(f"{what}: expected an nn.Module or an iterable of tensors, got {type(target).__name__}") \
            from None
    if isinstance(items[0] if items else None, dict):  # optimizer param groups
        items = [p for g in items for p in g["params"]]
    for i, p in enumerate(items):
        if not isinstance(p, torch.Tensor):
            raise ValueError(f"{what}: item {i} is a {type(p).__name__}, not a tensor")
    if not items:
        raise ValueError(f"{what}: no parameters given")
    return [(None, None, p) for p in items]


def dual_copy(module, word, frac=None, method="MaxAbs", overflow_rate=0.0, round="NearestEven",
              overflow="Saturate", signed=True, seed=None, *, per_channel=False, axis=0, first_id=0,
              update_every=1, auto_step=True):
    """Dual copy (Courbariaux et al.; fixq's trainer, point W): every Linear / ConvNd in
    `module` (itself included) computes its forward pass with a quantized copy of its
    weight, while the optimizer updates the float master weight.

    Registers a WeightQuantizer as a parametrization of each layer's `weight` (tensor
    ids first_id, first_id + 1, ... in module order) and returns them. Afterwards
    `layer.weight` is the quantized copy and `layer.parametrizations.weight.original`
    the float master (the parameter the optimizer holds: build the optimizer after this
    call). Biases stay float. torch.nn.utils.parametrize.remove_parametrizations(layer,
    "weight") bakes the quantized weight in (leave_parametrized=False keeps the master).
    PyTorch saves a parametrized module through its state_dict() only (torch.save of the
    module itself is refused), and a quantizer's `.step` is not in the state_dict: to
    resume a run, load the state and set_step(model, step).
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"module: expected an nn.Module, got {type(module).__name__}")
    first_id = _int("first_id", first_id, 0, _U64)
    quantizers = []
    for i, (m, name, _) in enumerate(_weights_of(module, "module")):
        if _parametrize.is_parametrized(m, name):
            raise ValueError(f"{type(m).__name__} layer already has a parametrization of its weight "
                             "(dual_copy applied twice?)")
        q = WeightQuantizer(word, frac, method, overflow_rate, round, overflow, signed, seed,
                            per_channel=per_channel, axis=axis, tensor_id=first_id + i, update_every=update_every,
                            auto_step=auto_step)
        _parametrize.register_parametrization(m, name, q)  # evaluates q once, as a check
        q._step = 0  # that evaluation is no training step
        quantizers.append(q)
    return quantizers


class _ParamSet(_StepCounter):
    """Shared by WeightGradQuantizer and StoredFixedPoint: parameters and one rule each."""

    def __init__(self, params, what, word, frac, method, overflow_rate, round, overflow, signed, seed, per_channel,
                 axis, first_id, update_every):
        first_id = _int("first_id", first_id, 0, _U64)
        self.params = [p for _, _, p in _weights_of(params, what)]
        self.rules = [_Rule(word, frac, method, overflow_rate, round, overflow, signed, seed, first_id + i,
                            per_channel=per_channel, axis=axis, update_every=update_every)
                      for i in range(len(self.params))]
        self._step = 0

    @property
    def last_frac(self):
        """The last fraction of each parameter (ints, or lists per channel)."""
        return [r.last_frac for r in self.rules]

    def formats(self):
        """Each parameter's current fixq.Format (a list per channel with per_channel)."""
        out = []
        for r in self.rules:
            fr = r.last_frac
            out.append(None if fr is None else [_fq.Format(r.word, f, signed=r.signed) for f in fr]
                       if isinstance(fr, list) else _fq.Format(r.word, fr, signed=r.signed))
        return out


class WeightGradQuantizer(_ParamSet):
    """Weight-gradient quantization (point dW of fixq's trainer): a tensor hook on each
    parameter puts its gradient on a grid before it is accumulated into .grad.

    WeightGradQuantizer(params_or_module, word, frac=None, method="MaxAbs",
                        overflow_rate=0., round="NearestEven", overflow="Saturate",
                        signed=True, seed=None, *, per_channel=False, axis=0,
                        first_id=0, update_every=1)

    params_or_module: an nn.Module (the weight of each Linear / ConvNd in it) or
    parameters. Parameter i has tensor id first_id + i; stochastic noise
    derive_seed(seed, step, first_id + i), where `.step` is advanced by `.next_step()`
    or set (`.step = n`), not by the hooks (one backward may call them once per
    parameter). remove() takes the hooks off.
    """

    def __init__(self, params_or_module, word, frac=None, method="MaxAbs", overflow_rate=0.0, round="NearestEven",
                 overflow="Saturate", signed=True, seed=None, *, per_channel=False, axis=0, first_id=0,
                 update_every=1):
        super().__init__(params_or_module, "params_or_module", word, frac, method, overflow_rate, round, overflow,
                         signed, seed, per_channel, axis, first_id, update_every)
        for p in self.params:
            if not p.requires_grad:
                raise ValueError("params_or_module: a parameter does not require grad")
        self._handles = [p.register_hook(self._hook(r)) for p, r in zip(self.params, self.rules)]

    def _hook(self, rule):
        def hook(g):
            return rule.apply(g.contiguous(), self._step, True, mask=False)[0]
        return hook

    def next_step(self):
        """Advances the step (call once per optimizer step)."""
        self._step += 1

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []


class StoredFixedPoint(_ParamSet):
    """Weights stored in fixed point (Gupta et al. 2015; the randomized rounding of the
    Keras user's loop): there is no float master, the parameters themselves hold values
    of the format, and after each optimizer step apply() rounds them (old weight plus
    update) back into it, in place: round="NearestEven" (an update below half an LSB
    is lost) or round="Stochastic" (unbiased: the expected weight moves by the update).

    StoredFixedPoint(params_or_module, word, frac=None, method="MaxAbs",
                     overflow_rate=0., round="NearestEven", overflow="Saturate",
                     signed=True, seed=None, *, per_channel=False, axis=0,
                     first_id=0, update_every=1)

    params_or_module: an nn.Module (the weight of each Linear / ConvNd in it; biases stay
    float) or parameters (tensors, or an optimizer's param_groups). frac=None: the
    fraction is chosen from each parameter's values by `method` (dynamic fixed point;
    per channel along `axis` with per_channel=True), at every apply() (update_every=1),
    every N-th, or once (0). The constructor puts the parameters on the grid with
    round-to-nearest-even (the initial weights are not an update). Stochastic noise of
    parameter i at step s: derive_seed(seed, s, first_id + i) (per channel c:
    derive_seed(seed, s, first_id + i, c)).

        stored = StoredFixedPoint(net, 8, round="Stochastic", seed=1)
        opt = stored.wrap(torch.optim.SGD(net.parameters(), lr=0.1))   # opt.step() rounds
    """

    def __init__(self, params_or_module, word, frac=None, method="MaxAbs", overflow_rate=0.0, round="NearestEven",
                 overflow="Saturate", signed=True, seed=None, *, per_channel=False, axis=0, first_id=0,
                 update_every=1):
        super().__init__(params_or_module, "params_or_module", word, frac, method, overflow_rate, round, overflow,
                         signed, seed, per_channel, axis, first_id, update_every)
        with torch.no_grad():
            for p, r in zip(self.params, self.rules):
                saved, r.round, r.stochastic = (r.round, r.stochastic), "NearestEven", False
                try:
                    r.apply(p.detach(), 0, True, mask=False, out=p.detach())
                finally:
                    r.round, r.stochastic = saved

    def apply(self, step=None):
        """Rounds every parameter into its format, in place, at `step` (default: the
        counter `.step`, then advanced; an explicit step sets the counter to step + 1)."""
        s = self._step if step is None else _int("step", step, 0, _U64)
        with torch.no_grad():
            for p, r in zip(self.params, self.rules):
                r.apply(p.detach(), s, True, mask=False, out=p.detach())
        self._step = s + 1

    __call__ = apply

    def wrap(self, optimizer):
        """An optimizer whose step() is optimizer.step() followed by apply(); every other
        attribute is the optimizer's."""
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ValueError(f"optimizer: expected a torch.optim.Optimizer, got {type(optimizer).__name__}")
        return _RoundingOptimizer(optimizer, self)


class _RoundingOptimizer:
    """optimizer.step() then StoredFixedPoint.apply()."""

    def __init__(self, optimizer, stored):
        self.optimizer, self.stored = optimizer, stored

    def step(self, closure=None):
        loss = self.optimizer.step(closure) if closure is not None else self.optimizer.step()
        self.stored.apply()
        return loss

    def __getattr__(self, name):
        return getattr(self.optimizer, name)

    def __repr__(self):
        return f"StoredFixedPoint.wrap({self.optimizer!r})"


# --- whole models ------------------------------------------------------------------------

def fixq_modules(model):
    """The fixq quantizer modules of `model` (Quantizer, GradQuantizer, WeightQuantizer;
    parametrizations included), in model.modules() order."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    return [m for m in model.modules() if isinstance(m, _FixqModule)]


def assign_tensor_ids(model, start=0):
    """Numbers the fixq modules of `model` start, start + 1, ... (model.modules() order),
    so that quantizers sharing a seed draw independent noise. Returns the next id."""
    i = _int("start", start, 0, _U64)
    for m in fixq_modules(model):
        m.tensor_id = i
        i += 1
    return i


def set_step(model, step):
    """Sets the step counter of every fixq module of `model` (e.g. to the optimizer step
    when resuming, or every step with auto_step=False)."""
    step = _int("step", step, 0, _U64)
    for m in fixq_modules(model):
        m.step = step


if __name__ == "__main__":
    sys.exit(_torch_import.main())
