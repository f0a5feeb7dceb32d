"""Watching a training run: engine events in, live models out.

``autograd_viz.watch()`` attaches one listener to the engine's events and the global
module forward hooks, and returns a :class:`Session` holding the live models::

    with autograd_viz.watch(model) as s:
        for x, y in batches:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(); loss.backward(); opt.step()
            s.log(lr=opt.param_groups[0]["lr"])
    s.history.loss.points()

Iterations are found without help: a backward pass from a scalar root is a pass whose
value is the loss; an optimizer step (its 'end' phase) closes the iteration. A script
with no optimizer (manual updates under ``no_grad``) has its iteration closed when the
next backward pass starts. Leaving the ``with`` (or ``detach()``) removes the listener
and the hooks: the engine is exactly as before.

Cost per event is kept small (``benchmarks/watch_overhead.py`` measures it):

- a gradient's statistics are computed once per pass: one sent by a node and received
  unchanged by the next is reduced once, and a view or transpose of a received gradient
  (what a view's backward sends) shares the received one's statistics;
- while nobody steps or sets a breakpoint (a *quiet* pass), small gradients are only
  queued, and their statistics filled all at once by a batched reduction
  (:func:`~autograd_viz.models.stats.fill_stats`) before anyone reads them: at the end of
  the pass, or at the first checkpoint that may pause. The non-finite origin of a quiet
  pass is found then too, from the pass log in execution order;
- node events only append to that per-pass log, applied to the models in bulk when the
  pass ends; a checkpoint that may pause applies it first, so a paused GUI always sees
  the models up to the node it stopped at;
- a pass with the structure of the last one is recognized by a fingerprint of the walk
  and reuses its keys; parameter statistics and the optimizer step's size come from one
  snapshot buffer per iteration; histograms are taken every ``hist_every`` iterations.

Note: ``import autograd_viz.watch as m`` gives the *function* ``autograd_viz.watch``
(the package re-exports it under the module's name); use
``from autograd_viz.watch import Session`` to reach this module's names.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .breakpoints import BreakpointList
from .controller import _RUN, StepController, StopTraining
from .keys import assign_keys
from .models.debugger_state import Checkpoint, DebuggerState
from .models.graph import GraphModel, structure_id, worst_flag
from .models.health import HealthModel, HealthThresholds
from .models.history import HistoryModel
from .models.stats import (NodeStats, ParamStats, StatsModel, array_module, array_nonfinite,
                           batchable, compute_histogram, compute_histograms, compute_stats,
                           compute_stats_many, diff_norms, fill_stats, pending_stats,
                           same_elements_owner, snapshot_arrays, step_stats)
from .module_tracker import ModuleTracker
from .provenance import FINITE_PRESERVING, NonFiniteReport, ProvenanceModel, nonfinite_kind
from . import source as _source
from .signals import Signal
from .stats_worker import StatsWorker, worthwhile

__all__ = ["watch", "Session", "WatchConfig", "IterationSummary", "StopTraining"]

_META = "autograd_viz"      # key in node.metadata: (module path, source)
_isfinite = math.isfinite
#: Elements of small gradients queued before the batch goes to the background worker.
PENDING_MAX = 1 << 16


_FINITE_TYPES: dict = {}   # node class -> its op cannot make a NaN/Inf from finite inputs
_ACC = [None]     # engine's AccumulateGrad class (the only node with a .variable)


def _accumulate_grad_class():
    acc = _ACC[0]
    if acc is None:
        from engine.autograd.node import AccumulateGrad
        acc = _ACC[0] = AccumulateGrad
    return acc


def _any_bad(stats_list) -> bool:
    """Does any Stats in the list (None entries ignored) hold a NaN/Inf or a non-finite
    norm? (A quick test before :func:`nonfinite_kind` says which.)"""
    for st in stats_list:
        if st is not None and (st.nan or st.inf or not _isfinite(st.norm)):
            return True
    return False


@dataclass
class WatchConfig:
    """What a session computes.

    ``stats_every``: parameter statistics every N iterations (node gradient statistics
    are needed for breakpoints and provenance and are always computed);
    ``hist_every``: value/gradient histograms every N iterations (0: never);
    ``hist_bins``: bins per histogram; ``grad_out_stats``: statistics of what each node
    sends (needed to name the node that produced a NaN; off = cheaper);
    ``forward_check``: check forward outputs for NaN/Inf (forward provenance);
    ``source_lines``: record the user's file:line of each node;
    ``background_stats``: reduce gradients on a second thread during quiet passes (on
    machines with more than one core; off by default: on a 2-vCPU virtual machine each
    hand-over wakes a thread on the other vCPU, and LeNet at batch 64 ran 25% slower
    watched with it than alone, 19% without it, ``benchmarks/watch_overhead.py``);
    ``history_recent``/``history_buckets``: the history's memory bound (per series).
    """

    stats_every: int = 1
    hist_every: int = 1
    hist_bins: int = 32
    grad_out_stats: bool = True
    forward_check: bool = True
    source_lines: bool = True
    background_stats: bool = False
    history_recent: int = 2000
    history_buckets: int = 1000
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)


@dataclass
class IterationSummary:
    """Everything known about one closed iteration (what the recorder writes).

    ``loss``: mean of the scalar losses of its backward passes (None if none);
    ``params``: name -> ParamStats; ``nodes``: key -> NodeStats of the last pass;
    ``reports``: non-finite provenance reports of this iteration; ``duration``: seconds
    since the previous iteration closed.
    """

    iteration: int
    loss: float | None
    losses: list
    metrics: dict
    params: dict
    nodes: dict
    structure_id: str | None
    passes: int
    wall_time: float
    duration: float
    reports: list = field(default_factory=list)


class Session:
    """A watched run's live models and its debugger.

    Models: ``graph`` (GraphModel), ``stats`` (StatsModel), ``history`` (HistoryModel),
    ``health`` (HealthModel), ``state`` (DebuggerState), ``provenance``
    (ProvenanceModel), ``breakpoints`` (BreakpointList); ``controller``
    (StepController) pauses and steps the training thread.

    Signals: ``iteration_closed(summary)`` when an iteration ends (optimizer step, or
    the next pass without an optimizer); ``iteration_finalized(summary)`` when it can no
    longer change (metrics logged after the step are in: at the next iteration's first
    event or at detach) — the recorder writes then; ``attached()`` / ``detached()``.
    """

    def __init__(self, config: WatchConfig | None = None, controller: StepController | None = None):
        self.config = config or WatchConfig()
        c = self.config
        self.graph = GraphModel()
        self.stats = StatsModel()
        self.history = HistoryModel(c.history_recent, c.history_buckets)
        self.health = HealthModel(c.thresholds)
        self.provenance = ProvenanceModel()
        if controller is None:
            controller = StepController(DebuggerState(), BreakpointList())
        self.controller = controller
        self.state = controller.state
        self.breakpoints = controller.breakpoints
        self.iteration_closed = Signal("session.iteration_closed")
        self.iteration_finalized = Signal("session.iteration_finalized")
        self.attached = Signal("session.attached")
        self.detached = Signal("session.detached")
        self.modules = ModuleTracker()
        self.last_summary: IterationSummary | None = None
        self.recorder = None             # set by watch(record=...)
        self._owned_recorder = None      # closed on detach when watch() made it
        self._handle = None
        self._worker: StatsWorker | None = None   # background statistics while attached
        self._lock = threading.RLock()
        self._handlers = {
            "node_created": self._on_node_created, "node_started": self._on_node_started,
            "node_finished": self._on_node_finished, "grad_accumulated": self._on_grad_accumulated,
            "backward_started": self._on_backward_started,
            "backward_finished": self._on_backward_finished,
            "optimizer_step": self._on_optimizer_step,
        }
        self._reset_run()

    # -- public API ------------------------------------------------------------------

    @property
    def iteration(self) -> int:
        """Index (0-based) of the iteration in progress = number of closed iterations."""
        return self._iteration

    @property
    def is_attached(self) -> bool:
        return self._handle is not None

    def add_model(self, model, prefix: str = "") -> None:
        """Name ``model``'s modules and parameters now (otherwise done on its first
        forward). ``prefix`` is prepended to every name."""
        self.modules.add_model(model, prefix)

    def log(self, **metrics) -> None:
        """Record scalar metrics (``accuracy=0.93, lr=0.01``) for the current iteration;
        called right after an optimizer step, they belong to the iteration it closed."""
        clean = {}
        for k, v in metrics.items():
            try:
                clean[k] = float(v)
            except (TypeError, ValueError):
                raise TypeError(f"session.log({k}=...) needs a number, got {type(v).__name__}") from None
        with self._lock:
            s = self._pending_summary
            if s is not None and not self._iter_started:
                s.metrics.update(clean)
                with self.history.lock:
                    for k, v in clean.items():
                        self.history._series(self.history.metrics, k, k).append(s.iteration, v)
            else:
                self._metrics.update(clean)

    def attach(self) -> "Session":
        """Start listening to the engine (idempotent). Returns self."""
        if self._handle is not None:
            return self
        import engine  # noqa: F401  (so the engine dir is known to source.py)
        from engine.autograd import events
        self.modules.install()
        self._read_config()
        self._t_last_close = time.perf_counter()
        if self.config.background_stats and worthwhile():
            self._worker = StatsWorker()
        self._handle = events.add_listener(self._on_event)
        if self.state.mode == "idle":
            self.state.set_mode("running", "attached")
        self.attached.emit()
        return self

    def detach(self) -> None:
        """Stop listening; the engine's listeners and hooks are as before attach.
        An iteration with a pass not yet closed is closed, and the last one finalized."""
        if self._handle is None:
            return
        self._handle.remove()
        self._handle = None
        self.modules.uninstall()
        try:
            if self._passes_in_iter and self._depth == 0:
                self._close_iteration(checkpoint=False)
            self._finalize_pending()
        finally:
            self._drop_pass_refs()
            if self._worker is not None:
                self._worker.close()
                self._worker = None
            rec = self._owned_recorder
            if rec is not None:
                self._owned_recorder = None
                mode = self.state.mode
                status = mode if mode in ("stopped", "error") else "finished"
                rec.close(status, self.state.reason or None)
            self.detached.emit()

    close = detach

    def __enter__(self) -> "Session":
        return self.attach()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None and issubclass(exc_type, (StopTraining, KeyboardInterrupt)):
            if self.state.mode != "stopped":
                self.state.set_mode("stopped", str(exc) or "stop")
        elif exc_type is not None:
            self.state.set_mode("error", f"{exc_type.__name__}: {exc}", error=f"{exc_type.__name__}: {exc}")
        elif self.state.mode in ("running", "paused"):
            self.state.set_mode("finished", "")
        self.detach()
        return False

    def summary(self) -> dict:
        """A short dict: iterations, passes, graph size, parameters, last loss, reports."""
        last = self.history.loss.last()
        return {"iterations": self._iteration, "passes": self._pass_index + 1,
                "nodes": self.graph.graph.number_of_nodes(),
                "edges": self.graph.graph.number_of_edges(),
                "parameters": sorted(self.stats.params),
                "last_loss": None if last is None else last[1],
                "nonfinite_reports": len(self.provenance.reports)}

    # -- state -----------------------------------------------------------------------

    def _reset_run(self):
        self._iteration = 0
        self._pass_index = -1
        self._depth = 0                 # nesting of backward calls (0 = none running)
        self._passes_in_iter = 0
        self._losses: list = []
        self._metrics: dict = {}
        self._seen_optimizer = False
        self._iter_started = False
        self._pending_summary: IterationSummary | None = None
        self._t_last_close = time.perf_counter()
        self._pass_loss = None
        self._key_of: dict = {}          # id(node) -> key (this pass)
        self._alive: list = []           # nodes of this pass (keeps ids unique)
        self._info: dict = {}            # key -> (op, module, param, source)
        self._roots: set = set()
        self._last_sig = None            # structural signature of the last pass
        self._last_fp = None             # fingerprint of the last pass's walk (fast path)
        self._last_keys: list = []       # its keys, in walk order
        self._last_leaf_names: list = []
        self._last_metas = None          # its nodes' output metadata (shapes)
        self._grad_cache: dict = {}      # id(tensor) -> (tensor, Stats) sent, not yet received
        self._fresh_grad: dict = {}      # id(leaf) -> Stats of its first gradient this pass
        self._node_in: dict = {}         # key -> grads_in stats this pass
        self._log: list = []             # (key, grads_in stats, grads_out stats or None) per event
        self._prov_at = 0                # how much of _log was checked for a non-finite origin
        self._pending: list = []         # (Stats to fill, array): small gradients queued
        self._pending_n = 0              # their elements
        self._flushed = 0                # how much of _log the models have seen
        self._node_stats: dict = {}      # key -> NodeStats this pass
        self._leaf_vars: dict = {}       # param name -> leaf tensor (all passes of the iteration)
        self._grad_stats: dict = {}      # param name -> Stats of .grad after the last pass
        self._grad_hists: dict = {}      # param name -> Histogram of .grad after the last pass
        self._before: dict = {}          # param name -> copy of its values before the update
        self._before_flat = None         # (names, one buffer of all those copies) or None
        self._leaf_marks: dict = {}      # param name -> _marks() at the end of the last pass
        self._bw_report = False          # a backward origin reported this pass
        self._fw_checking = self.config.forward_check
        self._fw_pending: list = []      # forward reports waiting for a key
        self._iter_reports: list = []
        self._skip_memo: dict = {}       # file name -> not user code (source lines)
        self._skip_prefixes: tuple = ()
        self._read_config()

    def _read_config(self):
        """Copy the per-event switches out of the config (read at attach and at the
        start of every backward pass, so a changed config applies from the next pass)."""
        c = self.config
        self._source_lines = c.source_lines
        self._grad_out_stats = c.grad_out_stats
        prefixes = _source.skip_prefixes()
        if prefixes != self._skip_prefixes:
            self._skip_prefixes = prefixes
            self._skip_memo = {}

    def _drop_pass_refs(self):
        if self._pending:            # no Stats handed out may stay unfilled
            self._resolve()
        self._key_of = {}
        self._alive = []
        self._grad_cache = {}
        self.stats._node_grads = {}

    # -- the listener ----------------------------------------------------------------

    def _on_event(self, ev):
        """The one engine listener: dispatch on the event kind (unknown kinds ignored)."""
        handler = self._handlers.get(ev.kind)
        if handler is not None:
            handler(ev)

    def _checkpoint(self, kind, ev=None, key=None, grads_in=None, grads_out=None):
        ctl = self.controller
        if ctl._stop is not None:
            raise ctl._stop
        if ctl._mode == _RUN and not ctl.breakpoints._active:   # running, nothing to check
            return
        # The thread may stop here: bring the models up to this point first.
        self._resolve()
        self._flush()
        if key is not None and ev is not None:
            live = {(key, "grad_in"): getattr(ev, "grads_in", None)}
            if getattr(ev, "grads_out", None) is not None:
                live[(key, "grad_out")] = ev.grads_out
            self.stats._node_grads = live
        info = self._info.get(key) if key is not None else None
        if info is None:
            info = (None, None, None, None)
        cp = Checkpoint(kind, ev, key, info[0], info[1], info[2], info[3], grads_in, grads_out,
                        self._pass_loss, self._iteration, self._pass_index)
        ctl.checkpoint(cp)

    def _begin_iteration_if_needed(self):
        if not self._iter_started:
            self._iter_started = True
            self._finalize_pending()

    # forward ------------------------------------------------------------------------

    def _on_node_created(self, ev):
        ctl = self.controller
        if ctl._stop is not None:
            raise ctl._stop
        if not self._iter_started and self._depth == 0:
            self._begin_iteration_if_needed()
        node = ev.node
        src = self._user_frame() if self._source_lines else None
        st = self.modules.stack
        node.metadata[_META] = (st[-1] if st else "", src)
        if self._fw_checking and self._depth == 0:
            t = type(node)
            skip = _FINITE_TYPES.get(t)
            if skip is None:
                skip = _FINITE_TYPES[t] = node.name() in FINITE_PRESERVING
            if skip:
                return
            for o in ev.outputs:
                kind = array_nonfinite(o._data)
                if kind is not None:
                    self._forward_nonfinite(node, ev.inputs, kind, src)
                    break

    def _user_frame(self):
        """(file, line, function) of the user's code running now: the first frame outside
        the engine and this package (as :func:`autograd_viz.source.user_frame`, with the
        skip decision per file name memoized for the session)."""
        memo = self._skip_memo
        prefixes = self._skip_prefixes
        f = sys._getframe(2)
        while f is not None:
            code = f.f_code
            fn = code.co_filename
            skip = memo.get(fn)
            if skip is None:
                skip = memo[fn] = _source._is_skipped(fn, prefixes)
            if not skip:
                return (fn, f.f_lineno, code.co_name)
            f = f.f_back
        return None

    def _forward_nonfinite(self, node, inputs, kind, src):
        self._fw_checking = False       # first origin only; later ones are propagation
        inputs_finite = all(array_nonfinite(t._data) is None for t in inputs)
        rep = NonFiniteReport(self._iteration, self._pass_index + 1, "forward", None,
                              node.name(), self.modules.module_path(), src, kind, inputs_finite)
        self._fw_pending.append((node, rep))
        if len(self._fw_pending) > 16:
            self._fw_pending.pop(0)

    # backward -----------------------------------------------------------------------

    def _on_backward_started(self, ev):
        self._depth += 1
        if self._depth > 1:            # a backward inside a backward: not a new pass
            return
        try:
            self._start_pass(ev)
        except StopTraining:
            # Raising out of BackwardStarted would leave the engine's grad mode switched
            # (it emits this event before its try/finally). The stop is sticky in the
            # controller: the pass's first NodeStarted checkpoint raises it instead, inside
            # the engine's error handling (BackwardFinished(error) follows).
            if self.controller._stop is None:
                raise
        except BaseException:
            # The engine emits no BackwardFinished for a pass whose start raised: undo
            # the bookkeeping here.
            self._depth -= 1
            self.graph.end_pass()
            self._drop_pass_refs()
            raise

    def _start_pass(self, ev):
        if self._passes_in_iter and not self._seen_optimizer and self._leaves_touched():
            # No optimizer: a new pass after the parameters were updated or their
            # gradients reset closes the iteration (untouched: gradient accumulation).
            self._close_iteration(checkpoint=True)
        self._begin_iteration_if_needed()
        self._read_config()
        self._pass_index += 1
        self._passes_in_iter += 1
        self._bw_report = False
        loss = None
        tensors = ev.tensors
        # autograd.grad(...) (inputs given) is an auxiliary pass (a gradient penalty),
        # not the loss of the iteration.
        if len(tensors) == 1 and tensors[0]._data.size == 1 and ev.inputs is None:
            loss = float(tensors[0]._data.reshape(-1)[0])
            self._losses.append(loss)
        self._pass_loss = loss
        root_nodes = [r[0] for r in ev.roots]
        with self.graph.lock:
            self._build_graph(root_nodes)
        if self._fw_pending:
            for node, rep in self._fw_pending:
                rep.key = self._key_of.get(id(node))
                self._add_report(rep)
            self._fw_pending = []
        self._fw_checking = self.config.forward_check
        root_keys = [self._key_of[id(n)] for n in root_nodes if id(n) in self._key_of]
        self._roots = set(root_keys)
        self.graph.begin_pass(self._pass_index, root_keys)
        self._checkpoint("backward_started", ev)

    def _build_graph(self, root_nodes):
        """Walk the graph from the roots, key every node, install the structure.

        The common case — the same structure as the last pass — costs a walk and a
        fingerprint (op, module and parameter of every node in walk order, edges as walk
        positions, the rank order of sequence numbers) compared with the last pass's: the
        keys are then the last pass's, by position. Otherwise the nodes are keyed and
        described anew and the structure installed (an unchanged one is recognized by its
        signature and not reinstalled). Output shapes are refreshed when they changed (a
        last, smaller batch); the saved-tensor list is read when a structure is installed
        (reading it can cost: a max-pool node builds its indices), and live while paused
        (``state.saved_tensors()``)."""
        pos: dict = {}
        order = []
        stack = list(reversed(root_nodes))
        while stack:
            n = stack.pop()
            i = id(n)
            if i in pos:
                continue
            pos[i] = len(order)
            order.append(n)
            for nxt, _ in reversed(n.next_functions):
                if nxt is not None and id(nxt) not in pos:
                    stack.append(nxt)
        param_name = self.modules.param_name
        fp = []
        app = fp.append
        seqs = []
        leaves = []
        named = True
        acc = _accumulate_grad_class()
        for n in order:
            var = n.variable if type(n) is acc else None
            if var is not None:
                pname = param_name(var)
                if pname is None:
                    named = False
                app(pname)
                leaves.append(var)
            else:
                md = n.metadata.get(_META)
                app(n.name())
                app(md[0] if md is not None else "")
                seqs.append(n._sequence_nr())
            for nxt, nr in n.next_functions:
                app(-1 if nxt is None else pos[id(nxt)])
                app(nr)
            app(-2)
        fp.append(tuple(sorted(range(len(seqs)), key=seqs.__getitem__)))
        fp = tuple(fp)
        metas = tuple([n._meta for n in order])
        if named and fp == self._last_fp and self.graph.structure_id is not None:
            keys = self._last_keys
            self._new_pass({id(n): k for n, k in zip(order, keys)}, order)
            tensors = self.stats._tensors
            leaf_vars = self._leaf_vars
            for var, name in zip(leaves, self._last_leaf_names):
                leaf_vars[name] = var
                tensors[name] = var
            if metas != self._last_metas:
                self._last_metas = metas
                g = self.graph.graph
                with self.graph.lock:
                    for n, key in zip(order, keys):
                        g.nodes[key]["shapes"] = _shapes(n)
            return
        self._build_graph_full(order, fp if named else None, metas)

    def _new_pass(self, key_of: dict, order: list) -> None:
        """Per-pass state for a pass over ``order`` (its nodes, keyed by ``key_of``)."""
        self._key_of = key_of
        self._alive = order
        self._node_in = {}
        self._node_stats = {}
        self._log = []
        self._flushed = 0
        self._prov_at = 0

    def _build_graph_full(self, order, fp, metas):
        """Key and describe every node of ``order`` (the walk from the roots) and install
        the structure; remember the fingerprint ``fp`` for the next pass's fast path."""
        mods = self.modules
        unnamed = [n.variable for n in order
                   if hasattr(n, "variable") and mods.param_name(n.variable) is None]
        if unnamed:
            mods.name_leaves(unnamed)
        items, infos = [], []
        for n in order:
            op = n.name()
            var = getattr(n, "variable", None)
            if var is not None:
                pname = mods.param_name(var)
                module = pname.rpartition(".")[0] if pname else ""
                src, seq = None, -1
            else:
                pname = None
                meta = n.metadata.get(_META)
                module, src = meta if meta is not None else ("", None)
                seq = n._sequence_nr()
            items.append((module, op, seq, pname))
            infos.append((op, module, pname, src, var))
        keys = assign_keys(items)
        key_of = {id(n): k for n, k in zip(order, keys)}
        edges: dict = {}
        for n, u in zip(order, keys):
            for slot, (nxt, nr) in enumerate(n.next_functions):
                if nxt is None:
                    continue
                e = edges.get((u, key_of[id(nxt)]))
                if e is None:
                    edges[(u, key_of[id(nxt)])] = {"slots": [slot], "input_nr": nr}
                else:
                    e["slots"].append(slot)
        # Sequence numbers grow forever; their rank is what is structural (and what
        # decides the engine's order among ready nodes).
        seqs = sorted(it[2] for it in items if it[2] >= 0)
        rank = {sq: r for r, sq in enumerate(seqs)}
        sig = (tuple(keys), tuple((u, v, tuple(a["slots"])) for (u, v), a in edges.items()),
               tuple(rank.get(it[2], -1) for it in items))
        self._new_pass(key_of, order)
        tensors = self.stats._tensors
        leaf_names = []
        for key, (op, module, pname, src, var) in zip(keys, infos):
            if var is not None:
                name = pname if pname is not None else key
                leaf_names.append(name)
                self._leaf_vars[name] = var
                tensors[name] = var
        self._last_fp = fp
        self._last_keys = keys
        self._last_leaf_names = leaf_names
        self._last_metas = metas
        if sig == self._last_sig and self.graph.structure_id is not None:
            g = self.graph.graph
            with self.graph.lock:
                for n, key in zip(order, keys):
                    g.nodes[key]["shapes"] = _shapes(n)
            return
        info, nodes = {}, []
        for key, (op, module, pname, src, var), (_, _, seq, _), n in zip(keys, infos, items, order):
            kind = "param" if pname is not None else ("leaf" if var is not None else "op")
            info[key] = (op, module, pname, src)
            dtype = device = ""
            om = n._output_meta
            if om:
                dtype, device = str(om[0][1]), str(om[0][2])
            nodes.append({"key": key, "op": op, "kind": kind, "module": module, "group": module,
                          "label": pname if pname is not None else op, "param": pname,
                          "shapes": _shapes(n), "dtype": dtype, "device": device,
                          "saved": _saved(n) if var is None else [], "source": src,
                          "seq": rank.get(seq, -1)})
        edge_list = [(u, v, a) for (u, v), a in edges.items()]
        self._info = info
        self._last_sig = sig
        self.graph.set_structure(nodes, edge_list, self._iteration, structure_id(nodes, edge_list))

    def _stats_of_array(self, d, quiet: bool):
        """Stats of one gradient array: while nobody can look mid-pass (``quiet``), they
        are filled later, before anyone reads them (at the end of the pass, or at a
        checkpoint that may pause): a large float array by the background
        :class:`~autograd_viz.stats_worker.StatsWorker`, small ones queued and reduced
        together in batches (:func:`fill_stats`), each batch of PENDING_MAX elements
        handed to the worker too."""
        if quiet:
            if batchable(d):
                st = pending_stats()
                self._pending.append((st, d))
                self._pending_n += d.size
                if self._pending_n > PENDING_MAX:
                    self._hand_over_pending()
                return st
            w = self._worker
            if w is not None and d.__class__ is np.ndarray and d.dtype.kind == "f" and d.size:
                st = pending_stats()
                w.submit(st, d)
                return st
        return compute_stats(d)

    def _hand_over_pending(self) -> None:
        pending = self._pending
        self._pending = []
        self._pending_n = 0
        if self._worker is not None:
            self._worker.submit_batch(pending)
        else:
            fill_stats(pending)

    def _stats_in(self, grads, quiet: bool) -> list:
        """Stats of the gradients a node receives: mostly the very tensors an earlier node
        sent (their stats were cached then, and are taken out of the cache now), else
        computed here (a seed, a sum of several incoming gradients)."""
        cache = self._grad_cache
        out = []
        for g in grads:
            if g is None:
                out.append(None)
                continue
            hit = cache.pop(id(g), None)
            out.append(hit[1] if hit is not None and hit[0] is g
                       else self._stats_of_array(g._data, quiet))
        return out

    def _stats_out(self, grads, grads_in, s_in, quiet: bool) -> list:
        """Stats of the gradients a node sends, cached for the node that receives them. A
        gradient that holds exactly the elements of one the node received (a view's or a
        transpose's backward returns a reshaped view of it) shares that one's stats."""
        cache = self._grad_cache
        out = []
        for g in grads:
            if g is None:
                out.append(None)
                continue
            d = g._data
            st = None
            if d.base is not None and s_in:
                own = same_elements_owner(d)
                if own is not None:
                    for gi, si in zip(grads_in, s_in):
                        if si is not None and gi is not None and same_elements_owner(gi._data) is own:
                            st = si
                            break
            if st is None:
                st = self._stats_of_array(d, quiet)
            cache[id(g)] = (g, st)
            out.append(st)
        return out

    def _resolve(self) -> None:
        """Fill the queued statistics, then look for the pass's non-finite origin among
        the log entries not checked yet (in execution order, as the events came)."""
        if self._pending:            # the last batch: here, while the worker finishes
            pending = self._pending
            self._pending = []
            self._pending_n = 0
            fill_stats(pending)
        w = self._worker
        if w is not None and w.busy:
            w.wait()
        log = self._log
        i = self._prov_at
        if i < len(log) and not self._bw_report:
            roots = self._roots
            for key, s_in, s_out in log[i:]:
                if s_out is None:
                    # The seed of a root (the loss's own gradient) may be the origin.
                    if key in roots and _any_bad(s_in):
                        kind = nonfinite_kind(s_in)
                        if kind:
                            self._backward_origin(key, kind, seed=True)
                            break
                elif _any_bad(s_out):
                    kind = nonfinite_kind(s_out)
                    if kind and not nonfinite_kind(s_in):
                        self._backward_origin(key, kind)
                        break
        self._prov_at = len(log)

    def _on_node_started(self, ev):
        key = self._key_of.get(id(ev.node))
        ctl = self.controller
        if key is None or self._depth != 1:
            if ctl._stop is not None:     # a stop deferred from the pass start
                raise ctl._stop
            return
        quiet = ctl._stop is None and ctl._mode == _RUN and not ctl.breakpoints._active
        s_in = self._stats_in(ev.grads_in, quiet)
        self._node_in[key] = s_in
        node = ev.node
        var = node.variable if type(node) is _ACC[0] else None
        if var is not None:
            # .grad is None now (and no hook may change what arrives): after the
            # accumulation it holds exactly this gradient, whose stats we have.
            fresh = var.grad is None and not getattr(var, "_hooks", None)
            self._fresh_grad[id(var)] = s_in[0] if fresh else None
        self._log.append((key, s_in, None))
        if not quiet:
            self._checkpoint("node_started", ev, key, s_in)

    def _on_node_finished(self, ev):
        key = self._key_of.get(id(ev.node))
        if key is None or self._depth != 1:
            return
        ctl = self.controller
        quiet = ctl._stop is None and ctl._mode == _RUN and not ctl.breakpoints._active
        s_in = self._node_in.get(key) or []
        s_out = (self._stats_out(ev.grads_out, ev.grads_in, s_in, quiet)
                 if self._grad_out_stats else [])
        self._log.append((key, s_in, s_out))
        if not quiet:
            self._checkpoint("node_finished", ev, key, s_in, s_out)

    def _on_grad_accumulated(self, ev):
        key = self._key_of.get(id(ev.node))
        if key is None or self._depth != 1:
            return
        ctl = self.controller
        if ctl._stop is not None or ctl._mode != _RUN or ctl.breakpoints._active:
            self._checkpoint("grad_accumulated", ev, key, self._node_in.get(key))

    def _flush(self) -> None:
        """Apply the pass log (node started/finished with their statistics) to the
        graph, health and statistics models, one node at a time: used when someone
        may look mid-pass (a checkpoint that can pause)."""
        log = self._log
        i = self._flushed
        if i >= len(log):
            return
        graph, health, it = self.graph, self.health, self._iteration
        for key, s_in, s_out in log[i:]:
            if s_out is None:
                graph.node_started(key, s_in)
                graph.set_health(key, health.check_node(key, s_in))
            else:
                graph.node_finished(key, s_out)
                ns = NodeStats(key, it, s_in, s_out)
                self._node_stats[key] = ns
                self.stats.set_node(ns)
        self._flushed = len(log)

    def _apply_log_bulk(self) -> None:
        """End of a pass nobody watched step by step: apply the whole log at once."""
        log = self._log
        if self._flushed:
            self._flush()
            return
        it = self._iteration
        node_stats = self._node_stats
        finished, nss = [], []
        for entry in log:
            if entry[2] is not None:
                finished.append(entry)
                ns = NodeStats(entry[0], it, entry[1], entry[2])
                nss.append(ns)
                node_stats[entry[0]] = ns
        flags = self.health.check_nodes([(key, s_in) for key, s_in, _ in finished])
        self.graph.apply_pass([(key, s_in, s_out, worst_flag(f) if (f := flags.get(key)) else None)
                               for key, s_in, s_out in finished])
        self.stats.set_nodes(nss)
        self._flushed = len(log)

    def _backward_origin(self, key, kind, seed=False):
        self._bw_report = True
        op, module, _, src = self._info[key]
        rep = NonFiniteReport(self._iteration, self._pass_index, "backward", key, op, module,
                              src, kind, inputs_finite=not seed)
        self._add_report(rep)

    def _add_report(self, rep):
        self._iter_reports.append(rep)
        self.provenance.add(rep)

    def _on_backward_finished(self, ev):
        self._depth -= 1
        if self._depth > 0:
            return
        self._depth = 0
        self._resolve()
        self._apply_log_bulk()
        self.graph.end_pass()
        # Parameter gradients as they stand after this pass (a manual update may zero
        # them before the iteration closes).
        c = self.config
        hist = c.hist_every > 0 and self._iteration % c.hist_every == 0
        fresh = self._fresh_grad
        self._fresh_grad = {}
        to_bin = []
        for name, var in self._leaf_vars.items():
            g = var.grad
            gs = fresh.get(id(var)) if g is not None else None
            if gs is None and g is not None:
                gs = compute_stats(g._data)
            self._grad_stats[name] = gs
            if hist and gs is not None:
                to_bin.append((name, g._data, gs))
        if to_bin:
            names, arrays, stats = zip(*to_bin)
            self._grad_hists.update(zip(names, compute_histograms(arrays, c.hist_bins, stats)))
        if not self._seen_optimizer:
            marks = {}
            for name, var in self._leaf_vars.items():
                d = var._data
                if name not in self._before:      # values before any update this iteration
                    self._before[name] = array_module(d).array(d, copy=True)
                marks[name] = _marks(var)
            self._leaf_marks = marks
        nodes_alive = self._alive
        self._drop_pass_refs()
        if ev.error is None:
            self._alive = nodes_alive            # keep until the checkpoint returns
            try:
                self._checkpoint("backward_finished", ev)
            finally:
                self._alive = []
                self._key_of = {}

    def _leaves_touched(self) -> bool:
        """Did any leaf of the last pass change (values updated in place or replaced,
        gradient reset) since that pass ended?"""
        marks = self._leaf_marks
        if not marks:
            return True
        for name, m in marks.items():
            if _marks(self._leaf_vars.get(name)) != m:
                return True
        return False

    # optimizer ----------------------------------------------------------------------

    def _on_optimizer_step(self, ev):
        if ev.phase == "begin":
            self._seen_optimizer = True
            self._begin_iteration_if_needed()
            mods = self.modules
            names = []
            for i, p in enumerate(ev.params):
                name = mods.param_name(p)
                if name is None:
                    name = f"param{i}"
                    mods.set_param_name(p, name)
                self._leaf_vars.setdefault(name, p)
                self.stats._tensors[name] = p
                names.append(name)
            copies, flat = snapshot_arrays([p._data for p in ev.params])
            self._before = dict(zip(names, copies))
            # One buffer holding every value before the step, in the order of names (the
            # close of the iteration measures the step on it in one go).
            self._before_flat = (tuple(names), flat) if flat is not None else None
            return
        if ev.phase == "end":
            self._close_iteration(checkpoint=True)

    # iterations ---------------------------------------------------------------------

    def _close_iteration(self, checkpoint: bool):
        it = self._iteration
        c = self.config
        now = time.perf_counter()
        do_stats = c.stats_every <= 1 or it % c.stats_every == 0
        do_hist = c.hist_every > 0 and it % c.hist_every == 0
        params = {}
        grad_norms = {}
        if do_stats:
            names = list(self._leaf_vars)
            leaf_vars = [self._leaf_vars[n] for n in names]
            datas = [v._data for v in leaf_vars]
            both = None
            bf = self._before_flat
            if (bf is not None and len(bf[0]) == len(names) and set(bf[0]) == set(names)
                    and all(self._before[n].shape == self._leaf_vars[n]._data.shape for n in bf[0])):
                # The common case: every parameter stepped; one pass gives both.
                both = step_stats([self._leaf_vars[n]._data for n in bf[0]], bf[1])
            if both is not None:
                pos = {n: i for i, n in enumerate(bf[0])}
                wstats = [both[0][pos[n]] for n in names]
                upds = {i: both[1][pos[n]] for i, n in enumerate(names)}
            else:
                wstats = compute_stats_many(datas)
                before = self._before
                stepped = [i for i, (name, d) in enumerate(zip(names, datas))
                           if (old := before.get(name)) is not None and old.shape == d.shape]
                upds = dict(zip(stepped, diff_norms([datas[i] for i in stepped],
                                                    [before[names[i]] for i in stepped])))
            grad_stats = self._grad_stats
            hists = self._grad_hists
            checks = []
            if do_hist:
                value_hists = compute_histograms(datas, c.hist_bins, wstats)
            for i, name in enumerate(names):
                var, d, w = leaf_vars[i], datas[i], wstats[i]
                g = grad_stats.get(name)
                if g is None and var.grad is not None and name not in grad_stats:
                    g = compute_stats(var.grad._data)
                upd = upds.get(i)
                ratio = None
                if upd is not None:
                    ratio = upd / w.norm if w.norm > 0 else (math.inf if upd > 0 else 0.0)
                ps = ParamStats(name, it, tuple(d.shape), w, g, upd, ratio)
                if do_hist:
                    ps.hist_values = value_hists[i]
                    ps.hist_grads = hists.get(name)
                    if ps.hist_grads is None and g is not None and var.grad is not None:
                        ps.hist_grads = compute_histogram(var.grad._data, c.hist_bins, g)
                params[name] = ps
                checks.append((name, g, w.norm))
                if g is not None:
                    grad_norms[name] = g.norm
            self.stats.set_params(params.values())
            self.health.check_params(checks)
        losses = self._losses
        loss = sum(losses) / len(losses) if losses else None
        summary = IterationSummary(
            it, loss, list(losses), dict(self._metrics), params, dict(self._node_stats),
            self.graph.structure_id, self._passes_in_iter, time.time(), now - self._t_last_close,
            list(self._iter_reports))
        self.history.append_iteration(it, loss, self._metrics, grad_norms)
        self._finalize_pending()
        self._pending_summary = summary
        self.last_summary = summary
        self._t_last_close = now
        self._iteration = it + 1
        self.state.iteration = it + 1
        self._passes_in_iter = 0
        self._losses = []
        self._metrics = {}
        self._grad_stats = {}
        self._grad_hists = {}
        self._before = {}
        self._before_flat = None
        self._leaf_marks = {}
        self._iter_reports = []
        self._iter_started = False
        self._leaf_vars = {}
        self.stats.finish_iteration(it)
        self.iteration_closed.emit(summary)
        if checkpoint:
            saved_loss = self._pass_loss
            self._pass_loss = loss
            cp_it = self._iteration
            self._iteration = it         # the checkpoint belongs to the closed iteration
            try:
                self._checkpoint("iteration_end")
            finally:
                self._iteration = cp_it
                self._pass_loss = saved_loss

    def _finalize_pending(self):
        s = self._pending_summary
        if s is not None:
            self._pending_summary = None
            self.iteration_finalized.emit(s)


def _shapes(node) -> list:
    """Output shapes of a backward node's forward op (engine's raw metadata when there)."""
    meta = getattr(node, "_meta", None)
    if meta is None:
        return [tuple(m[0]) for m in node._output_meta]
    return [tuple(m[0]) for m in meta]


def _saved(node) -> list:
    """(name, shape, nbytes) of a node's saved tensors ([] once freed)."""
    try:
        return [(name, tuple(t._data.shape), int(t._data.nbytes)) for name, t in node._saved_items()]
    except RuntimeError:
        return []


def _marks(var):
    """What changes when a leaf is updated or its gradient reset: its data array and
    version, its gradient object and version."""
    if var is None:
        return None
    g = var.grad
    vc = getattr(var, "_vc", None)
    gvc = getattr(g, "_vc", None) if g is not None else None
    return (id(var._data), vc[0] if vc else None, id(g) if g is not None else None,
            gvc[0] if gvc else None)


def watch(model=None, *, config: WatchConfig | None = None, controller: StepController | None = None,
          record: str | None = None, recorder_options: dict | None = None, **config_kw) -> Session:
    """Attach a debugging :class:`Session` to the engine and return it (use as a context
    manager to detach on exit).

    ``model``: a module (or list of modules) to name parameters from up front (optional:
    modules are found on their first forward anyway). ``config`` or keyword options
    (``hist_every=10``, ``grad_out_stats=False``...) set :class:`WatchConfig`.
    ``controller``: a StepController to use (e.g. ``start_paused=True``). ``record``:
    a session file path to record to (see :class:`autograd_viz.recorder.Recorder`); the
    file is closed on detach, with the run's status ('finished', 'stopped', 'error').
    """
    if config is None:
        config = WatchConfig(**config_kw)
    elif config_kw:
        raise TypeError("pass either config= or keyword options, not both")
    s = Session(config, controller)
    if model is not None:
        for m in (model if isinstance(model, (list, tuple)) else [model]):
            s.add_model(m)
    if record is not None:
        from .recorder import Recorder
        s.recorder = s._owned_recorder = Recorder(s, record, **(recorder_options or {}))
    s.attach()
    return s
