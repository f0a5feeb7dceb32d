"""Python's cyclic garbage collector runs only in the GUI thread while a script trains.

A Qt object that the cyclic collector frees is destroyed in whichever thread the
collector happens to run in, and a collection starts in whatever thread allocates at
the wrong moment: with a script training in its own thread, that is usually the
training thread. Destroying a widget there is undefined in Qt; seen here: a QMenu of a
closed window, collected on the training thread inside the debugger's statistics code,
whose destructor then waited forever for the GIL (the whole app hung).

The remedy is pyqtgraph's (``pyqtgraph.util.garbage_collector``): turn automatic
collection off and collect from a timer in the GUI thread. Unlike pyqtgraph's class this
guard is on only while a run is training, and puts the collector back as it found it
when the last run has ended (the timer notices; everything happens in the GUI thread).
"""

from __future__ import annotations

import gc

from PySide6 import QtCore

__all__ = ["GuiThreadGC", "guard_run", "release_run"]


class GuiThreadGC(QtCore.QObject):
    """Collects on a GUI-thread timer while any run it was given is still running."""

    INTERVAL_MS = 500

    def __init__(self, parent=None):
        super().__init__(parent)
        self._runs: list = []
        self._was_enabled = True
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def add(self, run) -> None:
        """Guard ``run`` (anything with a ``running`` property) until it stops running."""
        if not self._runs:
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._timer.start()
        self._runs.append(run)

    def release(self, run) -> None:
        """``run`` has ended (its window closed): stop guarding it now."""
        self._runs = [r for r in self._runs if r is not run]
        if not self._runs and self._timer.isActive():
            self._end()

    @QtCore.Slot()
    def _tick(self) -> None:
        self.collect_due()
        self._runs = [r for r in self._runs if r.running]
        if not self._runs:
            self._end()

    def _end(self) -> None:
        self._timer.stop()
        gc.collect()           # what piled up since the last tick, here in the GUI thread
        if self._was_enabled:
            gc.enable()

    @staticmethod
    def collect_due() -> None:
        """Collect the generations whose allocation counts passed their thresholds, as
        the automatic collector would have."""
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            gc.collect(2 if (c1 > t1 and c2 > t2) else (1 if c1 > t1 else 0))


_guard: GuiThreadGC | None = None


def guard_run(run) -> GuiThreadGC | None:
    """Guard ``run`` with the process's one :class:`GuiThreadGC` (made on first use).
    Nothing to guard, and None, without a Qt application or off its thread (no event
    loop there would run the timer, and the collector would stay off)."""
    global _guard
    app = QtCore.QCoreApplication.instance()
    if app is None or QtCore.QThread.currentThread() is not app.thread():
        return None
    if _guard is None:
        _guard = GuiThreadGC(app)
    _guard.add(run)
    return _guard


def release_run(run) -> None:
    """Stop guarding ``run`` (it has ended); a no-op when it was never guarded."""
    if _guard is not None:
        _guard.release(run)
