"""Reusing a layout while the graph's structure stays the same.

A training loop rebuilds the same backward graph every iteration; only node states and
gradients change. :class:`LayoutCache` keys layouts by :func:`structure_signature` (node
keys with their labels and groups, and edges, as sets: insertion order does not matter)
plus the options and collapsed groups, so the GUI gets the stored :class:`Layout` back
at the cost of building the signature, and lays out again only when the structure did
change. Node keys must be stable across iterations for this to hit (see
:mod:`autograd_viz.keys`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import networkx as nx

from .collapse import normalise_collapsed
from .result import Layout
from .sugiyama import LayoutOptions, layout

__all__ = ["LayoutCache", "structure_signature"]


def structure_signature(graph: nx.DiGraph) -> tuple[frozenset, frozenset]:
    """What a layout depends on: ``(frozenset of (node, label, group), frozenset of edges)``.

    Exact (no hashing shortcut, so two structures never share a signature) and
    independent of insertion order. Attributes other than ``label`` and ``group`` (states,
    gradients) are not part of it.
    """
    nodes = frozenset((k, a.get("label"), a.get("group") or None) for k, a in graph.nodes(data=True))
    return nodes, frozenset(graph.edges())


class LayoutCache:
    """Least-recently-used store of layouts (``maxsize`` of them), safe across threads.

    ``cache.get(graph, collapsed=..., direction=...)`` returns the stored Layout for the
    same structure and options (the very same object), or computes and stores a new one.
    ``hits`` and ``misses`` count the outcomes.
    """

    def __init__(self, maxsize: int = 8, options: LayoutOptions | None = None):
        if not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"LayoutCache maxsize must be an int >= 1, not {maxsize!r}")
        self.maxsize = maxsize
        self.options = options or LayoutOptions()
        self.hits = 0
        self.misses = 0
        self._store: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def key(self, graph: nx.DiGraph, collapsed=(), **overrides) -> tuple:
        opts = self.options.with_overrides(**overrides)
        return structure_signature(graph), normalise_collapsed(collapsed), opts

    def lookup(self, graph: nx.DiGraph, collapsed=(), **overrides) -> Layout | None:
        """The stored layout for this structure, or None (never computes; counts nothing)."""
        key = self.key(graph, collapsed, **overrides)
        with self._lock:
            return self._store.get(key)

    def get(self, graph: nx.DiGraph, collapsed=(), **overrides) -> Layout:
        key = self.key(graph, collapsed, **overrides)
        with self._lock:
            found = self._store.get(key)
            if found is not None:
                self._store.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
            result = layout(graph, key[2], collapsed=key[1])
            self._store[key] = result
            while len(self._store) > self.maxsize:
                self._store.popitem(last=False)
            return result

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

    def __len__(self) -> int:
        return len(self._store)
