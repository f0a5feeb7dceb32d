"""Every command of the window as a QAction, with its shortcut (menus and toolbars share them).

Debugger keys follow the usual debuggers: Continue F5, Pause F6, Step node F11, Finish
backward pass Shift+F11, Step iteration F10, Stop Shift+F5.
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

QKS = QtGui.QKeySequence


def _action(parent, text, shortcut=None, tip=None, checkable=False, name=None, icon=None):
    a = QtGui.QAction(text, parent)
    if shortcut:
        a.setShortcuts(shortcut if isinstance(shortcut, list) else [QKS(shortcut)])
    if tip:
        a.setStatusTip(tip)
        a.setToolTip(f"{tip} ({a.shortcut().toString()})" if shortcut else tip)
    if icon is not None:
        a.setIcon(parent.style().standardIcon(icon))
    a.setCheckable(checkable)
    a.setObjectName(name or text.replace("&", "").replace("…", "").strip().lower().replace(" ", "_"))
    return a


SP = QtWidgets.QStyle.StandardPixmap


class WindowActions:
    """The window's actions, grouped by menu. ``parent`` is the main window."""

    def __init__(self, parent: QtWidgets.QMainWindow):
        p = parent
        # File
        self.open_script = _action(p, "Open &script…", "Ctrl+O", "Run a training script under the debugger",
                                   name="open_script", icon=SP.SP_DialogOpenButton)
        self.open_session = _action(p, "Open s&ession…", "Ctrl+Shift+O",
                                    "Open a session file (follows one still being written)",
                                    name="open_session")
        self.save_session = _action(p, "&Save session as…", "Ctrl+S", "Save the session to a file",
                                    name="save_session", icon=SP.SP_DialogSaveButton)
        self.export_png = _action(p, "Export graph as &PNG…", None, "Save the graph picture", name="export_png")
        self.export_svg = _action(p, "Export graph as S&VG…", None, "Save the graph as vector graphics",
                                  name="export_svg")
        self.export_csv = _action(p, "Export statistics as &CSV…", None,
                                  "Save loss, metrics and gradient norms per iteration", name="export_csv")
        self.quit = _action(p, "&Quit", "Ctrl+Q", "Close the window", name="quit")
        # Debug
        self.continue_ = _action(p, "&Continue", "F5", "Run until a breakpoint", name="continue",
                                 icon=SP.SP_MediaPlay)
        self.pause = _action(p, "&Pause", [QKS("F6"), QKS("Pause")], "Pause at the next checkpoint",
                             name="pause", icon=SP.SP_MediaPause)
        self.step_node = _action(p, "Step &node", "F11", "Run to the next backward node", name="step_node",
                                 icon=SP.SP_ArrowDown)
        self.finish_backward = _action(p, "&Finish backward pass", "Shift+F11",
                                       "Run to the end of this backward pass", name="finish_backward",
                                       icon=SP.SP_MediaSeekForward)
        self.step_iteration = _action(p, "Step &iteration", "F10", "Run to the end of this iteration",
                                      name="step_iteration", icon=SP.SP_MediaSkipForward)
        self.stop = _action(p, "S&top", "Shift+F5", "Stop the training thread", name="stop",
                            icon=SP.SP_MediaStop)
        self.break_nonfinite = _action(p, "Break on &non-finite gradient", None,
                                       "Pause at the first NaN/Inf gradient of a pass",
                                       checkable=True, name="break_nonfinite")
        # View
        self.fit = _action(p, "&Fit graph", "Ctrl+0", "Show the whole graph", name="fit")
        self.zoom_in = _action(p, "Zoom &in", "Ctrl+=", None, name="zoom_in")
        self.zoom_out = _action(p, "Zoom &out", "Ctrl+-", None, name="zoom_out")
        self.find = _action(p, "&Find node…", "Ctrl+F", "Search a node by name", name="find")
        self.forward_direction = _action(p, "&Forward direction", "Ctrl+D",
                                         "Draw inputs on top (forward) instead of the loss (backward)",
                                         checkable=True, name="forward_direction")
        self.follow_current = _action(p, "Follow &current node", None,
                                      "Scroll the graph to the node the backward pass is at",
                                      checkable=True, name="follow_current")
        self.follow_current.setChecked(True)
        self.reset_layout = _action(p, "&Reset window layout", None, "Put every panel back", name="reset_layout")

    @property
    def debug(self) -> list:
        return [self.continue_, self.pause, self.step_node, self.finish_backward,
                self.step_iteration, self.stop]

    def set_debug_enabled(self, mode: str | None):
        """Enable the debugger commands that make sense in ``mode`` (None: no run)."""
        live = mode in ("running", "paused")
        self.continue_.setEnabled(mode == "paused")
        self.pause.setEnabled(mode == "running")
        for a in (self.step_node, self.finish_backward, self.step_iteration):
            a.setEnabled(mode == "paused")
        self.stop.setEnabled(live)
