"""Layered (Sugiyama-style) layout of the backward graph, Qt-free.

``layout(graph)`` -> :class:`Layout`; :class:`LayoutCache` re-lays out only when the
structure changes; ``layout(graph, collapsed={'features'})`` draws a module group as
one box keyed ``GroupNode('features')``. Steps, one module each: :mod:`.layering`
(layers by longest path, cycles broken), :mod:`.bands` (each module group a band of
layers of its own, so sibling group boxes never overlap; groups interleaved with others
get no box), :mod:`.proper` (dummy nodes, bundled long
edges), :mod:`.ordering` (barycentric sweeps, groups contiguous), :mod:`.crossings`
(numpy crossing count), :mod:`.coordinates` (placement, straight chains and trunks),
:mod:`.geometry` (screen mapping, edge polylines, group boxes), :mod:`.sugiyama` (the
pipeline and its options), :mod:`.cache` and :mod:`.collapse`.
"""

from .cache import LayoutCache, structure_signature
from .collapse import collapse_groups
from .crossings import count_crossings
from .keys import GroupNode, canonical_key, group_path
from .result import Layout
from .sugiyama import DIRECTIONS, LayoutOptions, layout, node_box

__all__ = [
    "DIRECTIONS", "GroupNode", "Layout", "LayoutCache", "LayoutOptions", "canonical_key",
    "collapse_groups", "count_crossings", "group_path", "layout", "node_box",
    "structure_signature",
]
