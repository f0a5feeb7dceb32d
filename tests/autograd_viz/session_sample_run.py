"""LeNet-sized sample records for the session store tests, and a child process for them.

``make_structure()`` / ``make_record(i)`` build deterministic records shaped like what the
debugger records for LeNet-5 (about 30 backward nodes, 10 parameters, histograms every 10
iterations). Run as a script it is the other process of the concurrency and kill tests:

    python session_sample_run.py write PATH N [DELAY_S]   # N = 0: write until killed
    python session_sample_run.py read PATH N TIMEOUT_S    # follow PATH until N iterations

``write`` prints each iteration number after its commit; ``read`` prints ``ready`` once it has
opened the file, checks every iteration it sees against ``make_record`` and prints
``ok N in P polls`` (P: how many polls found new iterations).
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from autograd_viz.session import (EVENT_NONFINITE, Event, GraphStructure, Histogram,
                                  IterationRecord, NodeInfo, ParamStats, RunInfo,
                                  SessionReader, SessionWriter, Stats)

PARAMS = {
    "conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,),
    "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
    "fc1.weight": (120, 256), "fc1.bias": (120,),
    "fc2.weight": (84, 120), "fc2.bias": (84,),
    "fc3.weight": (10, 84), "fc3.bias": (10,),
}
HIST_EVERY = 10
HIST_BINS = 64


_STRUCTURE: GraphStructure | None = None


def make_structure() -> GraphStructure:
    """A LeNet-like backward graph: a chain of ops with AccumulateGrad leaves for parameters."""
    chain = [("NllLossBackward0", None), ("LogSoftmaxBackward0", None),
             ("AddmmBackward0", "fc3"), ("ReluBackward0", None), ("AddmmBackward0", "fc2"),
             ("ReluBackward0", None), ("AddmmBackward0", "fc1"), ("ViewBackward0", None),
             ("MaxPool2DWithIndicesBackward0", None), ("ReluBackward0", None),
             ("ConvolutionBackward0", "conv2"), ("MaxPool2DWithIndicesBackward0", None),
             ("ReluBackward0", None), ("ConvolutionBackward0", "conv1")]
    nodes, edges = [], []
    seq = 100
    previous = None
    for op, module in chain:
        key = f"{op}#{seq}"
        seq -= 1
        nodes.append(NodeInfo(key=key, op=op, module_path=module, output_shapes=[(32, 10)],
                              dtype="torch.float32", device="cpu", source=f"lenet.py:{seq}"))
        if previous is not None:
            edges.append((previous, key))
        if module is not None:
            for suffix in ("weight", "bias"):
                name = f"{module}.{suffix}"
                leaf = f"AccumulateGrad:{name}"
                nodes.append(NodeInfo(key=leaf, op="AccumulateGrad", param_name=name,
                                      output_shapes=[PARAMS[name]], dtype="torch.float32",
                                      device="cpu", attrs={"requires_grad": True}))
                edges.append((key, leaf))
        previous = key
    # A few more non-parameter nodes (transposes feeding the addmm ops), like the real graph.
    for i, node in enumerate(list(nodes)):
        if node.op == "AddmmBackward0":
            key = f"TBackward0#{i}"
            nodes.append(NodeInfo(key=key, op="TBackward0", module_path=node.module_path,
                                  output_shapes=[(84, 120)], dtype="torch.float32",
                                  device="cpu", source="lenet.py:40"))
            edges.append((node.key, key))
    # And the loss's inputs: the target and an unused-gradient view, for a graph of 32 nodes.
    loss_key = nodes[0].key
    for j, op in enumerate(("MeanBackward0", "MulBackward0", "ExpandBackward0",
                            "SumBackward0", "CloneBackward0")):
        key = f"{op}#{j}"
        nodes.append(NodeInfo(key=key, op=op, output_shapes=[()], dtype="torch.float32",
                              device="cpu", source="lenet.py:60"))
        edges.append((loss_key, key))
    return GraphStructure(nodes=nodes, edges=edges)


def make_record(i: int, structure_id: str | None, *, snapshots: bool = True
                ) -> IterationRecord:
    """Iteration ``i``'s record: the same for the same ``i``, in any process."""
    global _STRUCTURE
    rng = np.random.default_rng(1000 + i)
    if _STRUCTURE is None:
        _STRUCTURE = make_structure()
    structure = _STRUCTURE
    nan_iteration = i % 37 == 36  # now and then a run blows up for one iteration

    def stats(scale: float) -> Stats:
        values = rng.normal(0.0, scale, size=5)
        s = Stats(norm=float(abs(values[0]) * 10), mean=float(values[1]), std=float(abs(values[2])),
                  min=float(values[3] - 1), max=float(values[4] + 1))
        return s

    node_stats = {node.key: stats(0.1) for node in structure.nodes}
    if nan_iteration:
        first = structure.nodes[2].key
        node_stats[first] = Stats(norm=math.nan, mean=math.nan, std=math.nan, min=-math.inf,
                                  max=math.inf, nan_count=17, inf_count=3)
    param_stats = {}
    for n, name in enumerate(PARAMS):
        grad = None if (i == 0 and name == "fc3.bias") else stats(0.01)
        weight_norm = float(1.0 + n + rng.random())
        update = None if i == 0 else float(rng.random() * 1e-3)
        param_stats[name] = ParamStats(grad=grad, weight_norm=weight_norm, update_norm=update,
                                       update_ratio=None if update is None
                                       else update / weight_norm)
    value_hists, grad_hists = {}, {}
    if i % HIST_EVERY == 0:
        for name, shape in PARAMS.items():
            w = rng.normal(0, 0.1, size=shape).astype(np.float32)
            value_hists[name] = Histogram.from_array(w, bins=HIST_BINS)
            grad_hists[name] = Histogram.from_array(w * 0.01, bins=HIST_BINS)
    events = []
    if nan_iteration:
        node = structure.nodes[2]
        events.append(Event(iteration=i, kind=EVENT_NONFINITE, node_key=node.key, op=node.op,
                            source=node.source, message="NaN in gradient output 0 (17 of 320)"))
    snaps = {}
    if snapshots and i % 5 == 0:
        snaps["fc3.weight"] = rng.normal(size=PARAMS["fc3.weight"]).astype(np.float32)
        snaps["mask"] = rng.random((3, 4)) > 0.5
    return IterationRecord(
        iteration=i, loss=math.nan if nan_iteration else float(2.3 * math.exp(-i / 50)),
        metrics={"accuracy": float(min(1.0, i / 100)), "lr": 0.01},
        structure_id=structure_id, node_stats=node_stats, param_stats=param_stats,
        value_histograms=value_hists, grad_histograms=grad_hists, events=events,
        snapshots=snaps, wall_time=1.7e9 + i * 0.25, samples_per_s=512.0 + i)


def make_run() -> RunInfo:
    return RunInfo(script="samples/lenet.py", args=["--epochs", "1"], start_time=1.7e9,
                   engine_version="0.1.0", device="cpu", parameters=PARAMS)


def write(path: str, n: int, delay: float) -> None:
    writer = SessionWriter(path, make_run())
    sid = writer.add_structure(make_structure())
    i = 0
    while n == 0 or i < n:
        writer.write_iteration(make_record(i, sid))
        print(i, flush=True)
        i += 1
        if delay:
            time.sleep(delay)
    writer.close()


def read(path: str, n: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    reader = SessionReader(path)
    print("ready", flush=True)
    seen: list[int] = []
    polls_with_news = 0
    while len(seen) < n:
        if time.monotonic() > deadline:
            print(f"timeout: saw {len(seen)} of {n} iterations", flush=True)
            return 1
        new = reader.refresh()
        polls_with_news += bool(new)
        for it in new:
            record = reader.read_iteration(it)
            if record != make_record(it, record.structure_id):
                print(f"iteration {it} differs from what was written", flush=True)
                return 1
            seen.append(it)
        time.sleep(0.005)
    if seen != list(range(n)):
        print(f"iterations out of order or missing: {seen}", flush=True)
        return 1
    reader.close()
    print(f"ok {len(seen)} in {polls_with_news} polls", flush=True)
    return 0


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    if command == "write":
        write(target, int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.0)
    elif command == "read":
        sys.exit(read(target, int(sys.argv[3]), float(sys.argv[4])))
    else:
        sys.exit(f"unknown command {command!r}")
