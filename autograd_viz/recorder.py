"""Recording: a live session's models, iteration by iteration, into a session file.

The :class:`Recorder` listens to :class:`~autograd_viz.watch.Session` signals and hands
one :class:`~autograd_viz.session.records.IterationRecord` per iteration to the
:class:`~autograd_viz.session.writer.SessionWriter`, which commits it (one commit per
iteration: a killed run keeps every finished iteration). Graph structures are stored
once each, under the graph model's structure id.

The conversion functions here (models -> records) and in :mod:`autograd_viz.replay`
(records -> models) are each other's inverse; ``test_replay`` holds them to it.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time

import numpy as np

from .models.stats import Histogram as ModelHistogram
from .models.stats import Stats as ModelStats

__all__ = ["Recorder", "stats_record", "structure_record", "iteration_record", "node_stat_key",
           "node_stats_table"]


def stats_record(s: ModelStats):
    """A model Stats as a session Stats (``n`` is not stored)."""
    from .session.records import Stats
    return Stats(norm=s.norm, mean=s.mean, std=s.std, min=s.min, max=s.max,
                 nan_count=s.nan, inf_count=s.inf)


def _hist_record(h: ModelHistogram):
    from .session.records import Histogram
    return Histogram(edges=h.edges.astype("float64"), counts=h.counts)


def node_stat_key(key: str, index: int) -> str:
    """Name under which a node's ``grad_in[index]`` is stored: the key itself for the
    first output, ``'<key>|in<i>'`` for further outputs."""
    return key if index == 0 else f"{key}|in{index}"


def _source_text(src) -> str | None:
    return None if not src else f"{src[0]}:{src[1]}"


def structure_record(graph_model):
    """The graph model's current structure as a GraphStructure."""
    from .session.records import GraphStructure, NodeInfo
    nodes, edges = graph_model.static_view()
    infos = []
    for n in nodes:
        src = n.get("source")
        attrs = {"kind": n["kind"], "label": n["label"], "group": n["group"], "seq": n["seq"],
                 "saved": [[name, list(shape), nbytes] for name, shape, nbytes in n.get("saved") or []]}
        if src:
            attrs["function"] = src[2] if len(src) > 2 else None
        infos.append(NodeInfo(key=n["key"], op=n["op"], module_path=n["module"],
                              output_shapes=[tuple(s) for s in n.get("shapes") or []],
                              dtype=n.get("dtype") or None, device=n.get("device") or None,
                              param_name=n.get("param"), source=_source_text(src), attrs=attrs))
    out_edges = {}
    for u, v, a in edges:
        out_edges.setdefault(u, {})[v] = {"slots": list(a.get("slots", [])),
                                          "input_nr": a.get("input_nr", 0)}
    for info in infos:
        if info.key in out_edges:
            info.attrs["edges"] = out_edges[info.key]
    return GraphStructure(nodes=infos, edges=[(u, v) for u, v, _ in edges])


def node_stats_table(nodes: dict):
    """The ``grad_in`` statistics of ``nodes`` (key -> model NodeStats) as a session
    StatsTable: one row per gradient that arrived, named by :func:`node_stat_key`."""
    from .session.records import StatsTable
    keys, floats, counts = [], [], []
    for key, ns in nodes.items():
        gin = ns.grad_in
        if not gin:
            continue
        for i, s in enumerate(gin):
            if s is not None:
                keys.append(key if i == 0 else f"{key}|in{i}")
                floats.append((s.norm, s.mean, s.std, s.min, s.max))
                counts.append((s.nan, s.inf))
    n = len(keys)
    return StatsTable(keys, np.array(floats, dtype=np.float64).reshape(n, 5),
                      np.array(counts, dtype=np.int64).reshape(n, 2))


def iteration_record(summary):
    """An IterationSummary as an IterationRecord."""
    from .session.records import EVENT_NONFINITE, Event, IterationRecord, ParamStats, Stats
    params, vh, gh = {}, {}, {}
    for name, p in summary.params.items():
        g = p.grad
        params[name] = ParamStats(
            grad=None if g is None else Stats(norm=g.norm, mean=g.mean, std=g.std, min=g.min,
                                              max=g.max, nan_count=g.nan, inf_count=g.inf),
            weight_norm=p.weight.norm if p.weight is not None else math.nan,
            update_norm=p.update_norm, update_ratio=p.ratio)
        if p.hist_values is not None:
            vh[name] = _hist_record(p.hist_values)
        if p.hist_grads is not None:
            gh[name] = _hist_record(p.hist_grads)
    events = [Event(iteration=summary.iteration, kind=EVENT_NONFINITE, message=r.message(),
                    node_key=r.key, op=r.op, source=_source_text(r.source))
              for r in summary.reports]
    return IterationRecord(
        iteration=summary.iteration, loss=summary.loss, metrics=dict(summary.metrics),
        structure_id=summary.structure_id, node_stats=node_stats_table(summary.nodes),
        param_stats=params, value_histograms=vh, grad_histograms=gh, events=events,
        wall_time=summary.wall_time)


class Recorder:
    """Writes ``session``'s iterations to the session file ``path``.

    ``script``/``args`` describe the run (stored in the file's run info); ``overwrite``
    replaces an existing file. ``close(status)`` ends the file ('finished', 'stopped' or
    'error'); the runner and the CLI call it. ``written`` counts iterations committed.

    With ``background`` (off by default: on a 2-vCPU virtual machine the hand-over cost
    LeNet at batch 64 0.5-0.7 ms per iteration more than the commit itself, see
    ``benchmarks/watch_overhead.py``; ``None`` turns it on where there is more than one
    core) the records are converted and committed by a writer thread, so the training
    thread only queues each finished iteration; at most ``QUEUE_MAX`` wait, after which
    the training thread waits for the file (a slow disk slows the run rather than growing memory). An error
    of the writer (a full disk) is raised in the training thread at its next iteration
    and by ``close``; the file keeps every iteration committed before it.
    """

    QUEUE_MAX = 4

    def __init__(self, session, path, *, script: str | None = None, args=(), overwrite: bool = True,
                 extra: dict | None = None, background: bool | None = False):
        from .session import RunInfo, SessionWriter
        from .stats_worker import worthwhile
        self.session = session
        self.path = os.fspath(path)
        cfg = session.config
        run = RunInfo(script=script, args=list(args), start_time=time.time(),
                      engine_version=_engine_version(),
                      extra={"config": {"stats_every": cfg.stats_every, "hist_every": cfg.hist_every,
                                        "hist_bins": cfg.hist_bins}, **(extra or {})})
        self.writer = SessionWriter(self.path, run, overwrite=overwrite)
        self.written = 0
        self.error: BaseException | None = None
        self._structures: dict = {}
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        if background if background is not None else worthwhile():
            self._queue = queue.Queue(maxsize=self.QUEUE_MAX)
            from engine import threads
            self._thread = threads.background_thread(self._serve, "autograd-viz-recorder")
        session.graph.structure_changed.connect(self._on_structure)
        session.iteration_finalized.connect(self._on_iteration)
        if session.graph.structure_id is not None:
            self._on_structure(None)

    def _on_structure(self, change):
        sid = self.session.graph.structure_id
        if sid is not None and sid not in self._structures:
            self._structures[sid] = structure_record(self.session.graph)

    def _on_iteration(self, summary):
        sid = summary.structure_id
        struct = None
        if sid is not None:
            struct = self._structures.get(sid)
            if struct is None:           # recorder attached mid-run
                self._on_structure(None)
                struct = self._structures[sid]
        if self._queue is None:
            self._write(struct, sid, summary)
            return
        if self.error is not None:
            raise self.error
        self._queue.put((struct, sid, summary))

    def _write(self, struct, sid, summary):
        if struct is not None:
            self.writer.add_structure(struct, sid)
        self.writer.write_iteration(iteration_record(summary))
        self.written += 1

    def _serve(self):
        q = self._queue
        while True:
            item = q.get()
            if item is None:
                return
            if isinstance(item, threading.Event):     # flush(): all before it is written
                item.set()
                continue
            if self.error is None:
                try:
                    self._write(*item)
                except BaseException as e:  # noqa: BLE001 - raised in the training thread
                    self.error = e
            item = None  # noqa: F841 - don't hold the summary while idle

    def flush(self) -> None:
        """Wait until every iteration queued so far is committed (or the writer failed)."""
        if self._thread is not None:
            done = threading.Event()
            self._queue.put(done)
            done.wait()

    def close(self, status: str = "finished", message: str | None = None) -> None:
        """Detach from the session, commit what is queued, and close the file with how
        the run ended (a writer error, if any, is raised after the file is closed)."""
        self.session.graph.structure_changed.disconnect(self._on_structure)
        self.session.iteration_finalized.disconnect(self._on_iteration)
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        err = self.error
        if err is not None and status == "finished":
            status, message = "error", f"writing the session failed: {err}"
        self.writer.close(status, message)
        if err is not None:
            self.error = None
            raise err


def _engine_version() -> str | None:
    try:
        import engine
        return str(getattr(engine, "__version__", None) or "") or None
    except Exception:
        return None
