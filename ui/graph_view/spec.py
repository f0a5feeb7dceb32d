"""What the graph scene draws, as plain data: built from the debugger's models by
``ui.graph_view.adapter`` so the scene never reads a model directly.

``GraphSpec`` is the structure (changes only when the graph does); ``GraphLook`` is
the per-frame state (node states, health, edge norms, current node, breakpoints).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

#: NodeSpec.op of the one box that stands for a collapsed module (double-click expands it).
COLLAPSED_OP = "[module]"


@dataclass(frozen=True)
class NodeSpec:
    """One node box: ``title`` is the op name or, for a leaf, the parameter name;
    ``subtitle`` the output shape; ``op`` the grad_fn class name (for search)."""

    id: Hashable
    title: str
    subtitle: str = ""
    op: str = ""
    leaf: bool = False
    group: str | None = None


@dataclass(frozen=True)
class Placement:
    """Where the layout put things, in scene units (y grows downwards).

    ``positions``: node id -> centre (x, y); ``sizes``: node id -> (w, h);
    ``edges``: (src, dst) -> polyline [(x, y), ...] from src's box to dst's box;
    ``groups``: group name -> (x, y, w, h) box, with ``collapsed`` naming the
    groups drawn as one box (their members are absent from ``positions``).
    """

    positions: dict
    sizes: dict
    edges: dict
    groups: dict = field(default_factory=dict)
    collapsed: frozenset = frozenset()


@dataclass(frozen=True)
class GraphSpec:
    nodes: dict  # id -> NodeSpec
    edges: tuple  # (src, dst) pairs; gradient flows src -> dst in a backward pass


@dataclass
class GraphLook:
    """Per-frame look. Missing keys mean 'idle' / 'ok' / no gradient yet."""

    states: dict = field(default_factory=dict)       # id -> pending|ready|running|done
    health: dict = field(default_factory=dict)       # id -> ok|nan|inf|exploding|vanishing
    edge_norms: dict = field(default_factory=dict)   # (src, dst) -> float
    current: Hashable | None = None
    breakpoints: dict = field(default_factory=dict)  # id -> enabled (bool)
