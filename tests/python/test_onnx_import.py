"""fixq.onnx (ONNX -> fixq model folder) against PyTorch and a numpy convolution.

Networks exported by torch.onnx.export (opsets 11 and 13, some also 9 and 17; with a
symbolic batch axis, and with the BatchNormalization nodes kept or folded by torch)
are imported, loaded with fixq.load_model and run on the float path: the outputs must
match PyTorch's to 1e-5 of their scale. Hand-built graphs (onnx.helper) check auto_pad,
MatMul + Add and Gemm(transB=0); the errors name the node and the problem, and nothing
is written on failure.

Needs the module (PYTHONPATH=<build>/python), onnx (Debian: python3-onnx) and torch.
Until the build tree links python/fixq/onnx.py (CMake globs python/fixq/*.py when it
configures), the module is taken from the source tree.
"""

import io
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from torch import nn  # noqa: E402

import fixq  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE_PACKAGE = os.path.join(ROOT, "python", "fixq")
try:
    import fixq.onnx as fixq_onnx  # noqa: E402
    LINKED = True
except ImportError:  # the build tree predates onnx.py
    fixq.__path__.append(SOURCE_PACKAGE)
    import fixq.onnx as fixq_onnx  # noqa: E402
    LINKED = False

torch.set_num_threads(1)


def assert_close(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    err = float(np.max(np.abs(got - want)))
    scale = float(np.max(np.abs(want)))
    assert err <= 1e-5 * (scale + 1e-3), f"max abs error {err} for outputs up to {scale}"


def nchw_to_nhwc(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1) if x.ndim == 4 else x, dtype=np.float32)


def run_fixq(out_dir, x_nchw):
    y = fixq.load_model(out_dir).run(nchw_to_nhwc(x_nchw), path="float")
    return y.transpose(0, 3, 1, 2) if y.ndim == 4 else y


# --- PyTorch networks ----------------------------------------------------------------

def randomize(net, seed):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.3)
    return net.eval()


class LeNetView(nn.Module):
    """x.view(x.size(0), -1): the Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2 = nn.Linear(16 * 3 * 3, 32), nn.Linear(32, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.avg_pool2d(torch.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


class Residual(nn.Module):
    """Conv-BN-ReLU, Conv-BN, Add of the block's input, ReLU."""

    def __init__(self, c=8):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


class Branches(nn.Module):
    """Concat of two branches on the channels, then a strided conv and a Linear."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1, dilation=1), nn.LeakyReLU(0.2))
        self.c = nn.Conv2d(9, 6, 3, stride=2, padding=(1, 0), groups=3)
        self.fc = nn.Linear(6 * 5 * 3, 7)

    def forward(self, x):
        x = torch.cat([torch.relu(self.a(x)), self.b(x)], dim=1)
        return self.fc(torch.flatten(torch.relu(self.c(x)), 1))


class BatchNormAfterAdd(nn.Module):
    """A BatchNorm that cannot fold (after an Add), then GlobalAveragePool, Flatten, Linear, BatchNorm1d."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(2, 6, 3, padding=1), nn.Conv2d(2, 6, 1)
        self.bn = nn.BatchNorm2d(6)
        self.fc, self.bn1d = nn.Linear(6, 4), nn.BatchNorm1d(4)

    def forward(self, x):
        x = self.bn(self.a(x) + self.b(x))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(torch.relu(x), 1), 1)
        return self.bn1d(self.fc(x))


def lenet_flatten():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 3 * 3, 32), nn.ReLU6(), nn.Dropout(0.3), nn.Linear(32, 10)), (1, 20, 20)


def pools():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU6(),
                         nn.MaxPool2d(3, stride=2, padding=1),
                         nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                         nn.AvgPool2d(2, stride=1, count_include_pad=True),   # zero pads: torch adds a zero Pad
                         nn.Hardtanh(0.0, 2.5), nn.Conv2d(8, 4, 2), nn.LeakyReLU(0.1)), (3, 13, 11)


def global_pool():
    return nn.Sequential(nn.Conv2d(3, 12, 3, stride=2, padding=1), nn.BatchNorm2d(12), nn.ReLU6(),
                         nn.Conv2d(12, 12, 3, padding=1, groups=12), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, 5)), (3, 16, 16)


def flat_batch_norm():
    """A BatchNorm1d on flattened (C, H, W) features: a BatchNorm layer with permuted parameters."""
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.BatchNorm1d(3 * 4 * 5),
                         nn.Linear(3 * 4 * 5, 6)), (2, 6, 7)


NETWORKS = {
    "flat_batch_norm": flat_batch_norm,
    "lenet_flatten": lenet_flatten,
    "lenet_view": lambda: (LeNetView(), (1, 20, 20)),
    "residual": lambda: (Residual(), (3, 9, 9)),
    "branches": lambda: (Branches(), (3, 10, 8)),
    "pools": pools,
    "global_pool": global_pool,
    "bn_after_add": lambda: (BatchNormAfterAdd(), (2, 6, 6)),
}


def export(net, shape, opset, keep_bn, dynamic=True):
    """torch.onnx.export to a ModelProto. keep_bn: TrainingMode.PRESERVE on the eval-mode
    network keeps the BatchNormalization nodes (torch folds them into the convs otherwise)."""
    kwargs = {"dynamic_axes": {"x": {0: "batch"}, "y": {0: "batch"}}} if dynamic else {}
    if keep_bn:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros((1,) + shape), f, opset_version=opset, input_names=["x"],
                          output_names=["y"], **kwargs)
    return onnx.load_from_string(f.getvalue())


def check_network(name, opset, keep_bn, tmp_path, fold=True, dynamic=True):
    net, shape = NETWORKS[name]()
    randomize(net, 1234)
    model = export(net, shape, opset, keep_bn, dynamic)
    out_dir = tmp_path / f"{name}_{opset}_{keep_bn}_{fold}"
    result = fixq_onnx.import_model(model, out_dir, fold_batch_norm=fold)
    x = torch.randn((5,) + shape, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        want = net(x).numpy()
    assert_close(run_fixq(out_dir, x.numpy()), want)
    with open(out_dir / "model.json", encoding="utf-8") as f:
        assert json.load(f) == result
    return result


def types(result):
    return [layer["type"] for layer in result["layers"]]


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_torch_networks(name, opset, tmp_path):
    result = check_network(name, opset, True, tmp_path)
    assert result["input"]["shape"] == list(np.array(NETWORKS[name]()[1])[[1, 2, 0]])
    assert "BatchNorm" not in types(result) or name in ("bn_after_add", "flat_batch_norm")
    check_network(name, opset, False, tmp_path)  # BN folded by torch


@pytest.mark.parametrize("opset", [9, 17])
def test_other_opsets(opset, tmp_path):
    for name in ("lenet_view", "pools", "bn_after_add"):
        check_network(name, opset, True, tmp_path)


def test_layers(tmp_path):
    r = check_network("lenet_view", 13, True, tmp_path)
    assert types(r) == ["Conv2D", "ReLU", "MaxPool2D", "Conv2D", "ReLU", "AvgPool2D", "Flatten", "Dense", "ReLU",
                        "Dense"]
    assert r["layers"][0]["padding"] == [2, 2, 2, 2] and "bias" in r["layers"][0]
    assert np.load(tmp_path / "lenet_view_13_True_True" / r["layers"][0]["weights"]).shape == (5, 5, 1, 6)
    assert r["outputs"] == [r["layers"][-1]["name"]]

    r = check_network("residual", 11, True, tmp_path)
    assert types(r) == ["Conv2D", "ReLU", "Conv2D", "ReLU", "Conv2D", "Add", "ReLU"]
    add = r["layers"][5]
    assert add["inputs"] == [r["layers"][4]["name"], r["layers"][1]["name"]]
    assert all("bias" in layer for layer in r["layers"] if layer["type"] == "Conv2D")  # BN folded, bias made

    r = check_network("residual", 11, True, tmp_path, fold=False)
    assert types(r).count("BatchNorm") == 2 and r["layers"][3]["eps"] == pytest.approx(1e-5)

    r = check_network("bn_after_add", 13, True, tmp_path)
    assert types(r) == ["Conv2D", "Conv2D", "Add", "BatchNorm", "ReLU", "GlobalAvgPool2D", "Dense"]
    r = check_network("bn_after_add", 13, True, tmp_path, fold=False)
    assert types(r) == ["Conv2D", "Conv2D", "Add", "BatchNorm", "ReLU", "GlobalAvgPool2D", "Dense", "BatchNorm"]

    r = check_network("flat_batch_norm", 11, True, tmp_path)
    assert types(r) == ["Conv2D", "ReLU", "Flatten", "BatchNorm", "Dense"]

    r = check_network("pools", 13, True, tmp_path)
    assert types(r) == ["Conv2D", "ReLU6", "MaxPool2D", "AvgPool2D", "AvgPool2D", "ReLU", "Conv2D", "LeakyReLU"]
    assert r["layers"][5]["cap"] == 2.5 and r["layers"][7]["slope"] == pytest.approx(0.1)
    assert r["layers"][2]["padding"] == [1, 1, 1, 1] and r["layers"][4]["padding"] == "valid"

    r = check_network("branches", 13, False, tmp_path, dynamic=False)  # batch 1, shape folded by torch
    assert types(r) == ["Conv2D", "ReLU", "Conv2D", "LeakyReLU", "Concat", "Conv2D", "ReLU", "Flatten", "Dense"]
    assert r["layers"][5]["padding"] == [1, 1, 0, 0] and r["layers"][5]["groups"] == 3


# --- hand-built graphs ----------------------------------------------------------------

def make_model(nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="test")


def vinfo(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def conv_reference(x, w, b, strides, pads):
    """NCHW convolution; pads [top, bottom, left, right]."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
    oh = (h + pads[0] + pads[1] - kh) // strides[0] + 1
    ow = (wd + pads[2] + pads[3] - kw) // strides[1] + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw]
            y[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return y + b[None, :, None, None]


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER"])
@pytest.mark.parametrize("size", [(8, 9), (7, 6)])
def test_conv_auto_pad(auto_pad, size, tmp_path):
    rng = np.random.default_rng(3)
    h, w = size
    wt, b = rng.standard_normal((4, 3, 3, 4)), rng.standard_normal(4)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", auto_pad=auto_pad, strides=[2, 2])
    model = make_model([node], [vinfo("x", ["N", 3, h, w])], [vinfo("y", ["N", 4, None, None])],
                       [const("w", wt), const("b", b)])
    r = fixq_onnx.import_model(model, tmp_path / "m")
    # ONNX: total padding (ceil(n / 2) - 1) * 2 + k - n, the odd one at the end (UPPER) or the start (LOWER)
    pads = []
    for n, k in ((h, 3), (w, 4)):
        total = max((-(-n // 2) - 1) * 2 + k - n, 0)
        pads += [total // 2, total - total // 2] if auto_pad == "SAME_UPPER" else [total - total // 2, total // 2]
    assert r["layers"][0]["padding"] == pads
    x = rng.standard_normal((3, 3, h, w)).astype(np.float32)
    want = conv_reference(x, wt.astype(np.float32), b.astype(np.float32), (2, 2), pads)
    assert want.shape[2:] == (-(-h // 2), -(-w // 2))
    assert_close(run_fixq(tmp_path / "m", x), want)


def test_pad_into_conv(tmp_path):
    """A zero Pad before a Conv adds to its padding (opset 13: pads as an input; opset 9: an attribute)."""
    rng = np.random.default_rng(4)
    wt = rng.standard_normal((2, 3, 3, 3))
    for opset in (9, 13):
        pads = [0, 0, 1, 2, 0, 0, 2, 1]  # N, C, H, W begins, then ends
        pad = helper.make_node("Pad", ["x", "p"] if opset >= 11 else ["x"], ["xp"], name="pad",
                               **({} if opset >= 11 else {"pads": pads}))
        conv = helper.make_node("Conv", ["xp", "w"], ["y"], pads=[1, 0, 0, 1])
        inits = [const("w", wt)] + ([numpy_helper.from_array(np.array(pads, dtype=np.int64), "p")]
                                    if opset >= 11 else [])
        model = make_model([pad, conv], [vinfo("x", ["N", 3, 6, 5])], [vinfo("y", ["N", 2, None, None])], inits,
                           opset=opset)
        r = fixq_onnx.import_model(model, tmp_path / f"m{opset}")
        assert types(r) == ["Conv2D"] and r["layers"][0]["padding"] == [2, 2, 2, 2]
        x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
        want = conv_reference(x, wt.astype(np.float32), np.zeros(2), (1, 1), [2, 2, 2, 2])
        assert_close(run_fixq(tmp_path / f"m{opset}", x), want)
        relu = make_model([pad, helper.make_node("Relu", ["xp"], ["y"], name="relu")],
                          [vinfo("x", ["N", 3, 6, 5])], [vinfo("y", ["N", 3, 9, 8])], inits[1:], opset=opset)
        with pytest.raises(ValueError, match="node 'relu' \\(Relu\\): input 'xp' is the output of a Pad"):
            fixq_onnx.import_model(relu, tmp_path / "bad")


def test_matmul_add_and_gemm(tmp_path):
    rng = np.random.default_rng(5)
    w1, b1 = rng.standard_normal((6, 5)), rng.standard_normal(5)
    w2, b2 = rng.standard_normal((5, 3)), rng.standard_normal((1, 3))
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]),
             helper.make_node("Add", ["b1", "h"], ["hb"]),       # the constant first
             helper.make_node("Relu", ["hb"], ["r"]),
             helper.make_node("Dropout", ["r", "ratio"], ["d", "mask"]),
             helper.make_node("Identity", ["d"], ["i"]),
             helper.make_node("Gemm", ["i", "w2", "b2"], ["y"], transB=0)]
    model = make_model(nodes, [vinfo("x", ["N", 6])], [vinfo("y", ["N", 3])],
                       [const("w1", w1), const("b1", b1), const("w2", w2), const("b2", b2), const("ratio", 0.5)])
    r = fixq_onnx.import_model(model, tmp_path / "m")
    assert types(r) == ["Dense", "ReLU", "Dense"] and r["input"]["shape"] == [6]
    assert [layer["name"] for layer in r["layers"]] == ["MatMul_0", "Relu_2", "Gemm_5"]
    f32 = lambda a: a.astype(np.float32).astype(np.float64)  # noqa: E731
    x = rng.standard_normal((4, 6)).astype(np.float32)
    want = np.maximum(x @ f32(w1) + f32(b1), 0) @ f32(w2) + f32(b2)
    assert_close(run_fixq(tmp_path / "m", x), want)
    np.testing.assert_array_equal(np.load(tmp_path / "m" / "Gemm_5_w.npy"), w2.astype(np.float32))


def test_gemm_trans_b_and_constant_folding(tmp_path):
    """Gemm(transB=1) after a Reshape whose shape is computed from Constant nodes (Mul, Concat, Cast)."""
    rng = np.random.default_rng(6)
    w = rng.standard_normal((4, 2 * 3 * 3))
    ints = lambda name, v: helper.make_node("Constant", [], [name], value=numpy_helper.from_array(  # noqa: E731
        np.asarray(v, dtype=np.int64), name))
    nodes = [ints("c2", [2]), ints("c3", [-3]), helper.make_node("Mul", ["c2", "c3"], ["m"]),
             helper.make_node("Div", ["m", "c3"], ["d"]),          # 2 ... then a -1 from -6 / 6:
             ints("c6", [6]), helper.make_node("Div", ["m", "c6"], ["minus1"]),
             helper.make_node("Shape", ["x"], ["s"]), ints("zero", 0),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             ints("axes", [0]), helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["shape32"], axis=0),
             helper.make_node("Cast", ["shape32"], ["shape"], to=TensorProto.INT64),
             helper.make_node("Reshape", ["x", "shape"], ["flat"], name="reshape"),
             helper.make_node("Gemm", ["flat", "w"], ["y"], transB=1)]
    model = make_model(nodes, [vinfo("x", ["N", 2, 3, 3])], [vinfo("y", ["N", 4])], [const("w", w)])
    r = fixq_onnx.import_model(model, tmp_path / "m")
    assert types(r) == ["Flatten", "Dense"]
    x = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    assert_close(run_fixq(tmp_path / "m", x), x.reshape(3, -1).astype(np.float64) @ w.astype(np.float32).T)


# --- errors ---------------------------------------------------------------------------

def conv_model(**attrs):
    return [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", **attrs)], [const("w", np.ones((2, 1, 3, 3)))]


def error_cases():
    x4 = [vinfo("x", ["N", 1, 8, 8])]
    cases = []
    nodes, inits = conv_model(pads=[1, 1, 1, 1])
    cases.append(("unsupported op", make_model(nodes + [helper.make_node("Erf", ["c"], ["y"], name="erf")], x4,
                                               [vinfo("y", ["N", 2, 8, 8])], inits),
                  ["node 'erf' (Erf)", "not supported"]))
    cases.append(("ceil_mode", make_model(
        [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)], x4,
        [vinfo("y", ["N", 1, 4, 4])]), ["node #0 (MaxPool)", "ceil_mode=1"]))
    cases.append(("alpha", make_model(
        [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", alpha=0.5)], [vinfo("x", ["N", 4])],
        [vinfo("y", ["N", 2])], [const("w", np.ones((4, 2)))]), ["node 'fc' (Gemm)", "alpha=0.5"]))
    cases.append(("weight", make_model(
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Conv", ["x", "r"], ["y"], name="conv")],
        [vinfo("x", ["N", 1, 3, 3])], [vinfo("y", ["N", 1, 1, 1])]), ["node 'conv' (Conv)", "weight W", "'r'",
                                                                      "not a constant"]))
    cases.append(("two inputs", make_model(
        [helper.make_node("Add", ["x", "z"], ["y"], name="add")], [vinfo("x", ["N", 4]), vinfo("z", ["N", 4])],
        [vinfo("y", ["N", 4])]), ["2 inputs", "'x'", "'z'"]))
    cases.append(("count_include_pad", make_model(
        [helper.make_node("AveragePool", ["x"], ["y"], name="avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          count_include_pad=1)], x4, [vinfo("y", ["N", 1, 8, 8])]),
        ["node 'avg' (AveragePool)", "count_include_pad=1"]))
    cases.append(("clip min", make_model(
        [helper.make_node("Clip", ["x", "lo"], ["y"], name="clip")], x4, [vinfo("y", ["N", 1, 8, 8])],
        [const("lo", np.float32(-1))]), ["node 'clip' (Clip)", "min=-1.0"]))
    cases.append(("reshape", make_model(
        [helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], x4, [vinfo("y", ["N", 2, 32])],
        [numpy_helper.from_array(np.array([0, 2, 32], dtype=np.int64), "s")]), ["node 'rs' (Reshape)", "[0, 2, 32]"]))
    cases.append(("batch", make_model([helper.make_node("Relu", ["x"], ["y"])], [vinfo("x", [4, 1, 8, 8])],
                                      [vinfo("y", [4, 1, 8, 8])]), ["batch extent 4"]))
    cases.append(("flatten output", make_model(nodes + [helper.make_node("Flatten", ["c"], ["y"])], x4,
                                               [vinfo("y", ["N", 128])], inits), ["flattened (C, H, W)"]))
    return cases


@pytest.mark.parametrize("case", error_cases(), ids=lambda c: c[0])
def test_errors(case, tmp_path):
    _, model, parts = case
    out_dir = tmp_path / "out"
    with pytest.raises(ValueError) as caught:
        fixq_onnx.import_model(model, out_dir)
    for part in parts:
        assert part in str(caught.value)
    assert os.listdir(tmp_path) == []  # no folder, no temporary left behind


def test_out_dir_and_preprocess(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    model = make_model(nodes, [vinfo("x", ["N", 3])], [vinfo("y", ["N", 3])])
    out_dir = tmp_path / "m"
    r = fixq_onnx.import_model(model, out_dir, preprocess={"scale": 0.5})
    assert r["input"] == {"shape": [3], "preprocess": {"scale": 0.5, "offset": 0.0}}
    with pytest.raises(ValueError, match="not empty"):
        fixq_onnx.import_model(model, out_dir)
    (out_dir / "stale.npy").write_bytes(b"")
    fixq_onnx.import_model(model, out_dir, force=True)
    assert sorted(os.listdir(out_dir)) == ["model.json"] and sorted(os.listdir(tmp_path)) == ["m"]
    empty = tmp_path / "empty"
    empty.mkdir()
    fixq_onnx.import_model(model, empty)  # an empty folder is fine
    assert os.listdir(empty) == ["model.json"]


def run_cli(*args):
    """python3 -m fixq.onnx, with the source tree's module while the build tree lacks the link."""
    if LINKED:
        cmd = [sys.executable, "-m", "fixq.onnx", *map(str, args)]
    else:
        cmd = [sys.executable, "-c", "import runpy, sys, fixq; fixq.__path__.append(sys.argv.pop(1)); "
                                     "runpy.run_module('fixq.onnx', run_name='__main__', alter_sys=True)",
               SOURCE_PACKAGE, *map(str, args)]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_command_line(tmp_path):
    net, shape = NETWORKS["global_pool"]()
    randomize(net, 1)
    model_file = tmp_path / "net.onnx"
    onnx.save(export(net, shape, 13, True), str(model_file))
    r = run_cli(model_file, tmp_path / "m", "--scale", "0.25")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "m" / "model.json", encoding="utf-8") as f:
        assert json.load(f)["input"]["preprocess"] == {"scale": 0.25, "offset": 0.0}

    bad = make_model([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Erf", ["r"], ["y"])],
                     [vinfo("x", ["N", 4])], [vinfo("y", ["N", 4])])
    bad_file = tmp_path / "bad.onnx"
    onnx.save(bad, str(bad_file))
    for args, parts in [((bad_file, tmp_path / "x"), ["node #1 (Erf)", "not supported"]),
                        ((tmp_path / "missing.onnx", tmp_path / "x"), ["cannot read"]),
                        ((model_file, tmp_path / "m"), ["not empty"]),
                        ((model_file,), ["error"])]:
        r = run_cli(*args)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fixq.onnx: error: "), r.stderr
        for part in parts:
            assert part in lines[0]
        assert not (tmp_path / "x").exists()
    r = run_cli(model_file, tmp_path / "m", "--force", "--no-fold")
    assert r.returncode == 0, r.stderr
