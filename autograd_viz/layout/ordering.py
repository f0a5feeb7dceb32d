"""Step 3: crossing reduction by barycentric layer sweeps, keeping module groups together.

Start from a depth-first order (children next to their parent), then sweep down (order
each layer by the mean position of its nodes' predecessors) and up (successors),
alternately, keeping the best order seen, until a few sweeps in a row bring no
improvement; then the same with the mean over both neighbouring layers, which finds
another fifth or so fewer crossings. Stop early when no crossing is left. Within a layer every module group (and each of its
subgroups) stays contiguous: a layer is sorted as a tree of groups, each group placed by
the mean barycentre of its members.

Plain Python lists are used for the sweeps: most real graphs have thousands of narrow
layers, where per-layer numpy calls cost more than they save; the crossing count, which
covers all layers at once, is numpy (see :mod:`.crossings`).
"""

from __future__ import annotations

import numpy as np

from .crossings import crossings_of_order
from .proper import ProperGraph

__all__ = ["initial_order", "reduce_crossings"]

def initial_order(pg: ProperGraph, kind: str = "dfs") -> list[list[int]]:
    """A first left-to-right order per layer.

    ``'dfs'``: depth-first preorder from the sources (a tree comes out without
    crossings); ``'sorted'``: canonical key order (used to test the sweeps).
    """
    layers: list[list[int]] = [[] for _ in range(pg.n_layers)]
    if kind == "sorted":
        for v in range(pg.n):
            layers[pg.layer[v]].append(v)
        return layers
    if kind != "dfs":
        raise ValueError(f"initial_order must be 'dfs' or 'sorted', not {kind!r}")
    succ, layer = pg.succ, pg.layer
    # Children deepest-reaching first: the main chain (a network's trunk, often a long
    # edge leaving a module's band) starts on the left and side branches (a Linear's
    # TBackward0 and parameters) hang to its right, instead of the trunk detouring round
    # them module after module.
    height = [0] * pg.n
    for v in sorted(range(pg.n), key=layer.__getitem__, reverse=True):
        h = 0
        for w in succ[v]:
            if height[w] >= h:
                h = height[w] + 1
        height[v] = h
    seen = bytearray(pg.n)
    roots = [v for v in range(pg.n) if not pg.pred[v]]
    stack = roots[::-1]
    while stack:
        v = stack.pop()
        if seen[v]:
            continue
        seen[v] = 1
        layers[layer[v]].append(v)
        outs = succ[v]
        if len(outs) > 1:
            outs = sorted(outs, key=lambda w: (-height[w], w))
        for w in reversed(outs):
            if not seen[w]:
                stack.append(w)
    return layers


def _contiguous(order: list[int], gpath: list[tuple]) -> bool:
    """Whether every group's members form one run in ``order``."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    count: dict[int, int] = {}
    for i, v in enumerate(order):
        for g in gpath[v]:
            if g in first:
                last[g] = i
                count[g] += 1
            else:
                first[g] = last[g] = i
                count[g] = 1
    return all(last[g] - first[g] + 1 == c for g, c in count.items())


def _sort_layer(lay: list[int], bary: list[float], pos: list[int], gpath: list[tuple],
                grouped: bool) -> list[int]:
    """``lay`` ordered by barycentre (ties: current position), each group contiguous.

    With groups, a node's sort key is one pair per level of its group path, the pair of
    the group at that level: (mean barycentre of the group's members in this layer,
    smallest current position among them), then the node's own (barycentre, position).
    Comparing such keys orders the groups among themselves and their neighbours at every
    level and keeps each group's members together; the smallest position breaks ties
    uniquely, so the order is total.
    """
    plain = sorted(lay, key=lambda v: (bary[v], pos[v]))
    if not grouped or _contiguous(plain, gpath):
        # When plain order keeps every group together it is also the grouped order:
        # adjacent runs X before Y have every key of X below every key of Y.
        return plain
    total: dict[int, float] = {}
    count: dict[int, int] = {}
    tie: dict[int, int] = {}
    for v in lay:
        b = bary[v]
        p = pos[v]
        for g in gpath[v]:
            if g in total:
                total[g] += b
                count[g] += 1
                if p < tie[g]:
                    tie[g] = p
            else:
                total[g] = b
                count[g] = 1
                tie[g] = p
    group_key = {g: (total[g] / count[g], tie[g]) for g in total}
    keyed = []
    for v in lay:
        gp = gpath[v]
        own = (bary[v], pos[v])
        if not gp:
            keyed.append(((own,), v))
        elif len(gp) == 1:
            keyed.append(((group_key[gp[0]], own), v))
        else:
            keyed.append((tuple([group_key[g] for g in gp] + [own]), v))
    keyed.sort()
    return [v for _, v in keyed]


def _group_contiguous(layers, pos, gpath, grouped_layer):
    """Make every group contiguous in every layer, otherwise keeping the order."""
    for i, lay in enumerate(layers):
        if grouped_layer[i]:
            lay[:] = _sort_layer(lay, pos, pos, gpath, True)
            for p, v in enumerate(lay):
                pos[v] = p


def _sweep(layers, pos, bary, nbrs, indices, step, gpath, grouped_layer):
    for i in indices:
        lay = layers[i]
        if len(lay) < 2:
            continue
        ref = len(layers[i - step])
        scale = ref / len(lay)
        for v in lay:
            ns = nbrs[v]
            if ns:
                if len(ns) == 1:
                    bary[v] = pos[ns[0]]
                else:
                    bary[v] = sum(map(pos.__getitem__, ns)) / len(ns)
            else:
                bary[v] = (pos[v] + 0.5) * scale - 0.5
        new = _sort_layer(lay, bary, pos, gpath, grouped_layer[i])
        layers[i] = new
        for p, v in enumerate(new):
            pos[v] = p


def reduce_crossings(pg: ProperGraph, layers: list[list[int]], max_sweeps: int = 12,
                     patience: int = 2) -> tuple[list[list[int]], int, int]:
    """Reorder ``layers`` to reduce crossings.

    Returns ``(best_layers, crossings_before, crossings_after)``; ``before`` is counted
    on the given order once groups are made contiguous. Each phase stops after
    ``patience`` sweeps in a row without a gain of 1%, or after ``max_sweeps``.
    """
    n = pg.n
    pos = [0] * n
    for lay in layers:
        for p, v in enumerate(lay):
            pos[v] = p
    gpath = pg.gpath
    grouped_layer = [any(gpath[v] for v in lay) for lay in layers]
    layers = [list(lay) for lay in layers]
    _group_contiguous(layers, pos, gpath, grouped_layer)

    edges = pg.edge_list()
    upper = np.fromiter((a for a, _ in edges), dtype=np.int64, count=len(edges))
    lower = np.fromiter((b for _, b in edges), dtype=np.int64, count=len(edges))
    layer_arr = np.asarray(pg.layer, dtype=np.int64)
    upper_layer = layer_arr[upper] if len(edges) else upper

    def count() -> int:
        return crossings_of_order(np.asarray(pos, dtype=np.int64), upper, lower, upper_layer)

    best = before = count()
    best_layers = [lay[:] for lay in layers]
    bary = [0.0] * n
    down = range(1, len(layers))
    up = range(len(layers) - 2, -1, -1)
    both = [a + b for a, b in zip(pg.pred, pg.succ)]
    # Phase 1 orders each layer by the layer just placed (predecessors going down,
    # successors going up); phase 2, from the best order so far, by both neighbouring
    # layers at once, which frees orders the one-sided sweeps keep locking in.
    for phase in (0, 1):
        if phase == 1 and best:
            layers = [lay[:] for lay in best_layers]
            for lay in layers:
                for p, v in enumerate(lay):
                    pos[v] = p
        stale = 0
        for sweep in range(max_sweeps):
            if best == 0:
                break
            going_down = sweep % 2 == 0
            nbrs = both if phase else pg.pred if going_down else pg.succ
            if going_down:
                _sweep(layers, pos, bary, nbrs, down, 1, gpath, grouped_layer)
            else:
                _sweep(layers, pos, bary, nbrs, up, -1, gpath, grouped_layer)
            c = count()
            if c < best:
                # Only a gain of 1% or more counts as progress: long tails of tiny gains
                # cost more time than they are worth.
                stale = 0 if c < 0.99 * best else stale + 1
                best = c
                best_layers = [lay[:] for lay in layers]
            else:
                stale += 1
            if stale >= patience:
                break
    return best_layers, before, best
