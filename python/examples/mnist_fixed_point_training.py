#!/usr/bin/env python3
"""Fixed-point training of a small CNN on MNIST with fixq.torch: word width x method.

The loop a Keras user asked for (fixed-point rounding during training, on whole
tensors), in PyTorch over fixq's kernels. For each word width and each method the same
network, from the same initial weights, the same data order and the same seed, is
trained and tested; the program prints a table (width x method -> test accuracy) and
with --json FILE writes the numbers.

    PYTHONPATH=build/release/python python3 python/examples/mnist_fixed_point_training.py --quick
    FIXQ_DATA_DIR=~/data python3 python/examples/mnist_fixed_point_training.py --epochs 2 --json out.json

The network: Caffe's LeNet with ReLU, as the bundled fixq model examples/mnist/model
(examples/mnist/lenet.hpp): conv 5x5x20, max pool 2, conv 5x5x50, max pool 2, dense 500,
ReLU, dense 10 (431,080 parameters); pixels p -> p / 256 as the model's preprocess (which
is exactly an 8-bit unsigned fixed-point input, so the input needs no quantizer). Adam.

The methods, for weights of W bits (every Linear / Conv2d weight; biases stay float):
  stochastic  weights STORED in fixed point (fixq.torch.StoredFixedPoint): no float
              master; after each optimizer step the weights themselves are rounded into
              their format with stochastic rounding (randomized rounding, Gupta et al.
              2015), noise keyed by derive_seed(seed, step, tensor id). The fraction of
              each tensor is chosen once, from the initial weights (MaxAbs).
  nearest     the same with round-to-nearest (even): an update below half an LSB is
              lost, so training stalls when the LSB is large (Gupta et al.'s contrast).
  dual        dual copy (fixq.torch.dual_copy): the float master weights take the
              update, the forward pass uses a copy rounded to nearest (even) in a format
              chosen once from the initial weights (MaxAbs).
  dynamic     dynamic fixed point: as dual, but each tensor's fraction is re-chosen at
              every step from its current range (MaxAbs: the largest fraction at which
              nothing saturates; Courbariaux et al. 2014).
In every quantized row the outputs of the conv and dense layers are 8-bit fixed point
(fixq.torch.Quantizer(8): fraction chosen per batch in training, the last one kept for
testing), rounded to nearest; with --grad-bits N the gradients of those outputs are
quantized to N bits with stochastic rounding (fixq.torch.GradQuantizer). The row
"float" trains without any quantizer.

Data: MNIST's IDX files (gzip). With FIXQ_DATA_DIR set (or --data DIR): DIR/mnist/ (or DIR
itself) holding the official train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (`bash scripts/fetch_data.sh`
downloads them): 60,000 training and 10,000 test images. Otherwise the files bundled in
the repository, examples/data/mnist/: the 10,000 test images (t10k-*) and, as training
data, calibration-*: the first 1,000 images of MNIST's training set (examples/mnist/
itself holds the model and the sweep's results, no data). With 1,000 training images
the accuracies are those of a small-data run: with --epochs 4 (3 minutes on one core)
about 93% in float and 92-94% for every method at 3 to 8 bits, while stored weights
rounded to nearest stall below 6 bits (their updates are smaller than half an LSB) and
2-bit dynamic fixed point (MaxAbs rounds most weights to 0) fails.

--quick: widths 2, 4, 8, 1 epoch on at most 1,000 training images, 1,000 test images:
about 30 s on one core. A smoke test: after 63 steps every network is undertrained
(float about 84%) and the test set's 1,000 images give about +-1.2 points of sampling
noise, so only the failures (nearest and dynamic at low widths) stand out.
Reproducible: torch's global seed, the data order and every stochastic rounding come
from --seed (two runs print the same table); torch runs on --threads threads (default 1).
"""

import argparse
import copy
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import fixq
import fixq.torch as ft

METHODS = ("stochastic", "nearest", "dual", "dynamic")
ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "examples" / "data" / "mnist"


# --- data -------------------------------------------------------------------------------

def read_idx(path):
    """An IDX file (gzip or not) as a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {body.size} bytes of data for shape {shape}")
    return body.reshape(shape)


def find_file(folder, stem):
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{folder}: no {stem}.gz (or {stem})")


def load_mnist(data_arg):
    """(train_x, train_y, test_x, test_y, description); x as float32 (n, 1, 28, 28) = p / 256."""
    given = data_arg or os.environ.get("FIXQ_DATA_DIR", "")
    if given:
        folder = Path(given).expanduser()
        if (folder / "mnist").is_dir():
            folder = folder / "mnist"
        train = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
        where = f"MNIST from {folder}"
    else:
        folder = BUNDLED
        train = ("calibration-images-idx3-ubyte", "calibration-labels-idx1-ubyte")
        where = f"bundled MNIST ({folder}: training = the first 1,000 training images, test = t10k)"
    xs = [read_idx(find_file(folder, s)) for s in (train[0], "t10k-images-idx3-ubyte")]
    ys = [read_idx(find_file(folder, s)) for s in (train[1], "t10k-labels-idx1-ubyte")]
    conv = [torch.from_numpy(x.astype(np.float32) / 256.0).unsqueeze(1) for x in xs]
    labels = [torch.from_numpy(y.astype(np.int64)) for y in ys]
    return conv[0], labels[0], conv[1], labels[1], where


# --- the network ------------------------------------------------------------------------

def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(800, 500), nn.ReLU(),
        nn.Linear(500, 10))


def with_activation_quantizers(net, bits, grad_bits, seed):
    """A copy of net with a Quantizer after each Conv2d / Linear (and a GradQuantizer
    before it when grad_bits): 8-bit outputs, fraction chosen per batch."""
    layers = []
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if grad_bits:
                layers.append(ft.GradQuantizer(grad_bits, round="Stochastic", seed=seed))
            layers += [m, ft.Quantizer(bits)]
        else:
            layers.append(m)
    q = nn.Sequential(*layers)
    ft.assign_tensor_ids(q)  # distinct noise for each quantizer
    return q


def build(method, width, init_state, args):
    """(network, optimizer) for one row of the table, from the initial weights."""
    net = lenet()
    net.load_state_dict(init_state)
    if method == "float":
        return net, torch.optim.Adam(net.parameters(), lr=args.lr)
    net = with_activation_quantizers(net, args.act_bits, args.grad_bits, args.seed)
    ids = 1000  # weight tensors' ids, apart from the activations'
    if method in ("stochastic", "nearest"):
        rounding = dict(round="Stochastic", seed=args.seed) if method == "stochastic" else {}
        stored = ft.StoredFixedPoint(net, width, update_every=0, per_channel=args.per_channel, first_id=ids,
                                     **rounding)
        return net, stored.wrap(torch.optim.Adam(net.parameters(), lr=args.lr))
    ft.dual_copy(net, width, update_every=0 if method == "dual" else 1, per_channel=args.per_channel,
                 first_id=ids)
    return net, torch.optim.Adam(net.parameters(), lr=args.lr)


def accuracy(net, x, y, batch=500):
    net.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            right += int((net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    net.train()
    return right / len(x)


def run_row(method, width, init_state, data, args):
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = data
    net, opt = build(method, width, init_state, args)
    net.train()
    n = len(train_x)
    loss = float("nan")
    for epoch in range(args.epochs):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
        for i in range(0, n, args.batch):
            idx = order[i:i + args.batch]
            opt.zero_grad()
            out = net(train_x[idx])
            loss_t = nn.functional.cross_entropy(out, train_y[idx])
            loss_t.backward()
            opt.step()
            loss = loss_t.item()
    return accuracy(net, test_x, test_y), loss


# --- the program ------------------------------------------------------------------------

def int_list(text):
    try:
        v = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        v = []
    if not v or any(w < 1 or w > 32 for w in v):
        raise argparse.ArgumentTypeError(f"expected widths such as 2,4,8 (1..32), got '{text}'")
    return v


def main(argv=None):
    p = argparse.ArgumentParser(description="MNIST LeNet trained in fixed point (fixq.torch): a table of "
                                "test accuracy per word width and method.")
    p.add_argument("--quick", action="store_true", help="widths 2,4,8, 1 epoch, 1,000 train / 1,000 test images")
    p.add_argument("--widths", type=int_list, help="weight word widths (default 2..10; --quick: 2,4,8)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated, of {', '.join(METHODS)} (default all)")
    p.add_argument("--epochs", type=int, help="epochs (default 1)")
    p.add_argument("--train-count", type=int, help="training images used (default all; --quick 1000)")
    p.add_argument("--test-count", type=int, help="test images used (default all; --quick 1000)")
    p.add_argument("--batch", type=int, default=16, help="mini-batch (default 16)")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate (default 2e-3)")
    p.add_argument("--act-bits", type=int, default=8, help="activation word width (default 8)")
    p.add_argument("--grad-bits", type=int, default=0, help="quantize activation gradients to N bits, "
                   "stochastic rounding (default 0: float gradients)")
    p.add_argument("--per-channel", action="store_true", help="one weight fraction per output channel")
    p.add_argument("--seed", type=int, default=1, help="seed of everything (default 1)")
    p.add_argument("--threads", type=int, default=1, help="torch's threads (default 1)")
    p.add_argument("--data", help="MNIST folder (default $FIXQ_DATA_DIR/mnist, else the bundled files)")
    p.add_argument("--json", metavar="FILE", help="write the results to FILE")
    a = p.parse_args(argv)
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    for m in methods:
        if m not in METHODS:
            p.error(f"--methods: unknown method '{m}' (expected {', '.join(METHODS)})")
    if a.widths is None:
        a.widths = [2, 4, 8] if a.quick else list(range(2, 11))
    if a.epochs is None:
        a.epochs = 1
    if a.quick:
        a.train_count = a.train_count or 1000
        a.test_count = a.test_count or 1000
    for name in ("epochs", "batch", "threads"):
        if getattr(a, name) < 1:
            p.error(f"--{name}: expected >= 1, got {getattr(a, name)}")
    if not 1 <= a.act_bits <= 32 or not 0 <= a.grad_bits <= 32:
        p.error("--act-bits: 1..32, --grad-bits: 0..32")
    if a.seed < 0:
        p.error(f"--seed: expected >= 0, got {a.seed}")

    torch.set_num_threads(a.threads)
    fixq.set_threads(a.threads)
    try:
        train_x, train_y, test_x, test_y, where = load_mnist(a.data)
    except (OSError, ValueError) as e:
        print(f"mnist_fixed_point_training: {e}", file=sys.stderr)
        return 1
    if a.train_count:
        train_x, train_y = train_x[:a.train_count], train_y[:a.train_count]
    if a.test_count:
        test_x, test_y = test_x[:a.test_count], test_y[:a.test_count]
    data = (train_x, train_y, test_x, test_y)
    print(f"{where}\ntraining on {len(train_x)} images, {a.epochs} epoch(s), batch {a.batch}; testing on "
          f"{len(test_x)}; activations {a.act_bits}-bit"
          + (f", activation gradients {a.grad_bits}-bit stochastic" if a.grad_bits else "")
          + f"; seed {a.seed}; {a.threads} thread(s)", flush=True)

    torch.manual_seed(a.seed)
    init_state = copy.deepcopy(lenet().state_dict())  # the same initial weights for every row
    start = time.time()
    results = []

    def row(method, width):
        t = time.time()
        acc, loss = run_row(method, width, init_state, data, a)
        results.append({"width": width, "method": method, "accuracy": acc, "final_loss": loss,
                        "seconds": round(time.time() - t, 2)})
        print(f"  {method:>10} {'' if width is None else width:>3}: {100 * acc:6.2f}%  (loss {loss:.3f}, "
              f"{time.time() - t:.1f} s)", file=sys.stderr, flush=True)
        return acc

    float_acc = row("float", None)
    table = {}
    for w in a.widths:
        for m in methods:
            table[(w, m)] = row(m, w)

    head = "| bits | " + " | ".join(methods) + " |"
    print()
    print(head)
    print("|" + "---:|" * (len(methods) + 1))
    for w in a.widths:
        print(f"| {w} | " + " | ".join(f"{100 * table[(w, m)]:.2f}%" for m in methods) + " |")
    print("| float | " + " | ".join(f"{100 * float_acc:.2f}%" for _ in methods) + " |")
    total = time.time() - start
    print(f"\n{len(results)} runs in {total:.1f} s")
    if a.json:
        doc = {"data": where, "train_images": len(train_x), "test_images": len(test_x), "epochs": a.epochs,
               "batch": a.batch, "lr": a.lr, "act_bits": a.act_bits, "grad_bits": a.grad_bits,
               "per_channel": a.per_channel, "seed": a.seed, "threads": a.threads, "float_accuracy": float_acc,
               "results": results, "seconds": round(total, 2)}
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
