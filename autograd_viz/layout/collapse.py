"""Collapsing module groups: every node of a collapsed group becomes one box.

The merged node is keyed ``GroupNode(name)`` (see :class:`~.keys.GroupNode`); it sits in
the parent group of ``name`` (``'encoder.block1'`` collapsed sits in ``'encoder'``), is
labelled ``'<name> (<k> nodes)'`` and carries ``collapsed=True`` and ``members`` (the
original keys, in canonical order). Edges between two members vanish; edges between a
member and an outside node, or between members of two collapsed groups, are kept once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Hashable

import networkx as nx

from .keys import GroupNode, canonical_key, group_path

__all__ = ["collapse_groups", "merged_attr", "normalise_collapsed", "SEVERITY"]

#: For attributes summarised over a collapsed group's members: the first value in a list
#: that any member has wins (a group with one NaN node shows as NaN, one with a running
#: node as running). Values not listed rank below all listed ones.
SEVERITY: Mapping[str, tuple[str, ...]] = {
    "health": ("nonfinite", "nan", "inf", "exploding", "vanishing", "ok"),
    "state": ("running", "ready", "pending", "done", "idle"),
}


def merged_attr(name: str, values: Iterable) -> object:
    """Summarise one attribute over a group's members (see :data:`SEVERITY`).

    Returns None when no member has a value; the most severe listed value otherwise; if
    none of the values is listed, the smallest by ``str`` (deterministic).
    """
    present = [v for v in values if v is not None]
    if not present:
        return None
    ranking = SEVERITY.get(name, ())
    for candidate in ranking:
        if candidate in present:
            return candidate
    return min(present, key=str)


def normalise_collapsed(collapsed) -> frozenset[str]:
    if collapsed is None:
        return frozenset()
    if isinstance(collapsed, str):
        collapsed = (collapsed,)
    names = set()
    for name in collapsed:
        if not isinstance(name, str):
            raise TypeError(f"collapsed group names must be str, got {name!r}")
        name = name.strip(".")
        if name:
            names.add(name)
    return frozenset(names)


def collapse_groups(graph: nx.DiGraph, collapsed) -> tuple[nx.DiGraph, dict, dict]:
    """Merge each collapsed group's nodes into one ``GroupNode``.

    ``collapsed``: group names (a str counts as one name). A node belongs to the
    outermost collapsed group on its group path, so collapsing ``'features'`` also swallows
    ``'features.0'``. Names that match no node are ignored (the GUI may remember a
    collapsed group the current graph no longer has).

    Returns ``(graph2, members, box_of)``: the merged graph (``graph`` itself when nothing
    is collapsed), ``members[GroupNode] -> tuple of original keys`` and
    ``box_of[original key] -> its key in graph2`` for the merged nodes only.
    """
    names = normalise_collapsed(collapsed)
    if not names:
        return graph, {}, {}
    box_of: dict[Hashable, GroupNode] = {}
    for node, attrs in graph.nodes(data=True):
        for prefix in group_path(attrs.get("group")):
            if prefix in names:
                box_of[node] = GroupNode(prefix)
                break
    if not box_of:
        return graph, {}, {}
    members: dict[GroupNode, list] = {}
    for node, box in box_of.items():
        members.setdefault(box, []).append(node)
    out = nx.DiGraph()
    for node, attrs in graph.nodes(data=True):
        if node not in box_of:
            out.add_node(node, **attrs)
    for box in sorted(members, key=canonical_key):
        keys = tuple(sorted(members[box], key=canonical_key))
        members[box] = keys
        attrs = [graph.nodes[k] for k in keys]
        parent = box.name.rpartition(".")[0] or None
        out.add_node(
            box, label=f"{box.name} ({len(keys)} nodes)", group=parent, collapsed=True,
            members=keys,
            **{a: merged_attr(a, (d.get(a) for d in attrs)) for a in SEVERITY})
    for u, v in graph.edges():
        a, b = box_of.get(u, u), box_of.get(v, v)
        if a == b and u != v:
            continue  # an edge inside one collapsed group
        if not out.has_edge(a, b):
            out.add_edge(a, b)
    return out, {k: tuple(v) for k, v in members.items()}, box_of
