"""Fixtures for the GUI tests: offscreen Qt, no leaked threads or timers, no blocking dialogs.

``QT_QPA_PLATFORM=offscreen`` is set here, before any test module imports Qt, so the
suite runs on a machine without a display (CI). The ``no_leaks`` fixture is autouse:
a test that leaves a Python thread, a ``QThread`` or an active ``QTimer`` running
fails, because a leaked training thread or refresh timer is exactly the bug that makes
a real window hang on close.
"""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

import pytest  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

import shiboken6  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

# How long a thread may take to finish after the test body returned (a worker that
# was told to stop needs a moment to unwind), before it counts as leaked.
_THREAD_GRACE_S = 5.0


class _Tracker:
    """Records every QTimer / QThread started during one test."""

    def __init__(self):
        self.timers: list = []
        self.threads: list = []
        self.single_shots_pending = 0


_tracker: _Tracker | None = None
_orig_timer_start = QtCore.QTimer.start
_orig_thread_start = QtCore.QThread.start


def _timer_start(self, *args):
    if _tracker is not None:
        _tracker.timers.append(self)
    return _orig_timer_start(self, *args)


def _thread_start(self, *args):
    if _tracker is not None:
        _tracker.threads.append(self)
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


@pytest.fixture(autouse=True)
def no_leaks(request):
    """Fail the test if it leaves a thread, a QThread or an active QTimer behind.

    Set up before any other fixture of the test (autouse), so its teardown runs
    after ``qtbot`` has closed the test's widgets: whatever still runs then leaked.
    """
    global _tracker
    before = set(threading.enumerate())
    _tracker = _Tracker()
    tracker = _tracker
    yield tracker
    _tracker = None
    problems = find_leaks(before, tracker)
    if problems:
        pytest.fail("test leaked: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def no_modal_dialogs(monkeypatch):
    """Replace QMessageBox's blocking static functions with recorders.

    Returns the list of ``(kind, title, text)`` calls, so a test can assert that an
    error dialog was shown without a modal loop hanging the suite.
    """
    shown: list = []

    def recorder(kind, answer):
        def fn(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return answer
        return staticmethod(fn)

    Box = QtWidgets.QMessageBox
    monkeypatch.setattr(Box, "critical", recorder("critical", Box.StandardButton.Ok))
    monkeypatch.setattr(Box, "warning", recorder("warning", Box.StandardButton.Ok))
    monkeypatch.setattr(Box, "information", recorder("information", Box.StandardButton.Ok))
    monkeypatch.setattr(Box, "question", recorder("question", Box.StandardButton.Yes))
    return shown


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """Point QSettings at a temporary folder so tests never read or write the user's."""
    QtCore.QSettings.setDefaultFormat(QtCore.QSettings.Format.IniFormat)
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat,
                             QtCore.QSettings.Scope.UserScope, str(tmp_path / "settings"))
    return tmp_path / "settings"
