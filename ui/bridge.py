"""Relay from the training thread to the GUI thread.

The debugger's models emit their change signals in the thread that changed them — the
training thread during a live run. Qt widgets may only be touched from the GUI thread,
and in PySide6 a Qt signal connected to a plain lambda runs in the *emitting* thread
(DESIGN.md). So:

- cheap, frequent changes (a node finished, a statistic updated) only set a dirty flag
  here (``mark``); the window's ~30 Hz timer reads the latest snapshot and redraws;
- rare events that need a reaction (paused, stopped, finished, an exception, a new
  graph structure) are emitted through ``_relay``, a Qt signal connected with a
  *queued* connection to the ``@Slot`` method ``_deliver`` of this object, which lives
  in the GUI thread; ``_deliver`` re-emits ``event(name, payload)`` there.
"""

from __future__ import annotations

import threading

from PySide6 import QtCore


class ModelBridge(QtCore.QObject):
    """Create in the GUI thread. ``relay``/``mark`` are safe from any thread."""

    event = QtCore.Signal(str, object)
    _relay = QtCore.Signal(str, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._dirty: set = set()
        self._detach: list = []
        self._relay.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)

    @QtCore.Slot(str, object)
    def _deliver(self, name, payload):
        self.event.emit(name, payload)

    def relay(self, name: str, payload=None):
        """Deliver ``event(name, payload)`` in the GUI thread (queued, from any thread)."""
        self._relay.emit(name, payload)

    def mark(self, *what: str):
        """Flag parts of the window as out of date ('graph', 'stats', 'history', ...)."""
        with self._lock:
            self._dirty.update(what)

    def take_dirty(self) -> set:
        """The flags set since the last call (and clear them)."""
        with self._lock:
            d, self._dirty = self._dirty, set()
        return d

    # ------------------------------------------------------------------ wiring
    def connect_signal(self, signal, slot):
        """Connect a Qt-free model Signal and remember to disconnect it in ``detach``."""
        signal.connect(slot)
        self._detach.append((signal, slot))

    def attach(self, session):
        """Listen to a session's models (any object with graph/stats/history/health/
        state/breakpoints attributes holding the autograd_viz models; absent ones are
        skipped)."""
        self.detach()
        graph = getattr(session, "graph", None)
        if graph is not None:
            self.connect_signal(graph.structure_changed, self._on_structure)
            self.connect_signal(graph.node_changed, self._on_node)
            self.connect_signal(graph.pass_started, self._on_pass)
            self.connect_signal(graph.pass_finished, self._on_pass)
            self.connect_signal(graph.collapsed_changed, self._on_collapsed)
        stats = getattr(session, "stats", None)
        if stats is not None:
            self.connect_signal(stats.updated, self._on_stats)
            self.connect_signal(stats.node_updated, self._on_node)
        history = getattr(session, "history", None)
        if history is not None:
            self.connect_signal(history.appended, self._on_history)
        health = getattr(session, "health", None)
        if health is not None:
            self.connect_signal(health.changed, self._on_health)
        state = getattr(session, "state", None)
        if state is not None:
            self.connect_signal(state.changed, self._on_state)
        bps = getattr(session, "breakpoints", None)
        if bps is not None:
            self.connect_signal(bps.changed, self._on_breakpoints)

    def detach(self):
        for signal, slot in self._detach:
            signal.disconnect(slot)
        self._detach = []

    # Model slots: run in whatever thread emitted; they only flag or relay.
    def _on_structure(self, change):
        self.mark("structure", "graph")
        self.relay("structure", change)

    def _on_node(self, _key):
        self.mark("graph")

    def _on_pass(self, _index):
        self.mark("graph")

    def _on_collapsed(self, group, collapsed):
        self.mark("structure", "graph")

    def _on_stats(self, _iteration):
        self.mark("stats", "graph")

    def _on_history(self, _iteration):
        self.mark("history")

    def _on_health(self, *_args):
        self.mark("graph", "stats")

    def _on_breakpoints(self):
        self.mark("breakpoints", "graph")

    def _on_state(self, state):
        self.mark("state", "graph")
        self.relay("state", state.mode)
