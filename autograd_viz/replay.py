"""Replay: a recorded session file loaded into the same models a live session has.

:class:`ReplaySession` has the attributes a GUI reads from a live
:class:`~autograd_viz.watch.Session` (``graph``, ``stats``, ``history``, ``health``,
``provenance``, ``state``, ``breakpoints``), filled from the file:

- the history (loss, metrics, per-parameter gradient norms) and the non-finite reports
  of every committed iteration, at load;
- the graph, node and parameter statistics and histograms of one iteration, on
  :meth:`ReplaySession.goto` (the last iteration after load).

:meth:`ReplaySession.refresh` reads iterations committed since (following a run that
is still being recorded, possibly by another process).

What a file does not hold is not invented: a parameter's weight statistics are its norm
only (mean/std/min/max are NaN), and nodes carry their incoming-gradient statistics
(``grad_in``), not what they sent.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .breakpoints import BreakpointList
from .models.debugger_state import DebuggerState
from .models.graph import GraphModel
from .models.health import HealthModel, HealthThresholds
from .models.history import HistoryModel
from .models.stats import Histogram, NodeStats, ParamStats, Stats, StatsModel
from .provenance import NonFiniteReport, ProvenanceModel
from .recorder import node_stat_key
from .signals import Signal

__all__ = ["ReplaySession", "open_session", "model_stats", "parse_source"]


def model_stats(s, n: int = 0) -> Stats:
    """A session Stats as a model Stats with element count ``n``."""
    return Stats(n, s.norm, s.mean, s.std, s.min, s.max, s.nan_count, s.inf_count)


def parse_source(text: str | None, function: str | None = None):
    """``'train.py:42'`` -> ``('train.py', 42, function)``; None stays None."""
    if not text:
        return None
    file, _, line = text.rpartition(":")
    try:
        return (file, int(line), function)
    except ValueError:
        return (text, 0, function)


def _numel(shape) -> int:
    return int(np.prod(shape)) if shape else 1


def structure_to_model(structure) -> tuple[list[dict], list[tuple]]:
    """GraphStructure -> (node dicts, edges) for GraphModel.set_structure."""
    nodes, edges = [], []
    for info in structure.nodes:
        a = info.attrs or {}
        nodes.append({
            "key": info.key, "op": info.op, "kind": a.get("kind", "op"),
            "module": info.module_path or "", "group": a.get("group", info.module_path or ""),
            "label": a.get("label", info.op), "param": info.param_name,
            "shapes": [tuple(s) for s in info.output_shapes], "dtype": info.dtype or "",
            "device": info.device or "",
            "saved": [(n, tuple(shape), nb) for n, shape, nb in a.get("saved", [])],
            "source": parse_source(info.source, a.get("function")), "seq": a.get("seq", -1)})
        for v, e in (a.get("edges") or {}).items():
            edges.append((info.key, v, {"slots": list(e.get("slots", [])),
                                        "input_nr": e.get("input_nr", 0)}))
    known = {(u, v) for u, v, _ in edges}
    for u, v in structure.edges:            # files written without edge attributes
        if (u, v) not in known:
            edges.append((u, v, {"slots": [], "input_nr": 0}))
    return nodes, edges


def engine_order(g) -> list[str]:
    """The order the engine runs the nodes of graph ``g``: dependency counting from the
    roots, among ready nodes the highest sequence number first (AccumulateGrad first of
    all), ties in the order they became ready — as ``engine/autograd/engine.py`` does."""
    import heapq
    deps = {k: g.in_degree(k) for k in g.nodes}
    heap, tie = [], 0

    def prio(k):
        a = g.nodes[k]
        return -(2 ** 64) if a.get("kind") in ("param", "leaf") else -a.get("seq", -1)

    for k in g.nodes:
        if deps[k] == 0:
            heapq.heappush(heap, (prio(k), tie, k))
            tie += 1
    order = []
    while heap:
        _, _, k = heapq.heappop(heap)
        order.append(k)
        children = sorted(g.successors(k), key=lambda v: min(g.edges[k, v].get("slots") or [0]))
        for v in children:
            deps[v] -= 1
            if deps[v] == 0:
                heapq.heappush(heap, (prio(v), tie, v))
                tie += 1
    return order


class ReplaySession:
    """A session file as live-like models; see the module docstring.

    Signal ``iteration_changed(iteration)`` after :meth:`goto`; ``appended(list)``
    after :meth:`refresh` found new iterations.
    """

    def __init__(self, path, thresholds: HealthThresholds | None = None,
                 history_recent: int = 2000, history_buckets: int = 1000):
        from .session import SessionReader
        self.path = os.fspath(path)
        self.reader = SessionReader(self.path)
        self.run = self.reader.run
        self.graph = GraphModel()
        self.stats = StatsModel()
        self.history = HistoryModel(history_recent, history_buckets)
        self.health = HealthModel(thresholds)
        self.provenance = ProvenanceModel()
        self.state = DebuggerState()
        self.breakpoints = BreakpointList()
        self.controller = None
        self.iterations: list[int] = []
        self.current: int | None = None
        self.iteration_changed = Signal("replay.iteration_changed")
        self.appended = Signal("replay.appended")
        try:
            self._load_all()
            end = self.reader.end
            self.state.set_mode("finished" if end is not None else "running",
                                end.status if end is not None else "recording")
            if self.iterations:
                self.goto(self.iterations[-1])
        except BaseException:  # a file that opened but cannot be read: do not leak it
            self.reader.close()
            raise

    # -- loading ---------------------------------------------------------------------

    def _load_all(self) -> None:
        r = self.reader
        grad_norms: dict[int, dict] = {}
        for it, params in r.param_stats_history():
            grad_norms[it] = {n: p.grad.norm for n, p in params.items() if p.grad is not None}
        its = r.refresh()
        its_set = set(its)
        for it, _, loss, metrics, _ in r.scalars():
            if it in its_set:
                self.history.append_iteration(it, loss, metrics, grad_norms.get(it))
        self.iterations = list(its)
        self._add_events(r.events())

    def _add_events(self, events) -> None:
        from .session.records import EVENT_NONFINITE
        for e in events:
            if e.kind != EVENT_NONFINITE:
                continue
            phase = "forward" if "in forward" in e.message else "backward"
            kind = next((k for k in ("nan+inf", "nan", "inf") if e.message.split(":", 1)[-1]
                         .strip().lower().startswith(k)), "nan")
            self.provenance.add(NonFiniteReport(
                e.iteration, -1, phase, e.node_key, e.op or "", "", parse_source(e.source), kind,
                "already non-finite" not in e.message))

    def refresh(self) -> list[int]:
        """Load iterations committed since the last load; returns their numbers."""
        new = self.reader.refresh()
        for it in new:
            rec = self.reader.read_iteration(it)
            norms = {n: p.grad.norm for n, p in rec.param_stats.items() if p.grad is not None}
            self.history.append_iteration(it, rec.loss, rec.metrics, norms)
            self._add_events(rec.events)
        self.iterations.extend(new)
        end = self.reader.end
        if end is not None and self.state.mode != "finished":
            self.state.set_mode("finished", end.status)
        if new:
            self.appended.emit(new)
        return new

    # -- one iteration ---------------------------------------------------------------

    def goto(self, iteration: int) -> None:
        """Show ``iteration``: its graph structure, node and parameter statistics,
        histograms and health flags."""
        rec = self.reader.read_iteration(iteration)
        if rec.structure_id is not None:
            structure = self.reader.structure(rec.structure_id)
            nodes, edges = structure_to_model(structure)
            self.graph.set_structure(nodes, edges, iteration, rec.structure_id)
        g = self.graph.graph
        self.stats.clear()
        self.health.clear()
        self.graph.begin_pass(iteration)
        by_key = {}  # the nodes that ran in this iteration: their recorded gradients
        for key in list(g.nodes):
            shapes = g.nodes[key].get("shapes") or [()]
            grads = []
            for i, shape in enumerate(shapes):
                s = rec.node_stats.get(node_stat_key(key, i))
                grads.append(None if s is None else model_stats(s, _numel(shape)))
            if any(x is not None for x in grads):
                by_key[key] = grads
        for key in engine_order(g):
            grads = by_key.get(key)
            if grads is None:
                continue
            self.graph.node_started(key, grads)
            self.graph.node_finished(key, None)
            self.stats.set_node(NodeStats(key, iteration, grads, []))
            self.graph.set_health(key, self.health.check_node(key, grads))
        self.graph.end_pass()
        shapes = {a["param"]: (a["shapes"][0] if a["shapes"] else ())
                  for a in g.nodes.values() if a.get("param")}
        shapes.update(self.run.parameters)
        for name, p in rec.param_stats.items():
            n = _numel(shapes.get(name, ()))
            grad = None if p.grad is None else model_stats(p.grad, n)
            nan = math.nan
            ps = ParamStats(name, iteration, tuple(shapes.get(name, ())),
                            Stats(n, p.weight_norm, nan, nan, nan, nan), grad, p.update_norm,
                            p.update_ratio)
            h = rec.value_histograms.get(name)
            if h is not None:
                ps.hist_values = Histogram(float(h.edges[0]), float(h.edges[-1]), h.counts)
            h = rec.grad_histograms.get(name)
            if h is not None:
                ps.hist_grads = Histogram(float(h.edges[0]), float(h.edges[-1]), h.counts)
            self.stats.set_param(ps)
            self.health.check_param(name, grad, p.weight_norm)
        self.current = iteration
        self.state.iteration = iteration
        self.stats.finish_iteration(iteration)
        self.iteration_changed.emit(iteration)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_session(path, **kw) -> ReplaySession:
    """Load a session file into models (raises the session store's clear errors for a
    missing, foreign, truncated or too-new file)."""
    return ReplaySession(path, **kw)
