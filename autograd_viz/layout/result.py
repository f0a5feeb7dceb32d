"""The result of a layout: where every node, edge and group box goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Hashable, Mapping

__all__ = ["Layout", "Point"]

Point = tuple[float, float]


def _empty() -> Mapping:
    return MappingProxyType({})


@dataclass(frozen=True, eq=False)
class Layout:
    """A laid-out graph in screen units (y grows downwards; ``bounds`` starts at 0, 0).

    - ``positions[node]``: centre ``(x, y)`` of the node's box; ``sizes[node]``: ``(w, h)``.
    - ``edges[(u, v)]``: the polyline ``[(x, y), ...]`` from the border of ``u``'s box to
      the border of ``v``'s box (bend points included), for every edge of the laid-out
      graph, arrow at the end. Bundled edges share their trunk's points.
    - ``groups[name]``: box ``(x0, y0, x1, y1)`` around every member of a module group
      (nested groups give nested boxes); the name is meant to be drawn at the top left.
      Every group has a band of layers of its own, so boxes of sibling groups never
      overlap and a box holds no node of another group (edges may cross it).
    - ``unboxed_groups``: groups drawn without a box because their nodes interleave with
      other groups' (a module called at several places in the graph; see
      :mod:`.bands`). Their nodes still sit side by side within each layer.
    - ``layer_of[node]``: the layer index (0 = roots), along ``direction``.
    - ``crossings``: edge crossings left after reduction (counted between adjacent
      layers, a bundle's trunk counting once); ``initial_crossings``: before the sweeps.
    - ``collapsed_members[GroupNode(name)]``: the original nodes a collapsed box stands
      for; ``box_of(node)`` maps any original node to the key it is drawn under.
    - ``reversed_edges``: edges drawn against ``direction`` (the graph had a cycle).
    - ``dummy_count``: bend nodes inserted for long edges; ``timings``: seconds per step.

    Mappings are read-only: a Layout may be shared through :class:`LayoutCache`.
    """

    positions: Mapping[Hashable, Point]
    sizes: Mapping[Hashable, Point]
    edges: Mapping[tuple[Hashable, Hashable], tuple[Point, ...]]
    groups: Mapping[str, tuple[float, float, float, float]]
    bounds: tuple[float, float, float, float]
    direction: str
    crossings: int
    initial_crossings: int
    layer_of: Mapping[Hashable, int] = field(default_factory=_empty)
    labels: Mapping[Hashable, str] = field(default_factory=_empty)
    collapsed_members: Mapping[Hashable, tuple] = field(default_factory=_empty)
    reversed_edges: frozenset = frozenset()
    dummy_count: int = 0
    n_layers: int = 0
    unboxed_groups: frozenset = frozenset()
    timings: Mapping[str, float] = field(default_factory=_empty, repr=False)
    _box_of: Mapping[Hashable, Hashable] = field(default_factory=_empty, repr=False)

    @property
    def width(self) -> float:
        return self.bounds[2] - self.bounds[0]

    @property
    def height(self) -> float:
        return self.bounds[3] - self.bounds[1]

    @property
    def collapsed_groups(self) -> frozenset[str]:
        """Names of the groups drawn as one box."""
        return frozenset(g.name for g in self.collapsed_members)

    def box_of(self, node: Hashable) -> Hashable:
        """The key ``node`` is drawn under: itself, or the GroupNode of its collapsed group.

        Raises KeyError for a node that was not in the laid-out graph.
        """
        box = self._box_of.get(node, node)
        if box not in self.positions:
            raise KeyError(f"node {node!r} is not in this layout")
        return box

    def __repr__(self) -> str:
        return (f"Layout({len(self.positions)} nodes, {len(self.edges)} edges, {self.n_layers} layers, "
                f"direction={self.direction!r}, crossings={self.crossings}, "
                f"size={self.width:.0f}x{self.height:.0f})")
