"""Every menu action and window command, triggered with no session, an empty session and a
drawn graph: none may raise in its slot (a slot's exception only prints, and can leave
the window half-updated), and each refusal tells the user why."""

from __future__ import annotations

import sys

import pytest
from PySide6 import QtWidgets

from gui_helpers import lenet_structure, make_session


def _answer_file_dialogs(monkeypatch, tmp_path):
    """Save dialogs answer a path in tmp_path; open dialogs a file that does not exist."""
    def save(parent, caption, default, *a, **k):
        return str(tmp_path / default), ""
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", staticmethod(save))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "missing.py"), "")))


@pytest.mark.parametrize("which", ["no session", "empty session", "lenet graph"])
def test_every_action_is_safe_to_trigger(window, tmp_path, no_modal_dialogs, monkeypatch, which):
    raised = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: raised.append(exc))
    _answer_file_dialogs(monkeypatch, tmp_path)
    if which != "no session":
        s = make_session()
        if which == "lenet graph":
            s.graph.set_structure(*lenet_structure())
        window.set_session(s)
    a = window.actions
    for act in [a.open_script, a.open_session, a.save_session, a.export_png, a.export_svg,
                a.export_csv, *a.debug, a.break_nonfinite, a.fit, a.zoom_in, a.zoom_out, a.find,
                a.forward_direction, a.follow_current, a.reset_layout, a.break_nonfinite,
                a.forward_direction]:
        act.trigger()
        window.refresh()
    window.search.setText("fc1")
    window.find_next()
    window.inspect_node("no such node")
    window.inspect_parameter("no such parameter")
    window.toggle_node_breakpoint("no such node")
    window.toggle_group("no such module")
    window.show_iteration(3)
    assert window.node_tooltip("no such node") == "no such node"
    window.refresh()
    assert not raised
    titles = [title for _kind, title, _text in no_modal_dialogs]
    assert "Cannot run script" in titles and "Cannot open session" in titles
    if which == "lenet graph":
        assert (tmp_path / "graph.png").stat().st_size > 1000
        assert "<svg" in (tmp_path / "graph.svg").read_text()
    else:  # nothing drawn: say so instead of writing a blank picture
        texts = {title: text for _kind, title, text in no_modal_dialogs}
        assert "no graph to export" in texts["Export PNG"]
        assert "no graph to export" in texts["Export SVG"]
        assert not (tmp_path / "graph.png").exists() and not (tmp_path / "graph.svg").exists()
