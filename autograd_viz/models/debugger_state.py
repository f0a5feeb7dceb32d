"""Where the debugger is: running, paused (where and why), stopped, finished.

The step controller (:mod:`autograd_viz.controller`) writes this model from the
training thread; a GUI reads it. While paused, the :class:`Checkpoint` it is paused at
stays alive, so the node's incoming gradients, the gradients it is about to send and
its saved tensors can be fetched (host copies made on request, never otherwise).
"""

from __future__ import annotations

import threading

import numpy as np

from ..signals import Signal
from .stats import to_host

__all__ = ["Checkpoint", "DebuggerState", "CHECKPOINT_KINDS", "MODES"]

CHECKPOINT_KINDS = ("backward_started", "node_started", "node_finished", "grad_accumulated",
                    "backward_finished", "iteration_end")
MODES = ("idle", "running", "paused", "stopped", "finished", "error")


class Checkpoint:
    """One place the training thread may stop at, as breakpoints and the state see it.

    ``kind``: one of :data:`CHECKPOINT_KINDS`; ``event``: the engine event (None for
    ``iteration_end``); ``key``/``op``/``module``/``param``/``source``: the node's;
    ``grads_in``/``grads_out``: lists of Stats (or None entries) of what arrived and
    what is sent; ``loss``: the pass's loss (``backward_started`` onwards);
    ``iteration``: the iteration index (0-based) it belongs to; ``pass_index``: the
    backward pass count in the session.
    """

    __slots__ = ("kind", "event", "key", "op", "module", "param", "source", "grads_in",
                 "grads_out", "loss", "iteration", "pass_index")

    def __init__(self, kind, event=None, key=None, op=None, module=None, param=None,
                 source=None, grads_in=None, grads_out=None, loss=None, iteration=0,
                 pass_index=-1):
        self.kind = kind
        self.event = event
        self.key = key
        self.op = op
        self.module = module
        self.param = param
        self.source = source
        self.grads_in = grads_in
        self.grads_out = grads_out
        self.loss = loss
        self.iteration = iteration
        self.pass_index = pass_index

    def where(self) -> str:
        """A one-line description: ``'node_started fc1/AddmmBackward0#0 (train.py:31)'``."""
        parts = [self.kind]
        if self.key:
            parts.append(self.key)
        if self.source:
            parts.append(f"({self.source[0]}:{self.source[1]})")
        parts.append(f"iteration {self.iteration}")
        return " ".join(parts)

    def __repr__(self):
        return f"Checkpoint({self.where()})"


def _tensor_host(t):
    if t is None:
        return None
    data = getattr(t, "_data", t)
    return np.array(to_host(data), copy=True)


class DebuggerState:
    """The debugger's current state.

    Attributes: ``mode`` (one of :data:`MODES`); ``checkpoint`` (the :class:`Checkpoint`
    paused at, else the last one a breakpoint hit); ``reason`` (``'step'``,
    ``'breakpoint'``, ``'pause'``, ``'backward end'``, ``'iteration'``, ``'stop'``...);
    ``breakpoint`` (the Breakpoint that hit, or None); ``error`` (traceback text when a
    script failed); ``iteration`` (current 0-based iteration).

    Signal ``changed(state)`` after every transition (from the training thread).
    """

    def __init__(self):
        self.lock = threading.RLock()
        self.mode = "idle"
        self.checkpoint: Checkpoint | None = None
        self.reason = ""
        self.breakpoint = None
        self.error: str | None = None
        self.iteration = 0
        self.hits: list[tuple] = []           # (breakpoint id, description, where) per hit
        self.changed = Signal("state.changed")

    # -- transitions (controller / runner) -----------------------------------------------

    def set_mode(self, mode: str, reason: str = "", checkpoint: Checkpoint | None = None,
                 breakpoint=None, error: str | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown debugger mode {mode!r}; expected one of {MODES}")
        with self.lock:
            self.mode = mode
            self.reason = reason
            if mode == "paused" or checkpoint is not None:
                self.checkpoint = checkpoint
            elif mode in ("running", "idle", "finished"):
                self.checkpoint = None          # stopped/error keep where it happened
            self.breakpoint = breakpoint
            if error is not None:
                self.error = error
            if breakpoint is not None and checkpoint is not None:
                self.hits.append((breakpoint.id, breakpoint.description, checkpoint.where()))
        self.changed.emit(self)

    # -- reading ---------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.mode == "paused"

    @property
    def paused_key(self) -> str | None:
        """Key of the node paused at (None when not paused at a node)."""
        cp = self.checkpoint
        return cp.key if (self.mode == "paused" and cp is not None) else None

    def _event(self):
        cp = self.checkpoint
        if self.mode != "paused" or cp is None or cp.event is None:
            raise RuntimeError("the debugger is not paused at a backward event")
        return cp.event

    def grads_in(self) -> list:
        """Host copies of the gradients that arrived at the paused node (one per
        forward output; None where none arrived)."""
        ev = self._event()
        g = getattr(ev, "grads_in", None)
        if g is None:
            if hasattr(ev, "grad"):          # a GradAccumulated event
                return [_tensor_host(ev.grad)]
            raise RuntimeError(f"no incoming gradients at a {self.checkpoint.kind} checkpoint")
        return [_tensor_host(t) for t in g]

    def grads_out(self) -> list:
        """Host copies of the gradients the paused node sends (one per next_functions
        edge). Only at a ``node_finished`` checkpoint: before the node runs they do not
        exist yet (step once more)."""
        ev = self._event()
        g = getattr(ev, "grads_out", None)
        if g is None:
            raise RuntimeError("outgoing gradients exist only once the node ran "
                               f"(paused at {self.checkpoint.kind}; step to node_finished)")
        return [_tensor_host(t) for t in g]

    def saved_tensors(self) -> list[tuple[str, np.ndarray]]:
        """(name, host copy) of the paused node's saved tensors. Raises RuntimeError
        when the engine already freed them (after the node ran, without retain_graph)."""
        ev = self._event()
        node = getattr(ev, "node", None)
        if node is None or not hasattr(node, "_saved_items"):
            raise RuntimeError(f"no node at a {self.checkpoint.kind} checkpoint")
        return [(name, _tensor_host(t)) for name, t in node._saved_items()]
