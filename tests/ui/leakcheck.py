"""Tracking of QTimers/QThreads started during a test, and the check for leftovers.

Imported by ``conftest.py`` before any test runs: it wraps ``QTimer.start`` and
``QThread.start`` so every timer or thread a test starts is recorded in the current
``_Tracker``; ``find_leaks`` then lists what is still running.
"""

from __future__ import annotations

import threading
import time

import shiboken6
from PySide6 import QtCore, QtWidgets

# How long a thread may take to finish after the test body returned (a worker that
# was told to stop needs a moment to unwind), before it counts as leaked.
_THREAD_GRACE_S = 5.0


class _Tracker:
    """Records every QTimer / QThread started during one test."""

    def __init__(self):
        self.timers: list = []
        self.threads: list = []
        self.single_shots_pending = 0


_current: list = [None]   # the tracker of the running test
_orig_timer_start = QtCore.QTimer.start
_orig_thread_start = QtCore.QThread.start


def _timer_start(self, *args):
    if _current[0] is not None:
        _current[0].timers.append(self)
    return _orig_timer_start(self, *args)


def _thread_start(self, *args):
    if _current[0] is not None:
        _current[0].threads.append(self)
    return _orig_thread_start(self, *args)


QtCore.QTimer.start = _timer_start
QtCore.QThread.start = _thread_start


def _live(obj) -> bool:
    return shiboken6.isValid(obj)


def find_leaks(before: set, tracker: _Tracker, grace_s: float = _THREAD_GRACE_S) -> list:
    """What is still running that was started after ``before`` was taken: Python threads
    (after waiting up to ``grace_s`` for them), QThreads and active QTimers. Leaked
    timers are stopped so one failure does not cascade into the next test."""
    app = QtWidgets.QApplication.instance()
    if app is not None:
        # deleteLater() from closed widgets happens on the next event-loop turn.
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        app.processEvents()
    problems = []
    deadline = time.monotonic() + grace_s
    for t in threading.enumerate():
        if t in before or not t.is_alive():
            continue
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            problems.append(f"thread {t.name!r} still running")
    for qt in tracker.threads:
        if _live(qt) and qt.isRunning():
            if not qt.wait(int(max(0.0, deadline - time.monotonic()) * 1000)):
                problems.append(f"QThread {qt.objectName() or qt!r} still running")
    for timer in tracker.timers:
        if _live(timer) and timer.isActive():
            problems.append(
                f"QTimer {timer.objectName() or '(unnamed)'} still active "
                f"(interval {timer.interval()} ms, parent {type(timer.parent()).__name__})"
            )
            timer.stop()
    return problems


