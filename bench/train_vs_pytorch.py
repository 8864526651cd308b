#!/usr/bin/env python3
"""Training speed of the MNIST example's LeNet in fixq's C++ trainer and in PyTorch, side by side.

    /usr/bin/python3 bench/train_vs_pytorch.py --images 10000 --threads 1,2

(Debian's /usr/bin/python3, which has torch and numpy. fixq-mnist must be built first:
cmake --preset release && cmake --build --preset release; or pass --fixq-mnist PATH.
--pytorch-only measures PyTorch alone.)

What it measures: images per second of one epoch of training, batch 64, over the first N
images of MNIST's training set (--images N), shuffled, on each thread count of --threads.
  - fixq: `fixq-mnist train --train-count N --epochs 1 --threads T --seed 1`, run as a
    process of its own; the figure is N / the epoch's seconds in its training.json.
  - PyTorch: the same network in torch.nn, the same N images (pixels / 256.0, float32,
    NCHW, already in a tensor), torch.set_num_threads(T); time.perf_counter around the
    epoch loop only, after a warm-up of a few batches that is not counted (the weights
    and the optimizer are reset after it).
Each side runs --repeat R times per thread count, interleaved (fixq, PyTorch, PyTorch, fixq,
...) so that a drift of the host reaches both; the best of the R runs is reported, with the
ratio fixq / PyTorch of images per second (> 1: fixq is faster).

The network is examples/mnist/lenet.hpp (431,080 parameters): input 28x28x1; Conv2D 20 5x5
valid, stride 1, bias; ReLU; MaxPool 2x2 stride 2; Conv2D 50 5x5 valid; ReLU; MaxPool 2x2;
Flatten; Dense 500; ReLU; Dense 10. Loss: softmax cross-entropy, mean over the batch.

Optimizer, the same on both sides: Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay
1e-4 decoupled from the gradient (AdamW) on the weights only. fixq decays Params marked
`decay` (the weights of Conv2D and Dense, not the biases); PyTorch gets torch.optim.AdamW
with two parameter groups, the weights with weight_decay=1e-4 and the biases with
weight_decay=0. fixq's trainer follows a cosine schedule from lr to 0 over the run (here one
epoch), step by step; the PyTorch loop sets the same learning rate at every step. Both
compute the batch's loss and correct count at every step (printed as a check).

Fairness caveats:
  - fixq-mnist's train applies random-shift augmentation (up to 2 pixels each way, zero
    fill) to every batch, inside the timed epoch; the PyTorch side does no augmentation.
    It is cheap next to a training step but it is counted against fixq.
  - fixq-mnist evaluates on the test set after the epoch, outside the epoch's seconds. So
    that the runs end sooner, fixq-mnist gets a data folder of its own: links to the
    training files, and a stand-in "test set" of the first 100 training images. Its test
    accuracy means nothing and is not reported.
  - fixq keeps images NHWC and uses its own kernels; PyTorch uses oneDNN (mkldnn, left at
    its default) for the convolutions and the BLAS it is linked with for the Dense layers.
    The BLAS matters: Debian's torch links libblas.so.3, which is netlib's unoptimized
    reference BLAS unless OpenBLAS or BLIS is installed as its alternative. The script
    prints the library it found.
  - fixq's run is a separate process (its own start-up, data loading and final evaluation
    are outside the timed epoch); PyTorch runs in this process, which idles meanwhile.
  - The shuffles differ (each side's own random generator), as do the initial weights.
  - Best of R suits a quiet host; on a loaded one, raise --repeat.

Data: train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz (uncompressed copies
without .gz are read too) in --data DIR, by default $FIXQ_DATA_DIR/mnist (or
$FIXQ_DATA_DIR itself when it has no mnist folder). Missing data: exit status 2.
--json FILE also writes the figures, every run's seconds included, as JSON.
"""

import argparse
import gzip
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from host import cpu_name  # bench/host.py, beside this script

BATCH = 64
LR = 1e-3
WEIGHT_DECAY = 1e-4
WARMUP_BATCHES = 5
STANDIN_TEST_IMAGES = 100
PARAMETERS = 431080  # examples/mnist/lenet.hpp
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FIXQ_MNIST = os.path.join(REPO, "build", "release", "examples", "mnist", "fixq-mnist")
IMAGES_FILE = "train-images-idx3-ubyte.gz"
LABELS_FILE = "train-labels-idx1-ubyte.gz"


class DataError(Exception):
    pass


# ---- data ----


def default_data_dir():
    e = os.environ.get("FIXQ_DATA_DIR")
    if not e:
        return None
    sub = os.path.join(e, "mnist")
    return sub if os.path.isdir(sub) else e


def find_idx(folder, name):
    """The path of name in folder, or of its uncompressed copy (name without .gz)."""
    for candidate in (name, name[: -len(".gz")]):
        p = os.path.join(folder, candidate)
        if os.path.isfile(p):
            return p
    raise DataError(f"missing {os.path.join(folder, name)} (MNIST's training set: pass --data DIR or set "
                    "FIXQ_DATA_DIR; scripts/fetch_data.sh downloads it)")


def read_idx(path, magic, count):
    """The first `count` items of an IDX file (gzip or not): the header's extents and a uint8 array."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) != 4 or int.from_bytes(head, "big") != magic:
                raise DataError(f"{path}: not an IDX file of magic 0x{magic:08x}")
            dims = magic & 0xFF
            raw = f.read(4 * dims)
            if len(raw) != 4 * dims:
                raise DataError(f"{path}: truncated header")
            extents = [int(v) for v in np.frombuffer(raw, dtype=">u4")]
            if extents[0] < count:
                raise DataError(f"{path}: holds {extents[0]} items, fewer than the {count} asked for (--images)")
            per = int(np.prod(extents[1:], dtype=np.int64)) if dims > 1 else 1
            data = f.read(count * per)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path}: {e}") from e
    if len(data) != count * per:
        raise DataError(f"{path}: data shorter than its header says")
    return extents, np.frombuffer(data, dtype=np.uint8).reshape([count] + extents[1:])


def load_train(folder, count):
    """(images uint8 (count, 28, 28), labels uint8 (count,), images path, labels path)."""
    ipath, lpath = find_idx(folder, IMAGES_FILE), find_idx(folder, LABELS_FILE)
    ext, x = read_idx(ipath, 0x00000803, count)
    if ext[1:] != [28, 28]:
        raise DataError(f"{ipath}: images of {ext[1]}x{ext[2]}, LeNet takes 28x28")
    _, y = read_idx(lpath, 0x00000801, count)
    if y.max(initial=0) > 9:
        raise DataError(f"{lpath}: a label above 9")
    return x, y, ipath, lpath


def write_idx(path, magic, array):
    with open(path, "wb") as f:
        f.write(magic.to_bytes(4, "big"))
        f.write(np.asarray(array.shape, dtype=">u4").tobytes())
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def fixq_data_dir(root, ipath, lpath, x, y):
    """A data folder for fixq-mnist: the training files linked, a stand-in test set of 100 images."""
    d = os.path.join(root, "data")
    os.mkdir(d)
    for src in (ipath, lpath):
        dst = os.path.join(d, os.path.basename(src))
        try:
            os.symlink(os.path.abspath(src), dst)
        except OSError:
            shutil.copyfile(src, dst)
    k = min(STANDIN_TEST_IMAGES, len(y))
    write_idx(os.path.join(d, "t10k-images-idx3-ubyte"), 0x00000803, x[:k])
    write_idx(os.path.join(d, "t10k-labels-idx1-ubyte"), 0x00000801, y[:k])
    return d


# ---- fixq ----


def run_fixq(exe, data, images, threads, root, index):
    """One epoch of fixq-mnist train: (seconds of the epoch, its history record)."""
    out = os.path.join(root, f"fixq-out-{index}")
    cmd = [exe, "train", "--data", data, "--train-count", str(images), "--epochs", "1", "--threads", str(threads),
           "--seed", "1", "-o", out]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd)} exited with {p.returncode}:\n{tail}")
    with open(os.path.join(out, "training.json")) as f:
        record = json.load(f)
    shutil.rmtree(out, ignore_errors=True)
    if record.get("training_images") not in (None, images):
        raise RuntimeError(f"fixq-mnist trained on {record['training_images']} images, not {images}")
    h = record["history"][0]
    return float(h["seconds"]), h


# ---- PyTorch ----


def lenet(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(800, 500), nn.ReLU(),
        nn.Linear(500, 10))


def adamw(torch, model):
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    other = [p for n, p in model.named_parameters() if not n.endswith("weight")]
    return torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": other, "weight_decay": 0.0}],
                             lr=LR, betas=(0.9, 0.999), eps=1e-8)


def cosine_lr(step, steps):
    """fixq's default schedule (fixq/train/optimizer.hpp) over one epoch: lr * (1 + cos(pi t)) / 2."""
    return LR * 0.5 * (1 + math.cos(math.pi * step / steps))


def run_pytorch(torch, x, y, threads, seed):
    """One epoch of PyTorch training: (seconds, mean loss, accuracy) of the epoch."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = lenet(torch)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    steps = (n + BATCH - 1) // BATCH

    def step(opt, xb, yb, lr):
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        opt.step()
        return loss.item(), int((out.argmax(1) == yb).sum().item())

    # Warm-up (oneDNN primitives, allocator, thread pool), then the weights restored.
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    opt = adamw(torch, model)
    for s in range(WARMUP_BATCHES):
        i = (s * BATCH) % n
        step(opt, x[i:i + BATCH], y[i:i + BATCH], LR)
    model.load_state_dict(initial)
    opt = adamw(torch, model)
    g = torch.Generator().manual_seed(seed)

    t0 = time.perf_counter()
    order = torch.randperm(n, generator=g)
    loss_sum, right = 0.0, 0
    for s in range(steps):
        idx = order[s * BATCH:(s + 1) * BATCH]
        loss, correct = step(opt, x[idx], y[idx], cosine_lr(s, steps))
        loss_sum += loss * len(idx)
        right += correct
    seconds = time.perf_counter() - t0
    return seconds, loss_sum / n, right / n


# ---- the host ----


def blas_library():
    """The BLAS shared library mapped into this process (after importing torch), resolved."""
    found = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path).lower()
                if any(k in base for k in ("blas", "blis", "libmkl")) and path not in found:
                    found.append(path)
    except OSError:
        return "unknown"
    if not found:
        return "none found (MKL or a BLAS linked statically?)"
    out = []
    for p in found:
        real = os.path.realpath(p)
        note = ""
        if "/blas/libblas.so" in real:
            note = " (netlib reference BLAS: unoptimized)"
        elif "openblas" in real.lower():
            note = " (OpenBLAS)"
        elif "blis" in real.lower():
            note = " (BLIS)"
        out.append(real + note)
    return ", ".join(out)


def thread_list(text):
    try:
        v = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of thread counts: {text!r}")
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1: {text!r}")
    return v


def rate(images, seconds):
    return images / seconds if seconds else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=10000, help="training images, the first N (default: 10000)")
    p.add_argument("--threads", type=thread_list, default=[1, 2], help="thread counts, comma-separated (default: 1,2)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side per thread count; the best counts (default: 3)")
    p.add_argument("--data", help="folder of MNIST's IDX files (default: $FIXQ_DATA_DIR/mnist)")
    p.add_argument("--fixq-mnist", default=DEFAULT_FIXQ_MNIST, help="the fixq-mnist program (default: %(default)s)")
    p.add_argument("--pytorch-only", action="store_true", help="measure PyTorch alone")
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args()
    if a.images < 1 or a.repeat < 1:
        p.error("--images and --repeat must be >= 1")

    data = a.data or default_data_dir()
    if not data:
        print("error: no data folder: pass --data DIR (holding " + IMAGES_FILE + " and " + LABELS_FILE +
              ") or set FIXQ_DATA_DIR; scripts/fetch_data.sh downloads MNIST", file=sys.stderr)
        return 2
    try:
        x8, y8, ipath, lpath = load_train(data, a.images)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    exe = None if a.pytorch_only else os.path.abspath(a.fixq_mnist)
    if exe and not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        print(f"error: no fixq-mnist program at {exe}: build it (cmake --preset release && cmake --build --preset "
              "release), pass --fixq-mnist PATH, or measure PyTorch alone with --pytorch-only", file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError:
        print(f"error: {sys.executable} has no torch; run this with /usr/bin/python3 (Debian's, with python3-torch)",
              file=sys.stderr)
        return 2

    x = torch.from_numpy((x8.astype(np.float32) / np.float32(256.0)).reshape(-1, 1, 28, 28).copy())
    y = torch.from_numpy(y8.astype(np.int64))
    count = sum(p_.numel() for p_ in lenet(torch).parameters())
    assert count == PARAMETERS, f"the PyTorch LeNet has {count} parameters, not {PARAMETERS}"

    blas = blas_library()
    print(f"CPU: {cpu_name()} ({os.cpu_count()} logical CPUs)")
    print(f"PyTorch {torch.__version__}, numpy {np.__version__}; mkldnn (oneDNN) "
          f"{'enabled' if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled else 'off'}; "
          f"BLAS: {blas}")
    print(f"LeNet ({PARAMETERS:,} parameters), one epoch of {a.images:,} MNIST training images, batch {BATCH}, "
          f"AdamW lr {LR:g} (cosine), weight decay {WEIGHT_DECAY:g} on weights; best of {a.repeat}")
    if exe:
        print(f"fixq: {exe}")
    sys.stdout.flush()

    rows = []
    root = tempfile.mkdtemp(prefix="fixq-train-vs-pytorch-")
    try:
        fdata = fixq_data_dir(root, ipath, lpath, x8, y8) if exe else None
        run_index = 0
        for t in a.threads:
            fx, pt = [], []
            fx_last = pt_last = None
            for r in range(a.repeat):
                order = ("fixq", "torch") if r % 2 == 0 else ("torch", "fixq")
                for side in order:
                    if side == "fixq" and exe:
                        s, h = run_fixq(exe, fdata, a.images, t, root, run_index)
                        run_index += 1
                        fx.append(s)
                        fx_last = h
                    elif side == "torch":
                        s, loss, acc = run_pytorch(torch, x, y, t, 1)
                        pt.append(s)
                        pt_last = {"loss": loss, "train_accuracy": acc}
                msg = f"threads {t}, run {r + 1}/{a.repeat}:"
                if exe:
                    msg += f" fixq {rate(a.images, fx[-1]):,.0f} images/s ({fx[-1]:.2f} s),"
                msg += f" PyTorch {rate(a.images, pt[-1]):,.0f} images/s ({pt[-1]:.2f} s)"
                print(msg, file=sys.stderr, flush=True)
            row = {"threads": t, "pytorch_seconds": pt, "pytorch_images_per_second": rate(a.images, min(pt)),
                   "pytorch_last": pt_last, "fixq_seconds": fx or None,
                   "fixq_images_per_second": rate(a.images, min(fx)) if fx else None,
                   "fixq_last": {"loss": fx_last["loss"], "train_accuracy": fx_last["train_accuracy"]} if fx_last else None}
            row["ratio"] = row["fixq_images_per_second"] / row["pytorch_images_per_second"] if fx else None
            rows.append(row)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print()
    print("| threads | fixq images/s | PyTorch images/s | fixq / PyTorch |")
    print("|--:|--:|--:|--:|")
    for row in rows:
        f_ = f"{row['fixq_images_per_second']:,.0f}" if row["fixq_images_per_second"] else "-"
        ratio = f"{row['ratio']:.2f}" if row["ratio"] else "-"
        print(f"| {row['threads']} | {f_} | {row['pytorch_images_per_second']:,.0f} | {ratio} |")
    print()
    for row in rows:  # a check that both trained: the epoch's mean training loss and accuracy
        line = f"threads {row['threads']}, last run's epoch: PyTorch loss {row['pytorch_last']['loss']:.4f} " \
               f"accuracy {100 * row['pytorch_last']['train_accuracy']:.2f}%"
        if row["fixq_last"]:
            line += f"; fixq loss {row['fixq_last']['loss']:.4f} accuracy {100 * row['fixq_last']['train_accuracy']:.2f}% " \
                    "(with augmentation)"
        print(line)

    if a.json:
        report = {"cpu": cpu_name(), "logical_cpus": os.cpu_count(), "torch": torch.__version__, "numpy": np.__version__,
                  "blas": blas, "mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
                  "fixq_mnist": exe, "data": os.path.abspath(data), "images": a.images, "batch": BATCH, "lr": LR,
                  "weight_decay": WEIGHT_DECAY, "repeat": a.repeat, "best_of": a.repeat, "rows": rows}
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
