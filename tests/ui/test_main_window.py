"""The main window: docks, settings, file menu, timeline, error dialogs."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

from ui.dialogs import ExceptionDialog
from ui.main_window import MainWindow

from gui_helpers import fill_stats, lenet_structure, make_session, record_for, write_session_file


def test_docks_menus_and_debugger_shortcuts(window):
    assert set(window.docks) == {"inspector", "parameters", "plots", "breakpoints", "timeline"}
    a = window.actions
    keys = {act.objectName(): act.shortcut().toString() for act in a.debug}
    assert keys == {"continue": "F5", "pause": "F6", "step_node": "F11",
                    "finish_backward": "Shift+F11", "step_iteration": "F10", "stop": "Shift+F5"}
    # no run: stepping is disabled
    assert not a.step_node.isEnabled() and not a.continue_.isEnabled()
    menus = [m.title() for m in window.menuBar().findChildren(QtWidgets.QMenu) if m.parent() is window.menuBar()]
    assert {"&File", "&Debug", "&View", "&Help"} <= set(menus)
    assert any(act.objectName() == "sample_lenet" for act in window.samples_menu.actions())


def test_docks_hide_restore_and_layout_is_remembered(qtbot, isolated_settings):
    w = MainWindow(QtCore.QSettings())
    qtbot.addWidget(w)
    w.show()
    w.docks["plots"].toggleViewAction().trigger()
    assert not w.docks["plots"].isVisible()
    w.close()
    w2 = MainWindow(QtCore.QSettings())
    qtbot.addWidget(w2)
    w2.show()
    assert not w2.docks["plots"].isVisible()       # remembered through QSettings
    w2.actions.reset_layout.trigger()
    assert w2.docks["plots"].isVisible()


def test_window_draws_a_model_session(window):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    fill_stats(s)
    s.history.append_iteration(0, 2.3)
    window.set_session(s)
    assert len(window.graph_view.graph_scene.node_ids()) == 24
    assert window.parameters.model.rowCount() == 10
    assert list(window.plots.loss_curve.getData()[1]) == [2.3]
    window.inspect_node("param:fc1.weight")
    assert window.inspector.title.text() == "fc1.weight [120, 400]"
    assert "fc1.weight" in window.node_tooltip("param:fc1.weight")


def test_right_click_toggles_a_node_breakpoint(window):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    window.set_session(s)
    window.toggle_node_breakpoint("fc2/AddmmBackward0#0")
    assert [b.key for b in s.breakpoints.list()] == ["fc2/AddmmBackward0#0"]
    window.refresh()
    assert "fc2/AddmmBackward0#0" in window.graph_view.graph_scene._bp_items
    assert window.breakpoints_panel.table.rowCount() == 1
    window.toggle_node_breakpoint("fc2/AddmmBackward0#0")
    window.refresh()
    assert len(s.breakpoints) == 0 and not window.graph_view.graph_scene._bp_items


def test_double_click_collapses_a_module(window):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    window.set_session(s)
    window.toggle_group("fc1")
    window.refresh()
    ids = window.graph_view.graph_scene.node_ids()
    assert "param:fc1.weight" not in ids and len(ids) == 24 - 3 + 1
    window.toggle_group("fc1")
    window.refresh()
    assert len(window.graph_view.graph_scene.node_ids()) == 24


def test_bad_session_file_shows_an_error_and_the_app_stays_usable(window, tmp_path, no_modal_dialogs):
    bad = tmp_path / "notes.avz"
    bad.write_text("this is not a session")
    assert not window.open_session_file(str(bad))
    assert len(no_modal_dialogs) == 1
    kind, title, text = no_modal_dialogs[0]
    assert kind == "critical" and "notes.avz" in text
    good = tmp_path / "run.avz"
    write_session_file(good, iterations=3)
    assert window.open_session_file(str(good))
    assert window.timeline.list.count() == 3
    assert len(window.graph_view.graph_scene.node_ids()) == 24
    assert [p for p, _k in window.recent.entries()] == [str(good)]


def test_timeline_goes_back_to_an_earlier_iteration(window, tmp_path):
    path = tmp_path / "run.avz"
    write_session_file(path, iterations=4)
    window.open_session_file(str(path))
    assert window.session.replay.current == 3
    window.timeline.select_iterations(1)
    assert window.session.replay.current == 1
    window.refresh()
    ps = window.session.stats.param("fc1.weight")
    assert ps.grad.norm == pytest.approx(0.2)
    row = next(r for r in window.parameters.model.rows if r.name == "fc1.weight")
    assert row.grad_norm == pytest.approx(0.2)


def test_follows_a_session_file_still_being_written(window, tmp_path, qtbot):
    path = tmp_path / "live.avz"
    writer = write_session_file(path, iterations=2, finished=False)
    try:
        window.open_session_file(str(path))
        assert window.follow_timer.isActive()
        assert window.timeline.list.count() == 2
        sid = window.session.replay.reader.latest_structure_id()
        writer.write_iteration(record_for(2, sid))
        writer.write_iteration(record_for(3, sid))
        qtbot.waitUntil(lambda: window.timeline.list.count() == 4, timeout=5000)
        assert window.session.replay.current == 3          # it followed to the newest
        assert window.session.history.loss.count == 4
    finally:
        writer.close("finished")
    qtbot.waitUntil(lambda: not window.follow_timer.isActive(), timeout=5000)


def test_script_exception_dialog_keeps_the_window(window):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    window.set_session(s)
    s.state.set_mode("error", "ZeroDivisionError: division by zero",
                     error="Traceback (most recent call last):\n  File \"train.py\", line 3\nZeroDivisionError: division by zero\n")
    QtWidgets.QApplication.processEvents()
    dialogs = window.findChildren(ExceptionDialog)
    assert len(dialogs) == 1
    assert "ZeroDivisionError" in dialogs[0].traceback.toPlainText()
    assert window.isVisible()
    assert len(window.graph_view.graph_scene.node_ids()) == 24   # the session keeps what it had


def test_export_png_svg_csv(window, tmp_path):
    from ui import export
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    for i in range(3):
        s.history.append_iteration(i, 1.0 / (i + 1), {"acc": 0.5}, {"fc1.weight": 0.1})
    fill_stats(s)
    window.set_session(s)
    size = export.export_png(window.graph_view.graph_scene, str(tmp_path / "g.png"))
    assert size.width() > 100 and (tmp_path / "g.png").stat().st_size > 1000
    export.export_svg(window.graph_view.graph_scene, str(tmp_path / "g.svg"))
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "fc1.weight" in svg
    n = export.export_csv(s.history, str(tmp_path / "s.csv"), s.stats)
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert n == 3 and lines[0] == "iteration,loss,acc,grad_norm/fc1.weight"
    assert lines[2] == "1,0.5,0.5,0.1"
    assert len((tmp_path / "s_parameters.csv").read_text().splitlines()) == 11
