"""Deterministic ordering of arbitrary node keys and parsing of module-group paths.

The layout must give the same picture for the same graph whatever order the nodes were
inserted in (and whatever ``PYTHONHASHSEED`` is), so every step works on integer ids
handed out in :func:`canonical_key` order rather than in dict or set order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable

__all__ = ["GroupNode", "canonical_key", "group_path"]


@dataclass(frozen=True)
class GroupNode:
    """The key of the single box that stands for a collapsed module group.

    ``layout(graph, collapsed={'features'})`` replaces every node whose group is
    ``'features'`` or lies below it (``'features.0'``, ...) by the one node
    ``GroupNode('features')``. A dataclass rather than a plain string so it can never
    collide with a key of the user's graph (``GroupNode('x') != 'x'``).
    """

    name: str

    def __str__(self) -> str:
        return f"[{self.name}]"


def canonical_key(node: Hashable):
    """A sort key that orders any mix of hashable keys identically in every run.

    Numbers sort numerically, strings lexically, tuples element-wise; numbers come before
    strings, strings before tuples, tuples before :class:`GroupNode` and those before
    any other object (ordered by type name, then ``repr``).
    """
    if isinstance(node, (bool, int)):
        return (1, int(node), "")
    if isinstance(node, float):
        return (1, node, "") if not math.isnan(node) else (1, math.inf, "nan")
    if isinstance(node, str):
        return (2, 0, node)
    if isinstance(node, tuple):
        return (3, len(node), tuple(canonical_key(x) for x in node))
    if isinstance(node, GroupNode):
        return (4, 0, node.name)
    return (5, type(node).__qualname__, repr(node))


def group_path(group) -> tuple[str, ...]:
    """The chain of enclosing groups of a module path, outermost first.

    ``'features.0.conv'`` -> ``('features', 'features.0', 'features.0.conv')``;
    ``None`` and ``''`` -> ``()`` (not in any group).
    """
    if group is None:
        return ()
    text = str(group).strip(".")
    if not text:
        return ()
    parts = text.split(".")
    return tuple(".".join(parts[: i + 1]) for i in range(len(parts)))
