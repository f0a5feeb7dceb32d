"""One LeNet training step, engine alone and PyTorch alone (benchmarks/_alone.py).

The network is the one of PyTorch's "Neural Networks" tutorial (conv1 1->6 5x5, max pool 2,
conv2 6->16 5x5, max pool 2, fc 400->120->84->10, ReLU). A step is what a training loop
does per batch: ``zero_grad``, forward, ``CrossEntropyLoss``, ``backward``, SGD
(lr=0.01, momentum=0.9) ``step``. Both libraries start from the same weights (drawn with
numpy) and see the same batch.

Each library runs in its own fresh process that imports only itself, the two alternating
for ``--rounds`` rounds (``--warmup`` untimed steps, then ``--steps`` timed ones per run);
the figures are medians of the per-step times, with each side's thread settings and the
load average. Targets (issue 13): engine at most 1.0x PyTorch at batch 1, 1.3x at 64, 1.5x
at 256. Memory per side: the resident set once the model and batch exist, and the peak
during the steps above it.

Usage: python benchmarks/lenet_step.py [--batches 1 64 256] [--rounds 5] [--steps 30]
                                       [--threads N] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _alone import Side, compare, fmt_time, load_text  # noqa: E402

TARGETS = {1: 1.0, 64: 1.3, 256: 1.5}


def build_lenet(lib):
    """The tutorial's LeNet written against ``lib`` (``torch`` or ``engine``)."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def same_weights(lib, net, seed=0):
    """Overwrite ``net``'s parameters with numpy draws (uniform +-1/sqrt(fan_in), as the
    default initialisation), the same for either library."""
    import numpy as np
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for _, p in net.named_parameters():
            fan_in = int(np.prod(p.shape[1:])) if len(p.shape) > 1 else p.shape[0]
            a = rng.uniform(-1, 1, tuple(p.shape)).astype(np.float32) / np.sqrt(fan_in)
            p.copy_(lib.from_numpy(a))


def batch_data(batch, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed + batch)
    x = rng.standard_normal((batch, 1, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, size=batch).astype(np.int64)
    return x, y


def side(lib, batch, device="cpu", threads=None):
    """Build LeNet, its optimizer and one batch on ``lib``; return the training step."""
    T = importlib.import_module(lib)
    if device == "cuda" and not T.cuda.is_available():
        raise RuntimeError(f"CUDA is not available to {lib} here")
    if threads:
        T.set_num_threads(threads)
    net = build_lenet(T)
    same_weights(T, net)
    net = net.to(device)
    x, y = batch_data(batch)
    xt, yt = T.from_numpy(x).to(device), T.from_numpy(y).to(device)
    opt = T.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    crit = T.nn.CrossEntropyLoss()
    sync = T.cuda.synchronize if device == "cuda" else (lambda: None)

    def step(i):
        opt.zero_grad()
        loss = crit(net(xt), yt)
        loss.backward()
        opt.step()
        sync()

    return step


def sides(batch, device="cpu", threads=None):
    env = {v: str(threads) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                     "MKL_NUM_THREADS")} if threads else {}
    kw = {"batch": batch, "device": device, "threads": threads}
    return [Side("engine", "lenet_step:side", {"lib": "engine", **kw}, env, exclude=("torch",)),
            Side("torch", "lenet_step:side", {"lib": "torch", **kw}, env, exclude=("engine",))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 64, 256])
    ap.add_argument("--rounds", type=int, default=5, help="runs of each library, alternating")
    ap.add_argument("--steps", type=int, default=30, help="timed steps per run")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--threads", type=int, default=None,
                    help="limit both libraries to N threads (set_num_threads and "
                         "OPENBLAS/OMP/MKL_NUM_THREADS); default: each library's own")
    args = ap.parse_args(argv)
    print(f"LeNet training step (zero_grad, forward, CrossEntropyLoss, backward, SGD momentum)"
          f" on {args.device}; {load_text()}", flush=True)
    rows = []
    for batch in args.batches:
        try:
            res = compare(sides(batch, args.device, args.threads), rounds=args.rounds,
                          steps=args.steps, warmup=args.warmup, baseline="torch")
        except RuntimeError as e:
            if "CUDA is not available" not in str(e):
                raise
            print(f"SKIP: {str(e).splitlines()[-1]}")
            return 0
        print("\n" + res.report(f"batch {batch}"), flush=True)
        rows.append((batch, res))
    print(f"\n{'batch':>6} {'engine':>10} {'torch':>10} {'ratio':>7} {'paired':>7} {'target':>7}"
          f" {'cpu ratio':>9}")
    for batch, res in rows:
        target = TARGETS.get(batch)
        print(f"{batch:>6} {fmt_time(res.median('engine')):>10} {fmt_time(res.median('torch')):>10}"
              f" {res.ratio('engine', 'torch'):6.2f}x {res.paired('engine', 'torch'):6.2f}x "
              f"{(f'{target:.1f}x' if target else '-'):>7} "
              f"{res.ratio('engine', 'torch', 'cpu'):8.2f}x")
    print(load_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
