"""How fast can an eager numpy engine run the 30-op chain at all? torch vs raw numpy vs engine.

``engine_ops.py`` compares the engine with PyTorch. This script adds the floor under the
engine: the same chain and its backward written by hand as the fewest numpy calls an eager
engine must make (one output array per op, no fusion across ops, nothing recorded, no
Python objects per op), with the engine's threaded kernels for exp/tanh/sigmoid
(``engine/ops/_parallel.py``) and, as a second variant, with the backward formulas also
cut into cache-sized chunks on the worker threads. Whatever the engine's own overhead,
it cannot beat the better of the two.

Prints medians per forward+backward iteration, interleaved in one loop like
``engine_ops.py``, and three ratios: engine/torch (the issue's target: <= 1.3x at 1e6),
floor/torch (the part no autograd code can remove), engine/floor (the engine's own cost).

    python benchmarks/numpy_floor.py [--elements N] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import engine  # noqa: E402
from engine.ops._parallel import apply, run_blocks  # noqa: E402
from engine.ops.unary import _sigmoid_array  # noqa: E402

from engine_ops import SETTLE_FROM, SETTLE_S, _once, _setup  # noqa: E402


def _tanh_grad(g, c, out):
    """g * (1 - c*c) in ``out``: three passes (PyTorch: one)."""
    np.multiply(c, c, out=out)
    np.subtract(1, out, out=out)
    np.multiply(out, g, out=out)


def _sigmoid_grad(g, e, out):
    """g * e * (1 - e) in ``out``: three passes (PyTorch: one)."""
    np.subtract(1, e, out=out)
    np.multiply(out, e, out=out)
    np.multiply(out, g, out=out)


def _backward_kernel(kernel, g, saved, threaded):
    out = np.empty_like(saved)
    if threaded and g.flags.c_contiguous:
        return run_blocks(kernel, g, saved, out=out)
    kernel(g, saved, out)
    return out


def numpy_chain(x, y, threaded_backward=False):
    """Forward and backward of ``engine_ops.chain`` on arrays; returns d(sum)/dx."""
    saved = []
    h = x
    for _ in range(5):
        h = h * np.float32(1.01)
        h = h + y
        c = apply(np.tanh, h)
        h = c * y
        e = _sigmoid_array(h)
        h = e - np.float32(0.5)
        saved.append((c, e))
    h.sum()
    g = np.broadcast_to(np.float32(1), x.shape)      # SumBackward0 expands, no copy
    for c, e in reversed(saved):
        g = _backward_kernel(_sigmoid_grad, g, e, threaded_backward)
        g = g * y
        g = _backward_kernel(_tanh_grad, g, c, threaded_backward)
        g = g * np.float32(1.01)
    return g


def _time_numpy(x, y, threaded):
    t0 = time.perf_counter()
    numpy_chain(x, y, threaded)
    return time.perf_counter() - t0


def measure(n, repeats, warmup=3):
    """Median seconds per iteration of torch, engine and the two numpy floors."""
    import torch
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    runs = {
        "torch": lambda st=_setup(torch, n): _once(st),
        "engine": lambda st=_setup(engine, n): _once(st),
        "numpy": lambda: _time_numpy(x, y, False),
        "numpy, threaded backward": lambda: _time_numpy(x, y, True),
    }
    times = {k: [] for k in runs}
    for i in range(warmup + repeats):
        for k, fn in runs.items():
            if n >= SETTLE_FROM:
                time.sleep(SETTLE_S)
            t = fn()
            if i >= warmup:
                times[k].append(t)
    return {k: statistics.median(v) for k, v in times.items()}


def check(n=4096):
    """The hand-written backward equals the engine's gradient (so the floor does the same work)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    _, ex, ey = _setup(engine, n)
    ex.data.copy_(engine.tensor(x))
    ey.data.copy_(engine.tensor(y))
    from engine_ops import chain
    chain(engine, ex, ey).backward()
    for threaded in (False, True):
        np.testing.assert_allclose(numpy_chain(x, y, threaded), ex.grad.numpy(),
                                   rtol=1e-5, atol=1e-7)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=31)
    args = ap.parse_args(argv)
    import torch
    check()
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), engine threads {engine.get_num_threads()}, {args.elements:,} elements")
    med = measure(args.elements, args.repeats)
    floor = min(med["numpy"], med["numpy, threaded backward"])
    for k, v in med.items():
        print(f"{k:>26} {v * 1e3:8.2f} ms  {v / med['torch']:5.2f}x torch")
    print(f"\n{'engine / torch':>26} {med['engine'] / med['torch']:5.2f}x   (target 1.3x)")
    print(f"{'numpy floor / torch':>26} {floor / med['torch']:5.2f}x   (no autograd code "
          "can go below this)")
    print(f"{'engine / numpy floor':>26} {med['engine'] / floor:5.2f}x   (the engine's own "
          "cost)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
