"""Turn the debugger's models into what the graph scene draws.

``spec_from_graph`` reads a GraphModel snapshot (a networkx DiGraph with the attributes
documented in ``autograd_viz.models.graph``) into a GraphSpec; ``look_from_graph`` reads
the per-pass attributes (state, grad_out) plus health flags and breakpoints into a
GraphLook. Pure functions over plain data, so they run in the GUI thread on a snapshot.
"""

from __future__ import annotations

import math

from .spec import GraphLook, GraphSpec, NodeSpec

_HEALTH_NAMES = (("nonfinite", "nan"), ("exploding", "exploding"), ("vanishing", "vanishing"))


def shape_text(shape) -> str:
    """``[120, 400]`` for a shape tuple; ``[]`` for a scalar; '' when unknown."""
    if shape is None:
        return ""
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def node_spec(key, attrs: dict) -> NodeSpec:
    shapes = attrs.get("shapes") or []
    kind = attrs.get("kind", "op")
    title = attrs.get("param") or attrs.get("label") or attrs.get("op") or str(key)
    return NodeSpec(
        id=key, title=title, subtitle=shape_text(shapes[0]) if shapes else "",
        op=attrs.get("op", ""), leaf=kind in ("param", "leaf"),
        group=attrs.get("group") or None)


def spec_from_graph(graph) -> GraphSpec:
    """A GraphSpec from a networkx DiGraph snapshot of a GraphModel."""
    nodes = {k: node_spec(k, a) for k, a in graph.nodes(data=True)}
    return GraphSpec(nodes=nodes, edges=tuple(graph.edges()))


def health_name(flags) -> str:
    """The one health word the scene draws for a set of flags (worst first)."""
    for flag, name in _HEALTH_NAMES:
        if flag in flags:
            return name
    return "ok"


def edge_norms(graph) -> dict:
    """(u, v) -> norm of the gradient u sent to v in the last pass (only edges that carried one)."""
    out = {}
    for u, v, d in graph.edges(data=True):
        grad_out = graph.nodes[u].get("grad_out")
        if not grad_out:
            continue
        slots = d.get("slots") or []
        total, seen = 0.0, False
        for s in slots:
            if 0 <= s < len(grad_out) and grad_out[s] is not None:
                n = grad_out[s].norm
                total = n if not math.isfinite(n) else total + n * n
                seen = True
                if not math.isfinite(n):
                    break
        if seen:
            out[(u, v)] = total if not math.isfinite(total) else math.sqrt(total)
    return out


def look_from_graph(graph, health=None, breakpoints=None, current=None) -> GraphLook:
    """A GraphLook from a GraphModel snapshot, a HealthModel and breakpoints.

    Health: the HealthModel's flags (from the gradients a node received), and 'nan' for
    a node that sent a non-finite gradient (where a NaN is born, it has not arrived yet).

    ``breakpoints``: node key -> enabled. ``current``: the key the debugger stands at;
    by default the node whose state is 'running'.
    """
    states, hl = {}, {}
    node_flags = dict(health.nodes) if health is not None else {}
    param_flags = dict(health.params) if health is not None else {}
    running = None
    for k, a in graph.nodes(data=True):
        st = a.get("state", "idle")
        states[k] = st
        if st == "running":
            running = k
        flags = node_flags.get(k) or (param_flags.get(a.get("param")) if a.get("param") else None)
        if flags:
            hl[k] = health_name(flags)
        if any(s is not None and not s.finite for s in (a.get("grad_out") or ())):
            hl[k] = "nan"       # it produced a non-finite gradient: the origin is red too
    return GraphLook(states=states, health=hl, edge_norms=edge_norms(graph),
                     current=current if current is not None else running,
                     breakpoints=dict(breakpoints or {}))
