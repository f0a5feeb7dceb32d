"""Step 1b: group-aware layers, so that sibling module boxes never overlap.

Plain longest-path layering (:mod:`.layering`) puts a Linear's ``TBackward0`` and its
weight in the same layers as the next module's nodes, and the two group boxes overlap
(it reads as nesting that does not exist). Here every module group gets a *band*: a run
of consecutive layers that holds its nodes and no node of a sibling group or of its
parent (edges may pass through). Bands nest: a group's band is made of its subgroups'
bands and of runs of its own nodes.

Recursively, for a group ``P`` (the top level first): its *units* are its subgroups and
its own nodes (*free* nodes at this level). Each subgroup is laid out the same way
inside its band; then the units are put in a topological order (the unit graph of a
well-nested model is acyclic): ready free nodes fill a *segment* of layers by longest
path, and when no free node is ready, the ready subgroup that came first in plain
layering takes the next band. Edges still point down: a unit is placed only after every
unit with an edge into it.

Interleaved groups. Some groups cannot be one band without wrecking the picture: a
module called at several places (a shared activation, an RNN's per-step output layer
sharing one weight) has nodes all over the graph. Such a group is *dissolved*: it gets
no box, and its nodes and subgroups take part in its parent's level as if they were the
parent's own (their subgroups can still get bands and boxes). Within a layer its nodes
stay side by side (ordering keeps every group contiguous). A group is dissolved when

- in the plain layering, more than ``max(4, size / 4)`` nodes of its parent's band that
  are not its own fall inside the group's layer span (the group is spread over a stretch
  of the graph that mostly belongs to others); or
- it lies on a cycle of its parent's unit graph (``A -> B -> A``: no order of bands
  works); in each such cycle the group with the most outside nodes in its span per own
  node goes first, and the check runs again.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import deque

import networkx as nx

__all__ = ["band_layers", "INTRUDER_MIN", "INTRUDER_SHARE"]

#: A group whose plain-layer span holds more outside nodes than both of these (an absolute
#: count and a share of the group's own size) is dissolved (drawn without a box).
INTRUDER_MIN = 4
INTRUDER_SHARE = 0.25
#: Cycle-breaking rounds that dissolve one group per cycle; after them every group still
#: on a cycle is dissolved at once (keeps pathological inputs linear-ish).
_CYCLE_ROUNDS = 8


class _Bands:
    """The state of one :func:`band_layers` run (node ids 0..n-1, group ids 0..G-1)."""

    def __init__(self, n: int, edges, paths, plain):
        self.n = n
        self.succ: list[list[int]] = [[] for _ in range(n)]
        self.pred: list[list[int]] = [[] for _ in range(n)]
        for a, b in edges:
            self.succ[a].append(b)
            self.pred[b].append(a)
        self.paths = paths
        self.plain = plain
        self.members: dict[int, list[int]] = {}
        for v, path in enumerate(paths):
            for g in path:
                self.members.setdefault(g, []).append(v)
        self.span = {g: (min(plain[v] for v in vs), max(plain[v] for v in vs))
                     for g, vs in self.members.items()}
        self.dissolved: set[int] = set()
        self.layer = [0] * n
        self.mark = [0] * n       # mark[v] == token: v is in the level being laid out
        self.token = 0

    # -- units ---------------------------------------------------------------------------

    def unit_of(self, v: int, depth: int) -> int:
        """The unit node ``v`` belongs to at a level ``depth`` groups deep: the first
        group of its path below that which is not dissolved (as ``-1 - g``), or ``v``."""
        dissolved = self.dissolved
        for g in self.paths[v][depth:]:
            if g not in dissolved:
                return -1 - g
        return v

    def intruders(self, g: int, sorted_plain: list[int]) -> int:
        lo, hi = self.span[g]
        inside = bisect_right(sorted_plain, hi) - bisect_left(sorted_plain, lo)
        return inside - len(self.members[g])

    def too_spread(self, g: int, sorted_plain: list[int]) -> bool:
        k = self.intruders(g, sorted_plain)
        return k > INTRUDER_MIN and k > INTRUDER_SHARE * len(self.members[g])

    def units(self, nodes: list[int], depth: int, sorted_plain: list[int]) -> list[int]:
        """``unit[i]`` of ``nodes[i]``, dissolving spread-out groups first."""
        judged: set[int] = set()
        while True:
            unit = [self.unit_of(v, depth) for v in nodes]
            fresh = sorted({-1 - u for u in unit if u < 0} - judged)
            if not fresh:
                return unit
            for g in fresh:
                judged.add(g)
                if self.too_spread(g, sorted_plain):
                    self.dissolved.add(g)

    # -- one level -----------------------------------------------------------------------

    def lay_out(self, nodes: list[int], depth: int) -> int:
        """Give ``nodes`` (the members of one group, or all nodes) layers from 0 within
        their band; returns the band's height."""
        sorted_plain = sorted(self.plain[v] for v in nodes)
        unit = self.units(nodes, depth, sorted_plain)
        self.token += 1
        token = self.token
        mark = self.mark
        for v in nodes:
            mark[v] = token
        unit_of = dict(zip(nodes, unit))
        rounds = 0
        while True:
            unit_edges = self._unit_edges(nodes, unit_of, token)
            cycles = self._cycles(unit, unit_edges)
            if not cycles:
                break
            rounds += 1
            for cyc in cycles:
                groups = [-1 - u for u in cyc if u < 0]
                if rounds > _CYCLE_ROUNDS:
                    self.dissolved.update(groups)
                else:
                    self.dissolved.add(max(groups, key=lambda g: (
                        self.intruders(g, sorted_plain) / len(self.members[g]), -g)))
            unit = self.units(nodes, depth, sorted_plain)
            unit_of = dict(zip(nodes, unit))

        heights: dict[int, int] = {}
        for u in sorted(set(unit)):
            if u < 0:
                g = -1 - u
                heights[u] = self.lay_out(self.members[g], self._depth_of(g))
        return self._sequence(nodes, unit, unit_edges, heights)

    def _depth_of(self, g: int) -> int:
        """How many groups deep ``g``'s members are once inside ``g``."""
        path = self.paths[self.members[g][0]]
        return path.index(g) + 1

    def _unit_edges(self, nodes, unit_of, token) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        mark = self.mark
        for v in nodes:
            uv = unit_of[v]
            for w in self.succ[v]:
                if mark[w] == token:
                    uw = unit_of[w]
                    if uw != uv:
                        out.setdefault(uv, set()).add(uw)
        return out

    @staticmethod
    def _cycles(unit: list[int], unit_edges: dict[int, set[int]]) -> list[list[int]]:
        """The strongly connected components with more than one unit (sorted), if any.

        Free nodes alone form no cycle, so a level without subgroups skips the check.
        """
        if not any(u < 0 for u in unit):
            return []
        g = nx.DiGraph()
        g.add_nodes_from(set(unit))
        for a, outs in unit_edges.items():
            for b in outs:
                g.add_edge(a, b)
        if nx.is_directed_acyclic_graph(g):
            return []
        return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)

    def _sequence(self, nodes, unit, unit_edges, heights) -> int:
        """Stack the units of one level (see the module docstring); returns the height."""
        indeg: dict[int, int] = {u: 0 for u in unit}
        for outs in unit_edges.values():
            for b in outs:
                indeg[b] += 1
        layer = self.layer
        need: dict[int, int] = {}
        ready_free: deque[int] = deque()
        ready_groups: list[tuple[int, int]] = []

        def release(u: int) -> None:
            if u >= 0:
                ready_free.append(u)
            else:
                heapq.heappush(ready_groups, (self.span[-1 - u][0], -1 - u))

        for u in sorted(indeg):
            if indeg[u] == 0:
                release(u)
        cursor = 0
        placed = 0
        while ready_free or ready_groups:
            if ready_free:
                end = cursor
                while ready_free:
                    v = ready_free.popleft()
                    lv = max(cursor, need.get(v, 0))
                    layer[v] = lv
                    if lv + 1 > end:
                        end = lv + 1
                    placed += 1
                    for w in sorted(unit_edges.get(v, ())):
                        if w >= 0 and need.get(w, 0) <= lv:
                            need[w] = lv + 1
                        indeg[w] -= 1
                        if indeg[w] == 0:
                            release(w)
                cursor = end
            else:
                _, g = heapq.heappop(ready_groups)
                for v in self.members[g]:
                    layer[v] += cursor
                cursor += heights[-1 - g]
                placed += 1
                for w in sorted(unit_edges.get(-1 - g, ())):
                    indeg[w] -= 1
                    if indeg[w] == 0:
                        release(w)
        assert placed == len(indeg), "the unit graph of a level kept a cycle"
        return cursor


def band_layers(n: int, edges, paths, plain) -> tuple[list[int], set[int]]:
    """Layers with a band per module group, and the ids of the groups dissolved.

    ``edges``: acyclic ``(a, b)`` pairs over ids ``0..n-1``; ``paths[v]``: group ids
    enclosing node ``v``, outermost first; ``plain``: the plain longest-path layers (used
    to order sibling bands and to find spread-out groups). Every edge still goes down
    (``layer[b] > layer[a]``) and no layer is left empty.
    """
    if not any(paths):
        return list(plain), set()
    state = _Bands(n, edges, paths, plain)
    state.lay_out(list(range(n)), 0)
    return state.layer, state.dissolved
