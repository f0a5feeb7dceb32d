"""Step 1 of the layered layout: integer ids, cycle breaking, layer assignment.

Layers are assigned by longest path from the sources (networkx calls them topological
generations): the root loss sits in layer 0 and every node one layer below its deepest
predecessor, so a leaf used once hangs right under its user and a shared weight under its
last user. A graph with a cycle (collapsing groups can make one) is made acyclic first
by reversing the back edges of a depth-first search; those edges are drawn pointing up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import networkx as nx

from .keys import canonical_key

__all__ = ["Ranking", "rank"]


@dataclass
class Ranking:
    """The graph reduced to integers, acyclic and layered.

    ``keys[i]`` is node ``i``'s key (canonical order); ``edges`` the acyclic edges
    ``(a, b)`` with ``layer[b] > layer[a]``, sorted and unique; ``reversed_edges`` the
    original edges ``(u, v)`` (as ids) that appear in ``edges`` as ``(v, u)``;
    ``self_loops`` the ids of nodes with an edge to themselves.
    """

    keys: list
    index: dict
    edges: list[tuple[int, int]]
    layer: list[int]
    reversed_edges: set[tuple[int, int]] = field(default_factory=set)
    self_loops: list[int] = field(default_factory=list)

    @property
    def n_layers(self) -> int:
        return max(self.layer) + 1 if self.layer else 0


def _topological_order(n: int, succ: list[list[int]]) -> list[int]:
    """Kahn's algorithm; returns fewer than ``n`` ids when the graph has a cycle."""
    indeg = [0] * n
    for outs in succ:
        for b in outs:
            indeg[b] += 1
    ready = deque(i for i in range(n) if indeg[i] == 0)
    order = []
    while ready:
        a = ready.popleft()
        order.append(a)
        for b in succ[a]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    return order


def _back_edges(n: int, succ: list[list[int]]) -> set[tuple[int, int]]:
    """Edges that close a cycle in an iterative depth-first search (ids in order)."""
    state = bytearray(n)  # 0 unseen, 1 on the stack, 2 finished
    back: set[tuple[int, int]] = set()
    for start in range(n):
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, iter(succ[start]))]
        while stack:
            a, it = stack[-1]
            for b in it:
                if state[b] == 0:
                    state[b] = 1
                    stack.append((b, iter(succ[b])))
                    break
                if state[b] == 1:
                    back.add((a, b))
            else:
                state[a] = 2
                stack.pop()
    return back


def rank(graph: nx.DiGraph) -> Ranking:
    """Number the nodes canonically, break cycles and assign layers."""
    keys = sorted(graph.nodes, key=canonical_key)
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    loops: list[int] = []
    pairs = set()
    for u, v in graph.edges():
        a, b = index[u], index[v]
        if a == b:
            loops.append(a)
        else:
            pairs.add((a, b))
    edges = sorted(pairs)
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        succ[a].append(b)
    order = _topological_order(n, succ)
    reversed_edges: set[tuple[int, int]] = set()
    if len(order) < n:
        reversed_edges = _back_edges(n, succ)
        pairs = {(b, a) if (a, b) in reversed_edges else (a, b) for a, b in edges}
        edges = sorted(pairs)
        succ = [[] for _ in range(n)]
        for a, b in edges:
            succ[a].append(b)
        order = _topological_order(n, succ)
        assert len(order) == n, "reversing the DFS back edges left a cycle"
    layer = [0] * n
    for a in order:
        la = layer[a] + 1
        for b in succ[a]:
            if layer[b] < la:
                layer[b] = la
    return Ranking(keys, index, edges, layer, reversed_edges, sorted(set(loops)))
