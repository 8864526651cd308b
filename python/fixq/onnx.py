"""ONNX -> fixq model folder (model format version 1, float model).

    from fixq.onnx import import_model
    import_model("net.onnx", "net_fixq", preprocess={"scale": 1 / 255})

    python3 -m fixq.onnx net.onnx net_fixq [--no-fold] [--scale S] [--offset O] [--force]

The model is read with the `onnx` package (Debian: python3-onnx), checked with
onnx.checker and shape inference. Default-domain opsets 9 to 17. The graph must have one
input (graph inputs that have an initializer are constants, not inputs), a float32
tensor of shape (N, C, H, W) or (N, features), and one output; the batch axis N is
symbolic or 1.

Supported nodes (only the nodes the graph output depends on are converted):
  - Conv (2-D; pads, auto_pad NOTSET / VALID / SAME_UPPER / SAME_LOWER, strides,
    dilations, group, bias) -> Conv2D
  - Gemm (alpha = 1, beta = 1, transA = 0, transB 0 or 1, C a per-output bias) and
    MatMul by a constant (in, out) matrix -> Dense; an Add of a constant per-channel
    vector (or scalar) right after a Conv / Gemm / MatMul whose output feeds only it
    becomes (part of) that layer's bias
  - Relu -> ReLU; Clip with min 0 -> ReLU (no max, or max = +inf / FLT_MAX), ReLU6 (max 6)
    or ReLU with "cap" (another max > 0); min / max are attributes before opset 11, constant
    inputs from opset 11; LeakyRelu -> LeakyReLU
  - MaxPool, AveragePool (2-D; kernel_shape, strides, pads, auto_pad; ceil_mode 0 only;
    MaxPool dilations 1 and no Indices output; AveragePool count_include_pad = 0, or 1 with
    zero padding) -> MaxPool2D / AvgPool2D; GlobalAveragePool -> GlobalAvgPool2D
  - BatchNormalization (inference form, constant parameters): folded in float64 into the
    Conv / Gemm / MatMul before it when that node's output feeds only it
    (fold_batch_norm=True), else a BatchNorm layer
  - Add of two activations of the same shape -> Add; Concat on axis 1 (the channels)
    -> Concat (on fixq's last axis)
  - Flatten (axis 1) and Reshape to (N, -1) / (N, features) with a constant shape
    -> Flatten (nothing for an input that is already flat)
  - Identity, Dropout (inference; mask output unused, training_mode false) -> nothing
  - Pad (mode constant, value 0, of H and W only): nothing when every pad is zero (torch
    exports AvgPool2d(count_include_pad=True) as such a Pad and an AveragePool); otherwise
    only a Conv may take its output, and the pads are added to the Conv's padding
  - constants: initializers and Constant nodes are read with onnx.numpy_helper. Nodes whose
    inputs are all constants are evaluated with numpy for Constant, Identity, Shape (also of
    an activation: its shape is known, the batch extent is tracked symbolically), Gather,
    Unsqueeze, Concat, Cast, Mul, Add, Sub, Div, Reshape and Transpose, so the
    Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain of torch's x.view(x.size(0), -1)
    becomes a Flatten. A value that depends on the batch extent may only be the batch entry
    of a Reshape's shape.

Layouts (what the importer does about ONNX's NCHW):
  - The fixq model's input is NHWC: model.json's input shape is (H, W, C), or (features,).
    Feed it x.transpose(0, 2, 3, 1) of the ONNX model's NCHW input x.
  - Conv weights (out, in/groups, kh, kw) -> HWIO (kh, kw, in/groups, out); Gemm / MatMul
    weights -> (in, out).
  - A 4-D output comes back NHWC: the ONNX output is y.transpose(0, 3, 1, 2) of fixq's y.
    An output of shape (N, C, 1, 1) made by GlobalAveragePool comes back as (N, C) (fixq's
    GlobalAvgPool2D is already flat). A 2-D output is the same in both.
  - Flatten order: ONNX flattens (C, H, W) as c*H*W + h*W + w, fixq as h*W*C + w*C + c. The
    rows of a Gemm / MatMul after the Flatten (and the parameters of a BatchNormalization
    between them) are permuted so that the network computes the same function; an output
    that is such a flattened activation is refused (its order would differ).
  - Padding is written as explicit amounts [top, bottom, left, right] (SAME_UPPER puts the
    odd extra row / column at the bottom / right, SAME_LOWER at the top / left).

Layer names are the ONNX node names with every character outside [A-Za-z0-9_.-] replaced
by "_" (leading and trailing "_" and "." removed; "<op>_<index>" for a node without a
name; "_2", "_3", ... against duplicates); each layer's "comment" names its ONNX node(s).

Errors: a construct fixq cannot express exactly (an unknown op, an unsupported attribute
value, a non-constant weight, more than one graph input, ...) raises ValueError naming the
node ("node '<name>' (<op>)", or "node #<index> (<op>)" when it has no name; the index
counts graph.node from 0), its op type and the problem; a model that cannot be read, fails
the checker or shape inference raises ValueError too.
Nothing is written unless the whole model converts: the files are written into a new
temporary folder beside out_dir, which is renamed to out_dir at the end. An out_dir that
exists and is not an empty folder is refused unless force=True (--force), which replaces it.
(The model folder is written by fixq/_model_writer.py, shared with fixq.torch.export_model.)
The command line prints one line "fixq.onnx: error: ..." and exits with status 2 on any
error.

Uses numpy, onnx, the standard library and fixq/_model_writer.py; not torch.
"""

import argparse
import math
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from ._model_writer import (_Exporter, bn_scale_shift, check_out_dir, check_preprocess, chw_to_hwc, flatten_perm,
                            model_json, padding_value, same_pads, spatial_out, write_model_folder)

__all__ = ["import_model", "main"]

MIN_OPSET, MAX_OPSET = 9, 17
_FLT_MAX = float(np.finfo(np.float32).max)


class _Const:
    """A constant tensor. `mask` (bool, same shape) marks entries equal to the batch
    extent (symbolic); None when the value does not depend on it."""

    def __init__(self, value, mask=None):
        self.value = np.asarray(value)
        self.mask = None if mask is None or not np.any(mask) else np.asarray(mask, dtype=bool)


class _Act:
    """An activation: the fixq layer that makes it and its shapes per sample.

    shape  ONNX's per-sample shape: (C, H, W) or (F,)
    fixq   fixq's: (H, W, C) or (F,); (C,) for the (C, 1, 1) output of GlobalAveragePool
    perm   flat activations: fixq's element j is ONNX's element perm[j] (None: same order)
    entry  the Conv2D / Dense layer entry that made it, when a BatchNormalization or a bias
           Add may still be folded into it (the value is that layer's output, unchanged)
    pad    [top, bottom, left, right] of a zero Pad not yet applied: `layer`'s output padded;
           `shape` is the padded shape, `fixq` the unpadded one. Only a Conv takes it.
    """

    def __init__(self, layer, shape, fixq, perm=None, entry=None, pad=None):
        self.layer, self.shape, self.fixq, self.perm, self.entry = layer, tuple(shape), tuple(fixq), perm, entry
        self.pad = pad

    @property
    def hwc(self):
        return len(self.fixq) == 3


def _np_dtype(elem_type):
    if hasattr(onnx.helper, "tensor_dtype_to_np_dtype"):
        return onnx.helper.tensor_dtype_to_np_dtype(elem_type)
    return onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[elem_type]


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Converter:
    def __init__(self, model, fold_batch_norm):
        self.model = model
        self.graph = model.graph
        self.fold = fold_batch_norm
        self.ex = _Exporter()
        self.consts = {}     # tensor name -> _Const
        self.acts = {}       # tensor name -> _Act
        self.used_names = set()
        self.opset = None

    # --- messages -------------------------------------------------------------------

    def where(self, index, node):
        return f"node '{node.name}' ({node.op_type})" if node.name else f"node #{index} ({node.op_type})"

    def fail(self, index, node, problem):
        raise ValueError(f"{self.where(index, node)}: {problem}")

    # --- the graph ------------------------------------------------------------------

    def run(self):
        graph = self.graph
        versions = {o.domain: o.version for o in self.model.opset_import}
        self.opset = versions.get("", versions.get("ai.onnx"))
        if self.opset is None:
            raise ValueError("the model imports no default-domain (ai.onnx) opset")
        if not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise ValueError(f"opset {self.opset} is not supported (opsets {MIN_OPSET} to {MAX_OPSET})")
        if len(graph.sparse_initializer):
            raise ValueError("sparse initializers are not supported")

        for t in graph.initializer:
            self.consts[t.name] = _Const(numpy_helper.to_array(t))
        inputs = [v for v in graph.input if v.name not in self.consts]
        if len(inputs) != 1:
            raise ValueError(f"the graph has {len(inputs)} inputs ({', '.join(repr(v.name) for v in inputs)}); "
                             "fixq models have exactly one")
        if len(graph.output) != 1:
            raise ValueError(f"the graph has {len(graph.output)} outputs "
                             f"({', '.join(repr(v.name) for v in graph.output)}); only one is supported")
        self.input_shape = self.read_input(inputs[0])
        self.shapes = self.inferred_shapes()

        # Only the nodes the output depends on; consumers counted among them (plus the output).
        producer = {out: i for i, n in enumerate(graph.node) for out in n.output if out}
        needed, stack = set(), [graph.output[0].name]
        while stack:
            name = stack.pop()
            i = producer.get(name)
            if i is not None and i not in needed:
                needed.add(i)
                stack.extend(x for x in graph.node[i].input if x)
        self.consumers = {}
        for i in needed:
            for x in graph.node[i].input:
                if x:
                    self.consumers[x] = self.consumers.get(x, 0) + 1
        self.consumers[graph.output[0].name] = self.consumers.get(graph.output[0].name, 0) + 1

        for i in sorted(needed):
            self.convert(i, graph.node[i])

        out = graph.output[0].name
        if out in self.consts:
            raise ValueError(f"the graph output '{out}' is a constant")
        act = self.acts.get(out)
        if act is None:
            raise ValueError(f"the graph output '{out}' is not computed by any node")
        if act.layer == "input" or not self.ex.layers:
            raise ValueError("the model has no layers to import (its output is its input)")
        if act.pad is not None:
            raise ValueError(f"the graph output '{out}' is the output of a Pad; only a Conv may take it")
        if act.perm is not None:
            raise ValueError(f"the graph output '{out}' is a flattened (C, H, W) activation: fixq's would be in "
                             "(H, W, C) order; end the model with a Gemm / MatMul")
        self.ex.finish()
        return act.layer

    def read_input(self, value):
        t = value.type
        if not t.HasField("tensor_type"):
            raise ValueError(f"the graph input '{value.name}' is not a tensor")
        if t.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise ValueError(f"the graph input '{value.name}' has element type "
                             f"{onnx.TensorProto.DataType.Name(t.tensor_type.elem_type)}; only FLOAT is supported")
        if not t.tensor_type.HasField("shape"):
            raise ValueError(f"the graph input '{value.name}' has no shape")
        dims = t.tensor_type.shape.dim
        if len(dims) not in (2, 4):
            raise ValueError(f"the graph input '{value.name}' has rank {len(dims)}; expected (N, C, H, W) or "
                             "(N, features)")
        batch = dims[0]
        if batch.HasField("dim_value"):
            if batch.dim_value != 1:
                raise ValueError(f"the graph input '{value.name}' has batch extent {batch.dim_value}; it must be "
                                 "symbolic or 1")
            self.batch_symbol = None
        else:
            if not batch.dim_param:  # give the batch a name, so that shape inference carries it along
                batch.dim_param = "__fixq_batch"
            self.batch_symbol = batch.dim_param
        shape = []
        for k, d in enumerate(dims[1:], 1):
            if not d.HasField("dim_value") or d.dim_value < 1:
                raise ValueError(f"the graph input '{value.name}': axis {k} must have a fixed positive extent "
                                 f"(got {d.dim_param or 'an unknown extent'})")
            shape.append(int(d.dim_value))
        self.input_name = value.name
        self.acts[value.name] = _Act("input", shape, chw_to_hwc(shape))
        return shape

    def inferred_shapes(self):
        """tensor name -> per-sample shape (tuple) from shape inference, where it is static."""
        try:
            inferred = onnx.shape_inference.infer_shapes(self.model, check_type=True, strict_mode=True)
        except Exception as e:
            raise ValueError(f"ONNX shape inference fails: {e}") from None
        out = {}
        g = inferred.graph
        for v in list(g.value_info) + list(g.output):
            tt = v.type.tensor_type
            if not v.type.HasField("tensor_type") or not tt.HasField("shape") or not tt.shape.dim:
                continue
            dims = tt.shape.dim
            if all(d.HasField("dim_value") for d in dims[1:]):
                out[v.name] = tuple(int(d.dim_value) for d in dims[1:])
        return out

    # --- operands -------------------------------------------------------------------

    def const(self, index, node, k, what, allow_missing=False, allow_batch=False):
        """Input k of node as a numpy array (None when absent and allowed)."""
        name = node.input[k] if k < len(node.input) else ""
        if not name:
            if allow_missing:
                return None
            self.fail(index, node, f"the {what} input is missing")
        c = self.consts.get(name)
        if c is None:
            self.fail(index, node, f"the {what} input '{name}' is not a constant (an initializer or a value "
                                   "computed from constants only); fixq needs it at import time")
        if c.mask is not None and not allow_batch:
            self.fail(index, node, f"the {what} input '{name}' depends on the batch extent")
        return c if allow_batch else c.value

    def weight(self, index, node, k, what, allow_missing=False):
        w = self.const(index, node, k, what, allow_missing)
        if w is None:
            return None
        if w.dtype.kind != "f":
            self.fail(index, node, f"the {what} input '{node.input[k]}' holds {w.dtype}, not floating point")
        w = w.astype(np.float64)
        if not np.all(np.isfinite(w)):
            self.fail(index, node, f"the {what} input '{node.input[k]}' has non-finite values")
        return w

    def act(self, index, node, k, allow_pad=False):
        name = node.input[k] if k < len(node.input) else ""
        if not name:
            self.fail(index, node, f"input {k} is missing")
        if name in self.consts:
            self.fail(index, node, f"input {k} ('{name}') is a constant; fixq layers take activations "
                                   "(only the weights and biases of Conv / Gemm / MatMul / Add may be constants)")
        a = self.acts.get(name)
        if a is None:
            self.fail(index, node, f"input '{name}' is not computed by any supported node")
        if a.pad is not None and not allow_pad:
            self.fail(index, node, f"input '{name}' is the output of a Pad with padding {a.pad} (top, bottom, left, "
                                   "right); only a Conv may take a padded activation")
        return a

    def check_attrs(self, index, node, allowed):
        a = _attrs(node)
        unknown = sorted(set(a) - set(allowed))
        if unknown:
            self.fail(index, node, f"attribute {', '.join(unknown)} is not supported")
        return a

    def check_outputs(self, index, node, count=1, strict=False):
        """Refuses outputs after the first `count` that are used (strict: that are present)."""
        extra = [o for o in node.output[count:] if o and (strict or self.consumers.get(o, 0))]
        if extra:
            self.fail(index, node, f"output {', '.join(repr(o) for o in extra)} is not supported "
                                   f"(only the first {count} output{'s' if count > 1 else ''})")

    def layer_name(self, index, node):
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", node.name or f"{node.op_type}_{index}").strip("_.") \
            or f"{node.op_type}_{index}"
        if base == "input":
            base = "input_"
        name, k = base, 2
        while name in self.used_names:
            name, k = f"{base}_{k}", k + 1
        self.used_names.add(name)
        return name

    def emit(self, index, node, entry, sources, params=None):
        """Adds a layer entry reading the activations `sources` (a list of _Act)."""
        entry = {"name": self.layer_name(index, node), **entry}
        previous = self.ex.layers[-1]["name"] if self.ex.layers else "input"
        if len(sources) > 1 or sources[0].layer != previous:
            entry["inputs"] = [s.layer for s in sources]
        entry["comment"] = f"ONNX {self.where(index, node)}"
        self.ex.add(entry, params)
        return entry

    def foldable(self, name):
        """The Conv2D / Dense entry whose unchanged output `name` is and that feeds nothing
        else, or None."""
        a = self.acts.get(name)
        if a is None or a.entry is None or self.consumers.get(name, 0) != 1:
            return None
        return a.entry

    def set_out(self, node, act):
        self.acts[node.output[0]] = act

    def check_shape(self, index, node, act):
        want = self.shapes.get(node.output[0])
        if want is not None and tuple(want) != act.shape:
            self.fail(index, node, f"the computed per-sample output shape {act.shape} differs from ONNX shape "
                                   f"inference's {tuple(want)}")

    # --- conversion -----------------------------------------------------------------

    def convert(self, index, node):
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            self.fail(index, node, f"operators of domain '{node.domain}' are not supported")
        if all(x in self.consts for x in node.input if x) and op in _FOLDERS or op == "Shape":
            self.fold_node(index, node)
            return
        handler = getattr(self, "op_" + op, None)
        if handler is None:
            self.fail(index, node, f"{op} is not supported by the fixq ONNX importer")
        handler(index, node)
        for out in node.output[:1]:
            if out in self.acts:
                self.check_shape(index, node, self.acts[out])

    def fold_node(self, index, node):
        try:
            values = _FOLDERS[node.op_type](self, index, node)
        except ValueError:
            raise
        except Exception as e:  # numpy's complaint about the operands
            self.fail(index, node, f"cannot evaluate the constant expression: {e}")
        self.check_outputs(index, node, 1)
        self.consts[node.output[0]] = values

    # Activations ----------------------------------------------------------------------

    def alias(self, index, node, src_index=0):
        a = self.act(index, node, src_index, allow_pad=True)
        src = node.input[src_index]
        keep = a.entry if self.consumers.get(src, 0) == 1 else None  # still foldable through it
        self.set_out(node, _Act(a.layer, a.shape, a.fixq, a.perm, keep, a.pad))

    def op_Pad(self, index, node):
        """A zero constant Pad of H and W: nothing when the pads are zero (torch exports
        AvgPool2d(count_include_pad=True) so), else folded into the Conv that takes it."""
        if self.opset < 11:
            a = self.check_attrs(index, node, ("mode", "pads", "value"))
            pads, value = list(a.get("pads", [])), float(a.get("value", 0.0))
        else:
            a = self.check_attrs(index, node, ("mode",))
            pads = [int(v) for v in self.const(index, node, 1, "pads").reshape(-1)]
            v = self.const(index, node, 2, "constant_value", allow_missing=True)
            value = 0.0 if v is None else float(v.reshape(()))
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        if mode != "constant":
            self.fail(index, node, f"mode={mode} is not supported (only constant)")
        if value != 0.0:
            self.fail(index, node, f"the padding value {value} is not supported (only 0)")
        x = self.act(index, node, 0, allow_pad=True)
        rank = len(x.shape) + 1
        if len(pads) != 2 * rank:
            self.fail(index, node, f"pads {pads} do not fit rank {rank}")
        begin, end = pads[:rank], pads[rank:]
        if not any(pads):
            self.alias(index, node)
            return
        if rank != 4 or begin[:2] != [0, 0] or end[:2] != [0, 0] or min(pads) < 0:
            self.fail(index, node, f"pads {pads} are not supported (only non-negative padding of H and W)")
        pad = [begin[2], end[2], begin[3], end[3]]
        if x.pad is not None:
            pad = [p + q for p, q in zip(pad, x.pad)]
        c, h, w = x.shape
        self.set_out(node, _Act(x.layer, (c, h + begin[2] + end[2], w + begin[3] + end[3]), x.fixq, x.perm, None, pad))

    def op_Identity(self, index, node):
        self.check_attrs(index, node, ())
        self.alias(index, node)

    def op_Dropout(self, index, node):
        self.check_attrs(index, node, ("ratio", "seed"))
        self.check_outputs(index, node, 1)
        if len(node.input) > 2 and node.input[2]:
            mode = self.const(index, node, 2, "training_mode")
            if np.any(mode):
                self.fail(index, node, "training_mode is true; only inference is supported")
        self.alias(index, node)

    def op_Conv(self, index, node):
        a = self.check_attrs(index, node, ("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"))
        x = self.act(index, node, 0, allow_pad=True)
        if not x.hwc:
            self.fail(index, node, f"needs an (N, C, H, W) input held as NHWC; fixq holds input '{node.input[0]}' "
                                   f"(per sample {x.shape}) as {x.fixq}")
        w = self.weight(index, node, 1, "weight W")
        b = self.weight(index, node, 2, "bias B", allow_missing=True)
        if w.ndim != 4:
            self.fail(index, node, f"only 2-D convolutions are supported (the weight has shape {w.shape})")
        cout, cin_g, kh, kw = w.shape
        kernel = [kh, kw]
        if "kernel_shape" in a and list(a["kernel_shape"]) != kernel:
            self.fail(index, node, f"kernel_shape {list(a['kernel_shape'])} differs from the weight's {kernel}")
        groups = int(a.get("group", 1))
        c, h, wd = x.shape
        if groups < 1 or c != cin_g * groups or cout % groups:
            self.fail(index, node, f"group={groups} does not fit {c} input channels, weight shape {w.shape}")
        if b is not None and b.shape != (cout,):
            self.fail(index, node, f"the bias has shape {b.shape}, expected ({cout},)")
        strides, dilation, pads = self.window(index, node, a, kernel, (h, wd), dilated=True)
        if x.pad is not None:  # a Pad before: its zeros and the Conv's are the same
            pads = [p + q for p, q in zip(pads, x.pad)]
            h, wd = h - x.pad[0] - x.pad[1], wd - x.pad[2] - x.pad[3]
        oh, ow = spatial_out((h, wd), kernel, strides, dilation, pads)
        if oh < 1 or ow < 1:
            self.fail(index, node, f"the window does not fit the input ({h} x {wd})")
        entry = self.emit(index, node, {"type": "Conv2D", "strides": strides, "padding": padding_value(pads),
                                        "dilation": dilation, "groups": groups},
                          [x], [["weights", "w", w.transpose(2, 3, 1, 0)]]
                          + ([["bias", "b", b]] if b is not None else []))
        self.set_out(node, _Act(entry["name"], (cout, oh, ow), (oh, ow, cout), entry=entry))

    def window(self, index, node, a, kernel, in_hw, dilated):
        """strides, dilation, [top, bottom, left, right] of a Conv / pool node."""
        def pair(key, default):
            v = [int(t) for t in a.get(key, default)]
            if len(v) != 2 or min(v) < (0 if key == "pads" else 1):
                self.fail(index, node, f"{key} {v} must be 2 positive integers")
            return v
        strides = pair("strides", [1, 1])
        dilation = pair("dilations", [1, 1])
        if not dilated and dilation != [1, 1]:
            self.fail(index, node, f"dilations {dilation} are not supported on pools")
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto == "NOTSET":
            p = [int(t) for t in a.get("pads", [0, 0, 0, 0])]
            if len(p) != 4 or min(p) < 0:
                self.fail(index, node, f"pads {p} must be 4 non-negative integers")
            return strides, dilation, [p[0], p[2], p[1], p[3]]  # ONNX: [top, left, bottom, right]
        if "pads" in a and any(a["pads"]):
            self.fail(index, node, f"pads {list(a['pads'])} given with auto_pad={auto}")
        if auto == "VALID":
            return strides, dilation, [0, 0, 0, 0]
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            self.fail(index, node, f"auto_pad={auto} is not supported")
        return strides, dilation, same_pads(in_hw, kernel, strides, dilation, upper=auto == "SAME_UPPER")

    def op_Gemm(self, index, node):
        a = self.check_attrs(index, node, ("alpha", "beta", "transA", "transB"))
        if float(a.get("alpha", 1.0)) != 1.0:
            self.fail(index, node, f"alpha={a['alpha']} is not supported (only 1)")
        if int(a.get("transA", 0)) != 0:
            self.fail(index, node, "transA=1 is not supported (the activation is (N, features))")
        x = self.act(index, node, 0)
        w = self.weight(index, node, 1, "matrix B")
        c = self.weight(index, node, 2, "bias C", allow_missing=True)
        if c is not None and float(a.get("beta", 1.0)) != 1.0:
            self.fail(index, node, f"beta={a['beta']} is not supported (only 1)")
        if w.ndim != 2:
            self.fail(index, node, f"B has shape {w.shape}, expected a matrix")
        trans_b = int(a.get("transB", 0))
        if trans_b not in (0, 1):
            self.fail(index, node, f"transB={trans_b} is not supported")
        w = w.T if trans_b else w  # (in, out)
        bias = None
        if c is not None:
            out = w.shape[1]
            if c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1) or c.size not in (1, out):
                self.fail(index, node, f"C has shape {c.shape}; only a bias of shape ({out},), (1, {out}) or a "
                                       "scalar is supported")
            bias = np.broadcast_to(c.reshape(-1), (out,)).copy()
        self.dense(index, node, x, w, bias)

    def op_MatMul(self, index, node):
        self.check_attrs(index, node, ())
        x = self.act(index, node, 0)
        w = self.weight(index, node, 1, "matrix B")
        if w.ndim != 2:
            self.fail(index, node, f"B has shape {w.shape}; only a constant (in, out) matrix is supported")
        self.dense(index, node, x, w, None)

    def dense(self, index, node, x, w, bias):
        if len(x.shape) != 1:
            self.fail(index, node, f"needs an (N, features) input; input '{node.input[0]}' is (N, "
                                   f"{', '.join(map(str, x.shape))}) (Flatten it first)")
        if w.shape[0] != x.shape[0]:
            self.fail(index, node, f"the weight has {w.shape[0]} rows for {x.shape[0]} input features")
        if x.perm is not None:
            w = w[x.perm, :]  # fixq's input j is ONNX's input perm[j]
        out = int(w.shape[1])
        entry = self.emit(index, node, {"type": "Dense"}, [x],
                          [["weights", "w", w]] + ([["bias", "b", bias]] if bias is not None else []))
        self.set_out(node, _Act(entry["name"], (out,), (out,), entry=entry))

    def op_Relu(self, index, node):
        self.check_attrs(index, node, ())
        self.elementwise(index, node, {"type": "ReLU"})

    def op_LeakyRelu(self, index, node):
        a = self.check_attrs(index, node, ("alpha",))
        slope = float(a.get("alpha", 0.01))
        if not math.isfinite(slope):
            self.fail(index, node, f"alpha={slope} is not finite")
        self.elementwise(index, node, {"type": "LeakyReLU", "slope": slope})

    def op_Clip(self, index, node):
        if self.opset < 11:
            a = self.check_attrs(index, node, ("min", "max"))
            lo = float(a["min"]) if "min" in a else None
            hi = float(a["max"]) if "max" in a else None
        else:
            self.check_attrs(index, node, ())
            bounds = []
            for k, what in ((1, "min"), (2, "max")):
                v = self.const(index, node, k, what, allow_missing=True)
                if v is not None and v.size != 1:
                    self.fail(index, node, f"{what} has shape {v.shape}, expected a scalar")
                bounds.append(None if v is None else float(v.reshape(())))
            lo, hi = bounds
        if lo != 0.0:
            self.fail(index, node, f"min={lo} is not supported: only Clip(min=0[, max]) is a ReLU")
        if hi is None or hi == math.inf or hi >= _FLT_MAX:
            entry = {"type": "ReLU"}
        elif hi == 6.0:
            entry = {"type": "ReLU6"}
        elif math.isfinite(hi) and hi > 0.0:
            entry = {"type": "ReLU", "cap": hi}
        else:
            self.fail(index, node, f"max={hi} is not supported (a ReLU cap must be > 0)")
        self.elementwise(index, node, entry)

    def elementwise(self, index, node, entry):
        self.check_outputs(index, node, 1)
        x = self.act(index, node, 0)
        layer = self.emit(index, node, entry, [x])
        self.set_out(node, _Act(layer["name"], x.shape, x.fixq, x.perm))

    def op_MaxPool(self, index, node):
        a = self.check_attrs(index, node, ("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                                           "storage_order", "strides"))
        self.check_outputs(index, node, 1)
        self.pool(index, node, a, "MaxPool2D")

    def op_AveragePool(self, index, node):
        a = self.check_attrs(index, node, ("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
                                           "strides"))
        self.pool(index, node, a, "AvgPool2D")

    def pool(self, index, node, a, ltype):
        x = self.act(index, node, 0)
        if not x.hwc:
            self.fail(index, node, f"needs an (N, C, H, W) input held as NHWC; fixq holds input '{node.input[0]}' "
                                   f"(per sample {x.shape}) as {x.fixq}")
        if int(a.get("ceil_mode", 0)) != 0:
            self.fail(index, node, "ceil_mode=1 is not supported (fixq's output size rounds down)")
        kernel = [int(k) for k in a.get("kernel_shape", [])]
        if len(kernel) != 2 or min(kernel) < 1:
            self.fail(index, node, f"kernel_shape {kernel} must be 2 positive integers")
        c, h, w = x.shape
        strides, _, pads = self.window(index, node, a, kernel, (h, w), dilated=False)
        if ltype == "AvgPool2D" and int(a.get("count_include_pad", 0)) != 0 and any(pads):
            self.fail(index, node, f"count_include_pad=1 with padding {pads} is not supported: fixq divides by the "
                                   "window's cells inside the input (count_include_pad=0)")
        if max(pads[0], pads[1]) >= kernel[0] or max(pads[2], pads[3]) >= kernel[1]:
            self.fail(index, node, f"padding {pads} is not smaller than the window {kernel}")
        oh, ow = spatial_out((h, w), kernel, strides, (1, 1), pads)
        if oh < 1 or ow < 1:
            self.fail(index, node, f"the window does not fit the input ({h} x {w})")
        entry = self.emit(index, node, {"type": ltype, "pool": kernel, "strides": strides,
                                        "padding": padding_value(pads)}, [x])
        self.set_out(node, _Act(entry["name"], (c, oh, ow), (oh, ow, c)))

    def op_GlobalAveragePool(self, index, node):
        self.check_attrs(index, node, ())
        x = self.act(index, node, 0)
        if not x.hwc:
            self.fail(index, node, f"needs an (N, C, H, W) input; fixq holds input '{node.input[0]}' "
                                   f"(per sample {x.shape}) as {x.fixq}")
        entry = self.emit(index, node, {"type": "GlobalAvgPool2D"}, [x])
        c = x.shape[0]
        self.set_out(node, _Act(entry["name"], (c, 1, 1), (c,)))

    def op_BatchNormalization(self, index, node):
        a = self.check_attrs(index, node, ("epsilon", "momentum", "training_mode", "spatial"))
        if int(a.get("training_mode", 0)) != 0:
            self.fail(index, node, "training_mode=1 is not supported (inference only)")
        if int(a.get("spatial", 1)) != 1:
            self.fail(index, node, "spatial=0 is not supported")
        self.check_outputs(index, node, 1, strict=True)  # more outputs: training mode (batch statistics)
        x = self.act(index, node, 0)
        eps = float(a.get("epsilon", 1e-5))
        gamma, beta, mean, var = (self.weight(index, node, k, what) for k, what in
                                  ((1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")))
        c = x.shape[0]
        for name, v in (("scale", gamma), ("B", beta), ("input_mean", mean), ("input_var", var)):
            if v.shape != (c,):
                self.fail(index, node, f"{name} has shape {v.shape}, expected ({c},)")
        if np.any(var < 0):
            self.fail(index, node, "input_var has negative values")
        if not (math.isfinite(eps) and eps >= 0):
            self.fail(index, node, f"epsilon={eps} is not supported")
        if np.any(var + eps <= 0):
            self.fail(index, node, "input_var + epsilon is not positive")
        target = self.foldable(node.input[0]) if self.fold else None
        if target is not None:
            self.fold_affine(target, *bn_scale_shift(gamma, beta, mean, var, eps), index, node)
            self.set_out(node, _Act(x.layer, x.shape, x.fixq, x.perm, target))
            return
        if eps <= 0:
            self.fail(index, node, "epsilon=0 is not supported for a BatchNorm layer (fixq needs eps > 0)")
        if len(x.fixq) == 1 and x.perm is not None:  # per-feature parameters in fixq's feature order
            gamma, beta, mean, var = gamma[x.perm], beta[x.perm], mean[x.perm], var[x.perm]
        if len(x.shape) == 3 and len(x.fixq) == 3 and x.fixq[2] != c:
            raise AssertionError("channel axis")
        entry = self.emit(index, node, {"type": "BatchNorm", "eps": eps}, [x],
                          [["gamma", "gamma", gamma], ["beta", "beta", beta], ["mean", "mean", mean],
                           ["var", "var", var]])
        self.set_out(node, _Act(entry["name"], x.shape, x.fixq, x.perm))

    def fold_affine(self, entry, s, t, index, node):
        """y = x * s + t per output channel, folded into a Conv2D / Dense entry (float64)."""
        self.ex.fold_affine(entry, s, t)
        entry["comment"] += f" + {self.where(index, node)}"

    def op_Add(self, index, node):
        self.check_attrs(index, node, ())
        names = list(node.input)
        if len(names) != 2:
            self.fail(index, node, "expected 2 inputs")
        const_k = [k for k in (0, 1) if names[k] in self.consts]
        if not const_k:
            a, b = self.act(index, node, 0), self.act(index, node, 1)
            if a.shape != b.shape or a.fixq != b.fixq:
                self.fail(index, node, f"the inputs' per-sample shapes differ: {a.shape} and {b.shape}, held by fixq "
                                       f"as {a.fixq} and {b.fixq}; broadcasting is not supported")
            if (a.perm is None) != (b.perm is None) or (a.perm is not None and not np.array_equal(a.perm, b.perm)):
                self.fail(index, node, "the inputs are flattened in different orders")
            entry = self.emit(index, node, {"type": "Add"}, [a, b])
            self.set_out(node, _Act(entry["name"], a.shape, a.fixq, a.perm))
            return
        k = 1 - const_k[0]
        x = self.act(index, node, k)
        v = self.weight(index, node, const_k[0], "constant")
        target = self.foldable(names[k])
        if target is None:
            self.fail(index, node, "an Add of a constant is supported only as the bias of a Conv / Gemm / MatMul "
                                   "whose output feeds only this Add")
        channels = x.shape[0]
        rank = len(x.shape) + 1
        ok_shapes = [(channels,), (1, channels)] if rank == 2 else [(channels, 1, 1), (1, channels, 1, 1)]
        if v.size == 1 and v.ndim <= rank:
            bias = np.full(channels, float(v.reshape(())))
        elif v.shape in ok_shapes:
            bias = v.reshape(-1)
        else:
            self.fail(index, node, f"the constant has shape {v.shape}; only a per-channel bias "
                                   f"({' or '.join(map(str, ok_shapes))}) or a scalar is supported")
        self.fold_affine(target, np.ones(channels), bias, index, node)
        self.set_out(node, _Act(x.layer, x.shape, x.fixq, x.perm, target))

    def op_Concat(self, index, node):
        a = self.check_attrs(index, node, ("axis",))
        xs = [self.act(index, node, k) for k in range(len(node.input))]
        rank = len(xs[0].shape) + 1
        if "axis" not in a:
            self.fail(index, node, "the axis attribute is missing")
        axis = int(a["axis"])
        if axis < 0:
            axis += rank
        if axis != 1:
            self.fail(index, node, f"axis={a.get('axis')} is not supported (only the channel axis 1)")
        if any(x.perm is not None for x in xs):
            self.fail(index, node, "a Concat of flattened (C, H, W) activations is not supported")
        if len({x.fixq[:-1] for x in xs}) != 1 or len({x.shape[1:] for x in xs}) != 1 \
                or len({len(x.fixq) for x in xs}) != 1:
            self.fail(index, node, f"the inputs' shapes {[x.shape for x in xs]} differ on other axes than the "
                                   "channels")
        c = sum(x.shape[0] for x in xs)
        if len(xs) == 1:
            self.alias(index, node)
            return
        entry = self.emit(index, node, {"type": "Concat"}, xs)
        self.set_out(node, _Act(entry["name"], (c,) + xs[0].shape[1:], xs[0].fixq[:-1] + (c,)))

    def flatten(self, index, node, x):
        size = int(np.prod(x.shape))
        if len(x.fixq) == 1:  # already flat in fixq (2-D, or GlobalAveragePool's (C, 1, 1)): nothing to do
            self.set_out(node, _Act(x.layer, (size,), (size,), x.perm))
            return
        perm = flatten_perm(*x.fixq)
        entry = self.emit(index, node, {"type": "Flatten"}, [x])
        self.set_out(node, _Act(entry["name"], (size,), (size,), perm))

    def op_Flatten(self, index, node):
        a = self.check_attrs(index, node, ("axis",))
        x = self.act(index, node, 0)
        rank = len(x.shape) + 1
        axis = int(a.get("axis", 1))
        if axis < 0:
            axis += rank
        if axis != 1:
            self.fail(index, node, f"axis={a.get('axis')} is not supported (only 1: keep the batch axis)")
        self.flatten(index, node, x)

    def op_Reshape(self, index, node):
        a = self.check_attrs(index, node, ("allowzero",))
        x = self.act(index, node, 0)
        target = self.const(index, node, 1, "shape", allow_batch=True)
        t = target.value.astype(np.int64).reshape(-1) if target.value.dtype.kind in "iu" else None
        if t is None:
            self.fail(index, node, f"the shape input holds {target.value.dtype}, not integers")
        mask = target.mask.reshape(-1) if target.mask is not None else np.zeros(t.shape, dtype=bool)
        size = int(np.prod(x.shape))
        allowzero = int(a.get("allowzero", 0))
        shown = [("N" if m else int(v)) for v, m in zip(t, mask)]
        ok = False
        if len(t) == 2 and not mask[1]:
            batch_ok = mask[0] or (t[0] == 0 and not allowzero) or (t[0] == 1 and self.batch_symbol is None) \
                or (t[0] == -1 and t[1] == size)
            ok = batch_ok and (t[1] == size or (t[1] == -1 and t[0] != -1))
        if not ok:
            self.fail(index, node, f"reshape of (N, {', '.join(map(str, x.shape))}) to {shown} is not supported "
                                   "(only to (N, -1) or (N, features))")
        self.flatten(index, node, x)

    # Constant folding ---------------------------------------------------------------

    def fold_Constant(self, index, node):
        a = self.check_attrs(index, node, ("value", "value_float", "value_floats", "value_int", "value_ints"))
        if len(a) != 1:
            self.fail(index, node, "expected exactly one value attribute")
        (key, v), = a.items()
        if key == "value":
            return _Const(numpy_helper.to_array(v))
        return _Const(np.array(v, dtype=np.float32 if "float" in key else np.int64))

    def fold_Identity(self, index, node):
        return self.consts[node.input[0]]

    def fold_Shape(self, index, node):
        a = self.check_attrs(index, node, ("start", "end"))
        name = node.input[0]
        if name in self.consts:
            c = self.consts[name]
            dims, mask = list(c.value.shape), [False] * c.value.ndim
        else:
            x = self.act(index, node, 0)
            dims, mask = [1] + list(x.shape), [self.batch_symbol is not None] + [False] * len(x.shape)
        n = len(dims)
        start, end = int(a.get("start", 0)), int(a.get("end", n))
        start, end = (max(0, min(n, v + n if v < 0 else v)) for v in (start, end))
        return _Const(np.array(dims[start:end], dtype=np.int64), np.array(mask[start:end], dtype=bool))

    def fold_Gather(self, index, node):
        a = self.check_attrs(index, node, ("axis",))
        data = self.const(index, node, 0, "data", allow_batch=True)
        idx = self.const(index, node, 1, "indices")
        if idx.dtype.kind not in "iu":
            self.fail(index, node, "the indices are not integers")
        axis = int(a.get("axis", 0))
        mask = None if data.mask is None else np.take(data.mask, idx, axis=axis)
        return _Const(np.take(data.value, idx, axis=axis), mask)

    def fold_Unsqueeze(self, index, node):
        a = self.check_attrs(index, node, ("axes",))
        data = self.const(index, node, 0, "data", allow_batch=True)
        axes = a.get("axes") if self.opset < 13 else self.const(index, node, 1, "axes")
        if axes is None:
            self.fail(index, node, "no axes")
        axes = [int(v) for v in np.asarray(axes).reshape(-1)]
        rank = data.value.ndim + len(axes)
        axes = sorted(v + rank if v < 0 else v for v in axes)
        value, mask = data.value, data.mask
        for ax in axes:
            value = np.expand_dims(value, ax)
            mask = None if mask is None else np.expand_dims(mask, ax)
        return _Const(value, mask)

    def fold_Concat(self, index, node):
        a = self.check_attrs(index, node, ("axis",))
        parts = [self.const(index, node, k, f"#{k}", allow_batch=True) for k in range(len(node.input))]
        axis = int(a["axis"]) if "axis" in a else 0
        value = np.concatenate([p.value for p in parts], axis=axis)
        mask = np.concatenate([p.mask if p.mask is not None else np.zeros(p.value.shape, dtype=bool)
                               for p in parts], axis=axis)
        return _Const(value, mask)

    def fold_Cast(self, index, node):
        a = self.check_attrs(index, node, ("to",))
        data = self.const(index, node, 0, "input", allow_batch=True)
        dtype = np.dtype(_np_dtype(int(a["to"])))
        if data.mask is not None and dtype.kind not in "iu":
            self.fail(index, node, "a cast of the batch extent to a non-integer type is not supported")
        return _Const(data.value.astype(dtype), data.mask)

    def fold_arith(self, index, node):
        self.check_attrs(index, node, ())
        x, y = self.const(index, node, 0, "A"), self.const(index, node, 1, "B")
        if x.dtype != y.dtype:
            self.fail(index, node, f"the inputs have different types {x.dtype} and {y.dtype}")
        op = node.op_type
        if op == "Div" and x.dtype.kind in "iu":
            if np.any(y == 0) or np.any(np.remainder(x, y) != 0):
                self.fail(index, node, "an inexact integer division is not supported in constant folding")
            return _Const((x // y).astype(x.dtype))
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
        return _Const(f(x, y).astype(x.dtype))

    def fold_Reshape(self, index, node):
        a = self.check_attrs(index, node, ("allowzero",))
        data = self.const(index, node, 0, "data", allow_batch=True)
        shape = [int(v) for v in self.const(index, node, 1, "shape").reshape(-1)]
        if not int(a.get("allowzero", 0)):
            shape = [data.value.shape[k] if v == 0 else v for k, v in enumerate(shape)]
        return _Const(data.value.reshape(shape), None if data.mask is None else data.mask.reshape(shape))

    def fold_Transpose(self, index, node):
        a = self.check_attrs(index, node, ("perm",))
        data = self.const(index, node, 0, "data", allow_batch=True)
        perm = a.get("perm")
        perm = list(perm) if perm is not None else None
        return _Const(np.transpose(data.value, perm), None if data.mask is None else np.transpose(data.mask, perm))


_FOLDERS = {"Constant": _Converter.fold_Constant, "Identity": _Converter.fold_Identity,
            "Shape": _Converter.fold_Shape, "Gather": _Converter.fold_Gather,
            "Unsqueeze": _Converter.fold_Unsqueeze, "Concat": _Converter.fold_Concat, "Cast": _Converter.fold_Cast,
            "Mul": _Converter.fold_arith, "Add": _Converter.fold_arith, "Sub": _Converter.fold_arith,
            "Div": _Converter.fold_arith, "Reshape": _Converter.fold_Reshape, "Transpose": _Converter.fold_Transpose}


def _load(path_or_model):
    if isinstance(path_or_model, onnx.ModelProto):
        model = onnx.ModelProto()
        model.CopyFrom(path_or_model)  # the input's batch axis may be renamed: work on a copy
        return model, "the model"
    if isinstance(path_or_model, (str, bytes, os.PathLike)):
        path = os.fspath(path_or_model)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        try:
            return onnx.load(path), path
        except Exception as e:
            raise ValueError(f"cannot read the ONNX model {path}: {e}") from None
    raise ValueError(f"expected a path or an onnx.ModelProto, got {type(path_or_model).__name__}")


def import_model(path_or_model, out_dir, *, fold_batch_norm=True, preprocess=None, force=False):
    """Writes an ONNX model as a fixq float model in `out_dir` (model.json and .npy files).

    path_or_model    a .onnx file or an onnx.ModelProto (left unchanged)
    fold_batch_norm  fold a BatchNormalization directly after a Conv / Gemm / MatMul into it
    preprocess       {"scale": S, "offset": O}: tools feed the model x * S + O
    force            replace an out_dir that exists and is not empty
    Returns the model.json content (a dict). Raises ValueError for a model or a setting
    that fixq cannot express (see the module's docstring); nothing is written then.
    """
    out_dir = os.fspath(out_dir)
    preprocess = check_preprocess(preprocess)
    check_out_dir(out_dir, force)
    model, source = _load(path_or_model)
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise ValueError(f"{source} fails the ONNX checker: {e}") from None

    conv = _Converter(model, fold_batch_norm)
    output = conv.run()
    comment = (f"imported from ONNX ({model.producer_name or 'unknown producer'} {model.producer_version}, "
               f"opset {conv.opset}) by fixq.onnx; the input is NHWC")
    result = model_json(chw_to_hwc(conv.input_shape), conv.ex.layers, [output], preprocess, comment)
    write_model_folder(out_dir, result, conv.ex.arrays, force)
    return result


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"fixq.onnx: error: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv=None):
    parser = _Parser(prog="python3 -m fixq.onnx",
                     description="Write an ONNX model as a fixq float model folder (model.json and .npy files; "
                                 "the fixq model takes NHWC input).")
    parser.add_argument("model", help="the .onnx file")
    parser.add_argument("out_dir", help="the model folder to write")
    parser.add_argument("--no-fold", action="store_true", help="keep BatchNorm layers instead of folding them")
    parser.add_argument("--scale", type=float, help="preprocess: the model's input is x * SCALE + OFFSET")
    parser.add_argument("--offset", type=float, help="preprocess offset (default 0)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists and is not empty")
    args = parser.parse_args(argv)
    preprocess = None
    if args.scale is not None or args.offset is not None:
        preprocess = {"scale": 1.0 if args.scale is None else args.scale,
                      "offset": 0.0 if args.offset is None else args.offset}
    try:
        model = import_model(args.model, args.out_dir, fold_batch_norm=not args.no_fold, preprocess=preprocess,
                             force=args.force)
    except (ValueError, OSError) as e:
        print(f"fixq.onnx: error: {args.model}: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except Exception as e:  # an importer bug: still one line and status 2
        print(f"fixq.onnx: error: {args.model}: internal error ({type(e).__name__}): {' '.join(str(e).split())}",
              file=sys.stderr)
        return 2
    print(f"wrote {os.path.join(args.out_dir, 'model.json')}: {len(model['layers'])} layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
