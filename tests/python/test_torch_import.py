#!/usr/bin/env python3
"""python/fixq_torch.py (PyTorch -> fixq model folder) against PyTorch itself.

Random networks (fixed seeds) are exported with and without BatchNorm folding, then
  - run by a small numpy model of fixq's NHWC layer semantics (below): checks the
    importer's layouts, padding and flatten order without the C++ tool;
  - run by the fixq tool (`fixq run --path float`): the loader and the float path;
  - calibrated to 8 bits and verified (`fixq calibrate`, `fixq verify`: the sim and
    int paths bit-exact), and the 8-bit int path run (within 15 % of PyTorch).
The outputs must match PyTorch's forward to 1e-4 of the output's scale. The
importer's errors (unsupported modules and settings) are checked too, and that the
model folder is written atomically (a non-empty folder refused unless force=True, nothing
left behind by a failing export).

The fixq binary comes from the environment variable FIXQ or --fixq PATH; without it
the tests that need it FAIL. Run: FIXQ=build/release/tools/fixq/fixq python3 tests/python/test_torch_import.py
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest
import warnings
from collections import OrderedDict
from unittest import mock

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# python/fixq_torch.py, by path: putting python/ first on sys.path would make a later
# `import fixq` in the same process (pytest) find the source package, without fixq._core.
_spec = importlib.util.spec_from_file_location("fixq_torch", os.path.join(ROOT, "python", "fixq_torch.py"))
fixq_torch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixq_torch)

FIXQ = os.environ.get("FIXQ", "")
TOLERANCE = 1e-4  # max |fixq - torch| / max |torch|: float32 sums in another order


# --- networks ----------------------------------------------------------------------

def randomize_batch_norms(net, generator):
    """Running statistics and affine parameters far from (0, 1): folding changes the weights."""
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=generator) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            if m.affine:
                m.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
                m.bias.data.copy_(torch.randn(n, generator=generator) * 0.3)


def lenet():
    """LeNet-5-like, nested Sequentials; inputs are raw pixels in [0, 255], scaled by 1/255."""
    return nn.Sequential(OrderedDict(
        features=nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2)),
        flatten=nn.Flatten(),
        classifier=nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU6(), nn.Dropout(0.5), nn.Linear(120, 10)),
    )), (1, 28, 28), {"scale": 1 / 255, "offset": 0.0}


def cifar_like():
    """Strides, depthwise and grouped convs, dilation, a BatchNorm after a ReLU, padded pools,
    global average pooling, a BatchNorm1d folded into the last Linear."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),      # 16 x 16 x 16
        nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.ReLU6(),                       # depthwise
        nn.Conv2d(16, 32, 1), nn.LeakyReLU(0.1), nn.BatchNorm2d(32),                  # BN not after a conv
        nn.Conv2d(32, 32, 3, padding=2, dilation=2, groups=4), nn.Hardtanh(0.0, 6.0),
        nn.MaxPool2d(3, stride=2, padding=1),                                         # 8 x 8
        nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        nn.Conv2d(32, 24, (3, 2), stride=(1, 2), padding=(1, 0)), nn.ReLU(),          # 8 x 4
        nn.AdaptiveAvgPool2d(1), nn.BatchNorm2d(24), nn.Flatten(), nn.Dropout(0.2),
        nn.Linear(24, 10), nn.BatchNorm1d(10),
    ), (3, 32, 32), None


def same_padding():
    """padding='same' with an even kernel and dilation (the odd extra at the bottom / right),
    a non-square input, a conv without bias before a BatchNorm, a BatchNorm1d on the
    flattened (C, H, W) features (its parameters follow the flatten order)."""
    return nn.Sequential(
        nn.Conv2d(3, 8, (3, 5), padding="same"), nn.ReLU(),
        nn.Conv2d(8, 8, 4, padding="same", dilation=(1, 2), bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d((2, 3), stride=2),                                               # 7 x 8
        nn.Flatten(), nn.BatchNorm1d(8 * 7 * 8), nn.Identity(),
        nn.Linear(8 * 7 * 8, 12), nn.ReLU(), nn.Linear(12, 5),
    ), (3, 15, 17), None


NETWORKS = {"lenet": lenet, "cifar_like": cifar_like, "same_padding": same_padding}


def build(name):
    torch.manual_seed(1234)
    net, shape, preprocess = NETWORKS[name]()
    randomize_batch_norms(net, torch.Generator().manual_seed(99))
    net.eval()
    generator = torch.Generator().manual_seed(7)
    if preprocess:
        raw = torch.randint(0, 256, (8,) + shape, generator=generator).float()
    else:
        raw = torch.randn((8,) + shape, generator=generator)
    return net, shape, preprocess, raw


def torch_forward(net, raw, preprocess):
    x = raw * preprocess["scale"] + preprocess["offset"] if preprocess else raw
    with torch.no_grad():
        return net(x).numpy().astype(np.float64)


def to_fixq_input(raw):
    """NCHW -> NHWC float32 (a flat input stays as it is)."""
    x = raw.numpy()
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1) if x.ndim == 4 else x, dtype=np.float32)


# --- numpy model of fixq's float semantics (NHWC) ---------------------------------

def _pads(padding, in_hw, kernel, strides, dilation):
    """[top, bottom, left, right] of fixq's "valid", "same" (TensorFlow's rule) or explicit padding."""
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding == "same":
        pads = []
        for n, k, s, d in zip(in_hw, kernel, strides, dilation):
            out = -(-n // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            pads += [total // 2, total - total // 2]
        return pads
    return list(padding)


def _windows(x, kernel, strides, dilation, padding, fill):
    """Yields, for each window cell (ky, kx), the (N, OH, OW, C) slab of the padded input."""
    _, h, w, _ = x.shape
    t, b, l, r = _pads(padding, (h, w), kernel, strides, dilation)
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    oh = (h + t + b - (kernel[0] - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (w + l + r - (kernel[1] - 1) * dilation[1] - 1) // strides[1] + 1
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            y0, x0 = ky * dilation[0], kx * dilation[1]
            yield ky, kx, xp[:, y0:y0 + (oh - 1) * strides[0] + 1:strides[0], x0:x0 + (ow - 1) * strides[1] + 1:strides[1]]


def numpy_reference(model_dir, raw):
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        model = json.load(f)
    assert model["fixq_model"] == 1

    def load(name):
        return np.load(os.path.join(model_dir, name)).astype(np.float64)

    x = raw.astype(np.float64)
    pre = model["input"].get("preprocess")
    if pre:
        x = x * pre["scale"] + pre["offset"]
    assert list(x.shape[1:]) == model["input"]["shape"]
    for layer in model["layers"]:
        t = layer["type"]
        if t == "Conv2D":
            w = load(layer["weights"])
            kh, kw, cin_g, cout = w.shape
            groups = layer.get("groups", 1)
            cout_g = cout // groups
            args = ((kh, kw), layer.get("strides", [1, 1]), layer.get("dilation", [1, 1]), layer.get("padding", "valid"))
            y = None
            for ky, kx, slab in _windows(x, *args, fill=0.0):
                part = np.concatenate([slab[..., g * cin_g:(g + 1) * cin_g] @ w[ky, kx, :, g * cout_g:(g + 1) * cout_g]
                                       for g in range(groups)], axis=-1)
                y = part if y is None else y + part
            x = y + (load(layer["bias"]) if "bias" in layer else 0.0)
        elif t == "Dense":
            x = x @ load(layer["weights"]) + (load(layer["bias"]) if "bias" in layer else 0.0)
        elif t in ("MaxPool2D", "AvgPool2D"):
            pool = tuple(layer["pool"])
            args = (pool, layer.get("strides", pool), (1, 1), layer.get("padding", "valid"))
            if t == "MaxPool2D":
                x = np.max([s for _, _, s in _windows(x, *args, fill=-np.inf)], axis=0)
            else:  # divided by the window's cells inside the input
                total = sum(s for _, _, s in _windows(x, *args, fill=0.0))
                count = sum(s for _, _, s in _windows(np.ones_like(x[:1, ..., :1]), *args, fill=0.0))
                x = total / count
        elif t == "GlobalAvgPool2D":
            x = x.mean(axis=(1, 2))
        elif t == "LeakyReLU":
            x = np.where(x >= 0, x, x * layer["slope"])
        elif t in ("ReLU", "ReLU6"):
            x = np.clip(x, 0.0, 6.0 if t == "ReLU6" else layer.get("cap", np.inf))
        elif t == "Flatten":
            x = x.reshape(len(x), -1)
        elif t == "BatchNorm":
            x = (x - load(layer["mean"])) / np.sqrt(load(layer["var"]) + layer["eps"]) * load(layer["gamma"]) \
                + load(layer["beta"])
        else:
            raise AssertionError(f"layer type {t} not in the numpy model")
    return x


# --- the tests ---------------------------------------------------------------------

def max_relative_error(got, want):
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))


class TorchImport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # PyTorch's note that an even kernel under padding='same' copies the input: expected here.
        # (Set here: unittest's runner resets the warning filters before the tests start.)
        warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")
        cls.tmp = tempfile.TemporaryDirectory(prefix="fixq_torch_import_")
        cls.cases = {name: build(name) for name in NETWORKS}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def export(self, name, fold):
        net, shape, preprocess, raw = self.cases[name]
        out_dir = os.path.join(self.tmp.name, f"{name}_{'fold' if fold else 'nofold'}")
        # force: the tests export the same network to the same folder again.
        model = fixq_torch.export_model(net, shape, out_dir, fold_batch_norm=fold, preprocess=preprocess, force=True)
        input_file = os.path.join(out_dir + ".input.npy")
        np.save(input_file, to_fixq_input(raw))
        return model, out_dir, input_file, torch_forward(net, raw, preprocess)

    def fixq(self, *args):
        """Runs the fixq tool; fails (not skips) when there is none."""
        if not FIXQ:
            self.fail("the fixq binary is not given: set FIXQ=/path/to/fixq or pass --fixq PATH")
        if not (os.path.isfile(FIXQ) and os.access(FIXQ, os.X_OK)):
            self.fail(f"the fixq binary {FIXQ} does not exist or is not executable")
        r = subprocess.run([FIXQ, *args], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, f"fixq {' '.join(args)} exited {r.returncode}\n"
                                          f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        return r

    def test_layers_and_folding(self):
        """The exported layer lists: BatchNorms fold where they directly follow a conv / Linear."""
        model, _, _, _ = self.export("lenet", True)
        self.assertEqual([(l["name"], l["type"]) for l in model["layers"]], [
            ("features_0", "Conv2D"), ("features_1", "ReLU"), ("features_2", "MaxPool2D"),
            ("features_3", "Conv2D"), ("features_5", "ReLU"), ("features_6", "AvgPool2D"),
            ("flatten", "Flatten"), ("classifier_0", "Dense"), ("classifier_1", "ReLU6"),
            ("classifier_3", "Dense")])
        self.assertEqual(model["input"], {"shape": [28, 28, 1], "preprocess": {"scale": 1 / 255, "offset": 0.0}})
        self.assertEqual(model["outputs"], ["classifier_3"])
        conv = model["layers"][0]
        self.assertEqual((conv["padding"], conv["strides"], conv["dilation"], conv["groups"]),
                         ([2, 2, 2, 2], [1, 1], [1, 1], 1))
        model, out_dir, _, _ = self.export("lenet", False)
        self.assertIn(("features_4", "BatchNorm"), [(l["name"], l["type"]) for l in model["layers"]])
        self.assertEqual(np.load(os.path.join(out_dir, "features_0_w.npy")).shape, (5, 5, 1, 6))
        self.assertEqual(np.load(os.path.join(out_dir, "classifier_0_w.npy")).dtype, np.float32)
        model, _, _, _ = self.export("cifar_like", True)
        types = [l["type"] for l in model["layers"]]
        self.assertEqual(types.count("BatchNorm"), 2)  # after a ReLU, after the global pool
        self.assertIn("GlobalAvgPool2D", types)
        self.assertNotIn("Flatten", types)  # the Flatten after GlobalAvgPool2D moves nothing
        self.assertEqual(model["layers"][-1]["bias"], "18_b.npy")
        model, _, _, _ = self.export("same_padding", True)
        self.assertEqual(model["layers"][2]["padding"], [1, 2, 3, 3])  # k 4: 1 + 2; k 4 dilation 2: 3 + 3

    def test_numpy_model_matches_torch(self):
        for name in NETWORKS:
            for fold in (True, False):
                with self.subTest(network=name, fold=fold):
                    _, out_dir, input_file, want = self.export(name, fold)
                    got = numpy_reference(out_dir, np.load(input_file))
                    self.assertEqual(got.shape, want.shape)
                    self.assertLess(max_relative_error(got, want), TOLERANCE)

    def test_fixq_run_matches_torch(self):
        for name in NETWORKS:
            for fold in (True, False):
                with self.subTest(network=name, fold=fold):
                    _, out_dir, input_file, want = self.export(name, fold)
                    out_file = out_dir + ".out.npy"
                    self.fixq("run", out_dir, input_file, "--path", "float", "-o", out_file)
                    got = np.load(out_file).astype(np.float64)
                    self.assertEqual(got.shape, want.shape)
                    self.assertLess(max_relative_error(got, want), TOLERANCE)

    def test_fixq_calibrate_and_verify(self):
        for name in NETWORKS:
            for fold in (True, False):
                with self.subTest(network=name, fold=fold):
                    _, out_dir, input_file, want = self.export(name, fold)
                    qdir = out_dir + "_q8"
                    self.fixq("calibrate", out_dir, input_file, "--bits", "8", "-o", qdir)
                    self.fixq("verify", qdir, input_file)
                    # The 8-bit network still computes the PyTorch one (errors seen: 0.5 to 5 %).
                    out_file = qdir + ".out.npy"
                    self.fixq("run", qdir, input_file, "--path", "int", "-o", out_file)
                    self.assertLess(max_relative_error(np.load(out_file).astype(np.float64), want), 0.15)

    def test_command_line(self):
        """The command line writes what export_model writes, from a module saved with torch.save."""
        net, shape, preprocess, _ = self.cases["lenet"]
        module_file = os.path.join(self.tmp.name, "lenet.pt")
        torch.save(net, module_file)
        out_dir = os.path.join(self.tmp.name, "lenet_cli")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "python", "fixq_torch.py"), module_file, out_dir,
                            "--input-shape", ",".join(map(str, shape)), "--scale", str(1 / 255)],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        model, ref_dir, _, _ = self.export("lenet", True)
        with open(os.path.join(out_dir, "model.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f), model)
        for layer in model["layers"]:
            for key in ("weights", "bias"):
                if key in layer:
                    np.testing.assert_array_equal(np.load(os.path.join(out_dir, layer[key])),
                                                  np.load(os.path.join(ref_dir, layer[key])))
        # The folder exists now: refused (exit 1, the folder named), unless --force.
        for extra, code in (([], 1), (["--force"], 0)):
            r = subprocess.run([sys.executable, os.path.join(ROOT, "python", "fixq_torch.py"), module_file, out_dir,
                                "--input-shape", ",".join(map(str, shape)), *extra],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, code, r.stderr)
            if code:
                self.assertIn(out_dir, r.stderr)
                self.assertIn("not empty", r.stderr)
        with open(os.path.join(out_dir, "model.json"), encoding="utf-8") as f:
            self.assertNotIn("preprocess", json.load(f)["input"])  # replaced by the run without --scale
        # A state_dict is not a module: a clear error, exit 1.
        torch.save(net.state_dict(), module_file)
        r = subprocess.run([sys.executable, os.path.join(ROOT, "python", "fixq_torch.py"), module_file, out_dir,
                            "--input-shape", "1,28,28"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1)
        self.assertIn("state_dict", r.stderr)

    def test_module_state_unchanged(self):
        """Exporting uses running statistics and leaves the module's mode and statistics alone."""
        net, shape, _, _ = build("cifar_like")
        net.train()
        net[3].eval()
        before = {k: v.clone() for k, v in net.state_dict().items()}
        fixq_torch.export_model(net, shape, os.path.join(self.tmp.name, "state"))
        self.assertTrue(net.training and net[0].training and not net[3].training)
        for k, v in net.state_dict().items():
            self.assertTrue(torch.equal(v, before[k]), k)

    def test_errors(self):
        """Unsupported modules and settings: ValueError naming the module and the problem."""
        out_dir = os.path.join(self.tmp.name, "errors")
        cases = [
            (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid()), (1, 8, 8), ["'1'", "Sigmoid", "not supported"]),
            (nn.Sequential(OrderedDict(body=nn.Sequential(nn.Conv2d(1, 2, 3), nn.GELU()))), (1, 8, 8),
             ["'body.1'", "GELU"]),
            (nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), (1, 7, 7), ["'0'", "ceil_mode"]),
            (nn.Sequential(nn.MaxPool2d(3, dilation=2)), (1, 9, 9), ["'0'", "dilation"]),
            (nn.Sequential(nn.MaxPool2d(2, return_indices=True)), (1, 8, 8), ["'0'", "return_indices"]),
            (nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1)), (1, 8, 8), ["'0'", "count_include_pad"]),
            (nn.Sequential(nn.AvgPool2d(2, divisor_override=3)), (1, 8, 8), ["'0'", "divisor_override"]),
            (nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")), (1, 8, 8),
             ["'0'", "padding_mode"]),
            (nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, track_running_stats=False)), (1, 8, 8),
             ["'1'", "running statistics"]),
            (nn.Sequential(nn.AdaptiveAvgPool2d(3)), (1, 8, 8), ["'0'", "does not divide"]),
            (nn.Sequential(nn.Hardtanh(-1.0, 1.0)), (1, 8, 8), ["'0'", "Hardtanh"]),
            (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(6, 4)), (1, 8, 8), ["'1'", "Linear", "flat input"]),
            (nn.Sequential(nn.Flatten(), nn.Conv2d(1, 2, 1)), (1, 8, 8), ["'1'", "Conv2d"]),
            (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()), (1, 8, 8), ["ends in a Flatten"]),
            (nn.Sequential(nn.Flatten(start_dim=2), nn.ReLU()), (1, 8, 8), ["'0'", "start_dim"]),
            (nn.Sequential(nn.Linear(4, 2)), (5,), ["'0'", "fails on its input"]),
            (nn.Conv2d(1, 2, 3), (1, 8, 8), ["nn.Sequential"]),
        ]
        for net, shape, parts in cases:
            with self.subTest(net=str(net)):
                with self.assertRaises(ValueError) as caught:
                    fixq_torch.export_model(net.eval(), shape, out_dir)
                for part in parts:
                    self.assertIn(part, str(caught.exception))
        self.assertFalse(os.path.exists(out_dir))  # nothing is written before the checks pass
        with self.assertRaisesRegex(ValueError, "used twice"):
            fixq_torch.export_model(nn.Sequential(nn.ReLU(), nn.ReLU()), (4,), out_dir, names={"0": "r", "1": "r"})
        with self.assertRaisesRegex(ValueError, "no module named '7'"):
            fixq_torch.export_model(nn.Sequential(nn.ReLU()), (4,), out_dir, names={"7": "r"})

    def test_out_dir_refused_unless_force(self):
        """A folder that exists and is not empty: ValueError naming it, unless force=True,
        which replaces it (stale files gone, nothing left beside it)."""
        parent = tempfile.mkdtemp(dir=self.tmp.name)
        out_dir = os.path.join(parent, "m")
        net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
        fixq_torch.export_model(net, (4,), out_dir)
        with open(os.path.join(out_dir, "stale.npy"), "wb"):
            pass
        with self.assertRaises(ValueError) as caught:
            fixq_torch.export_model(net, (4,), out_dir)
        self.assertIn(out_dir, str(caught.exception))
        self.assertIn("not empty", str(caught.exception))
        self.assertIn("stale.npy", os.listdir(out_dir))  # untouched
        model = fixq_torch.export_model(net, (4,), out_dir, force=True)
        self.assertEqual(sorted(os.listdir(out_dir)), ["0_b.npy", "0_w.npy", "model.json"])
        self.assertEqual(os.listdir(parent), ["m"])  # no temporary or old folder left
        with open(os.path.join(out_dir, "model.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f), model)
        empty = os.path.join(parent, "empty")
        os.mkdir(empty)
        fixq_torch.export_model(net, (4,), empty)  # an empty folder is fine
        self.assertIn("model.json", os.listdir(empty))
        with self.assertRaisesRegex(ValueError, "not a folder"):
            fixq_torch.export_model(net, (4,), os.path.join(out_dir, "model.json"), force=True)

    def test_failed_write_leaves_nothing(self):
        """A write that fails part-way (here the second .npy file) leaves no folder and no
        temporary behind; under force the old folder stays as it was."""
        parent = tempfile.mkdtemp(dir=self.tmp.name)
        out_dir = os.path.join(parent, "sub", "m")  # the missing parent "sub" is removed again too
        net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        real_save = np.save
        calls = []

        def failing_save(*args, **kwargs):
            calls.append(args[0])
            if len(calls) == 2:
                raise OSError(28, "No space left on device (simulated)")
            return real_save(*args, **kwargs)

        with mock.patch("numpy.save", failing_save):
            with self.assertRaisesRegex(OSError, "simulated"):
                fixq_torch.export_model(net, (4,), out_dir)
        self.assertEqual(len(calls), 2)
        self.assertEqual(os.listdir(parent), [])
        os.makedirs(out_dir)
        with open(os.path.join(out_dir, "keep.txt"), "w", encoding="utf-8") as f:
            f.write("old")
        calls.clear()
        with mock.patch("numpy.save", failing_save):
            with self.assertRaisesRegex(OSError, "simulated"):
                fixq_torch.export_model(net, (4,), out_dir, force=True)
        self.assertEqual(os.listdir(out_dir), ["keep.txt"])
        self.assertEqual(os.listdir(os.path.dirname(out_dir)), ["m"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    args = sys.argv[1:]
    if "--fixq" in args:
        i = args.index("--fixq")
        if i + 1 >= len(args):
            sys.exit("--fixq needs a path")
        FIXQ = args[i + 1]
        del args[i:i + 2]
    unittest.main(argv=[sys.argv[0]] + args)
