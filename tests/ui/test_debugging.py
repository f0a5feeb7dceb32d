"""Driving a real training thread from the window: keys, buttons, breakpoints, NaN, errors.

These run real scripts (the LeNet sample, two tiny scripts in ``scripts/``) in the
window's worker thread, and press the debugger's keys with qtbot.
"""

from __future__ import annotations

import os

import pytest
from PySide6 import QtCore

from ui.dialogs import ExceptionDialog
from ui.graph_view import palette
from ui.main_window import MainWindow
from ui.samples_menu import sample_path

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")
WAIT_MS = 60_000        # the LeNet sample loads its data set first
Key = QtCore.Qt.Key


@pytest.fixture
def window(qtbot, isolated_settings):
    w = MainWindow(QtCore.QSettings())
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    return w


def _paused(w):
    """The thread is paused and the window has handled that (the queued relay arrived)."""
    return (w.session.controller.is_paused and w.session.state.mode == "paused"
            and w.last_mode_event == "paused")


def press(qtbot, w, key, modifier=QtCore.Qt.KeyboardModifier.NoModifier):
    """Press a debugger key in the window and wait until the thread paused again."""
    seen = w.mode_events
    qtbot.keyClick(w, key, modifier)
    qtbot.waitUntil(lambda: w.mode_events > seen and _paused(w), timeout=WAIT_MS)
    w.refresh()


@pytest.mark.slow
def test_lenet_step_by_node_finish_break_on_op_pause_and_stop(window, qtbot):
    w = window
    assert w.run_script(sample_path("lenet"), ["--steps", "40", "--epochs", "1"], start_paused=True)
    s = w.session
    qtbot.waitUntil(lambda: _paused(w), timeout=WAIT_MS)
    assert s.state.checkpoint.kind == "backward_started"
    assert w.actions.step_node.isEnabled() and not w.actions.pause.isEnabled()

    # F11: node by node; the current node advances in the engine's execution order
    started = []
    for _ in range(8):
        press(qtbot, w, Key.Key_F11)
        cp = s.state.checkpoint
        assert cp.kind in ("node_started", "node_finished")
        assert w.graph_view.graph_scene.current == w.layout_engine.scene_key(cp.key)
        assert w.inspector.selection == ("node", cp.key)
        if cp.kind == "node_started":
            started.append(cp.key)
    with s.graph.lock:
        order = list(s.graph.order)
    assert started == order[: len(started)]
    assert started[0].endswith("NllLossBackward0#0")
    scene = w.graph_view.graph_scene
    assert scene.node_item(started[0]).brush().color() == palette.STATE_FILL["done"]

    # Shift+F11: to the end of this backward pass
    press(qtbot, w, Key.Key_F11, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert s.state.checkpoint.kind == "backward_finished"
    with s.graph.lock:
        assert all(a["state"] == "done" for a in s.graph.graph.nodes.values())

    # a breakpoint on an op type, from the breakpoints panel; F5 runs to it
    panel = w.breakpoints_panel
    panel.kind.setCurrentIndex(0)
    panel.value.setEditText("ConvolutionBackward0")
    qtbot.mouseClick(panel.add_button, QtCore.Qt.MouseButton.LeftButton)
    press(qtbot, w, Key.Key_F5)
    cp = s.state.checkpoint
    assert s.state.reason == "breakpoint" and cp.op == "ConvolutionBackward0"
    assert cp.iteration == 1
    assert w.inspector.fields["Op"].text() == "ConvolutionBackward0"
    w.refresh()
    assert w.graph_view.graph_scene.current == w.layout_engine.scene_key(cp.key)

    # F10 finishes the iteration: the loss history and parameter table fill in
    s.breakpoints.clear()
    press(qtbot, w, Key.Key_F10)
    assert s.state.checkpoint.kind == "iteration_end"
    qtbot.waitUntil(lambda: w.parameters.model.rowCount() == 10, timeout=5000)
    assert len(w.plots.loss_curve.getData()[0]) == 2

    # run freely for a few iterations, pause with the button, stop with Shift+F5
    qtbot.keyClick(w, Key.Key_F5)
    qtbot.waitUntil(lambda: s.history.iterations >= 5, timeout=WAIT_MS)
    w.refresh()
    assert w.actions.pause.isEnabled()
    pause_button = w.toolbar.widgetForAction(w.actions.pause)
    qtbot.mouseClick(pause_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _paused(w), timeout=WAIT_MS)
    assert s.state.reason == "pause"
    qtbot.keyClick(w, Key.Key_F5, QtCore.Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.runner.result.status == "stopped"
    assert s.state.mode == "stopped"


def test_planted_nan_stops_at_its_node_shown_red_and_selected(window, qtbot):
    w = window
    w.actions.break_nonfinite.setChecked(True)
    assert w.run_script(os.path.join(SCRIPTS, "planted_nan.py"), ["--nan-at", "1"])
    s = w.session
    qtbot.waitUntil(lambda: _paused(w), timeout=WAIT_MS)
    w.refresh()
    cp = s.state.checkpoint
    assert s.state.reason == "breakpoint"
    assert cp.op == "PlantNaNBackward" and cp.kind == "node_finished" and cp.iteration == 1
    scene = w.graph_view.graph_scene
    item = scene.node_item(cp.key)
    assert item.pen().color() == palette.HEALTH_BORDER["nan"][0]
    assert scene.selected == cp.key
    assert w.inspector.selection == ("node", cp.key)
    assert "out[0]" in [w.inspector.grads.item(r, 0).text() for r in range(w.inspector.grads.rowCount())]
    w.command("stop")
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)


def test_script_exception_shows_traceback_and_window_stays(window, qtbot):
    w = window
    assert w.run_script(os.path.join(SCRIPTS, "raises.py"))
    s = w.session
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(w.findChildren(ExceptionDialog)), timeout=5000)
    dlg = w.findChildren(ExceptionDialog)[0]
    text = dlg.traceback.toPlainText()
    assert "ValueError: metric exploded" in text and "broken_metric" in text
    assert w.isVisible() and s.state.mode == "error"
    w.refresh()
    assert len(w.graph_view.graph_scene.node_ids()) > 0    # the session keeps its graph
    dlg.close()


def test_closing_while_paused_stops_the_training_thread(qtbot, isolated_settings):
    w = MainWindow(QtCore.QSettings())
    qtbot.addWidget(w)
    w.show()
    assert w.run_script(os.path.join(SCRIPTS, "planted_nan.py"), ["--steps", "50", "--nan-at", "99"],
                        start_paused=True)
    s = w.session
    qtbot.waitUntil(lambda: _paused(w), timeout=WAIT_MS)
    w.close()
    assert not s.runner.running
    assert s.runner.result.status == "stopped"


def test_auto_step_animates_the_backward_pass(window, qtbot):
    w = window
    assert w.run_script(os.path.join(SCRIPTS, "planted_nan.py"), ["--nan-at", "99"], start_paused=True)
    s = w.session
    qtbot.waitUntil(lambda: _paused(w), timeout=WAIT_MS)
    w.toolbar.set_speed_index(4)                       # 30 nodes/s
    assert w.auto_step_timer.isActive() and w.auto_step_timer.interval() == 33
    qtbot.waitUntil(lambda: len(s.graph.order) >= 6, timeout=WAIT_MS)
    w.toolbar.set_speed_index(0)
    assert not w.auto_step_timer.isActive()
    with s.graph.lock:
        order = list(s.graph.order)
    assert order[0].endswith("MeanBackward0#0")
    w.command("stop")
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)


def test_a_finished_run_can_be_saved_and_reopened(window, qtbot, tmp_path):
    w = window
    assert w.run_script(os.path.join(SCRIPTS, "planted_nan.py"), ["--nan-at", "99", "--steps", "3"])
    s = w.session
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.runner.result.status == "finished"
    qtbot.waitUntil(lambda: w.timeline.list.count() == 3, timeout=5000)
    saved = tmp_path / "saved.avz"
    s.save_as(str(saved))
    assert w.open_session_file(str(saved))
    assert w.session.replay.iterations == [0, 1, 2]
    assert w.session.history.loss.count == 3
