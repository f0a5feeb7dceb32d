"""Graphs for the GUI tests, built with the real models (no engine needed).

``lenet_structure()`` is the backward graph of the PyTorch tutorial's LeNet with a
cross-entropy loss, as the watcher keys it (``fc1/AddmmBackward0#0``, ``param:fc1.weight``).
``make_session()`` bundles the real Qt-free models the window draws; ``write_session_file``
writes a session file with the real session store.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from autograd_viz.breakpoints import BreakpointList
from autograd_viz.models import (DebuggerState, GraphModel, HealthModel, HistoryModel, ParamStats,
                                 StatsModel, compute_stats)

_LENET_LAYERS = [  # (module, op, output shape) from the loss down
    ("", "NllLossBackward0", ()),
    ("", "LogSoftmaxBackward0", (64, 10)),
    ("fc3", "AddmmBackward0", (64, 10)),
    ("", "ReluBackward0", (64, 84)),
    ("fc2", "AddmmBackward0", (64, 84)),
    ("", "ReluBackward0", (64, 120)),
    ("fc1", "AddmmBackward0", (64, 120)),
    ("", "ViewBackward0", (64, 400)),
    ("", "MaxPool2DWithIndicesBackward0", (64, 16, 5, 5)),
    ("", "ReluBackward0", (64, 16, 10, 10)),
    ("conv2", "ConvolutionBackward0", (64, 16, 10, 10)),
    ("", "MaxPool2DWithIndicesBackward0", (64, 6, 14, 14)),
    ("", "ReluBackward0", (64, 6, 28, 28)),
    ("conv1", "ConvolutionBackward0", (64, 6, 28, 28)),
]
LENET_PARAMS = {
    "conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5),
    "conv2.bias": (16,), "fc1.weight": (120, 400), "fc1.bias": (120,),
    "fc2.weight": (84, 120), "fc2.bias": (84,), "fc3.weight": (10, 84), "fc3.bias": (10,),
}


def lenet_structure():
    """(nodes, edges) for GraphModel.set_structure, chain from the loss to the leaves."""
    nodes, edges, counts = [], [], {}
    prev = None
    for module, op, shape in _LENET_LAYERS:
        n = counts.get((module, op), 0)
        counts[(module, op)] = n + 1
        key = f"{module}/{op}#{n}" if module else f"{op}#{n}"
        nodes.append({"key": key, "op": op, "kind": "op", "module": module, "group": module,
                      "label": op, "shapes": [shape], "dtype": "torch.float32", "device": "cpu",
                      "source": ("samples/lenet.py", 55, "forward")})
        if prev is not None:
            edges.append((prev, key, {"slots": [0], "input_nr": 0}))
        prev = key
        if module in ("fc1", "fc2", "fc3", "conv1", "conv2"):
            for i, suffix in enumerate(("weight", "bias")):
                pname = f"{module}.{suffix}"
                pkey = "param:" + pname
                nodes.append({"key": pkey, "op": "AccumulateGrad", "kind": "param", "module": module,
                              "group": module, "label": pname, "param": pname,
                              "shapes": [LENET_PARAMS[pname]], "dtype": "torch.float32",
                              "device": "cpu"})
                edges.append((key, pkey, {"slots": [i + 1], "input_nr": 0}))
    return nodes, edges


def make_session():
    """The real models, wired like a live run's, without a training thread."""
    state = DebuggerState()
    bps = BreakpointList()
    return SimpleNamespace(graph=GraphModel(), stats=StatsModel(), history=HistoryModel(),
                           health=HealthModel(), state=state, breakpoints=bps,
                           controller=None, title="test")


def fill_stats(session, iteration=0, rng=None):
    """Parameter statistics from random arrays (the numbers the table must show)."""
    rng = rng or np.random.default_rng(iteration)
    arrays = {}
    for name, shape in LENET_PARAMS.items():
        w = rng.standard_normal(shape).astype(np.float32)
        g = (rng.standard_normal(shape) * 10.0 ** -rng.integers(1, 5)).astype(np.float32)
        arrays[name] = (w, g)
        session.stats.set_param(ParamStats(name=name, iteration=iteration, shape=shape,
                                           weight=compute_stats(w), grad=compute_stats(g)))
    session.stats.finish_iteration(iteration)
    return arrays


def write_session_file(path, iterations: int = 5, finished: bool = True, nan_at: int | None = None):
    """A session file of the LeNet graph written with the real session store.

    Loss falls as 2.3 / (1 + i); parameter gradient norms are 0.1 * (i + 1) for
    ``fc1.weight`` and 0.01 for the others; ``nan_at`` makes that iteration's loss NaN.
    Returns the open writer when ``finished`` is False (the caller closes it)."""
    from autograd_viz.recorder import node_stat_key, structure_record
    from autograd_viz.session import IterationRecord, RunInfo, SessionWriter
    from autograd_viz.session import ParamStats as RecParam
    from autograd_viz.session import Stats as RecStats

    gm = GraphModel()
    gm.set_structure(*lenet_structure())
    struct = structure_record(gm)
    w = SessionWriter(str(path), RunInfo(script="samples/lenet.py", parameters=LENET_PARAMS))
    sid = w.add_structure(struct)
    for i in range(iterations):
        w.write_iteration(record_for(i, sid, nan_at))
    if finished:
        w.close("finished")
        return None
    return w


def record_for(i, sid, nan_at=None):
    from autograd_viz.recorder import node_stat_key
    from autograd_viz.session import IterationRecord
    from autograd_viz.session import ParamStats as RecParam
    from autograd_viz.session import Stats as RecStats

    def st(norm):
        return RecStats(norm=norm, mean=0.0, std=norm, min=-norm, max=norm)

    loss = float("nan") if i == nan_at else 2.3 / (1 + i)
    params = {n: RecParam(grad=st(0.1 * (i + 1) if n == "fc1.weight" else 0.01), weight_norm=5.0,
                          update_norm=0.01, update_ratio=0.002) for n in LENET_PARAMS}
    nodes, _ = lenet_structure()
    node_stats = {node_stat_key(n["key"], 0): st(1.0 / (k + 1)) for k, n in enumerate(nodes)}
    return IterationRecord(iteration=i, loss=loss, metrics={"accuracy": 0.1 * i},
                           structure_id=sid, node_stats=node_stats, param_stats=params)
