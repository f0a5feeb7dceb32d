"""Closing the app's window never silently discards a recorded run: it offers to save it."""

from __future__ import annotations

import os

from PySide6 import QtCore, QtWidgets

from autograd_viz.session import SessionReader
from ui.main_window import MainWindow

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")
Box = QtWidgets.QMessageBox


def _finished_run(qtbot, ask=True):
    w = MainWindow(QtCore.QSettings(), ask_before_discard=ask)
    qtbot.addWidget(w)
    w.show()
    assert w.run_script(os.path.join(SCRIPTS, "planted_nan.py"), ["--nan-at", "99", "--steps", "3"])
    s = w.session
    qtbot.waitUntil(lambda: not s.running, timeout=60_000)
    qtbot.waitUntil(lambda: s.unsaved_iterations == 3, timeout=5_000)
    return w, s


def _answer(monkeypatch, button, asked):
    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return button
    monkeypatch.setattr(Box, "question", staticmethod(question))


def test_cancel_keeps_the_window_open(qtbot, isolated_settings, monkeypatch):
    w, s = _finished_run(qtbot)
    asked = []
    _answer(monkeypatch, Box.StandardButton.Cancel, asked)
    assert not w.close()
    assert w.isVisible() and "3 recorded iterations" in asked[0]
    _answer(monkeypatch, Box.StandardButton.Discard, asked)
    assert w.close()


def test_save_writes_the_session_then_closes(qtbot, isolated_settings, monkeypatch, tmp_path):
    w, s = _finished_run(qtbot)
    target = tmp_path / "kept.avz"
    _answer(monkeypatch, Box.StandardButton.Save, [])
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    assert w.close()
    assert SessionReader(str(target)).iterations() == [0, 1, 2]


def test_save_dialog_cancelled_keeps_the_window_open(qtbot, isolated_settings, monkeypatch):
    w, s = _finished_run(qtbot)
    _answer(monkeypatch, Box.StandardButton.Save, [])
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: ("", "")))
    assert not w.close()
    _answer(monkeypatch, Box.StandardButton.Discard, [])
    assert w.close()


def test_no_question_once_saved_or_when_not_asked(qtbot, isolated_settings, monkeypatch, tmp_path):
    asked = []
    _answer(monkeypatch, Box.StandardButton.Cancel, asked)
    w, s = _finished_run(qtbot)
    s.save_as(str(tmp_path / "a.avz"))
    assert s.unsaved_iterations == 0
    assert w.close() and asked == []
    w2, _ = _finished_run(qtbot, ask=False)
    assert w2.close() and asked == []
