"""PyTorch -> fixq model folder (model format version 1, float model).

    from fixq.torch import export_model
    export_model(net, (1, 28, 28), "lenet_fixq", preprocess={"scale": 1 / 255})

    python3 -m fixq.torch lenet.pt lenet_fixq --input-shape 1,28,28 [--force]   (installed package)
    python3 python/fixq_torch.py lenet.pt lenet_fixq --input-shape 1,28,28 [--force]

The module must be an nn.Sequential (nested Sequentials are flattened) of Conv2d,
Linear, BatchNorm2d / BatchNorm1d, ReLU, ReLU6, Hardtanh(0, cap), LeakyReLU, MaxPool2d,
AvgPool2d, AdaptiveAvgPool2d, Flatten, and Dropout / Identity (skipped). Anything
else raises ValueError naming the module and the problem.

What the export does about the two frameworks' differences:
  - Layouts: activations NCHW -> NHWC, conv weights (out, in/groups, kh, kw) ->
    HWIO (kh, kw, in/groups, out), Linear weights (out, in) -> (in, out).
  - Flatten order: PyTorch flattens (C, H, W) as c*H*W + h*W + w, fixq as
    h*W*C + w*C + c. The rows of the first Linear after a Flatten (and the
    parameters of a BatchNorm1d between them) are permuted so that the network
    computes the same function.
  - BatchNorm: folded into the Conv2d / Linear directly before it (fold_batch_norm),
    in float64, stored as float32; otherwise a BatchNorm layer. Running statistics
    are used (eval-mode semantics), whatever the module's training flag.
  - Padding is written as explicit amounts [top, bottom, left, right] (PyTorch's
    'same' puts the odd extra row / column at the bottom / right, as TensorFlow).
  - AvgPool2d with padding divides by the window's cells inside the input, as fixq
    does, only under count_include_pad=False; count_include_pad=True with padding
    is rejected.

Nothing is written unless the whole module converts: the files are written into a new
temporary folder beside out_dir, which is renamed to out_dir at the end. An out_dir that
exists and is not an empty folder is refused unless force=True (--force), which replaces
it. (The model folder itself is written by fixq/_model_writer.py, shared with fixq.onnx.)

TorchScript modules are not supported: save the nn.Module with torch.save(net, path).
Only torch, numpy, the standard library and fixq/_model_writer.py are used (not the
compiled fixq._core: python/fixq_torch.py runs from the source tree).
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
from torch import nn

from ._model_writer import (_Exporter, bn_scale_shift, check_out_dir, check_preprocess, chw_to_hwc, flatten_perm,
                            model_json, padding_value, same_pads, spatial_out, write_model_folder)

__all__ = ["export_model"]


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


class _ModuleExporter(_Exporter):
    """_Exporter with layer names from the modules' qualified names (or `names`)."""

    def __init__(self, names):
        super().__init__()
        self.names = dict(names or {})

    def layer_name(self, qualified):
        name = self.names.get(qualified, qualified.replace(".", "_"))
        if not isinstance(name, str) or not name or name == "input" or any(c in name for c in "/\\\0"):
            raise ValueError(f"module '{qualified}': invalid fixq layer name {name!r} "
                             "(non-empty, no path separators, not 'input')")
        if any(layer["name"] == name for layer in self.layers):
            raise ValueError(f"module '{qualified}': layer name '{name}' is used twice")
        return name


def _numpy64(t):
    return t.detach().cpu().to(torch.float64).numpy()


def _flatten_sequential(module, prefix, out):
    """(qualified name, leaf module) pairs of a Sequential, nested ones flattened."""
    for child_name, child in module.named_children():
        qualified = f"{prefix}.{child_name}" if prefix else child_name
        if isinstance(child, nn.Sequential):
            _check_plain_sequential(child, qualified)
            _flatten_sequential(child, qualified, out)
        else:
            out.append((qualified, child))
    return out


def _check_plain_sequential(module, qualified):
    if type(module).forward is not nn.Sequential.forward:
        raise ValueError(f"module '{qualified}' ({type(module).__name__}): a Sequential subclass with its own "
                         "forward() cannot be flattened into a chain of layers")


def _padding(module, qualified, kernel, dilation, in_hw):
    """fixq padding ("valid" or [top, bottom, left, right]) of PyTorch's padding."""
    p = module.padding
    if isinstance(p, str):
        if p == "valid":
            return "valid"
        if p == "same":  # PyTorch (stride 1 only): total d*(k-1), the odd one after
            return padding_value(same_pads(in_hw, kernel, (1, 1), dilation))
        raise ValueError(f"module '{qualified}' ({type(module).__name__}): unknown padding {p!r}")
    ph, pw = _pair(p)
    return padding_value([ph, ph, pw, pw])


def _bn_statistics(bn, qualified):
    """gamma, beta, mean, var (float64) of a BatchNorm's running statistics."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"module '{qualified}' ({type(bn).__name__}): no running statistics "
                         "(track_running_stats=False); fixq needs eval-mode statistics")
    mean, var = _numpy64(bn.running_mean), _numpy64(bn.running_var)
    gamma = _numpy64(bn.weight) if bn.weight is not None else np.ones_like(mean)
    beta = _numpy64(bn.bias) if bn.bias is not None else np.zeros_like(mean)
    return gamma, beta, mean, var


def export_model(module, input_shape_chw, out_dir, *, fold_batch_norm=True, preprocess=None, names=None,
                 force=False):
    """Writes `module` as a fixq float model in `out_dir` (model.json and .npy files).

    module           an nn.Sequential (see the module's docstring for the layers)
    input_shape_chw  the per-sample input shape, (C, H, W) or (features,)
    out_dir          the model folder: absent or an empty folder, unless force
    fold_batch_norm  fold a BatchNorm directly after a Conv2d / Linear into it
    preprocess       {"scale": S, "offset": O}: tools feed the model x * S + O
    names            {qualified module name: fixq layer name}; by default the
                     qualified name with dots replaced by underscores
    force            replace an out_dir that exists and is not empty
    Returns the model.json content (a dict). Raises ValueError for a module or a
    setting that fixq cannot express, and for an out_dir that exists and is not an
    empty folder (without force); nothing is written then. The folder is written
    atomically (a temporary folder beside it, renamed): on any failure no partial
    folder is left.
    """
    out_dir = os.fspath(out_dir)
    preprocess = check_preprocess(preprocess)
    check_out_dir(out_dir, force)
    if not isinstance(module, nn.Module):
        raise ValueError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(module, torch.jit.ScriptModule):
        raise ValueError("TorchScript modules are not supported: export the nn.Module itself")
    if not isinstance(module, nn.Sequential):
        raise ValueError(f"the model ({type(module).__name__}) must be an nn.Sequential")
    _check_plain_sequential(module, "<model>")
    shape = tuple(int(v) for v in input_shape_chw)
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise ValueError(f"input_shape_chw must be (C, H, W) or (features,) with positive sizes, got {shape}")

    leaves = _flatten_sequential(module, "", [])
    unknown = sorted(set(names or {}) - {qualified for qualified, _ in leaves})
    if unknown:
        raise ValueError(f"names: no module named {', '.join(map(repr, unknown))} in the model")
    ex = _ModuleExporter(names)

    # The activation as fixq holds it: ("hwc", (H, W, C)) or ("flat", (N,)), plus
    # perm: fixq's flat element j is PyTorch's element perm[j] (None: the same order).
    kind, cur = ("hwc" if len(shape) == 3 else "flat"), chw_to_hwc(shape)
    perm = None

    # A dummy forward, module by module, gives PyTorch's shape after each one to
    # check the shape logic below against.
    param = next(module.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    device = param.device if param is not None else torch.device("cpu")
    x = torch.zeros((2,) + shape, dtype=dtype, device=device)
    training = {m: m.training for m in module.modules()}
    module.eval()
    torch_shapes = []
    try:
        with torch.no_grad():
            for qualified, leaf in leaves:
                try:
                    y = leaf(x)
                except Exception as e:  # the module itself does not accept its input
                    raise ValueError(f"module '{qualified}' ({type(leaf).__name__}) fails on its input of shape "
                                     f"{tuple(x.shape[1:])}: {e}") from e
                if not isinstance(y, torch.Tensor):  # rejected below, with the reason when it is known
                    torch_shapes.append(f"a {type(y).__name__}, not a tensor")
                    break
                x = y
                torch_shapes.append(tuple(x.shape[1:]))
    finally:
        for m, flag in training.items():
            m.training = flag

    def torch_view(kind, cur):
        return (cur[2], cur[0], cur[1]) if kind == "hwc" else tuple(cur)

    def need_hwc(qualified, leaf):
        if kind != "hwc":
            raise ValueError(f"module '{qualified}' ({type(leaf).__name__}) needs an (C, H, W) input, but the "
                             f"activation is flat here ({cur[0]} features)")

    def fail(qualified, leaf, problem):
        raise ValueError(f"module '{qualified}' ({type(leaf).__name__}): {problem}")

    previous = None  # the last layer entry with a foldable output (Conv2D / Dense), else None
    for (qualified, leaf), tshape in zip(leaves, torch_shapes):
        tname = type(leaf).__name__
        if isinstance(tshape, str) and not (isinstance(leaf, nn.MaxPool2d) and leaf.return_indices):
            fail(qualified, leaf, f"returns {tshape}")

        if isinstance(leaf, (nn.Identity, nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout)):
            continue  # identity in eval mode; a following BatchNorm may still fold across it

        if isinstance(leaf, nn.Conv2d):
            need_hwc(qualified, leaf)
            if leaf.padding_mode != "zeros":
                fail(qualified, leaf, f"padding_mode='{leaf.padding_mode}' is not supported (only 'zeros')")
            if perm is not None:
                raise AssertionError("a permutation pending on a spatial activation")
            kernel, strides, dilation = _pair(leaf.kernel_size), _pair(leaf.stride), _pair(leaf.dilation)
            groups = int(leaf.groups)
            padding = _padding(leaf, qualified, kernel, dilation, cur[:2])
            w = _numpy64(leaf.weight).transpose(2, 3, 1, 0)  # OIHW -> HWIO
            b = _numpy64(leaf.bias) if leaf.bias is not None else None
            entry = {"name": ex.layer_name(qualified), "type": "Conv2D", "strides": list(strides),
                     "padding": padding, "dilation": list(dilation), "groups": groups}
            oh, ow = spatial_out(cur[:2], kernel, strides, dilation, padding)
            kind, cur = "hwc", (oh, ow, int(leaf.out_channels))
            ex.add(entry, [["weights", "w", w]] + ([["bias", "b", b]] if b is not None else []))
            previous = entry

        elif isinstance(leaf, nn.Linear):
            if kind != "flat":
                fail(qualified, leaf, f"needs a flat input (add nn.Flatten); the activation here is "
                                      f"(C, H, W) = {torch_view(kind, cur)}")
            w = _numpy64(leaf.weight).T  # (out, in) -> (in, out)
            if perm is not None:
                w = w[perm, :]  # fixq's input j is PyTorch's input perm[j]
                perm = None
            b = _numpy64(leaf.bias) if leaf.bias is not None else None
            entry = {"name": ex.layer_name(qualified), "type": "Dense"}
            kind, cur = "flat", (int(leaf.out_features),)
            ex.add(entry, [["weights", "w", w]] + ([["bias", "b", b]] if b is not None else []))
            previous = entry

        elif isinstance(leaf, (nn.BatchNorm2d, nn.BatchNorm1d)):
            # BatchNorm2d's input is (C, H, W), or (C, 1, 1) after AdaptiveAvgPool2d(1), which fixq
            # holds as (C,): over the last axis, the same normalization.
            if isinstance(leaf, nn.BatchNorm1d) and (kind != "flat" or len(tshape) != 1):
                fail(qualified, leaf, "BatchNorm1d is supported on flat (N, features) activations only")
            gamma, beta, mean, var = _bn_statistics(leaf, qualified)
            if fold_batch_norm and previous is not None:
                ex.fold_affine(previous, *bn_scale_shift(gamma, beta, mean, var, leaf.eps))
                continue  # the layer stays foldable: a second BatchNorm folds too
            if perm is not None:  # per-feature parameters, in fixq's feature order
                gamma, beta, mean, var = gamma[perm], beta[perm], mean[perm], var[perm]
            entry = {"name": ex.layer_name(qualified), "type": "BatchNorm", "eps": float(leaf.eps)}
            ex.add(entry, [["gamma", "gamma", gamma], ["beta", "beta", beta],
                           ["mean", "mean", mean], ["var", "var", var]])
            previous = None

        elif isinstance(leaf, nn.ReLU6) or (isinstance(leaf, nn.Hardtanh) and float(leaf.max_val) == 6.0
                                            and float(leaf.min_val) == 0.0):
            ex.add({"name": ex.layer_name(qualified), "type": "ReLU6"})
            previous = None

        elif isinstance(leaf, nn.Hardtanh):
            if float(leaf.min_val) != 0.0 or not float(leaf.max_val) > 0.0:
                fail(qualified, leaf, f"only Hardtanh(0, cap) with cap > 0 is a clipped ReLU "
                                      f"(got min_val={leaf.min_val}, max_val={leaf.max_val})")
            ex.add({"name": ex.layer_name(qualified), "type": "ReLU", "cap": float(leaf.max_val)})
            previous = None

        elif isinstance(leaf, nn.ReLU):
            ex.add({"name": ex.layer_name(qualified), "type": "ReLU"})
            previous = None

        elif isinstance(leaf, nn.LeakyReLU):
            ex.add({"name": ex.layer_name(qualified), "type": "LeakyReLU", "slope": float(leaf.negative_slope)})
            previous = None

        elif isinstance(leaf, (nn.MaxPool2d, nn.AvgPool2d)):
            need_hwc(qualified, leaf)
            if leaf.ceil_mode:
                fail(qualified, leaf, "ceil_mode=True is not supported (fixq's output size rounds down)")
            kernel = _pair(leaf.kernel_size)
            strides = _pair(leaf.stride if leaf.stride is not None else leaf.kernel_size)
            if isinstance(leaf, nn.MaxPool2d):
                if leaf.return_indices:
                    fail(qualified, leaf, "return_indices=True is not supported")
                if _pair(leaf.dilation) != (1, 1):
                    fail(qualified, leaf, f"dilation {_pair(leaf.dilation)} is not supported on pools")
                ltype = "MaxPool2D"
            else:
                if leaf.divisor_override is not None:
                    fail(qualified, leaf, "divisor_override is not supported")
                if leaf.count_include_pad and any(_pair(leaf.padding)):
                    fail(qualified, leaf, "padding with count_include_pad=True is not supported: fixq divides by "
                                          "the window's cells inside the input (count_include_pad=False)")
                ltype = "AvgPool2D"
            padding = _padding(leaf, qualified, kernel, (1, 1), cur[:2])
            entry = {"name": ex.layer_name(qualified), "type": ltype, "pool": list(kernel),
                     "strides": list(strides), "padding": padding}
            oh, ow = spatial_out(cur[:2], kernel, strides, (1, 1), padding)
            kind, cur = "hwc", (oh, ow, cur[2])
            ex.add(entry)
            previous = None

        elif isinstance(leaf, nn.AdaptiveAvgPool2d):
            need_hwc(qualified, leaf)
            h, w, c = cur
            size = leaf.output_size
            oh, ow = (size, size) if isinstance(size, int) else (h if size[0] is None else size[0],
                                                                 w if size[1] is None else size[1])
            if (oh, ow) == (1, 1):
                ex.add({"name": ex.layer_name(qualified), "type": "GlobalAvgPool2D"})
                kind, cur = "flat", (c,)
            elif h % oh == 0 and w % ow == 0:  # equal, disjoint windows: a plain average pool
                pool = [h // oh, w // ow]
                ex.add({"name": ex.layer_name(qualified), "type": "AvgPool2D", "pool": pool, "strides": pool,
                        "padding": "valid"})
                kind, cur = "hwc", (oh, ow, c)
            else:
                fail(qualified, leaf, f"output size {(oh, ow)} does not divide the input's {(h, w)}")
            previous = None

        elif isinstance(leaf, nn.Flatten):
            if leaf.start_dim != 1:
                fail(qualified, leaf, f"start_dim={leaf.start_dim} is not supported (only 1: keep the batch axis)")
            if leaf.end_dim != -1:
                fail(qualified, leaf, f"end_dim={leaf.end_dim} is not supported (only -1)")
            if kind == "hwc":
                h, w, c = cur
                perm = flatten_perm(h, w, c)  # fixq's element (h, w, c) is PyTorch's c*H*W + h*W + w
                ex.add({"name": ex.layer_name(qualified), "type": "Flatten"})
                kind, cur = "flat", (h * w * c,)
            # A Flatten of a flat activation (after GlobalAvgPool2D) moves nothing: skipped.
            previous = None

        else:
            fail(qualified, leaf, f"{tname} is not supported by the fixq importer")

        # fixq holds AdaptiveAvgPool2d(1)'s (C, 1, 1) as (C,): flat activations compare by size.
        if (torch_view(kind, cur) != tshape) if kind == "hwc" else (math.prod(tshape) != cur[0]):
            raise AssertionError(f"module '{qualified}' ({tname}): the fixq shape {torch_view(kind, cur)} "
                                 f"differs from PyTorch's {tshape}")

    if not ex.layers:
        raise ValueError("the model has no layers to export")
    if perm is not None:
        raise ValueError("the model ends in a Flatten of a (C, H, W) activation: its output would be in "
                         "fixq's (H, W, C) order; end the model with a Linear layer")

    ex.finish()
    model = model_json(chw_to_hwc(shape), ex.layers, [ex.layers[-1]["name"]], preprocess)
    write_model_folder(out_dir, model, ex.arrays, force)
    return model


def _parse_shape(text):
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) not in (1, 3):
        raise argparse.ArgumentTypeError(f"expected C,H,W or FEATURES, got '{text}'")
    return shape


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Write a PyTorch nn.Sequential (a whole module saved with torch.save; TorchScript is not "
                    "supported) as a fixq float model folder.")
    parser.add_argument("module_file", help="the module, saved with torch.save(module, path)")
    parser.add_argument("out_dir", help="the model folder to write (model.json and .npy files)")
    parser.add_argument("--input-shape", type=_parse_shape, required=True, metavar="C,H,W",
                        help="per-sample input shape, PyTorch order (C,H,W, or FEATURES)")
    parser.add_argument("--no-fold", action="store_true", help="keep BatchNorm layers instead of folding them")
    parser.add_argument("--scale", type=float, help="preprocess: the model's input is x * SCALE + OFFSET")
    parser.add_argument("--offset", type=float, help="preprocess offset (default 0)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists and is not empty")
    args = parser.parse_args(argv)

    try:
        module = torch.load(args.module_file, map_location="cpu")
    except Exception as e:
        print(f"fixq_torch: cannot load {args.module_file}: {e}", file=sys.stderr)
        return 1
    if isinstance(module, dict):
        print(f"fixq_torch: {args.module_file} holds a dict (a state_dict?), not a module: save the module "
              "itself with torch.save(module, path)", file=sys.stderr)
        return 1
    preprocess = None
    if args.scale is not None or args.offset is not None:
        preprocess = {"scale": 1.0 if args.scale is None else args.scale,
                      "offset": 0.0 if args.offset is None else args.offset}
    try:
        model = export_model(module, args.input_shape, args.out_dir, fold_batch_norm=not args.no_fold,
                             preprocess=preprocess, force=args.force)
    except (ValueError, OSError) as e:
        print(f"fixq_torch: {args.module_file}: {e}", file=sys.stderr)
        return 1
    print(f"wrote {os.path.join(args.out_dir, 'model.json')}: {len(model['layers'])} layers")
    return 0
