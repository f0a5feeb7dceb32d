"""The main window: graph view in the centre, panels in dock widgets, debugger commands.

The window draws one *session*: an object holding the debugger's Qt-free models
(``graph``, ``stats``, ``history``, ``health``, ``state``, ``breakpoints``) and, for a
live run, a ``controller`` (StepController) and the training thread. Model changes
arrive from the training thread through a ``ModelBridge`` (dirty flags + queued relay);
a ~30 Hz timer redraws from the latest snapshot. Commands go straight to the controller,
which is thread-safe.
"""

from __future__ import annotations

import os
import time
import traceback

from PySide6 import QtCore, QtGui, QtWidgets

from .actions import WindowActions
from .breakpoints_panel import BreakpointsPanel
from .bridge import ModelBridge
from .debugger_toolbar import DebuggerToolbar
from .dialogs import show_error, show_exception
from .graph_view import GraphView
from .graph_view.adapter import look_from_graph
from .graph_view.placement import LayoutEngine
from .inspector import Inspector
from .parameters_panel import ParametersPanel
from .plots import PlotsPanel
from .recent_files import RecentFiles
from .status_bar import DebugStatusBar
from .timeline import TimelinePanel

REFRESH_MS = 33
PANELS_HZ = 1.0
SETTINGS_ORG, SETTINGS_APP = "autograd-viz", "autograd-viz"
LAYOUT_VERSION = 2


def make_settings() -> QtCore.QSettings:
    return QtCore.QSettings(SETTINGS_ORG, SETTINGS_APP)


class MainWindow(QtWidgets.QMainWindow):
    """``set_session(session)`` to show a run; see the module docstring."""

    sessionChanged = QtCore.Signal()

    def __init__(self, settings: QtCore.QSettings | None = None, parent=None, *,
                 ask_before_discard: bool = False):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("autograd-viz")
        self.resize(1400, 900)
        self.settings = settings or make_settings()
        # the app asks before a closing window discards a recorded run; tests and
        # benchmarks build windows without the question
        self.ask_before_discard = ask_before_discard
        self.session = None
        self.layout_engine = LayoutEngine()
        self.bridge = ModelBridge(self)
        self.bridge.event.connect(self._on_bridge_event)
        self.actions = WindowActions(self)
        self.recent = RecentFiles(self.settings, self)
        self._exception_dialog = None
        self._mode = None
        self.mode_events = 0             # debugger mode changes handled (tests wait on it)
        self._panels_due = 0.0
        self.last_mode_event = None

        # centre: graph view with its own small toolbar
        self.graph_view = GraphView()
        self.graph_view.tooltip_provider = self.node_tooltip
        self.graph_view.nodeClicked.connect(self.inspect_node)
        self.graph_view.breakpointToggleRequested.connect(self.toggle_node_breakpoint)
        self.graph_view.groupToggleRequested.connect(self.toggle_group)
        self.search = QtWidgets.QLineEdit()
        self.search.setObjectName("graphSearch")
        self.search.setPlaceholderText("Find node (op, parameter, shape)… Enter for next")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.search.returnPressed.connect(self.find_next)
        self.search.textChanged.connect(lambda _t: self.graph_view.reset_search())
        self.legend = QtWidgets.QLabel(
            '<span style="color:#aab4be">■</span>pending '
            '<span style="color:#f5d76e">■</span>ready '
            '<span style="color:#ffb74d">■</span>running '
            '<span style="color:#81c784">■</span>done &nbsp;'
            '<span style="color:#d50000">□</span>NaN '
            '<span style="color:#ff6d00">□</span>exploding '
            '<span style="color:#2962ff">□</span>vanishing')
        self.legend.setToolTip("Fill: where the backward pass stands at a node. Border: gradient "
                               "health. Edge colour and width: norm of the gradient it carried.")
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.search, 1)
        for a in (self.actions.fit, self.actions.forward_direction):
            b = QtWidgets.QToolButton()
            b.setDefaultAction(a)
            bar.addWidget(b)
        bar.addWidget(self.legend)
        centre = QtWidgets.QWidget()
        cl = QtWidgets.QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addLayout(bar)
        cl.addWidget(self.graph_view, 1)
        self.setCentralWidget(centre)

        # panels
        self.inspector = Inspector()
        self.inspector.sourceCopied.connect(lambda s: self.statusBar().showMessage(f"copied {s}", 3000))
        self.parameters = ParametersPanel()
        self.parameters.parameterActivated.connect(self.inspect_parameter)
        self.plots = PlotsPanel()
        self.breakpoints_panel = BreakpointsPanel()
        self.breakpoints_panel.errorMessage.connect(lambda m: self.statusBar().showMessage(m, 5000))
        self.timeline = TimelinePanel()
        self.timeline.iterationChosen.connect(self.show_iteration)
        self.docks = {}
        R, B = QtCore.Qt.DockWidgetArea.RightDockWidgetArea, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
        self._add_dock("inspector", "Inspector", self.inspector, R)
        self._add_dock("breakpoints", "Breakpoints", self.breakpoints_panel, R)
        self._add_dock("parameters", "Parameters", self.parameters, B)
        self._add_dock("plots", "Plots", self.plots, B)
        self._add_dock("timeline", "Timeline", self.timeline, B)
        # One tabbed group only: with two, Qt 6.11 leaves a stale duplicate tab bar on screen.
        self.tabifyDockWidget(self.docks["parameters"], self.docks["timeline"])
        self.docks["parameters"].raise_()

        self.toolbar = DebuggerToolbar(self.actions, self)
        self.addToolBar(self.toolbar)
        self.toolbar.autoStepChanged.connect(self.set_auto_step)
        self.status = DebugStatusBar(self)
        self.setStatusBar(self.status)
        self._build_menus()
        self._connect_actions()
        self._shown_once = False
        self._restored = self._restore_settings()

        self.refresh_timer = QtCore.QTimer(self)
        self.refresh_timer.setObjectName("refreshTimer")
        self.refresh_timer.setInterval(REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh)
        self.auto_step_timer = QtCore.QTimer(self)
        self.auto_step_timer.setObjectName("autoStepTimer")
        self.auto_step_timer.timeout.connect(self._auto_step)
        self.follow_timer = QtCore.QTimer(self)
        self.follow_timer.setObjectName("followSessionTimer")
        self.follow_timer.setInterval(500)
        self.follow_timer.timeout.connect(self._follow_tick)
        self.actions.set_debug_enabled(None)
        self.refresh_timer.start()

    # ------------------------------------------------------------------ construction
    def _add_dock(self, name, title, widget, area):
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        # hidden panels are not redrawn; bring one up to date when it is shown again
        dock.visibilityChanged.connect(self._dock_shown)
        return dock

    @QtCore.Slot(bool)
    def _dock_shown(self, visible: bool):
        if visible and hasattr(self, "bridge"):
            self.bridge.mark("stats", "history", "inspector")

    def _build_menus(self):
        a = self.actions
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.samples_menu = f.addMenu("Open s&ample")
        self._fill_samples_menu()
        f.addAction(a.open_script)
        f.addAction(a.open_session)
        self.recent_menu = f.addMenu("&Recent files")
        self.recent.changed.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        f.addSeparator()
        f.addAction(a.save_session)
        f.addAction(a.export_png)
        f.addAction(a.export_svg)
        f.addAction(a.export_csv)
        f.addSeparator()
        f.addAction(a.quit)
        d = mb.addMenu("&Debug")
        for act in a.debug:
            d.addAction(act)
        d.addSeparator()
        d.addAction(a.break_nonfinite)
        v = mb.addMenu("&View")
        for act in (a.fit, a.zoom_in, a.zoom_out, a.find, a.forward_direction, a.follow_current):
            v.addAction(act)
        v.addSeparator()
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        v.addSeparator()
        v.addAction(a.reset_layout)
        h = mb.addMenu("&Help")
        h.addAction("About autograd-viz", self._about)

    def _connect_actions(self):
        a = self.actions
        a.open_script.triggered.connect(self.ask_open_script)
        a.open_session.triggered.connect(self.ask_open_session)
        a.save_session.triggered.connect(self.ask_save_session)
        a.export_png.triggered.connect(lambda: self._ask_export("png"))
        a.export_svg.triggered.connect(lambda: self._ask_export("svg"))
        a.export_csv.triggered.connect(lambda: self._ask_export("csv"))
        a.quit.triggered.connect(self.close)
        a.continue_.triggered.connect(lambda: self.command("resume"))
        a.pause.triggered.connect(lambda: self.command("pause"))
        a.step_node.triggered.connect(lambda: self.command("step_node"))
        a.finish_backward.triggered.connect(lambda: self.command("finish_pass"))
        a.step_iteration.triggered.connect(lambda: self.command("step_iteration"))
        a.stop.triggered.connect(lambda: self.command("stop"))
        a.break_nonfinite.toggled.connect(self.set_break_on_nonfinite)
        a.fit.triggered.connect(self.graph_view.fit)
        a.zoom_in.triggered.connect(lambda: self.graph_view.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: self.graph_view.zoom_by(0.8))
        a.find.triggered.connect(lambda: (self.search.setFocus(), self.search.selectAll()))
        a.forward_direction.toggled.connect(self.set_forward_direction)
        a.reset_layout.triggered.connect(self.reset_layout)

    def _fill_samples_menu(self):
        from .samples_menu import list_samples
        self.samples_menu.clear()
        for name, path, doc, args in list_samples():
            act = self.samples_menu.addAction(name)
            act.setStatusTip(doc)
            act.setToolTip(doc)
            act.setObjectName(f"sample_{name}")
            act.triggered.connect(lambda _c=False, p=path, a=args: self.run_script(p, list(a)))

    def _fill_recent_menu(self):
        self.recent_menu.clear()
        entries = self.recent.entries()
        for path, kind in entries:
            act = self.recent_menu.addAction(f"{os.path.basename(path)}  ({kind})")
            act.setStatusTip(path)
            if kind == "script":
                act.triggered.connect(lambda _c=False, p=path: self.run_script(p))
            else:
                act.triggered.connect(lambda _c=False, p=path: self.open_session_file(p))
        if entries:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.recent.clear)
        self.recent_menu.setEnabled(bool(entries))

    # ------------------------------------------------------------------ settings
    def _default_dock_sizes(self):
        self.resizeDocks([self.docks["inspector"]], [400], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["parameters"], self.docks["plots"]], [560, 440],
                         QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["parameters"]], [250], QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["inspector"], self.docks["breakpoints"]], [460, 150],
                         QtCore.Qt.Orientation.Vertical)

    def showEvent(self, event):
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self._restored:         # sizes only apply once the window has its size
                self._default_dock_sizes()

    def _restore_settings(self) -> bool:
        """Restore geometry and dock layout; True when a saved dock layout was applied."""
        geo = self.settings.value("window/geometry")
        if isinstance(geo, (QtCore.QByteArray, bytes)):
            self.restoreGeometry(geo)
        state = self.settings.value("window/state")
        restored = False
        if isinstance(state, (QtCore.QByteArray, bytes)):
            restored = bool(self.restoreState(state, LAYOUT_VERSION))
        self.actions.forward_direction.setChecked(self.settings.value("view/forward", False, type=bool))
        self.actions.follow_current.setChecked(self.settings.value("view/follow", True, type=bool))
        return restored

    def save_settings(self):
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("view/forward", self.actions.forward_direction.isChecked())
        self.settings.setValue("view/follow", self.actions.follow_current.isChecked())
        self.settings.sync()

    def reset_layout(self):
        """Every panel back where a new user finds it."""
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        R, B = QtCore.Qt.DockWidgetArea.RightDockWidgetArea, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
        for name, area in (("inspector", R), ("breakpoints", R), ("parameters", B), ("plots", B),
                           ("timeline", B)):
            self.addDockWidget(area, self.docks[name])
        self.tabifyDockWidget(self.docks["parameters"], self.docks["timeline"])
        self.docks["parameters"].raise_()
        self._default_dock_sizes()

    # ------------------------------------------------------------------ sessions
    def set_session(self, session):
        """Show ``session`` (replacing the current one, whose run is stopped first)."""
        self._shutdown_session()
        self.session = session
        self.layout_engine = LayoutEngine()
        self.graph_view.graph_scene.clear_graph()
        self.inspector.clear()
        self.plots.clear()
        self.bridge.attach(session)
        self.breakpoints_panel.set_breakpoints(getattr(session, "breakpoints", None))
        if getattr(session, "breakpoints", None) is not None:
            self.set_break_on_nonfinite(self.actions.break_nonfinite.isChecked())
        self.timeline.set_source(getattr(session, "timeline_source", None))
        title = getattr(session, "title", None) or "session"
        self.setWindowTitle(f"{title} — autograd-viz")
        self.bridge.mark("structure", "graph", "stats", "history", "breakpoints", "state")
        self._mode = None
        self.refresh()
        self.graph_view.fit(readable=True)
        self.sessionChanged.emit()

    def _shutdown_session(self, timeout: float = 5.0):
        """Stop the current run (if any) and wait for its thread; detach the models."""
        self.auto_step_timer.stop()
        self.follow_timer.stop()
        s = self.session
        if s is None:
            return
        stop = getattr(s, "shutdown", None)
        if stop is not None:
            stop(timeout)
        self.bridge.detach()
        self.session = None

    def command(self, name: str):
        """Forward a debugger command ('resume', 'pause', 'step_node', 'finish_pass',
        'step_iteration', 'stop') to the session's controller."""
        ctl = getattr(self.session, "controller", None)
        if ctl is None:
            self.statusBar().showMessage("nothing is running: open a sample or a script", 4000)
            return
        if name == "stop":
            self.auto_step_timer.stop()
        getattr(ctl, name)()
        self.bridge.mark("state")

    def set_auto_step(self, interval_ms: int):
        if interval_ms <= 0:
            self.auto_step_timer.stop()
        else:
            self.auto_step_timer.setInterval(interval_ms)
            if getattr(self.session, "controller", None) is not None:
                self.auto_step_timer.start()

    def _auto_step(self):
        ctl = getattr(self.session, "controller", None)
        if ctl is None or self._mode in ("stopped", "finished", "error", None):
            self.auto_step_timer.stop()
            return
        if ctl.is_paused:
            ctl.step_node()

    def set_break_on_nonfinite(self, on: bool):
        bps = getattr(self.session, "breakpoints", None)
        if bps is None:
            return
        from autograd_viz.breakpoints import NonFiniteBreakpoint
        existing = [b for b in bps.list() if isinstance(b, NonFiniteBreakpoint)]
        if on and not existing:
            bps.add(NonFiniteBreakpoint())
        elif not on:
            for b in existing:
                bps.remove(b)

    # ------------------------------------------------------------------ graph
    def _rebuild_graph(self):
        gm = self.session.graph
        with gm.lock:
            snapshot = gm.graph.copy()
            collapsed = set(gm.collapsed)
        scene = self.graph_view.graph_scene
        if snapshot.number_of_nodes() == 0:
            scene.clear_graph()
            return
        spec, placement = self.layout_engine.place(snapshot, collapsed)
        first = scene.spec is None
        scene.set_graph(spec, placement)
        ops = {a.get("op", "") for _k, a in snapshot.nodes(data=True)}
        params = [a["param"] for _k, a in snapshot.nodes(data=True) if a.get("param")]
        self.breakpoints_panel.set_choices(ops - {""}, list(snapshot.nodes), params)
        if first:
            self.graph_view.fit(readable=True)

    def _node_breakpoints(self) -> dict:
        bps = getattr(self.session, "breakpoints", None)
        if bps is None:
            return {}
        from autograd_viz.breakpoints import NodeBreakpoint
        return {b.key: b.enabled for b in bps.list() if isinstance(b, NodeBreakpoint)}

    def current_node(self):
        state = getattr(self.session, "state", None)
        if state is None:
            return None
        cp = state.checkpoint
        if state.mode in ("paused", "stopped", "error") and cp is not None and cp.key:
            return cp.key
        return None

    def _apply_look(self):
        gm = self.session.graph
        health = getattr(self.session, "health", None)
        with gm.lock:
            look = look_from_graph(gm.graph, health, self._node_breakpoints(), self.current_node())
        scene = self.graph_view.graph_scene
        scene.apply_look(self.layout_engine.look_for_scene(look, scene.spec))
        if (look.current is not None and self.actions.follow_current.isChecked()
                and self._mode == "paused"):
            self.graph_view.ensure_node_visible(self.layout_engine.scene_key(look.current))

    def toggle_node_breakpoint(self, key):
        bps = getattr(self.session, "breakpoints", None)
        if bps is None or not isinstance(key, str):
            return
        from autograd_viz.breakpoints import NodeBreakpoint
        for b in bps.list():
            if isinstance(b, NodeBreakpoint) and b.key == key:
                bps.remove(b)
                self.statusBar().showMessage(f"breakpoint removed: {key}", 3000)
                break
        else:
            bps.add(NodeBreakpoint(key))
            self.statusBar().showMessage(f"breakpoint set: {key}", 3000)
        self.bridge.mark("graph", "breakpoints")

    def toggle_group(self, name: str):
        gm = getattr(self.session, "graph", None)
        if gm is not None:
            gm.toggle_collapsed(name)
            self.bridge.mark("structure", "graph")

    def set_forward_direction(self, forward: bool):
        scene = self.graph_view.graph_scene
        scene.set_direction("forward" if forward else "backward")
        self.bridge.mark("graph")
        self.refresh()

    def find_next(self):
        nid = self.graph_view.find(self.search.text())
        if nid is None:
            self.statusBar().showMessage(f"no node matches {self.search.text()!r}", 3000)

    # ------------------------------------------------------------------ inspect
    def inspect_node(self, key):
        gm = getattr(self.session, "graph", None)
        if gm is None:
            return
        with gm.lock:
            if key not in gm.graph:
                return
            attrs = dict(gm.graph.nodes[key])
        health = getattr(self.session, "health", None)
        flags = frozenset()
        if health is not None:
            flags = health.nodes.get(key) or (health.params.get(attrs.get("param")) or frozenset())
        if any(s is not None and not s.finite for s in (attrs.get("grad_out") or ())):
            flags = flags | {"sends a non-finite gradient"}
        state = getattr(self.session, "state", None)
        saved = None
        if state is not None and state.paused_key == key and state.checkpoint.kind == "node_started":
            saved = state.saved_tensors
        self.inspector.show_node(key, attrs, getattr(self.session, "stats", None), flags, saved,
                                 self._data_version())
        self.graph_view.graph_scene.select(key)
        if attrs.get("param"):
            self.parameters.select(attrs["param"])

    def inspect_parameter(self, name: str):
        stats = getattr(self.session, "stats", None)
        ps = stats.param(name) if stats is not None else None
        health = getattr(self.session, "health", None)
        flags = health.params.get(name, frozenset()) if health is not None else frozenset()
        self.inspector.show_parameter(name, ps, stats, flags, self._data_version())
        key = f"param:{name}"
        if self.graph_view.graph_scene.has_node(key):
            self.graph_view.graph_scene.select(key)
            self.graph_view.center_on_node(key)

    def _data_version(self):
        """Changes whenever the tensors the inspector could show may have changed."""
        s = self.session
        state = getattr(s, "state", None)
        stats = getattr(s, "stats", None)
        graph = getattr(s, "graph", None)
        return (id(s), state.mode if state else None, id(state.checkpoint) if state else None,
                stats.iteration if stats else None, graph.pass_index if graph else None,
                getattr(s, "current", None))

    def node_tooltip(self, key) -> str:
        gm = getattr(self.session, "graph", None)
        if gm is None:
            return str(key)
        with gm.lock:
            attrs = dict(gm.graph.nodes[key]) if key in gm.graph else None
        if attrs is None:
            return str(key)
        from .graph_view.adapter import shape_text
        lines = [f"<b>{attrs.get('param') or attrs.get('op')}</b>"]
        if attrs.get("param"):
            lines.append(attrs.get("op", ""))
        if attrs.get("module"):
            lines.append(f"module: {attrs['module']}")
        shapes = attrs.get("shapes") or []
        if shapes:
            lines.append("output: " + ", ".join(shape_text(s) for s in shapes))
        if attrs.get("dtype"):
            lines.append(f"{attrs['dtype']} on {attrs.get('device') or '?'}")
        lines.append(f"state: {attrs.get('state', 'idle')}")
        for label, lst in (("grad in", attrs.get("grad_in")), ("grad out", attrs.get("grad_out"))):
            for i, s in enumerate(lst or []):
                if s is not None:
                    bad = f" <span style='color:#d50000'>NaN {s.nan} Inf {s.inf}</span>" if not s.finite else ""
                    lines.append(f"{label}[{i}]: ‖g‖={s.norm:.3g} mean={s.mean:.3g} std={s.std:.3g}{bad}")
        src = attrs.get("source")
        if src:
            lines.append(f"<i>{src[0]}:{src[1]}</i>")
        lines.append("<small>click: inspect · right-click: toggle breakpoint</small>")
        return "<br>".join(lines)

    def show_iteration(self, iteration: int):
        """Timeline: show an earlier iteration. A session file's models go back to it (the
        graph, statistics and parameters redraw); a live run keeps running and the
        timeline panel shows that iteration's recorded numbers."""
        goto = getattr(self.session, "goto", None)
        if goto is None:
            self.statusBar().showMessage(
                f"iteration {iteration}: recorded statistics in the Timeline panel", 4000)
            return
        try:
            goto(iteration)
        except Exception as e:
            show_error(self, "Timeline", f"cannot show iteration {iteration}: {e}")
            return
        self.bridge.mark("graph", "stats", "history")
        self.statusBar().showMessage(f"showing iteration {iteration}", 4000)

    # ------------------------------------------------------------------ redraw
    def refresh(self):
        """One redraw from the latest model snapshot (the ~30 Hz timer calls this)."""
        dirty = self.bridge.take_dirty()
        s = self.session
        if s is None:
            return
        if "structure" in dirty and getattr(s, "graph", None) is not None:
            self._rebuild_graph()
            dirty.add("graph")
        if "graph" in dirty and getattr(s, "graph", None) is not None and self.graph_view.graph_scene.spec:
            self._apply_look()
            dirty.add("inspector")
        stats, history, health = (getattr(s, "stats", None), getattr(s, "history", None),
                                  getattr(s, "health", None))
        now = time.monotonic()
        slow = {"stats", "history", "inspector"}
        if dirty & slow and self._mode == "running" and now < self._panels_due:
            # While training runs, the inspector, the table and the plots redraw at most
            # PANELS_HZ: every redraw takes the GIL from the training thread.
            self.bridge.mark(*(dirty & slow))
            dirty -= slow
        if dirty & slow:
            self._panels_due = now + 1.0 / PANELS_HZ
        if dirty & {"stats", "history"}:
            if self.docks["parameters"].isVisible():
                self.parameters.refresh(stats, history, health)
            if self.docks["plots"].isVisible():
                self.plots.refresh(history, stats)
        sel = self.inspector.selection
        if sel and dirty & slow and self.docks["inspector"].isVisible():
            if sel[0] == "node" and "inspector" in dirty:
                self.inspect_node(sel[1])
            elif sel[0] == "param" and dirty & {"stats", "history"}:
                self.inspect_parameter(sel[1])
        if "breakpoints" in dirty:
            self.breakpoints_panel.refresh()
        if "history" in dirty:
            self.timeline.refresh()
        self._update_status()

    def _update_status(self):
        s = self.session
        state = getattr(s, "state", None)
        mode = state.mode if state is not None else "idle"
        if getattr(s, "controller", None) is None:
            self.actions.set_debug_enabled(None)
        elif mode != self._mode:
            self.actions.set_debug_enabled(mode)
        self._mode = mode
        cp = state.checkpoint if state is not None else None
        node = ""
        if cp is not None and cp.key:
            node = f"{cp.key} ({cp.kind.replace('_', ' ')})"
        history = getattr(s, "history", None)
        iteration = state.iteration if state is not None else (
            history.last_iteration if history is not None else None)
        samples = getattr(s, "samples_seen", None)
        self.status.update_from(mode, state.reason if state is not None else "", iteration, node,
                                samples() if callable(samples) else samples)

    # ------------------------------------------------------------------ bridge events
    @QtCore.Slot(str, object)
    def _on_bridge_event(self, name, payload):
        if name == "state":
            self._on_mode(payload)
        elif name == "error":
            self.show_script_error(*payload)

    def _on_mode(self, mode):
        self.mode_events += 1
        self.last_mode_event = mode
        state = getattr(self.session, "state", None)
        if state is None:
            return
        self.bridge.mark("breakpoints")      # hit counts changed
        self.refresh()
        cp = state.checkpoint
        if mode == "paused" and cp is not None and cp.key and (
                state.reason == "breakpoint" or self.actions.follow_current.isChecked()):
            # the inspector and the view follow where execution stands
            self.inspect_node(cp.key)
            if state.reason == "breakpoint":
                self.graph_view.center_on_node(self.layout_engine.scene_key(cp.key), zoom_in=True)
        if mode == "paused" and state.reason == "breakpoint" and cp is not None:
            desc = state.breakpoint.description if state.breakpoint is not None else "breakpoint"
            self.statusBar().showMessage(f"stopped at {desc}: {cp.where()}", 10000)
        elif mode == "error" and state.error:
            self.show_script_error("The training script raised an exception; the session keeps "
                                   "everything recorded before it.", state.error)
        elif mode == "finished":
            self.statusBar().showMessage("training script finished", 5000)
            self.auto_step_timer.stop()

    def show_script_error(self, message: str, traceback_text: str):
        if self._exception_dialog is not None:
            try:
                self._exception_dialog.close()
            except RuntimeError:
                pass
        self._exception_dialog = show_exception(self, message, traceback_text)
        self._exception_dialog.destroyed.connect(self._forget_dialog)

    @QtCore.Slot()
    def _forget_dialog(self):
        self._exception_dialog = None

    # ------------------------------------------------------------------ file menu
    def run_script(self, path: str, argv=None, start_paused: bool = False) -> bool:
        """Run a training script under the debugger (its thread starts now)."""
        from .session_loader import start_script
        try:
            session = start_script(path, argv or [], start_paused=start_paused)
        except Exception as e:  # a file that is not there, a syntax error: tell the user
            show_error(self, "Cannot run script", f"{path}:\n{e}")
            return False
        self.set_session(session)
        self.recent.add(path, "script")
        session.start()
        return True

    def open_session_file(self, path: str) -> bool:
        """Open a session file (finished, or being written: then follow it)."""
        from .session_loader import open_session
        try:
            session = open_session(path)
        except Exception as e:  # SessionError says which file and what is wrong
            show_error(self, "Cannot open session", str(e))
            return False
        self.set_session(session)
        self.recent.add(path, "session")
        if getattr(session, "live", False):
            self.follow_timer.start()
        return True

    def _follow_tick(self):
        follow = getattr(self.session, "follow", None)
        if follow is None or not getattr(self.session, "live", False):
            self.follow_timer.stop()
            return
        try:
            if follow():
                self.bridge.mark("history", "stats", "graph")
        except Exception as e:
            self.follow_timer.stop()
            show_error(self, "Session file", f"stopped following the session: {e}")

    def ask_open_script(self):
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open training script", "",
                                                        "Python scripts (*.py);;All files (*)")
        if path:
            self.run_script(path)

    def ask_open_session(self):
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open session", "",
                                                        "Sessions (*.avz *.sqlite *.db);;All files (*)")
        if path:
            self.open_session_file(path)

    def ask_save_session(self):
        save = getattr(self.session, "save_as", None)
        if save is None:
            show_error(self, "Save session", "this session cannot be saved (nothing recorded yet)")
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save session", "run.avz",
                                                        "Sessions (*.avz)")
        if path:
            try:
                save(path)
            except Exception as e:
                show_error(self, "Save session", str(e))
                return
            self.statusBar().showMessage(f"session saved to {path}", 5000)

    def _ask_export(self, kind: str):
        from . import export
        filters = {"png": "PNG images (*.png)", "svg": "SVG images (*.svg)", "csv": "CSV files (*.csv)"}
        default = {"png": "graph.png", "svg": "graph.svg", "csv": "statistics.csv"}[kind]
        if kind in ("png", "svg") and not self.graph_view.graph_scene.spec:
            # a blank picture saved without a word would look like a bug
            show_error(self, f"Export {kind.upper()}", "there is no graph to export yet: run a "
                       "script or open a session first")
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, f"Export {kind.upper()}", default, filters[kind])
        if not path:
            return
        try:
            if kind == "png":
                export.export_png(self.graph_view.graph_scene, path)
            elif kind == "svg":
                export.export_svg(self.graph_view.graph_scene, path)
            else:
                history = getattr(self.session, "history", None)
                if history is None:
                    raise ValueError("no statistics to export yet")
                export.export_csv(history, path, getattr(self.session, "stats", None))
        except Exception as e:
            show_error(self, f"Export {kind.upper()}", f"{path}: {e}")
            return
        self.statusBar().showMessage(f"exported {path}", 5000)

    def _about(self):
        QtWidgets.QMessageBox.about(
            self, "About autograd-viz",
            "autograd-viz: a debugger for backpropagation.\n"
            "Step the backward pass node by node, break on NaN gradients, "
            "see where gradients vanish or explode.")

    # ------------------------------------------------------------------ close
    def _confirm_discard(self) -> bool:
        """Offer to save a recorded run before it is discarded; False means 'do not close'."""
        n = getattr(self.session, "unsaved_iterations", 0)
        if not self.ask_before_discard or not n:
            return True
        Box = QtWidgets.QMessageBox
        answer = Box.question(
            self, "Save the recorded run?",
            f"This run has {n} recorded iteration{'s' if n != 1 else ''} that will be lost "
            "when the window closes. Save the session first?",
            Box.StandardButton.Save | Box.StandardButton.Discard | Box.StandardButton.Cancel,
            Box.StandardButton.Save)
        if answer == Box.StandardButton.Save:
            self.ask_save_session()
            return getattr(self.session, "unsaved_iterations", 0) == 0
        return answer == Box.StandardButton.Discard

    def closeEvent(self, event: QtGui.QCloseEvent):
        """Offer to save a recorded run, save the layout, stop the timers, stop the training
        thread and wait for it."""
        if not self._confirm_discard():
            event.ignore()
            return
        self.save_settings()
        self.refresh_timer.stop()
        self.auto_step_timer.stop()
        self.follow_timer.stop()
        try:
            self._shutdown_session()
        except Exception:  # closing must not fail; say what happened on stderr
            traceback.print_exc()
        if self._exception_dialog is not None:
            self._exception_dialog.close()
        super().closeEvent(event)
