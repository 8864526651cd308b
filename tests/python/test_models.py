"""fixq's models from Python against the `fixq` tool: the same files and arrays, byte for byte.

The bundled MNIST LeNet (float) and 64 real MNIST test images: calibrate, run every path
(values and codes, the first output and every layer), verify, info, save and export, in
Python and with the tool; a stochastic variant with batch sizes that differ between the
two; then every error a user can provoke.

Needs the module (PYTHONPATH=<build>/python) and the tool (environment variable FIXQ).
"""

import filecmp
import gzip
import json
import os
import shutil
import subprocess
import threading

import numpy as np
import pytest

import fixq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "examples", "mnist", "model")
FIXQ = os.environ.get("FIXQ", "")


def tool(*args, ok=(0,)):
    if not FIXQ:
        pytest.fail("set FIXQ to the fixq tool (build/release/tools/fixq/fixq)")
    # The float path's sums depend on the thread count (Eigen's GEMM blocking), and
    # importing torch changes this process's OpenMP threads: the tool gets the same.
    env = dict(os.environ, OMP_NUM_THREADS=str(fixq.get_threads()))
    r = subprocess.run([FIXQ, *map(str, args)], capture_output=True, text=True, env=env)
    assert r.returncode in ok, f"fixq {' '.join(map(str, args))}: exit {r.returncode}\n{r.stderr}"
    return r


def mnist_images(n):
    with gzip.open(os.path.join(ROOT, "examples", "data", "mnist", "t10k-images-idx3-ubyte.gz")) as f:
        data = f.read(16 + n * 784)
    assert int.from_bytes(data[:4], "big") == 0x803
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, 28, 28, 1)


def same_folders(a, b):
    names_a, names_b = sorted(os.listdir(a)), sorted(os.listdir(b))
    assert names_a == names_b
    for name in names_a:
        assert filecmp.cmp(os.path.join(a, name), os.path.join(b, name), shallow=False), name


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    x = mnist_images(64)
    np.save(d / "x.npy", x)
    # Calibrated by the tool: the reference model of the tests below.
    tool("calibrate", MODEL, d / "x.npy", "--bits", 8, "--per-channel", "-o", d / "q8")
    return d, x


def test_calibrate_writes_the_tools_files(work):
    d, x = work
    q = fixq.calibrate(fixq.load_model(MODEL), x, bits=8, per_channel=True)
    q.save(d / "q8_py")
    same_folders(d / "q8", d / "q8_py")
    # Other settings reach the calibration too.
    q6 = fixq.calibrate(fixq.load_model(MODEL), x, bits=6, weight_bits=4, method="MinMSE", count=32)
    q6.save(d / "q6_py")
    tool("calibrate", MODEL, d / "x.npy", "--bits", 6, "--weight-bits", 4, "--method", "MinMSE", "--count", 32,
         "-o", d / "q6")
    same_folders(d / "q6", d / "q6_py")


@pytest.mark.parametrize("path", ["float", "sim", "int"])
def test_run_equals_the_tool(work, path):
    d, x = work
    m = fixq.load_model(d / "q8")
    tool("run", d / "q8", d / "x.npy", "--path", path, "-o", d / f"{path}.npy", "--all", d / f"all_{path}")
    want = np.load(d / f"{path}.npy")
    got = m.run(x, path=path)
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape == (64, 10)
    assert got.tobytes() == want.tobytes()
    # The sim and int paths are exact, so the batch size changes nothing; the float path
    # sums in float32, in an order that may depend on the batch size (the tool's: 256)
    # and the thread count.
    every = m.run_all(x, path=path, batch=256 if path == "float" else 5)
    assert list(every) == m.layers
    for name, arr in every.items():
        assert arr.tobytes() == np.load(d / f"all_{path}" / f"{name}.npy").tobytes(), name
    # The float path differs from the 8-bit paths, but not by much (a real check that
    # the paths are the paths asked for).
    if path == "float":
        assert not np.array_equal(got, m.run(x, path="sim"))


def test_codes_and_input_codes_equal_the_tool(work):
    d, x = work
    m = fixq.load_model(d / "q8")
    tool("run", d / "q8", d / "x.npy", "--path", "int", "--codes", "-o", d / "codes.npy")
    want = np.load(d / "codes.npy")
    got = m.run(x, codes=True)
    assert got.dtype == want.dtype == np.int32 and np.array_equal(got, want)
    # Codes in: the input's own codes give the same result.
    in_codes = m.run_all(x, path="int", codes=True)  # every layer; the input's codes come from quantize_codes
    f = m.input_format
    xin = fixq.quantize_codes(x.astype(np.float64) / 256, fixq.QuantSpec(f), dtype=np.int64)
    np.save(d / "xin.npy", xin)
    tool("run", d / "q8", d / "xin.npy", "--path", "int", "--codes", "--input-codes", "-o", d / "codes_in.npy")
    assert np.array_equal(m.run(xin, codes=True, input_codes=True), np.load(d / "codes_in.npy"))
    assert np.array_equal(m.run(xin, codes=True, input_codes=True), in_codes["fc2"])


def test_tensors_in(work):
    torch = pytest.importorskip("torch")
    d, x = work
    m = fixq.load_model(d / "q8")
    assert np.array_equal(m.run(torch.from_numpy(x.copy())), m.run(x))


def test_verify_info_and_export_equal_the_tool(work):
    d, x = work
    m = fixq.load_model(d / "q8")
    r = m.verify(x, batch=10)
    assert r.ok and bool(r) and r.samples == 64 and r.layers == 10
    assert str(r) + "\n" == tool("verify", d / "q8", d / "x.npy").stdout
    assert m.info() == tool("info", d / "q8").stdout
    m.export(d / "exp_py", x, count=3)
    tool("export", d / "q8", d / "x.npy", "-o", d / "exp", "--count", 3)
    same_folders(d / "exp", d / "exp_py")
    with pytest.raises(OSError, match="exp_py"):
        m.export(d / "exp_py", x, count=3)  # a non-empty folder, without force
    m.export(d / "exp_py", x, count=3, force=True)


def stochastic_copy(src, dst):
    """The model with Stochastic rounding on the input and on every layer that rounds."""
    shutil.copytree(src, dst)
    with open(os.path.join(dst, "model.json")) as f:
        j = json.load(f)
    j["input"]["round"] = "Stochastic"
    j["input"]["seed"] = 11
    for k, layer in enumerate(j["layers"]):
        if "round" in layer:
            layer["round"] = "Stochastic"
            layer["seed"] = 100 + k
    with open(os.path.join(dst, "model.json"), "w") as f:
        json.dump(j, f)


def test_stochastic_runs_equal_the_tool_whatever_the_batch(work):
    d, x = work
    stochastic_copy(d / "q8", d / "q8s")
    m = fixq.load_model(d / "q8s", seed=9)
    assert m.stochastic
    tool("run", d / "q8s", d / "x.npy", "--path", "sim", "--seed", 9, "--batch", 64, "-o", d / "s.npy")
    got = m.run(x, path="sim", batch=7)
    assert got.tobytes() == np.load(d / "s.npy").tobytes()
    assert m.verify(x, batch=13).ok
    # Another seed draws other noise.
    assert not np.array_equal(got, fixq.load_model(d / "q8s", seed=10).run(x, path="sim"))


def test_threads_run_models_side_by_side(work):
    d, x = work
    m = fixq.load_model(d / "q8")
    want = m.run(x)
    got = [None] * 4

    def go(i):
        got[i] = m.run(x)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(g, want) for g in got)


# --- errors ---------------------------------------------------------------------------

def test_bad_files(tmp_path):
    with pytest.raises(fixq.FileError, match="no_such_model"):
        fixq.load_model(tmp_path / "no_such_model")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.json").write_text('{"fixq_model": 1, "input": {"shape": [2]}, "layers": [}')
    with pytest.raises(OSError, match="model.json"):
        fixq.load_model(bad)
    shutil.copytree(MODEL, tmp_path / "m")
    os.remove(tmp_path / "m" / "fc1_w.npy")
    with pytest.raises(OSError, match="fc1_w.npy"):
        fixq.load_model(tmp_path / "m")
    with pytest.raises(TypeError, match="PathLike"):
        fixq.load_model(3)


def test_bad_arguments(work):
    d, x = work
    m = fixq.load_model(d / "q8")
    float_model = fixq.load_model(MODEL)
    with pytest.raises(ValueError, match=r"\(64, 28, 28\).*\(N, 28, 28, 1\)"):
        m.run(x[..., 0])
    with pytest.raises(ValueError, match="'fast'"):
        m.run(x, path="fast")
    with pytest.raises(ValueError, match="float model"):
        float_model.run(x, path="int")
    with pytest.raises(ValueError, match="float model"):
        float_model.verify(x)
    with pytest.raises(ValueError, match="codes=True needs path='int'"):
        m.run(x, path="sim", codes=True)
    with pytest.raises(TypeError, match="numpy array"):
        m.run(x.tolist())
    with pytest.raises(TypeError, match="integer codes"):
        m.run(x.astype(np.float32), input_codes=True)
    with pytest.raises(ValueError, match="code 300 at element 5 is outside"):
        codes = np.zeros((1, 28, 28, 1), np.int64)
        codes.flat[5] = 300
        m.run(codes, input_codes=True)
    with pytest.raises(ValueError, match="sample 1, element 3 .* inf"):
        bad = np.zeros((2, 28, 28, 1))
        bad[1].flat[3] = np.inf
        m.run(bad, path="float")
    with pytest.raises(ValueError, match="batch = 0"):
        m.run(x, batch=0)
    with pytest.raises(ValueError, match="bits = 40"):
        fixq.calibrate(float_model, x, bits=40)
    with pytest.raises(ValueError, match="'Best'"):
        fixq.calibrate(float_model, x, method="Best")
    with pytest.raises(ValueError, match="overflow_rate needs"):
        fixq.calibrate(float_model, x, overflow_rate=0.01)
    with pytest.raises(ValueError, match="no samples"):
        fixq.calibrate(float_model, x[:0])
    with pytest.raises(ValueError, match="count = 0"):
        m.export(d / "never", x, count=0)
    assert not os.path.exists(d / "never")
