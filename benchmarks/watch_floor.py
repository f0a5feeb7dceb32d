"""How cheap can watching be at all? LeNet alone vs the least an exact watcher must compute.

``watch_overhead.py`` compares a watched run with the engine alone. This script adds the
floor under the watcher: a listener that does only the numpy work behind the statistics
the issue asks for, with no models, no keys, no history, no Python object per node:

- ``events``: a listener that returns at once (what delivering the engine's events costs);
- ``floor``: for every gradient a node sends (each array once; a reshaped view of one
  counted with it), norm/mean/std/min/max/NaN/Inf at the end of the pass, the large ones
  by :func:`~autograd_viz.models.stats.compute_stats` (four BLAS/ufunc reductions) and the
  small ones all together by :func:`~autograd_viz.models.stats.fill_stats` (one
  concatenation, segmented reductions); the forward NaN/Inf check of every output of an
  op that can make one; around the optimizer step one snapshot of the parameters and one
  :func:`~autograd_viz.models.stats.step_stats` (weight statistics and update norms); value
  and gradient histograms every ``--hist-every`` iterations;
- ``watched``: ``autograd_viz.watch()`` as ``watch_overhead.py`` runs it.

The modes are interleaved round by round; medians of wall-clock ms per iteration, each
with its overhead over ``alone`` (target for ``watched``: 10%), and the time spent inside
the floor listener per iteration.

    OPENBLAS_NUM_THREADS=1 python benchmarks/watch_floor.py [--iters 40] [--rounds 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from watch_overhead import _load, train  # noqa: E402  (also puts the repository on the path)

import autograd_viz  # noqa: E402
from autograd_viz.models.stats import (batchable, compute_histograms, compute_stats,  # noqa: E402
                                       fill_stats, pending_stats, same_elements_owner,
                                       snapshot_arrays, step_stats, array_nonfinite)
from autograd_viz.provenance import FINITE_PRESERVING  # noqa: E402
from engine.autograd import events  # noqa: E402


_PARTS = {"node_created": "forward check", "node_finished": "collect gradients",
          "backward_finished": "gradient statistics", "optimizer_step": "parameters and histograms"}


class FloorListener:
    """The numeric work of exact statistics, and nothing else (see the module docstring)."""

    def __init__(self, hist_every: int):
        self.hist_every = hist_every
        self.iteration = 0
        self.grads: dict = {}          # id(owner array) -> array, this pass
        self.before = None
        self.seconds: dict = {}        # part -> seconds inside this listener
        self.reduced = 0               # gradient arrays reduced in the last pass

    def __call__(self, ev):
        t0 = time.perf_counter()
        kind = ev.kind
        if kind == "node_finished":
            grads = self.grads
            for g in ev.grads_out:
                if g is not None:
                    d = g._data
                    own = same_elements_owner(d)
                    grads[id(own if own is not None else d)] = d
        elif kind == "node_created":
            if ev.node.name() not in FINITE_PRESERVING:
                for o in ev.outputs:
                    if array_nonfinite(o._data) is not None:
                        break
        elif kind == "backward_started":
            self.grads = {}
        elif kind == "backward_finished":
            small = []
            for d in self.grads.values():
                if batchable(d):
                    small.append((pending_stats(), d))
                else:
                    compute_stats(d)
            fill_stats(small)
            self.reduced = len(self.grads)
            self.grads = {}
        elif kind == "optimizer_step":
            datas = [p._data for p in ev.params]
            if ev.phase == "begin":
                self.before = snapshot_arrays(datas)[1]
            else:
                stats, _ = step_stats(datas, self.before)
                if self.hist_every and self.iteration % self.hist_every == 0:
                    compute_histograms(datas, 32, stats)
                    grads = [p.grad._data for p in ev.params]
                    compute_histograms(grads, 32, [compute_stats(g) for g in grads])
                self.iteration += 1
        part = _PARTS.get(kind, "other")
        self.seconds[part] = self.seconds.get(part, 0.0) + time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=40)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--hist-every", type=int, default=10)
    a = p.parse_args(argv)
    modes = ("alone", "events", "floor", "watched")
    wall = {k: [] for k in modes}
    inside = []
    print(f"{_load()}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}",
          flush=True)
    for r in range(a.rounds):
        for mode in modes[r % 4:] + modes[:r % 4]:
            if mode == "alone":
                wall[mode].append(train(a.iters, a.batch, "cpu")[0])
            elif mode == "watched":
                with autograd_viz.watch(hist_every=a.hist_every) as s:
                    wall[mode].append(train(a.iters, a.batch, "cpu", s)[0])
            else:
                listener = FloorListener(a.hist_every) if mode == "floor" else (lambda ev: None)
                handle = events.add_listener(listener)
                try:
                    wall[mode].append(train(a.iters, a.batch, "cpu")[0])
                finally:
                    handle.remove()
                if mode == "floor":
                    inside.append({k: v / (a.iters + 1) for k, v in listener.seconds.items()})
        print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1] * 1e3:.2f}" for k, v in wall.items())
              + "  ms", flush=True)
    med = {k: statistics.median(v) for k, v in wall.items()}
    print(f"\nLeNet, batch {a.batch}, {a.iters} iterations x {a.rounds} rounds; wall-clock ms per "
          f"iteration, median round (paired: median over rounds of mode/alone):")
    for k in modes:
        paired = statistics.median(t / al - 1 for t, al in zip(wall[k], wall["alone"]))
        print(f"  {k:<8} {med[k] * 1e3:7.2f} ms  {(med[k] / med['alone'] - 1) * 100:+6.1f}%"
              f"  (paired {paired * 100:+6.1f}%)" + ("  (target <= 10%)" if k == "watched" else ""))
    total = statistics.median(sum(d.values()) for d in inside)
    parts = ", ".join(f"{k} {statistics.median(d.get(k, 0.0) for d in inside) * 1e3:.2f}"
                      for k in sorted(inside[0], key=lambda k: -inside[0][k]))
    print(f"  inside the floor listener: {total * 1e3:.2f} ms per iteration ({parts})")
    print(f"  {_load()}")


if __name__ == "__main__":
    main()
