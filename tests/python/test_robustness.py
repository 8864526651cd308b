"""Hostile inputs to the Python package: what must be refused with a clear error, and what
must keep working (forked children, unaligned memory, autograd's saved tensors)."""

import multiprocessing
import os

import numpy as np
import pytest

import fixq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "examples", "mnist", "model")


def _quantize_in_child(queue):
    x = np.linspace(-9, 9, 1 << 20, dtype=np.float32)
    queue.put(fixq.quantize(x, (8, 4))[:3].tolist())


def test_a_forked_child_runs_the_kernels():
    # The parent runs a parallel region first: libgomp cannot start threads in a child
    # forked after that, so the package makes forked children run on one thread.
    fixq.set_threads(2)
    try:
        x = np.linspace(-9, 9, 1 << 20, dtype=np.float32)
        want = fixq.quantize(x, (8, 4))[:3].tolist()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_quantize_in_child, args=(queue,))
        child.start()
        child.join(60)
        if child.is_alive():
            child.kill()
            pytest.fail("the forked child hung in the kernel")
        assert child.exitcode == 0 and queue.get(timeout=5) == want
    finally:
        fixq.set_threads(0)


def test_unaligned_memory_is_read_and_written_correctly():
    raw = np.zeros(4 * 1000 + 1, np.uint8)
    x = raw[1:].view(np.float32)  # unaligned
    assert not x.flags.aligned
    x[:] = np.linspace(-3, 3, 1000, dtype=np.float32)
    want = fixq.quantize(np.array(x), (8, 4))
    assert np.array_equal(fixq.quantize(x, (8, 4)), want)
    out_raw = np.zeros(4 * 1000 + 1, np.uint8)
    out = out_raw[1:].view(np.float32)
    fixq.quantize(x, (8, 4), out=out)
    assert np.array_equal(out, want)
    assert np.array_equal(fixq.quantize_codes(x, (8, 4)), fixq.quantize_codes(np.array(x), (8, 4)))


def test_refused_arrays_and_arguments():
    x = np.linspace(-1, 1, 8)
    with pytest.raises(TypeError, match="masked array"):
        fixq.quantize(np.ma.array(x, mask=[0, 1] * 4), (8, 4))
    with pytest.raises(ValueError, match=r"n = 5000 is out of range \[0, 1024\]"):
        fixq.set_threads(5000)
    with pytest.raises(TypeError):
        fixq.set_threads(1.5)
    with pytest.raises(TypeError, match="word must be an int"):
        fixq.choose_frac(x, 8.0)
    with pytest.raises(ValueError, match="word = 2000"):
        fixq.choose_frac(x, 2000)
    assert fixq.choose_frac(x, np.int64(8)) == fixq.choose_frac(x, 8)
    with pytest.raises(TypeError, match=">i8; expected an integer dtype"):
        fixq.dequantize(np.zeros(3, ">i8"), (8, 4))


def test_model_arguments_of_the_wrong_type(tmp_path):
    m = fixq.load_model(MODEL)
    x = np.zeros((2, 28, 28, 1), np.uint8)
    for kwargs in (dict(bits=True), dict(weight_bits=4.7), dict(count=2.5), dict(bits="8")):
        with pytest.raises(TypeError):
            fixq.calibrate(m, x, **kwargs)
    with pytest.raises(ValueError, match="count = 0"):
        fixq.calibrate(m, x, count=0)
    with pytest.raises(TypeError, match="batch must be an int"):
        m.run(x, path="float", batch=2.0)
    q = fixq.calibrate(m, x, bits=8)
    with pytest.raises(ValueError, match="null byte"):
        q.save(str(tmp_path / "a\0b"))
    assert not os.path.exists(tmp_path / "a")
    with pytest.raises(ValueError, match="null byte"):
        fixq.load_model(MODEL + "\0x")
    with pytest.raises(ValueError, match="outside the input format"):
        q.run(np.full((1, 28, 28, 1), 2**63, np.uint64), input_codes=True)


def test_tensors_autograd_would_not_see_are_refused():
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.33, 2.22], requires_grad=True)
    y = w.exp()
    with pytest.raises(ValueError, match="requires grad"):
        fixq.quantize(y, (8, 4), out=y)
    p = torch.nn.Parameter(torch.ones(2) * 1.33)
    with pytest.raises(ValueError, match="requires grad"):
        fixq.quantize(p, (8, 4), out=p)
    with torch.no_grad():  # an optimizer's in-place update: allowed
        fixq.quantize(p, (8, 4), out=p)
    assert p.tolist() == [1.3125, 1.3125]
    # Integer tensors cannot hold a quantizer's values: refused, never wrapped.
    import fixq.torch as ft
    with pytest.raises(ValueError, match="floating-point"):
        ft.Quantizer(8)(torch.tensor([[255, 3]], dtype=torch.uint8))
    with pytest.raises(ValueError, match="floating-point"):
        ft.quantize(torch.tensor([16777217]), (64, 0))
    # Codes dtypes torch lacks are refused before any work; random words come as int64.
    with pytest.raises(TypeError, match="torch has no"):
        fixq.quantize_codes(torch.randn(3), (12, 4, False), dtype=np.uint16)
    words = fixq.random_u32(1, torch.arange(3))
    assert words.dtype == torch.int64 and words.tolist() == fixq.random_u32(1, np.arange(3)).tolist()
