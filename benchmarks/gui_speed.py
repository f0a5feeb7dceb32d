"""GUI speed (offscreen): graph view build+paint, repaint after a step, training throughput.

    python benchmarks/gui_speed.py                 # everything
    python benchmarks/gui_speed.py --graph-only    # no training run
    python benchmarks/gui_speed.py --steps 60      # training iterations per measurement

Targets (issue 5): 2,000 nodes shown in under 1 s; a repaint after a step under 33 ms;
LeNet batch-64 training with the window open and refreshing at least 80% of the
throughput of the same debugger session headless.

"Shown" = layout + building the scene + fitting + the first paint of the view. Paints
go into a premultiplied ARGB image the size of the viewport (what the offscreen
backing store uses); the graphs are ``benchmarks/_graphs.py``'s layered random DAG
(an unrolled RNN is reported too: long shared-weight edges stress the edge paths).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402


def _paint(view) -> float:
    img = QtGui.QImage(view.viewport().size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    t0 = time.perf_counter()
    view.viewport().render(img)
    return time.perf_counter() - t0


def bench_graph(make_graph, label: str, n: int) -> dict:
    from ui.graph_view import GraphView
    from ui.graph_view.spec import GraphLook
    from ui.graph_view.placement import LayoutEngine

    g = make_graph(n)
    view = GraphView()
    view.resize(1280, 800)
    view.show()
    t0 = time.perf_counter()
    engine = LayoutEngine()
    spec, placement = engine.place(g)
    t1 = time.perf_counter()
    view.graph_scene.set_graph(spec, placement)
    t2 = time.perf_counter()
    view.fit()
    first = _paint(view)
    t3 = time.perf_counter()
    # a backward pass in progress: half the nodes done, one running, norms on their edges
    ids = view.graph_scene.node_ids()
    states = {k: "done" for k in ids[: len(ids) // 2]}
    edges = list(placement.edges)
    norms = {e: 10.0 ** -(i % 7) for i, e in enumerate(edges[: len(edges) // 2])}
    frames = []
    for step in range(20):
        k = ids[len(ids) // 2 + step]
        states[k] = "running"
        for e in edges[len(edges) // 2 + 2 * step: len(edges) // 2 + 2 * step + 2]:
            norms[e] = 0.5
        look = GraphLook(states=dict(states), edge_norms=dict(norms), current=k)
        f0 = time.perf_counter()
        view.graph_scene.apply_look(look)
        _paint(view)
        frames.append(time.perf_counter() - f0)
        states[k] = "done"
    view.set_zoom(1.0)
    view.center_on_node(ids[len(ids) // 2])
    zoomed = [_paint(view) for _ in range(5)]
    view.close()
    return {"graph": label, "nodes": len(ids), "edges": len(edges), "layout_s": t1 - t0,
            "build_s": t2 - t1, "first_paint_s": first, "shown_s": t3 - t0,
            "step_frame_ms": 1000 * statistics.median(frames), "zoomed_paint_ms": 1000 * min(zoomed),
            "segments": view.graph_scene._segments.n_segments}


def _throughput(steps: int, window: bool) -> float:
    """Iterations/s of the LeNet sample (batch 64) under a debugger session, measured
    between the 5th and the last closed iteration."""
    from ui.samples_menu import sample_path
    from ui.session_loader import LiveRun

    times: list = []
    run = LiveRun(sample_path("lenet"), ["--steps", str(steps), "--batch-size", "64", "--epochs", "10"],
                  record=True)
    run.watch.iteration_closed.connect(lambda _s: times.append(time.perf_counter()))
    app = QtWidgets.QApplication.instance()
    win = None
    if window:
        from ui.main_window import MainWindow
        settings = QtCore.QSettings(os.path.join(ROOT, ".gl", "bench_settings.ini"),
                                    QtCore.QSettings.Format.IniFormat)
        win = MainWindow(settings)
        win.resize(1400, 900)
        win.show()
        win.set_session(run)
        loop = QtCore.QEventLoop()
        poll = QtCore.QTimer()
        poll.timeout.connect(lambda: None if run.running else loop.quit())
        poll.start(100)
        run.start()
        loop.exec()            # a real event loop: idle between the window's 30 Hz redraws
        poll.stop()
        win.close()
    else:
        run.start()
        run.runner.join()
        run.shutdown(5.0)
    if run.runner.result.status != "finished":
        raise RuntimeError(f"LeNet run ended with {run.runner.result}")
    if len(times) < 10:
        raise RuntimeError(f"only {len(times)} iterations closed")
    return (len(times) - 5) / (times[-1] - times[4])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--graph-only", action="store_true")
    p.add_argument("--training-only", action="store_true")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--sizes", default="200,2000,10000")
    args = p.parse_args(argv)
    QtWidgets.QApplication.instance() or QtWidgets.QApplication(["gui_speed"])
    from benchmarks._graphs import layered_random_dag, rnn_steps_for, unrolled_rnn_graph

    sizes = [] if args.training_only else [int(x) for x in args.sizes.split(",")]
    if sizes:
        print(f"{'graph':<14}{'nodes':>7}{'edges':>7}{'layout s':>10}{'build s':>9}{'paint s':>9}"
          f"{'shown s':>9}{'step ms':>9}{'1:1 ms':>8}")
    for n in sizes:
        for label, make in (("random DAG", layered_random_dag),
                            ("unrolled RNN", lambda k: unrolled_rnn_graph(rnn_steps_for(k)))):
            r = bench_graph(make, label, n)
            print(f"{r['graph']:<14}{r['nodes']:>7}{r['edges']:>7}{r['layout_s']:>10.3f}{r['build_s']:>9.3f}"
                  f"{r['first_paint_s']:>9.3f}{r['shown_s']:>9.3f}{r['step_frame_ms']:>9.1f}"
                  f"{r['zoomed_paint_ms']:>8.1f}", flush=True)
    if args.graph_only:
        return 0
    headless = _throughput(args.steps, window=False)
    windowed = _throughput(args.steps, window=True)
    print(f"LeNet batch 64: headless debugger {headless:.2f} it/s ({64 * headless:.0f} samples/s), "
          f"window open {windowed:.2f} it/s ({64 * windowed:.0f} samples/s): "
          f"{100 * windowed / headless:.0f}% of headless")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
