"""How fast is the layered layout? Times ``autograd_viz.layout.layout`` on synthetic
backward graphs of about 200, 2,000 and 10,000 nodes (an unrolled RNN with shared
weights, the case Graphviz dot needs minutes for) and on a wide random DAG.

    python benchmarks/layout_speed.py [--sizes 200 2000 10000] [--repeat 5] [--random]

Prints, per graph: nodes, edges, layers, dummies, median wall time and CPU time of
``--repeat`` runs, crossings before and after reduction, and the median run's split by
step. Targets (DESIGN.md): 2,000 nodes < 0.5 s, 10,000 nodes < 3 s. CPU time is shown
because wall time on a shared machine includes time spent waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd_viz.layout import layout  # noqa: E402
from benchmarks._graphs import layered_random_dag, rnn_steps_for, unrolled_rnn_graph  # noqa: E402

TARGETS = {2000: 0.5, 10000: 3.0}


def measure(graph, repeat: int) -> dict:
    walls, cpus, results = [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = layout(graph)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        results.append(result)
    median_run = results[walls.index(sorted(walls)[len(walls) // 2])]
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "best": min(walls),
            "layout": median_run}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--random", action="store_true", help="also time a wide random DAG per size")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cpus={os.cpu_count()} load1={load:.2f} repeat={args.repeat}")
    header = (f"{'graph':<8}{'nodes':>7}{'edges':>7}{'layers':>7}{'dummies':>8}{'wall s':>8}"
              f"{'cpu s':>7}{'best s':>8}{'cross0':>9}{'cross':>9}  steps (s)")
    print(header)
    failed = False
    for size in args.sizes:
        graphs = [("rnn", unrolled_rnn_graph(rnn_steps_for(size)))]
        if args.random:
            graphs.append(("random", layered_random_dag(size, width=max(10, size // 50))))
        for name, graph in graphs:
            m = measure(graph, args.repeat)
            lay = m["layout"]
            steps = " ".join(f"{k}={v:.3f}" for k, v in lay.timings.items())
            line = (f"{name:<8}{graph.number_of_nodes():>7}{graph.number_of_edges():>7}{lay.n_layers:>7}"
                    f"{lay.dummy_count:>8}{m['wall']:>8.3f}{m['cpu']:>7.3f}{m['best']:>8.3f}"
                    f"{lay.initial_crossings:>9}{lay.crossings:>9}  {steps}")
            target = TARGETS.get(size) if name == "rnn" else None
            if target is not None:
                ok = m["wall"] < target
                failed |= not ok
                line += f"  [target < {target} s: {'ok' if ok else 'MISSED'}]"
            print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
