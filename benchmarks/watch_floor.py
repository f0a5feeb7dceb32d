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

Each mode runs alone in its own fresh process (``benchmarks/_alone.py``), alternating;
medians of wall-clock ms per iteration, each with its overhead over ``alone`` (target for
``watched``: 15%), and the time spent inside the floor listener per iteration.

    python benchmarks/watch_floor.py [--iters 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _alone import Side, compare, load_text  # noqa: E402

MODES = ("alone", "events", "floor", "watched")


def side(mode, batch=64, hist_every=10):
    """One LeNet step per call in ``mode`` (see the module docstring); for ``floor``,
    ``close`` reports the seconds spent inside the listener per step, by part."""
    from watch_overhead import lenet_step
    from watch_overhead import side as watch_side
    if mode in ("alone", "watched"):
        return watch_side(mode, batch, hist_every)
    from _floor_listener import FloorListener
    from engine.autograd import events
    listener = FloorListener(hist_every) if mode == "floor" else (lambda ev: None)
    events.add_listener(listener)
    step = lenet_step(batch)
    calls = [0]

    def counted(i):
        calls[0] += 1
        return step(i)

    if mode == "floor":
        counted.close = lambda: {k: v / calls[0] for k, v in listener.seconds.items()}
    return counted


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=40, help="timed iterations per run")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--hist-every", type=int, default=10)
    a = p.parse_args(argv)
    kw = {"batch": a.batch, "hist_every": a.hist_every}
    res = compare([Side(m, "watch_floor:side", {"mode": m, **kw}, exclude=("torch",))
                   for m in MODES], rounds=a.rounds, steps=a.iters, warmup=3, baseline="alone")
    print(res.report(f"LeNet, batch {a.batch}: alone, events only, the numeric floor, watched"))
    print("\noverhead over alone, wall clock (median step / paired per round):")
    for k in MODES[1:]:
        print(f"  {k:<8} {(res.ratio(k, 'alone') - 1) * 100:+6.1f}% / "
              f"{(res.paired(k, 'alone') - 1) * 100:+6.1f}%"
              + ("  (target <= 15%)" if k == "watched" else ""))
    inside = res.extra("floor")
    total = statistics.median(sum(d.values()) for d in inside)
    parts = ", ".join(f"{k} {statistics.median(d.get(k, 0.0) for d in inside) * 1e3:.2f}"
                      for k in sorted(inside[0], key=lambda k: -inside[0][k]))
    print(f"  inside the floor listener: {total * 1e3:.2f} ms per iteration ({parts})")
    print(f"  {load_text()}")


if __name__ == "__main__":
    main()
