"""Step 4: coordinates. Positions along each layer (breadth) and of the layers (depth).

Breadth: minimise the sum over edges of ``w * |x_u - x_v|`` subject to each layer's
order and minimum separations (half widths + gap + group margins), by block coordinate
descent: sweep the layers down, up, and down again against both neighbouring layers;
each layer moves to the positions nearest its neighbours, projected exactly onto the
separation constraints by isotonic regression (pool adjacent violators, blocks at the
weighted median). Absolute values rather than squares keep chains straight: a node
stays in line with its heavier neighbour instead of settling at a mean, so an unrolled
RNN's hidden-state chain runs straight down instead of drifting sideways step by step.
Weights follow Gansner et al. (1 real-real, 2 real-dummy, 8 dummy-dummy, so long edges
pull themselves straight) plus a heavier edge from each node to its main child. A final
pass straightens every dummy column (trunk) into as few vertical runs as the
neighbours' free space allows, so long edges have few bends.

All coordinates here are abstract: ``b`` along a layer, ``d`` across layers (downwards);
:mod:`.geometry` maps them onto the screen for the chosen direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .proper import ProperGraph

__all__ = ["Spacing", "assign_breadth", "assign_depth", "straighten_columns"]


@dataclass(frozen=True)
class Spacing:
    """Gaps in abstract units. ``b_low``/``b_high``: room a group box needs on the low/
    high side of its members along a layer, per nesting level; ``d_low``/``d_high``:
    the same across layers (the group's name is drawn on one of these sides)."""

    node_sep: float
    edge_sep: float
    rank_sep: float
    b_low: float
    b_high: float
    d_low: float
    d_high: float


def _separations(pg: ProperGraph, layers, bsize, sp: Spacing) -> list[list[float]]:
    """``seps[i][k]``: minimum distance between the centres of nodes k and k+1 of layer i."""
    n_real = pg.n_real
    gpath = pg.gpath
    mixed = (sp.node_sep + sp.edge_sep) / 2
    out = []
    for lay in layers:
        row = []
        for k in range(len(lay) - 1):
            a, c = lay[k], lay[k + 1]
            ra, rc = a < n_real, c < n_real
            s = (bsize[a] + bsize[c]) / 2 + (sp.node_sep if ra and rc else mixed if ra or rc else sp.edge_sep)
            ga, gc = gpath[a], gpath[c]
            if ga is not gc and (ga or gc):
                common = 0
                for x, y in zip(ga, gc):
                    if x != y:
                        break
                    common += 1
                s += (len(ga) - common) * sp.b_high + (len(gc) - common) * sp.b_low
            row.append(s)
        out.append(row)
    return out


def _place_l2(lay: list[int], nbrs: list[list[tuple[int, float]]], x: list[float],
              prefix: list[float]) -> None:
    """Move layer ``lay`` to the weighted least-squares positions nearest its neighbours'
    mean, keeping the separations (``prefix``: cumulative minimum distances).

    With ``y_i = x_i - prefix_i`` the constraints become ``y`` non-decreasing: weighted
    isotonic regression by pooling adjacent violators, O(n).
    """
    bw: list[float] = []
    bt: list[float] = []
    bn: list[int] = []
    for i, v in enumerate(lay):
        nb = nbrs[v]
        if nb:
            w = 0.0
            wt = 0.0
            for u, wu in nb:
                w += wu
                wt += wu * x[u]
            wt -= w * prefix[i]
        else:
            w = 1e-3
            wt = w * (x[v] - prefix[i])
        c = 1
        while bw and bt[-1] * w > wt * bw[-1]:
            w += bw.pop()
            wt += bt.pop()
            c += bn.pop()
        bw.append(w)
        bt.append(wt)
        bn.append(c)
    i = 0
    for w, wt, c in zip(bw, bt, bn):
        m = wt / w
        for _ in range(c):
            x[lay[i]] = m + prefix[i]
            i += 1


def _weighted_median(items: list[tuple[float, float]]) -> float:
    """A minimiser of ``sum(w * abs(y - v))`` over sorted ``(v, w)`` items: the weighted
    median, or the middle of the median interval when the weights split evenly."""
    total = 0.0
    for _, w in items:
        total += w
    half = total / 2
    tol = 1e-9 * total
    cum = 0.0
    for k, (v, w) in enumerate(items):
        cum += w
        if cum > half + tol:
            return v
        if cum >= half - tol:
            return (v + items[k + 1][0]) / 2 if k + 1 < len(items) else v
    return items[-1][0]


def _place_l1(lay: list[int], nbrs: list[list[tuple[int, float]]], x: list[float],
              prefix: list[float]) -> None:
    """Like :func:`_place_l2` for the energy ``sum(w * abs(x_v - x_u))``: blocks take the
    weighted median of their members' targets.

    The absolute-value energy is what keeps chains straight: a node stays in line with a
    heavier neighbour instead of settling at a weighted mean of all of them.
    """
    b_items: list[list] = []
    b_val: list[float] = []
    b_cnt: list[int] = []
    i = 0
    for v in lay:
        p = prefix[i]
        i += 1
        nb = nbrs[v]
        k = len(nb)
        if k == 1:
            u, w = nb[0]
            value = x[u] - p
            items = [(value, w)]
        elif k == 2:
            (u0, w0), (u1, w1) = nb
            t0 = x[u0] - p
            t1 = x[u1] - p
            if t0 > t1:
                t0, t1, w0, w1 = t1, t0, w1, w0
            items = [(t0, w0), (t1, w1)]
            value = t0 if w0 > w1 else t1 if w1 > w0 else (t0 + t1) / 2
        elif k:
            items = sorted([(x[u] - p, w) for u, w in nb])
            value = _weighted_median(items)
        else:
            value = x[v] - p
            items = [(value, 1e-3)]
        if b_val and b_val[-1] > value:
            c = 1
            while b_val and b_val[-1] > value:
                b_val.pop()
                items = sorted(b_items.pop() + items)
                value = _weighted_median(items)
                c += b_cnt.pop()
            b_cnt.append(c)
        else:
            b_cnt.append(1)
        b_items.append(items)
        b_val.append(value)
    i = 0
    for value, c in zip(b_val, b_cnt):
        if c == 1:
            x[lay[i]] = value + prefix[i]
            i += 1
        else:
            for _ in range(c):
                x[lay[i]] = value + prefix[i]
                i += 1


def _edge_weights(pg: ProperGraph, dag_edges: list[tuple[int, int]],
                  heavy: float) -> tuple[list[list[tuple[int, float]]], list[list[tuple[int, float]]]]:
    """``(above, below)``: per node, its ``(neighbour, weight)`` pairs in the layer above
    and in the layer below.

    Dummy-dummy 8, real-dummy 2, real-real 1, except that each real node's edge to its
    *heavy* child (the child in the next layer, or the first dummy of a long edge, with
    the most edges on its longest path down in the original graph, first in order on a
    tie) weighs ``heavy``: the main chain
    of a graph (an RNN's hidden state, a CNN's trunk) then runs straight down and short
    branches hang off it, instead of every node centring over its children and the
    chain drifting sideways.
    """
    n_real = pg.n_real
    children: list[list[int]] = [[] for _ in range(n_real)]
    for a, b in dag_edges:
        children[a].append(b)
    height = [0] * n_real
    for v in sorted(range(n_real), key=pg.layer.__getitem__, reverse=True):
        h = 0
        for w in children[v]:
            if height[w] + 1 > h:
                h = height[w] + 1
        height[v] = h
    # A long edge's first dummy stands for the edge's real target (the highest one when
    # a source bundle shares the dummy), so a module's output leaving its band through
    # a long edge can be the heavy child.
    via: dict[tuple[int, int], int] = {}
    columns = pg.columns
    for (a, b), (c, j0, _) in pg.routes.items():
        key = (a, columns[c][j0])
        if height[b] > via.get(key, -1):
            via[key] = height[b]
    below = []
    for u, outs in enumerate(pg.succ):
        if u >= n_real:
            below.append([(v, 8.0 if v >= n_real else 2.0) for v in outs])
            continue
        hc, best = -1, -1
        for v in outs:
            hv = height[v] if v < n_real else via.get((u, v), -1)
            if hv > best:
                hc, best = v, hv
        below.append([(v, heavy if v == hc else 2.0 if v >= n_real else 1.0) for v in outs])
    above: list[list[tuple[int, float]]] = [[] for _ in range(pg.n)]
    for u, pairs in enumerate(below):
        for v, w in pairs:
            above[v].append((u, w))
    return above, below


def assign_breadth(pg: ProperGraph, layers: list[list[int]], bsize: list[float], sp: Spacing,
                   dag_edges: list[tuple[int, int]], l2_iterations: int = 0, l1_iterations: int = 1,
                   heavy: float = 4.0, l1_max_width: int = 64) -> tuple[list[float], list[list[float]]]:
    """Breadth coordinate of every proper node; also returns the separations used.

    ``l2_iterations`` down-and-up sweeps of least squares give a balanced start (none by
    default: the absolute-value sweeps do as well on grad_fn graphs, for less time),
    ``l1_iterations`` down-and-up sweeps of absolute values straighten chains, and a
    last downward sweep against both neighbouring layers balances nodes between them. Layers wider
    than ``l1_max_width`` always use least squares: pooling weighted medians costs up to
    quadratic time in a layer's width, and wide layers are rarely chains.
    """
    seps = _separations(pg, layers, bsize, sp)
    prefixes = []
    x = [0.0] * pg.n
    for lay, row in zip(layers, seps):
        pre = [0.0]
        for s in row:
            pre.append(pre[-1] + s)
        prefixes.append(pre)
        half = pre[-1] / 2
        for v, p in zip(lay, pre):
            x[v] = p - half
    above, below = _edge_weights(pg, dag_edges, heavy)
    both = [a + b for a, b in zip(above, below)]
    down = range(1, len(layers))
    up = range(len(layers) - 2, -1, -1)
    plan = []
    for _ in range(l2_iterations):
        plan += [(down, above, _place_l2), (up, below, _place_l2)]
    for _ in range(l1_iterations):
        plan += [(down, above, _place_l1), (up, below, _place_l1)]
    plan += [(down, both, _place_l1)]
    for indices, nbrs, place in plan:
        for i in indices:
            lay = layers[i]
            if place is _place_l1 and len(lay) > l1_max_width:
                _place_l2(lay, nbrs, x, prefixes[i])
            else:
                place(lay, nbrs, x, prefixes[i])
    return x, seps


def straighten_columns(pg: ProperGraph, layers: list[list[int]], x: list[float],
                       seps: list[list[float]]) -> None:
    """Move each dummy column, within its neighbours' free space, into vertical runs.

    Walking down a column, the free intervals are intersected until the intersection
    would be empty; that run is then set to the median of its current positions, clamped
    into the intersection. Neighbours never move, so no separation is violated.
    """
    where = {}
    for li, lay in enumerate(layers):
        for k, v in enumerate(lay):
            where[v] = (li, k)
    eps = 1e-9
    for col in pg.columns:
        if len(col) < 2:
            continue
        lo_hi = []
        for v in col:
            li, k = where[v]
            lay = layers[li]
            lo = x[lay[k - 1]] + seps[li][k - 1] - eps if k > 0 else -math.inf
            hi = x[lay[k + 1]] - seps[li][k] + eps if k + 1 < len(lay) else math.inf
            lo_hi.append((lo, hi))
        start = 0
        lo, hi = lo_hi[0]
        for j in range(1, len(col) + 1):
            if j < len(col):
                nlo, nhi = max(lo, lo_hi[j][0]), min(hi, lo_hi[j][1])
                if nlo <= nhi:
                    lo, hi = nlo, nhi
                    continue
            run = col[start:j]
            xs = sorted(x[v] for v in run)
            value = min(max(xs[len(xs) // 2], lo), hi)
            for v in run:
                x[v] = value
            if j < len(col):
                start = j
                lo, hi = lo_hi[j]


def assign_depth(pg: ProperGraph, layers: list[list[int]], dsize: list[float],
                 sp: Spacing) -> list[float]:
    """Centre line of every layer: layers as thick as their tallest node, ``rank_sep``
    apart plus room for the group boxes that start or end there."""
    n_layers = len(layers)
    thick = [0.0] * n_layers
    layer = pg.layer
    for v in range(pg.n_real):
        if dsize[v] > thick[layer[v]]:
            thick[layer[v]] = dsize[v]
    top: dict[int, int] = {}
    bottom: dict[int, int] = {}
    for v in range(pg.n_real):
        lv = layer[v]
        for g in pg.gpath[v]:
            if top.get(g, lv) >= lv:
                top[g] = lv
            if bottom.get(g, lv) <= lv:
                bottom[g] = lv
    above = [0] * n_layers   # nesting levels of group-box edges above layer i
    below = [0] * n_layers
    for v in range(pg.n_real):
        lv = layer[v]
        path = pg.gpath[v]
        for k, g in enumerate(path):
            levels = len(path) - k
            if top[g] == lv and levels > above[lv]:
                above[lv] = levels
            if bottom[g] == lv and levels > below[lv]:
                below[lv] = levels
    centre = [0.0] * n_layers
    d = above[0] * sp.d_low if n_layers else 0.0
    for i in range(n_layers):
        if i:
            d += sp.rank_sep + below[i - 1] * sp.d_high + above[i] * sp.d_low + thick[i - 1] / 2
        d += thick[i] / 2
        centre[i] = d
    return centre
