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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

import pytest  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6 import QtCore, QtWidgets  # noqa: E402

from leakcheck import _Tracker, _current, find_leaks  # noqa: E402,F401


@pytest.fixture(autouse=True)
def no_leaks(request):
    """Fail the test if it leaves a thread, a QThread or an active QTimer behind.

    Set up before any other fixture of the test (autouse), so its teardown runs
    after ``qtbot`` has closed the test's widgets: whatever still runs then leaked.
    """
    before = set(threading.enumerate())
    tracker = _current[0] = _Tracker()
    yield tracker
    _current[0] = None
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


@pytest.fixture
def window(qtbot, isolated_settings):
    """A shown MainWindow with settings in a temporary folder (closed by qtbot)."""
    from ui.main_window import MainWindow
    w = MainWindow(QtCore.QSettings())
    qtbot.addWidget(w)
    w.show()
    return w
