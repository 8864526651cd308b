"""fixq.torch (training quantizers for PyTorch) against the module fixq itself.

    PYTHONPATH=build/release/python python3 -m pytest -q tests/python/test_torch_train.py

Forward values are compared bit for bit with fixq.quantize; the straight-through
gradient by its values (1 inside the range, 0 where saturated: gradcheck does not apply
to a step function); stochastic rounding for reproducibility per (seed, step) and for
its expectation; dynamic fractions against fixq.choose_frac; weights stored in fixed
point and dual copies; a tiny network trained with 8-bit quantizers, twice from one
seed. Skipped without torch. One thread, a few seconds.
"""

import math
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
import numpy as np  # noqa: E402
from torch import nn  # noqa: E402

import fixq  # noqa: E402
import fixq.torch as ft  # noqa: E402

torch.set_num_threads(1)


def bits(t):
    """The tensor's bit patterns (exact comparison, -0.0 != 0.0, NaN == NaN)."""
    t = t.detach().contiguous()
    return t.view(torch.int32 if t.dtype == torch.float32 else torch.int64)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(bits(a), bits(b))


def randn(*shape, seed=0, scale=1.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def on_grid(t, frac, fmt=None):
    """Every value a multiple of 2**-frac (and inside fmt's range)."""
    c = t.detach().double() * 2.0 ** frac
    ok = bool(torch.all(c == torch.round(c)))
    if fmt is not None:
        ok = ok and bool(torch.all((t >= fmt.min) & (t <= fmt.max)))
    return ok


# --- quantize: forward and gradient ---------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spec", [
    fixq.QuantSpec(fixq.Format(8, 4)),
    fixq.QuantSpec(fixq.Format(6, 3), round="Stochastic", seed=123),
    fixq.QuantSpec(fixq.Format(5, 2, signed=False), overflow="Wrap"),
    fixq.Format(12, 10),
    (4, 1),
])
def test_forward_equals_fixq_quantize(spec, dtype):
    x = randn(7, 33, seed=1, scale=4, dtype=dtype)
    y = ft.quantize(x, spec)
    assert same_bits(y, fixq.quantize(x, spec))
    xs = randn(40, 30, seed=2, scale=4, dtype=dtype)[::3, 1::2]  # strided view
    assert same_bits(ft.quantize(xs, spec), fixq.quantize(xs.contiguous(), spec))
    xg = x.clone().requires_grad_(True)
    assert same_bits(ft.quantize(xg, spec).detach(), y)


def test_gradient_is_one_inside_zero_where_saturated():
    f = fixq.Format(8, 4)  # [-8, 7.9375]
    vals = [-9.0, -8.01, -8.0, -7.99, -1.03, 0.0, 0.5, 3.3, 7.9375, 7.95, 8.0, 100.0, float("inf")]
    inside = [v >= f.min and v <= f.max for v in vals]
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor(vals, dtype=dtype, requires_grad=True)
        g = torch.arange(1, len(vals) + 1, dtype=dtype)
        ft.quantize(x, f).backward(g)
        expect = torch.where(torch.tensor(inside), g, torch.zeros_like(g))
        assert torch.equal(x.grad, expect), (dtype, x.grad)
    # float32 rounding of the bound: max = 2**24 - 0.5 is no float32 (it rounds to 2**24, which is outside)
    f = fixq.Format(26, 1)
    x = torch.tensor([2.0 ** 24, 2.0 ** 24 - 1, -(2.0 ** 24)], dtype=torch.float32, requires_grad=True)
    ft.quantize(x, f).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


def test_quantizer_module_gradient_masks_saturation():
    q = ft.Quantizer(4, frac=2)  # [-2, 1.75]
    x = torch.tensor([-3.0, -2.0, 0.3, 1.75, 1.8, 5.0], requires_grad=True)
    y = q(x)
    assert same_bits(y.detach(), fixq.quantize(x.detach(), fixq.Format(4, 2)))
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]


# --- stochastic rounding: seeds and steps -----------------------------------------------

def test_stochastic_reproducible_per_step_fresh_across_steps():
    x = randn(64, 50, seed=3)
    q = ft.Quantizer(8, frac=5, round="Stochastic", seed=77, tensor_id=4)
    q.step = 10
    a = q(x)
    assert q.step == 11  # advanced in training mode
    q.step = 10
    b = q(x)
    assert same_bits(a, b)
    c = q(x)  # step 11
    assert not torch.equal(a, c)
    key = fixq.derive_seed(77, 10, 4)
    assert same_bits(a, fixq.quantize(x, fixq.QuantSpec(fixq.Format(8, 5), round="Stochastic", seed=key)))
    # another tensor id or seed: other noise
    q2 = ft.Quantizer(8, frac=5, round="Stochastic", seed=77, tensor_id=5)
    q2.step = 10
    assert not torch.equal(a, q2(x))
    # eval mode: the step does not advance, same noise every call
    q.eval()
    q.step = 10
    assert same_bits(q(x), a) and same_bits(q(x), a) and q.step == 10
    # a fresh module from the same seed repeats the sequence of steps
    r1 = ft.Quantizer(8, frac=5, round="Stochastic", seed=77)
    r2 = ft.Quantizer(8, frac=5, round="Stochastic", seed=77)
    for _ in range(3):
        assert same_bits(r1(x), r2(x))


def test_auto_step_false_and_set_step():
    x = randn(100, seed=4)
    model = nn.Sequential(ft.Quantizer(6, 3, round="Stochastic", seed=1, auto_step=False),
                          ft.Quantizer(6, 3, round="Stochastic", seed=1, auto_step=False))
    assert ft.assign_tensor_ids(model) == 2
    assert [m.tensor_id for m in ft.fixq_modules(model)] == [0, 1]
    ft.set_step(model, 5)
    a = model[0](x)
    assert model[0].step == 5
    assert same_bits(a, model[0](x))
    b = model[1](x)
    assert not torch.equal(a, b)  # distinct tensor ids: independent noise
    ft.set_step(model, 6)
    assert not torch.equal(a, model[0](x))


# --- dynamic fractions ----------------------------------------------------------------------

@pytest.mark.parametrize("method,rate", [("MaxAbs", 0.0), ("OverflowRate", 0.01), ("MinMSE", 0.0)])
def test_dynamic_frac_equals_choose_frac(method, rate):
    q = ft.Quantizer(8, method=method, overflow_rate=rate)
    for seed, scale in [(5, 1.0), (6, 30.0), (7, 0.01)]:
        x = randn(32, 40, seed=seed, scale=scale)
        y = q(x)
        fr = fixq.choose_frac(x, 8, method=method, overflow_rate=rate)
        assert q.last_frac == fr
        assert same_bits(y, fixq.quantize(x, fixq.Format(8, fr)))
    # eval mode keeps the last fraction
    q.eval()
    x = randn(32, 40, seed=8, scale=1000.0)
    assert same_bits(q(x), fixq.quantize(x, fixq.Format(8, fr))) and q.last_frac == fr


def test_dynamic_frac_update_every():
    q = ft.Quantizer(8, update_every=2)
    small, big = randn(50, seed=1), randn(50, seed=2, scale=100.0)
    q(small)  # step 0: chosen
    f0 = q.last_frac
    q(big)  # step 1: kept
    assert q.last_frac == f0
    q(big)  # step 2: chosen again
    assert q.last_frac == fixq.choose_frac(big, 8)
    once = ft.Quantizer(8, update_every=0)
    once(small), once(big)
    assert once.last_frac == fixq.choose_frac(small, 8)


def test_unsigned_dynamic():
    x = torch.rand(1000, generator=torch.Generator().manual_seed(1)) * 3
    q = ft.Quantizer(8, signed=False)
    y = q(x)
    fr = fixq.choose_frac(x, 8, signed=False)
    assert q.last_frac == fr and same_bits(y, fixq.quantize(x, fixq.Format(8, fr, signed=False)))


# --- gradient quantization (dA) ---------------------------------------------------------

def test_grad_quantizer_puts_gradients_on_the_grid():
    x = randn(16, 20, seed=9).requires_grad_(True)
    w = randn(16, 20, seed=10, scale=0.37)
    gq = ft.GradQuantizer(6)
    y = gq(x)
    assert same_bits(y.detach(), x.detach())  # identity forward
    (y * w).sum().backward()
    fr = fixq.choose_frac(w, 6)
    assert gq.last_frac == fr
    assert same_bits(x.grad, fixq.quantize(w, fixq.Format(6, fr)))
    assert on_grid(x.grad, fr, fixq.Format(6, fr))
    # fixed format, stochastic: the key of the forward's step
    x2 = randn(16, 20, seed=9).requires_grad_(True)
    gs = ft.GradQuantizer(6, frac=7, round="Stochastic", seed=3, tensor_id=2)
    gs.step = 4
    (gs(x2) * w).sum().backward()
    spec = fixq.QuantSpec(fixq.Format(6, 7), round="Stochastic", seed=fixq.derive_seed(3, 4, 2))
    assert same_bits(x2.grad, fixq.quantize(w, spec))
    assert on_grid(x2.grad, 7, fixq.Format(6, 7)) and gs.step == 5


def test_quantize_grad_function():
    x = randn(100, seed=11).requires_grad_(True)
    w = randn(100, seed=12)
    spec = fixq.QuantSpec(fixq.Format(4, 2), round="Stochastic", seed=9)
    y = ft.quantize_grad(x, spec)
    assert same_bits(y.detach(), x.detach())
    (y * w).sum().backward()
    assert same_bits(x.grad, fixq.quantize(w, spec))


def test_weight_grad_quantizer():
    lin = nn.Linear(10, 4)
    with torch.no_grad():
        lin.weight.copy_(randn(4, 10, seed=13))
    h = ft.WeightGradQuantizer(lin, 8, frac=6)
    x = randn(5, 10, seed=14)
    lin(x).pow(2).sum().backward()
    assert on_grid(lin.weight.grad, 6, fixq.Format(8, 6))
    assert not on_grid(lin.bias.grad, 6)  # biases untouched
    h.remove()


# --- weights: dual copy and stored fixed point ----------------------------------------------

def test_dual_copy_keeps_float_master_forward_sees_quantized():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    qs = ft.dual_copy(net, 4, frac=3)
    assert [q.tensor_id for q in qs] == [0, 1]
    masters = [net[0].parametrizations.weight.original, net[2].parametrizations.weight.original]
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    assert all(any(p is m for p in net.parameters()) for m in masters)
    x = randn(6, 12, seed=15)
    for _ in range(3):
        opt.zero_grad()
        net(x).pow(2).sum().backward()
        opt.step()
    f = fixq.Format(4, 3)
    for layer, master in zip((net[0], net[2]), masters):
        assert not on_grid(master, 3)  # the master stays float
        assert same_bits(layer.weight.detach(), fixq.quantize(master.detach(), f))
    with torch.no_grad():
        h = torch.relu(x @ fixq.quantize(masters[0].detach(), f).T + net[0].bias)
        ref = h @ fixq.quantize(masters[1].detach(), f).T + net[2].bias
        assert torch.allclose(net(x), ref, rtol=0, atol=1e-6)


def test_dual_copy_per_channel_dynamic():
    conv = nn.Conv2d(3, 5, 3)
    with torch.no_grad():
        conv.weight.mul_(torch.tensor([1.0, 10.0, 0.1, 3.0, 0.5]).view(5, 1, 1, 1))
    (q,) = ft.dual_copy(conv, 6, per_channel=True)
    w = conv.weight.detach()
    master = conv.parametrizations.weight.original.detach()
    fr = [int(v) for v in np.asarray(fixq.choose_frac_per_channel(master, 6, axis=0)).ravel()]
    assert q.last_frac == fr and len(set(fr)) > 1
    for c in range(5):
        assert same_bits(w[c], fixq.quantize(master[c].contiguous(), fixq.Format(6, fr[c])))


def test_per_channel_gradient_masks_each_channels_range():
    w = randn(4, 200, seed=18) * torch.tensor([[1.0], [8.0], [0.2], [3.0]])
    w.requires_grad_(True)
    q = ft.WeightQuantizer(5, method="OverflowRate", overflow_rate=0.05, per_channel=True)
    y = q(w)
    y.sum().backward()
    fr = q.last_frac
    expect_fr = [int(v) for v in np.asarray(fixq.choose_frac_per_channel(
        w.detach(), 5, axis=0, method="OverflowRate", overflow_rate=0.05)).ravel()]
    assert fr == expect_fr
    saturated = 0
    for c in range(4):
        f = fixq.Format(5, fr[c])
        inside = (w[c] >= f.min) & (w[c] <= f.max)
        saturated += int((~inside).sum())
        assert torch.equal(w.grad[c], inside.float())
        assert same_bits(y[c].detach(), fixq.quantize(w[c].detach(), f))
    assert saturated > 0


def test_stored_fixed_point_never_leaves_the_grid():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))
    f = fixq.Format(8, 6)
    stored = ft.StoredFixedPoint(net, 8, frac=6, round="Stochastic", seed=2)
    opt = stored.wrap(torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9))
    ws = [net[0].weight, net[2].weight]
    assert all(on_grid(w, 6, f) for w in ws)
    x, y = randn(32, 10, seed=16), torch.randint(0, 4, (32,), generator=torch.Generator().manual_seed(0))
    before = [w.detach().clone() for w in ws]
    for step in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        assert all(on_grid(w, 6, f) for w in ws), step
    assert stored.step == 20
    assert any(not torch.equal(a, w) for a, w in zip(before, ws))  # it did move
    # dynamic per-channel stored weights: each row on its own grid
    lin = nn.Linear(20, 6)
    st = ft.StoredFixedPoint([lin.weight], 5, per_channel=True, round="Stochastic", seed=4)
    opt = torch.optim.SGD([lin.weight], lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        lin(randn(8, 20, seed=17)).sum().backward()
        opt.step()
        st.apply()
        for row, fr in zip(lin.weight, st.last_frac[0]):
            assert on_grid(row, fr, fixq.Format(5, fr))


def test_nearest_loses_small_updates_stochastic_keeps_expectation():
    n, lsb = 20000, 2.0 ** -4
    delta = 0.3 * lsb  # each step's update: below half an LSB
    w_near = nn.Parameter(torch.full((n,), 0.25))
    w_sto = nn.Parameter(torch.full((n,), 0.25))
    near = ft.StoredFixedPoint([w_near], 8, frac=4)
    sto = ft.StoredFixedPoint([w_sto], 8, frac=4, round="Stochastic", seed=11)
    steps = 5
    for _ in range(steps):
        with torch.no_grad():
            w_near.add_(delta)
            w_sto.add_(delta)
        near.apply()
        sto.apply()
    assert torch.all(w_near == 0.25)  # round-to-nearest: every update lost
    moved = (w_sto.detach().double() - 0.25) / lsb  # a sum of `steps` updates, each +1 with p = 0.3 (roughly)
    mean, expect = moved.mean().item(), steps * 0.3
    se = moved.std().item() / math.sqrt(n)
    assert abs(mean - expect) < 4 * se, (mean, expect, se)
    assert on_grid(w_sto, 4)
    # a single step: the probability of moving up is the fraction of an LSB
    w1 = nn.Parameter(torch.full((n,), 0.25))
    s1 = ft.StoredFixedPoint([w1], 8, frac=4, round="Stochastic", seed=12)
    with torch.no_grad():
        w1.add_(delta)
    s1.apply()
    p = ((w1 - 0.25) / lsb).mean().item()
    assert set(((w1.detach() - 0.25) / lsb).unique().tolist()) <= {0.0, 1.0}
    assert abs(p - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n), p


def test_stored_rounds_initial_weights_to_nearest():
    w = nn.Parameter(torch.tensor([0.26, -0.3, 5.0]))
    ft.StoredFixedPoint([w], 4, frac=2, round="Stochastic", seed=1)
    assert w.detach().tolist() == [0.25, -0.25, 1.75]


# --- training -------------------------------------------------------------------------------

def blobs(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(4, 8, generator=g) * 2
    y = torch.randint(0, 4, (n,), generator=g)
    x = centers[y] + torch.randn(n, 8, generator=g)
    return x, y


def train_tiny(seed, method, steps=60):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(8, 32), ft.Quantizer(8, round="Stochastic", seed=seed),
                        nn.ReLU(), ft.GradQuantizer(8, round="Stochastic", seed=seed),
                        nn.Linear(32, 4), ft.Quantizer(8, round="Stochastic", seed=seed))
    ft.assign_tensor_ids(net)
    if method == "dual":
        ft.dual_copy(net, 8, round="Stochastic", seed=seed, first_id=100)
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    else:
        stored = ft.StoredFixedPoint(net, 8, frac=6, round="Stochastic", seed=seed, first_id=100)
        opt = stored.wrap(torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9))
    x, y = blobs()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.detach().clone() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("method", ["dual", "stored"])
def test_tiny_network_trains_and_is_reproducible(method):
    losses, state = train_tiny(1, method)
    assert losses[-1] < 0.5 * losses[0], losses
    losses2, state2 = train_tiny(1, method)
    assert losses2 == losses
    assert state.keys() == state2.keys()
    assert all(same_bits(state[k], state2[k]) for k in state)
    _, state3 = train_tiny(2, method, steps=3)
    assert any(not torch.equal(state[k], state3[k]) for k in state)


# --- errors and the command line ------------------------------------------------------------

@pytest.mark.parametrize("kwargs,named", [
    (dict(word=0), "word=0"),
    (dict(word=65), "word=65"),
    (dict(word=8.0), "word=8.0"),
    (dict(word=8, method="Max"), "'Max'"),
    (dict(word=8, round="Nope"), "'Nope'"),
    (dict(word=8, overflow="Clamp"), "'Clamp'"),
    (dict(word=8, round="Stochastic"), "seed"),
    (dict(word=8, round="Stochastic", seed=-1), "seed=-1"),
    (dict(word=8, method="OverflowRate", overflow_rate=2.0), "overflow_rate=2.0"),
    (dict(word=8, overflow_rate=0.1), "overflow_rate=0.1"),
    (dict(word=8, signed="yes"), "signed='yes'"),
    (dict(word=8, update_every=-1), "update_every=-1"),
    (dict(word=8, frac=2000), "frac=2000"),
])
def test_bad_arguments_raise_value_error(kwargs, named):
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(".", r"\.")):
        ft.Quantizer(**kwargs)


def test_bad_arguments_elsewhere():
    with pytest.raises(ValueError, match="spec="):
        ft.quantize(torch.zeros(3), "NearestEven")
    with pytest.raises(ValueError, match="per_channel='no'"):
        ft.WeightQuantizer(8, per_channel="no")
    with pytest.raises(ValueError, match="no parameters"):
        ft.StoredFixedPoint([], 8, frac=4)
    with pytest.raises(ValueError, match="no Linear or Conv"):
        ft.StoredFixedPoint(nn.ReLU(), 8, frac=4)
    with pytest.raises(ValueError, match="step=-2"):
        ft.StoredFixedPoint([nn.Parameter(torch.zeros(2))], 8, frac=4).apply(-2)
    with pytest.raises(ValueError, match="axis=2"):
        ft.WeightQuantizer(8, per_channel=True, axis=2)(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="already"):
        lin = nn.Linear(2, 2)
        ft.dual_copy(lin, 8)
        ft.dual_copy(lin, 8)


def test_export_model_and_command_line(tmp_path):
    from fixq._torch_import import export_model
    assert ft.export_model is export_model
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    torch.save(net, tmp_path / "net.pt")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-m", "fixq.torch", str(tmp_path / "net.pt"), str(tmp_path / "out"),
                        "--input-shape", "4"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and (tmp_path / "out" / "model.json").is_file()
