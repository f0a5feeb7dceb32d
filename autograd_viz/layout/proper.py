"""Step 2: the proper layered graph, where every edge joins two adjacent layers.

An edge spanning several layers is routed through dummy nodes, one per layer crossed;
crossing reduction and coordinate assignment then treat dummies like small nodes, and
the dummies' final positions become the edge's bend points.

Edge bundling keeps the number of dummies linear in the graph's depth. In an unrolled
RNN every time step sends a gradient to the same shared weight, and one dummy chain per
edge would need (steps x depth) dummies (hundreds of thousands at 2,000 nodes, and as
many parallel lines on screen). Instead long edges that share their target (or, failing
that, their source) share one chain, a *trunk*: the edges of a target bundle join the
trunk in the layer below their source and ride it down to the shared node; those of a
source bundle leave it in the layer above their target. Each trunk is a *column*: a
chain of dummies, one per layer, that coordinate assignment tries to keep straight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .layering import Ranking

__all__ = ["ProperGraph", "build_proper", "common_prefix"]


@dataclass
class ProperGraph:
    """Real nodes are ids ``0..n_real-1`` (as in the Ranking); dummies follow.

    ``routes[(a, b)] = (col, j0, j1)``: the long DAG edge ``a -> b`` runs
    ``a -> columns[col][j0:j1] -> b``. ``gpath[i]``: group ids enclosing node ``i``,
    outermost first (a dummy gets the groups both ends of its edges share).
    """

    n_real: int
    n_layers: int
    layer: list[int]
    succ: list[list[int]]
    pred: list[list[int]]
    gpath: list[tuple[int, ...]]
    columns: list[list[int]] = field(default_factory=list)
    routes: dict[tuple[int, int], tuple[int, int, int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.layer)

    def edge_list(self) -> list[tuple[int, int]]:
        return [(a, b) for a, outs in enumerate(self.succ) for b in outs]


def common_prefix(p: tuple, q: tuple) -> tuple:
    k = 0
    for x, y in zip(p, q):
        if x != y:
            break
        k += 1
    return p[:k]


def build_proper(ranking: Ranking, gpath: list[tuple[int, ...]], bundle: bool = True) -> ProperGraph:
    """Insert dummies for the long edges of ``ranking`` (bundled when ``bundle``)."""
    n = len(ranking.keys)
    layer = list(ranking.layer)
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    paths = list(gpath)
    pg = ProperGraph(n, ranking.n_layers, layer, succ, pred, paths)

    def dummies(top: int, bottom: int, path: tuple) -> list[int]:
        """A column of dummies in layers top..bottom (inclusive), linked downwards."""
        first = len(layer)
        count = bottom - top + 1
        ids = list(range(first, first + count))
        layer.extend(range(top, bottom + 1))
        succ.extend([[i + 1] for i in ids])
        pred.extend([[i - 1] for i in ids])
        paths.extend([path] * count)
        succ[ids[-1]] = []
        pred[ids[0]] = []
        pg.columns.append(ids)
        return ids

    def link(a: int, b: int) -> None:
        succ[a].append(b)
        pred[b].append(a)

    long_edges = []
    for a, b in ranking.edges:
        if layer[b] - layer[a] == 1:
            link(a, b)
        else:
            long_edges.append((a, b))
    long_in = [0] * n
    long_out = [0] * n
    for a, b in long_edges:
        long_in[b] += 1
        long_out[a] += 1
    by_target: dict[int, list[int]] = {}
    by_source: dict[int, list[int]] = {}
    singles = []
    for a, b in long_edges:
        if bundle and long_in[b] >= 2 and long_in[b] >= long_out[a]:
            by_target.setdefault(b, []).append(a)
        elif bundle and long_out[a] >= 2:
            by_source.setdefault(a, []).append(b)
        else:
            singles.append((a, b))

    for b in sorted(by_target):
        sources = by_target[b]
        path = paths[b]
        for a in sources:
            path = common_prefix(path, paths[a])
        top = min(layer[a] for a in sources) + 1
        col = dummies(top, layer[b] - 1, path)
        link(col[-1], b)
        for a in sources:
            j = layer[a] + 1 - top
            link(a, col[j])
            pg.routes[(a, b)] = (len(pg.columns) - 1, j, len(col))
    for a in sorted(by_source):
        targets = by_source[a]
        path = paths[a]
        for b in targets:
            path = common_prefix(path, paths[b])
        top = layer[a] + 1
        col = dummies(top, max(layer[b] for b in targets) - 1, path)
        link(a, col[0])
        for b in targets:
            j = layer[b] - 1 - top
            link(col[j], b)
            pg.routes[(a, b)] = (len(pg.columns) - 1, 0, j + 1)
    for a, b in singles:
        col = dummies(layer[a] + 1, layer[b] - 1, common_prefix(paths[a], paths[b]))
        link(a, col[0])
        link(col[-1], b)
        pg.routes[(a, b)] = (len(pg.columns) - 1, 0, len(col))
    return pg
