"""Screenshots of the main window (offscreen grabs) for the README and for review.

    python benchmarks/screenshots.py OUTDIR

Writes:
  lenet_mid_backward.png   the LeNet sample after 20 iterations, paused half-way
                           through the backward pass of the 21st (stepped node by node)
  nan_stop.png             samples/nan_hunt.py stopped by "break on non-finite gradient"
  graph_2000_zoomed_out.png  a 2,000-node unrolled RNN backward graph, zoomed out to
                           boxes without labels, on the frontier of a pass
  lenet_graph.png / .svg   File > Export of the LeNet graph
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from PySide6 import QtCore, QtWidgets  # noqa: E402

TIMEOUT_S = 300


def _wait(app, cond, what: str, timeout: float = TIMEOUT_S, session=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if cond():
            return
        runner = getattr(session, "runner", None)
        if runner is not None and runner.result is not None and not runner.running:
            r = runner.result
            raise RuntimeError(f"the script ended ({r.status}: {r.message}) while waiting for "
                               f"{what}\n{r.traceback or ''}")
    raise TimeoutError(f"timed out waiting for {what}")


def _window(out):
    from ui.main_window import MainWindow
    settings = QtCore.QSettings(os.path.join(out, ".screenshot_settings.ini"),
                                QtCore.QSettings.Format.IniFormat)
    settings.clear()
    w = MainWindow(settings)
    w.resize(1600, 1000)
    w.show()
    return w


def _paused(w):
    return w.session.controller.is_paused and w.last_mode_event == "paused"


def _settle(app, w, seconds: float = 0.4):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
    w.refresh()
    app.processEvents()


def lenet_mid_backward(app, out):
    from ui.samples_menu import sample_path
    w = _window(out)
    w.run_script(sample_path("lenet"), ["--steps", "40", "--epochs", "1"], start_paused=True)
    s = w.session
    _wait(app, lambda: _paused(w), "the LeNet sample to start", session=s)
    s.controller.run_to(20)
    _wait(app, lambda: _paused(w) and s.history.iterations >= 20, "20 iterations")
    s.controller.finish_pass()        # into iteration 21: stop at the end of its backward...
    _wait(app, lambda: _paused(w) and s.state.checkpoint.kind == "backward_finished", "a pass")
    s.controller.step_iteration()     # ...finish it, then step into the next one node by node
    _wait(app, lambda: _paused(w) and s.state.checkpoint.kind == "iteration_end", "iteration end")
    s.controller.step_node()
    _wait(app, lambda: _paused(w) and s.state.checkpoint.kind.startswith("node"), "first node")
    for _ in range(15):
        n = w.mode_events
        s.controller.step_node()
        _wait(app, lambda: w.mode_events > n and _paused(w), "a step")
    w.parameters.table.sortByColumn(3, QtCore.Qt.SortOrder.DescendingOrder)
    w.plots.setCurrentIndex(2)         # gradient flow over iterations
    _settle(app, w)
    path = os.path.join(out, "lenet_mid_backward.png")
    w.grab().save(path)
    from ui import export
    export.export_png(w.graph_view.graph_scene, os.path.join(out, "lenet_graph.png"))
    export.export_svg(w.graph_view.graph_scene, os.path.join(out, "lenet_graph.svg"))
    w.close()
    return path


def nan_stop(app, out, script):
    w = _window(out)
    w.actions.break_nonfinite.setChecked(True)
    w.run_script(script, [])
    s = w.session
    _wait(app, lambda: _paused(w), "the NaN breakpoint", session=s)
    w.plots.setCurrentIndex(0)
    _settle(app, w)
    path = os.path.join(out, "nan_stop.png")
    w.grab().save(path)
    print(f"  nan_hunt stopped at {s.state.checkpoint.where()}")
    w.close()
    return path


def graph_2000(app, out):
    import numpy as np
    from types import SimpleNamespace
    from autograd_viz.breakpoints import BreakpointList
    from autograd_viz.models import (DebuggerState, GraphModel, HealthModel, HistoryModel,
                                     StatsModel, compute_stats)
    from benchmarks._graphs import rnn_steps_for, unrolled_rnn_graph

    g = unrolled_rnn_graph(rnn_steps_for(2000))
    nodes = [{"key": k, "op": a["op"], "kind": a["kind"], "group": a.get("group") or "",
              "module": a.get("group") or "", "label": a["label"],
              "param": k[6:] if k.startswith("param:") else None,
              "shapes": [(32, 64)]} for k, a in g.nodes(data=True)]
    edges = [(u, v, {"slots": [i], "input_nr": 0}) for u in g for i, v in enumerate(g.successors(u))]
    s = SimpleNamespace(graph=GraphModel(), stats=StatsModel(), history=HistoryModel(),
                        health=HealthModel(), state=DebuggerState(), breakpoints=BreakpointList(),
                        controller=None, title="unrolled RNN, 2,000 nodes (synthetic)")
    s.graph.set_structure(nodes, edges)
    s.graph.begin_pass(0)
    import networkx as nx
    order = list(nx.topological_sort(g))
    rng = np.random.default_rng(0)
    for i, k in enumerate(order[: len(order) * 3 // 5]):
        n_out = len(list(g.successors(k)))
        s.graph.node_started(k, [compute_stats(np.ones(4))])
        scale = 10.0 ** (-6 * i / len(order))          # gradients shrink along the unrolled steps
        s.graph.node_finished(k, [compute_stats(rng.standard_normal(8) * scale) for _ in range(n_out)])
    w = _window(out)
    w.set_session(s)
    # The whole graph is a 1,000-layer column (fit it and it is a line): zoom out to where
    # labels give way to boxes, on the frontier of the backward pass.
    w.graph_view.set_zoom(0.15)
    w.graph_view.center_on_node(order[len(order) * 3 // 5])
    _settle(app, w)
    path = os.path.join(out, "graph_2000_zoomed_out.png")
    w.grab().save(path)
    w.close()
    return path


def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(description="Offscreen screenshots of the main window.")
    p.add_argument("outdir")
    p.add_argument("--nan-script", default=os.path.join(ROOT, "samples", "nan_hunt.py"),
                   help="the script whose NaN the second shot stops at (default: samples/nan_hunt.py)")
    args = p.parse_args(argv)
    out = os.path.abspath(args.outdir)
    os.makedirs(out, exist_ok=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["screenshots"])
    import pyqtgraph as pg
    pg.setConfigOptions(antialias=True)
    shots = (graph_2000, lambda a, o: nan_stop(a, o, args.nan_script), lenet_mid_backward)
    for shot in shots:
        t0 = time.perf_counter()
        path = shot(app, out)
        print(f"{path}  ({time.perf_counter() - t0:.1f} s)", flush=True)
    os.remove(os.path.join(out, ".screenshot_settings.ini"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
