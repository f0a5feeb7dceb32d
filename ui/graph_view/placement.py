"""Lay out a graph snapshot with the debugger's layered layout and map it to the scene.

``LayoutEngine.place(snapshot, collapsed)`` returns the GraphSpec and Placement the
scene draws. The layout itself (``autograd_viz.layout``) is Qt-free; this class only
(1) gives it each node's two-line label so the boxes fit the text we draw, (2) keeps a
``LayoutCache`` (per structure and set of collapsed groups: a backward pass over the
same graph never lays out again), and (3) maps model keys onto scene keys when a module is
collapsed into one box (``scene_key``, ``look_for_scene``).
"""

from __future__ import annotations

import math

from autograd_viz.layout import GroupNode, LayoutCache, LayoutOptions
from autograd_viz.layout.collapse import merged_attr

from .adapter import node_spec
from .spec import COLLAPSED_OP, GraphLook, GraphSpec, NodeSpec, Placement

# Boxes sized for the scene's fonts (8.5 pt bold title, 7.5 pt subtitle).
OPTIONS = LayoutOptions(char_width=7.9, line_height=14.0, pad_x=10.0, pad_y=4.0, min_width=70.0,
                        node_sep=22.0, rank_sep=34.0, group_label=16.0)


class LayoutEngine:
    """Places graph snapshots for the scene; layouts come from a ``LayoutCache``."""

    def __init__(self, options: LayoutOptions = OPTIONS):
        self.cache = LayoutCache(maxsize=8, options=options)
        self.layout = None

    def place(self, snapshot, collapsed=()) -> tuple[GraphSpec, Placement]:
        specs = {k: node_spec(k, a) for k, a in snapshot.nodes(data=True)}
        g = snapshot.__class__()
        for k, a in snapshot.nodes(data=True):
            s = specs[k]
            g.add_node(k, label=s.title + ("\n" + s.subtitle if s.subtitle else ""),
                       group=a.get("group") or None)
        g.add_edges_from(snapshot.edges)
        lay = self.cache.get(g, collapsed=frozenset(collapsed))
        self.layout = lay
        nodes = {}
        for k in lay.positions:
            if isinstance(k, GroupNode):
                members = lay.collapsed_members.get(k, ())
                parent = k.name.rpartition(".")[0] or None
                nodes[k] = NodeSpec(id=k, title=k.name, subtitle=f"{len(members)} nodes ▸",
                                    op=COLLAPSED_OP, group=parent)
            else:
                nodes[k] = specs[k]
        groups = {name: (x0, y0, x1 - x0, y1 - y0) for name, (x0, y0, x1, y1) in lay.groups.items()}
        placement = Placement(positions=dict(lay.positions), sizes=dict(lay.sizes),
                              edges={e: list(p) for e, p in lay.edges.items()}, groups=groups,
                              collapsed=lay.collapsed_groups)
        return GraphSpec(nodes=nodes, edges=tuple(lay.edges)), placement

    def scene_key(self, key):
        """The scene node that draws model node ``key`` (itself or its collapsed box)."""
        if self.layout is None:
            return key
        try:
            return self.layout.box_of(key)
        except KeyError:
            return key

    def look_for_scene(self, look: GraphLook, spec: GraphSpec | None) -> GraphLook:
        """Fold a model-keyed look onto collapsed boxes (the worst member state/health wins)."""
        lay = self.layout
        if lay is None or not lay.collapsed_members:
            return look
        box_states: dict = {}
        box_health: dict = {}
        states, health = {}, {}
        for k, st in look.states.items():
            b = self.scene_key(k)
            if b is k or b == k:
                states[k] = st
            else:
                box_states.setdefault(b, []).append(st)
        for k, h in look.health.items():
            b = self.scene_key(k)
            if b == k:
                health[k] = h
            else:
                box_health.setdefault(b, []).append("nonfinite" if h == "nan" else h)
        for b, vals in box_states.items():
            states[b] = merged_attr("state", vals)
        for b, vals in box_health.items():
            h = merged_attr("health", vals)
            health[b] = "nan" if h == "nonfinite" else h
        norms: dict = {}
        for (u, v), n in look.edge_norms.items():
            e = (self.scene_key(u), self.scene_key(v))
            if e[0] == e[1]:
                continue
            old = norms.get(e)
            norms[e] = n if old is None or not math.isfinite(n) else (old if not math.isfinite(old) else max(old, n))
        bps = {self.scene_key(k): on for k, on in look.breakpoints.items()}
        cur = self.scene_key(look.current) if look.current is not None else None
        return GraphLook(states=states, health=health, edge_norms=norms, current=cur, breakpoints=bps)
