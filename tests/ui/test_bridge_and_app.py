"""The thread relay and the app's entry point."""

from __future__ import annotations

import threading

from PySide6 import QtCore, QtWidgets

from ui import app as app_module
from ui.bridge import ModelBridge

from gui_helpers import lenet_structure, make_session, write_session_file


def test_relay_runs_in_the_gui_thread(qtbot):
    bridge = ModelBridge()
    seen = []
    bridge.event.connect(lambda name, payload: seen.append(
        (name, payload, QtCore.QThread.currentThread() is QtWidgets.QApplication.instance().thread())))
    t = threading.Thread(target=lambda: bridge.relay("state", "paused"), name="fake-training")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=2000)
    assert seen == [("state", "paused", True)]


def test_model_signals_from_another_thread_only_mark_dirty(qtbot):
    s = make_session()
    bridge = ModelBridge()
    bridge.attach(s)
    events = []
    bridge.event.connect(lambda name, payload: events.append(name))

    def train():
        s.graph.set_structure(*lenet_structure())
        s.graph.begin_pass(0)
        s.history.append_iteration(0, 1.0)
        s.state.set_mode("paused", "step")

    t = threading.Thread(target=train)
    t.start()
    t.join()
    assert {"structure", "graph", "history", "state"} <= bridge.take_dirty()
    assert bridge.take_dirty() == set()
    qtbot.waitUntil(lambda: "state" in events, timeout=2000)
    bridge.detach()
    s.graph.begin_pass(1)
    assert bridge.take_dirty() == set()       # detached: nothing arrives any more


def test_usage_error_returns_2(capsys):
    assert app_module.main(["frobnicate"]) == 2
    assert "usage: autograd-viz" in capsys.readouterr().err


def test_main_opens_a_session_file_and_returns_when_closed(qtbot, tmp_path, isolated_settings):
    path = tmp_path / "run.avz"
    write_session_file(path, iterations=2)

    def close_windows():
        for w in QtWidgets.QApplication.topLevelWidgets():
            if w.objectName() == "mainWindow" and w.isVisible():
                assert len(w.graph_view.graph_scene.node_ids()) == 24
                w.close()

    QtCore.QTimer.singleShot(500, close_windows)
    assert app_module.main(["open", str(path)]) == 0


def test_batch_size_is_read_below_the_scalar_loss():
    from ui.session_loader import batch_size_of
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    assert batch_size_of(s.graph) == 64
    nodes = [{"key": "NegBackward0#0", "op": "NegBackward0", "shapes": [()]},
             {"key": "MeanBackward0#0", "op": "MeanBackward0", "shapes": [()]},
             {"key": "SumBackward1#0", "op": "SumBackward1", "shapes": [(32,)]}]
    edges = [("NegBackward0#0", "MeanBackward0#0", {"slots": [0]}),
             ("MeanBackward0#0", "SumBackward1#0", {"slots": [0]})]
    s.graph.set_structure(nodes, edges)
    assert batch_size_of(s.graph) == 32
