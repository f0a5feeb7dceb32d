"""A tiny change signal for Qt-free models: ``connect`` / ``disconnect`` / ``emit``.

Models in :mod:`autograd_viz.models` announce changes through these. A slot runs
synchronously in the thread that calls :meth:`Signal.emit` — for a live session that is
the training thread — so a GUI must relay to its own thread (a Qt signal with a queued
connection, or a timer that reads the latest snapshot). The slot list is replaced, never
mutated in place, so connecting or disconnecting from another thread while ``emit`` runs
is safe, and ``emit`` with no slots costs one truthiness test.
"""

from __future__ import annotations

import threading

__all__ = ["Signal"]


class Signal:
    """A list of callbacks. ``emit(*args)`` calls each connected slot with ``args``.

    A slot that raises propagates its exception to the emitter (errors are not
    swallowed: a broken slot should be noticed, not hidden).
    """

    __slots__ = ("_slots", "_lock", "name")

    def __init__(self, name: str = ""):
        self.name = name
        self._slots: tuple = ()
        self._lock = threading.Lock()

    def connect(self, slot):
        """Call ``slot(*args)`` on every :meth:`emit`; returns ``slot`` (usable as a decorator).
        Connecting the same slot twice is a no-op."""
        if not callable(slot):
            raise TypeError(f"Signal {self.name!r}: connect expects a callable, got {type(slot).__name__}")
        with self._lock:
            if slot not in self._slots:
                self._slots = self._slots + (slot,)
        return slot

    def disconnect(self, slot=None) -> None:
        """Remove ``slot`` (no-op if it is not connected); with no argument, remove all."""
        with self._lock:
            if slot is None:
                self._slots = ()
            else:
                self._slots = tuple(s for s in self._slots if s != slot)

    def emit(self, *args) -> None:
        """Call every connected slot, oldest first, with ``args``."""
        slots = self._slots
        if slots:
            for slot in slots:
                slot(*args)

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, {len(self._slots)} slot(s))"
