"""The floor listener of ``watch_floor.py``: the numeric work of exact statistics and
nothing else (in its own module so that the benchmark's parent process, which only starts
the child processes, imports neither numpy nor autograd_viz)."""

from __future__ import annotations

import time

from autograd_viz.models.stats import (batchable, compute_histograms, compute_stats,
                                       fill_stats, pending_stats, same_elements_owner,
                                       snapshot_arrays, step_stats, array_nonfinite)
from autograd_viz.provenance import FINITE_PRESERVING

__all__ = ["FloorListener"]


_PARTS = {"node_created": "forward check", "node_finished": "collect gradients",
          "backward_finished": "gradient statistics", "optimizer_step": "parameters and histograms"}


class FloorListener:
    """The numeric work of exact statistics, and nothing else (see ``watch_floor.py``)."""

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
