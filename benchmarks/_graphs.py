"""Synthetic grad_fn-like graphs for the layout benchmarks and tests.

Edges point the way gradients flow, as in the debugger's graph model: from a node to the
nodes in its ``next_functions`` (root loss first, AccumulateGrad leaves last). Node keys
follow :mod:`autograd_viz.keys` (``'<module>/<op>#<ordinal>'``, ``'param:<name>'``);
attributes ``label``, ``op``, ``kind`` and ``group`` (module path, None = none).
"""

from __future__ import annotations

import networkx as nx
import numpy as np

__all__ = ["unrolled_rnn_graph", "rnn_steps_for", "lenet_like_graph", "layered_random_dag"]

_RNN_NODES_PER_STEP = 6
_RNN_FIXED_NODES = 6  # 4 shared AccumulateGrad + StackBackward0 + MseLossBackward0


def _op(g: nx.DiGraph, module: str | None, op: str, ordinal: int) -> str:
    key = f"{module}/{op}#{ordinal}" if module else f"{op}#{ordinal}"
    g.add_node(key, label=op, op=op, kind="op", group=module)
    return key


def _param(g: nx.DiGraph, name: str) -> str:
    key = "param:" + name
    g.add_node(key, label=name, op="AccumulateGrad", kind="param", group=name.rpartition(".")[0] or None)
    return key


def unrolled_rnn_graph(steps: int) -> nx.DiGraph:
    """The backward graph of an ``RNNCell`` (tanh) unrolled over ``steps`` time steps.

    Per step ``h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)``: TanhBackward0
    -> AddBackward0 -> two AddmmBackward0 (each -> its bias's AccumulateGrad and a
    TBackward0 -> the weight's AccumulateGrad; the hidden one also -> the previous step's
    TanhBackward0). The four parameters are shared by every step; the loss is
    ``mse(stack(h_1..h_T), target)``: MseLossBackward0 -> StackBackward0 -> every step.
    ``6 * steps + 6`` nodes (:func:`rnn_steps_for` picks ``steps`` for a size).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, not {steps}")
    g = nx.DiGraph()
    loss = _op(g, None, "MseLossBackward0", 0)
    stack = _op(g, None, "StackBackward0", 0)
    g.add_edge(loss, stack)
    w_ih, w_hh = _param(g, "rnn.weight_ih"), _param(g, "rnn.weight_hh")
    b_ih, b_hh = _param(g, "rnn.bias_ih"), _param(g, "rnn.bias_hh")
    prev = None
    for t in range(steps):
        tanh = _op(g, "rnn", "TanhBackward0", t)
        add = _op(g, "rnn", "AddBackward0", t)
        mm_ih = _op(g, "rnn", "AddmmBackward0", 2 * t)
        mm_hh = _op(g, "rnn", "AddmmBackward0", 2 * t + 1)
        t_ih = _op(g, "rnn", "TBackward0", 2 * t)
        t_hh = _op(g, "rnn", "TBackward0", 2 * t + 1)
        g.add_edge(stack, tanh)
        g.add_edge(tanh, add)
        g.add_edge(add, mm_ih)
        g.add_edge(add, mm_hh)
        g.add_edge(mm_ih, b_ih)
        g.add_edge(mm_ih, t_ih)
        g.add_edge(t_ih, w_ih)
        g.add_edge(mm_hh, b_hh)
        if prev is not None:
            g.add_edge(mm_hh, prev)
        g.add_edge(mm_hh, t_hh)
        g.add_edge(t_hh, w_hh)
        prev = tanh
    return g


def rnn_steps_for(n_nodes: int) -> int:
    """The ``steps`` that makes :func:`unrolled_rnn_graph` about ``n_nodes`` nodes."""
    return max(1, round((n_nodes - _RNN_FIXED_NODES) / _RNN_NODES_PER_STEP))


def lenet_like_graph() -> nx.DiGraph:
    """The backward graph of a LeNet-5 (``features`` conv/relu/pool x2, ``classifier``
    three Linear layers) under a cross-entropy loss: 27 nodes."""
    g = nx.DiGraph()
    loss = _op(g, None, "NllLossBackward0", 0)
    logsm = _op(g, None, "LogSoftmaxBackward0", 0)
    g.add_edge(loss, logsm)
    upper = logsm
    for i, (lin, act) in enumerate((("classifier.4", "classifier.3"), ("classifier.2", "classifier.1"),
                                    ("classifier.0", None))):
        mm = _op(g, lin, "AddmmBackward0", 0)
        tr = _op(g, lin, "TBackward0", 0)
        g.add_edge(upper, mm)
        g.add_edge(mm, _param(g, lin + ".bias"))
        g.add_edge(mm, tr)
        g.add_edge(tr, _param(g, lin + ".weight"))
        if act is not None:
            upper = _op(g, act, "ReluBackward0", 0)
        else:
            upper = _op(g, None, "ViewBackward0", 0)
        g.add_edge(mm, upper)
    for conv, relu, pool in (("features.3", "features.4", "features.5"),
                             ("features.0", "features.1", "features.2")):
        p = _op(g, pool, "MaxPool2DWithIndicesBackward0", 0)
        r = _op(g, relu, "ReluBackward0", 0)
        c = _op(g, conv, "ConvolutionBackward0", 0)
        g.add_edge(upper, p)
        g.add_edge(p, r)
        g.add_edge(r, c)
        g.add_edge(c, _param(g, conv + ".weight"))
        g.add_edge(c, _param(g, conv + ".bias"))
        upper = c
    return g


def layered_random_dag(n_nodes: int, width: int = 40, seed: int = 0, groups: int = 6) -> nx.DiGraph:
    """A random wide DAG: ranks of ``width`` nodes, each node with 1-3 edges to nodes one
    to three ranks further down, spread over ``groups`` module groups (some nodes in
    none). Stresses the wide-layer case the RNN lacks."""
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    for i in range(n_nodes):
        grp = int(rng.integers(0, groups + 1))
        g.add_node(i, label=f"Op{int(rng.integers(0, 30))}Backward0", group=f"m{grp}" if grp else None)
    for i in range(n_nodes - width):
        rank = i // width
        for _ in range(int(rng.integers(1, 4))):
            lo = (rank + 1) * width
            hi = min(n_nodes, (rank + 1 + int(rng.integers(1, 4))) * width)
            if lo < hi:
                g.add_edge(i, int(rng.integers(lo, hi)))
    return g
