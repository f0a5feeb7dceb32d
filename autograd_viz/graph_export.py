"""Export a backward graph as a self-contained SVG picture or as Graphviz dot text.

Backs ``autograd-viz graph FILE -o graph.svg|.dot``. SVG draws our own layout (module
group boxes with their names, node boxes with their labels, edges as polylines with
arrowheads, fill colours from the nodes' ``health``/``state`` attributes); dot text is
written without Graphviz (module groups become nested clusters, and with a layout given
each node carries its position as ``pos="x,y!"`` for ``neato -n``).

All text is escaped: XML escapes plus removal of characters XML 1.0 forbids for SVG;
backslash, quote and newline escapes for dot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Hashable

import networkx as nx

from .layout import GroupNode, Layout, canonical_key, collapse_groups, group_path, layout as compute_layout
from .layout.collapse import merged_attr

__all__ = ["to_svg", "write_svg", "to_dot", "write_dot", "write_graph", "node_fill",
           "STATE_FILLS", "HEALTH_FILLS"]

#: Fill colour per node ``state`` (the debugger's pass states).
STATE_FILLS: Mapping[str, str] = {
    "idle": "#ffffff", "pending": "#eceff1", "ready": "#c5e1a5", "running": "#fff176",
    "done": "#a5d6a7",
}
#: Fill colour per node ``health``; a bad health wins over the state.
HEALTH_FILLS: Mapping[str, str] = {
    "nonfinite": "#ef9a9a", "nan": "#ef9a9a", "inf": "#ef9a9a", "exploding": "#ffcc80",
    "vanishing": "#90caf9",
}
_LEAF_FILL = "#e3f2fd"
_DEFAULT_FILL = "#ffffff"
_GROUP_FILLS = ("#f5f7fa", "#eef2f7", "#e6ecf3", "#dfe6ef")

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: object) -> str:
    """``text`` safe inside an XML element or a double-quoted attribute."""
    s = _XML_BAD.sub("\ufffd", str(text))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _dot(text: object) -> str:
    """``text`` as a double-quoted dot string (newlines become centred line breaks)."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", "\n").replace("\r", "\n")
    return '"' + s.replace("\n", "\\n") + '"'


def _attrs_of(graph: nx.DiGraph, layout: Layout | None, node: Hashable) -> dict:
    """A node's attributes; for a collapsed box, the members' summarised state/health."""
    if node in graph:
        return graph.nodes[node]
    if isinstance(node, GroupNode):
        members = (layout.collapsed_members.get(node, ()) if layout is not None else ())
        return {a: merged_attr(a, (graph.nodes[m].get(a) for m in members if m in graph))
                for a in ("state", "health")} | {"collapsed": True}
    return {}


def node_fill(attrs: Mapping) -> str:
    """Fill colour for a node: bad health, else state, else leaf/op default."""
    health = attrs.get("health")
    if health in HEALTH_FILLS:
        return HEALTH_FILLS[health]
    state = attrs.get("state")
    if state in STATE_FILLS and state != "idle":
        return STATE_FILLS[state]
    if attrs.get("kind") in ("param", "leaf") or attrs.get("op") == "AccumulateGrad":
        return _LEAF_FILL
    return _DEFAULT_FILL


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v == v else "0"


def to_svg(graph: nx.DiGraph, layout: Layout, *, title: str | None = None, font_size: float = 12.0,
           margin: float = 16.0) -> str:
    """The laid-out graph as an SVG document (a str; no external files or fonts needed).

    ``layout`` must come from ``layout(graph, ...)`` (collapsed boxes are drawn from it;
    their colour summarises their members). Node boxes get a ``<title>`` (tooltip) with
    the node key.
    """
    if not isinstance(layout, Layout):
        raise TypeError(f"to_svg needs a Layout, not {type(layout).__name__}")
    x0, y0, x1, y1 = layout.bounds
    w, h = x1 - x0 + 2 * margin, y1 - y0 + 2 * margin
    ox, oy = margin - x0, margin - y0
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(w)}" height="{_f(h)}" '
        f'viewBox="0 0 {_f(w)} {_f(h)}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="{_f(font_size)}">',
        f"<title>{_xml(title or 'autograd-viz graph')}</title>",
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#546e7a"/></marker>',
        "<style>"
        ".group rect{stroke:#90a4ae;stroke-dasharray:4 3;stroke-width:1}"
        ".group text{fill:#546e7a;font-size:10px}"
        ".edge{fill:none;stroke:#78909c;stroke-width:1.2}"
        ".edge.back{stroke-dasharray:5 3}"
        ".node rect{stroke:#455a64;stroke-width:1}"
        ".node.bad rect{stroke:#c62828;stroke-width:2}"
        ".node text{fill:#212121;text-anchor:middle;dominant-baseline:central}"
        "</style>",
        "</defs>",
        f'<rect width="{_f(w)}" height="{_f(h)}" fill="#ffffff"/>',
        '<g class="groups">',
    ]
    for name in sorted(layout.groups, key=lambda g: (g.count("."), g)):
        gx0, gy0, gx1, gy1 = layout.groups[name]
        depth = name.count(".")
        out.append(
            f'<g class="group"><rect x="{_f(gx0 + ox)}" y="{_f(gy0 + oy)}" width="{_f(gx1 - gx0)}" '
            f'height="{_f(gy1 - gy0)}" rx="6" fill="{_GROUP_FILLS[min(depth, len(_GROUP_FILLS) - 1)]}"/>'
            f'<text x="{_f(gx0 + ox + 5)}" y="{_f(gy0 + oy + 12)}">{_xml(name)}</text></g>')
    out.append("</g>")
    out.append('<g class="edges">')
    for (u, v), pts in layout.edges.items():
        cls = "edge back" if (u, v) in layout.reversed_edges else "edge"
        points = " ".join(f"{_f(px + ox)},{_f(py + oy)}" for px, py in pts)
        out.append(f'<polyline class="{cls}" points="{points}" marker-end="url(#arrow)"/>')
    out.append("</g>")
    out.append('<g class="nodes">')
    line_h = font_size * 1.3
    for i, node in enumerate(sorted(layout.positions, key=canonical_key)):
        cx, cy = layout.positions[node]
        nw, nh = layout.sizes[node]
        attrs = _attrs_of(graph, layout, node)
        bad = attrs.get("health") in HEALTH_FILLS
        lines = layout.labels.get(node, str(node)).split("\n")
        rx = 10 if isinstance(node, GroupNode) else 4
        out.append(
            f'<g class="node{" bad" if bad else ""}" id="node-{i}"><title>{_xml(node)}</title>'
            f'<rect x="{_f(cx - nw / 2 + ox)}" y="{_f(cy - nh / 2 + oy)}" width="{_f(nw)}" '
            f'height="{_f(nh)}" rx="{rx}" fill="{node_fill(attrs)}"/>')
        first = cy + oy - (len(lines) - 1) * line_h / 2
        for k, line in enumerate(lines):
            out.append(f'<text x="{_f(cx + ox)}" y="{_f(first + k * line_h)}">{_xml(line)}</text>')
        out.append("</g>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_svg(graph: nx.DiGraph, layout: Layout, path: str | os.PathLike, **kwargs) -> None:
    """Write :func:`to_svg` to ``path`` (UTF-8)."""
    text = to_svg(graph, layout, **kwargs)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def to_dot(graph: nx.DiGraph, *, layout: Layout | None = None, direction: str | None = None,
           collapsed=None, name: str = "autograd") -> str:
    """The graph as Graphviz dot text (no Graphviz needed).

    Nodes are named ``n0, n1, ...`` in canonical key order and labelled with their
    ``label``; module groups become nested ``cluster`` subgraphs. ``direction`` (rankdir)
    and ``collapsed`` default to the layout's when a layout is given, else 'TB' and none.
    With a layout, nodes also get ``pos``/``width``/``height`` (points, y up).
    """
    if direction is None:
        direction = layout.direction if layout is not None else "TB"
    if direction not in ("TB", "BT", "LR", "RL"):
        raise ValueError(f"direction must be TB, BT, LR or RL, not {direction!r}")
    if collapsed is None:
        collapsed = layout.collapsed_groups if layout is not None else ()
    g2, members, _ = collapse_groups(graph, collapsed)
    keys = sorted(g2.nodes, key=canonical_key)
    ids = {k: f"n{i}" for i, k in enumerate(keys)}

    clusters: dict[str, list] = {}
    top: list = []
    for k in keys:
        path = group_path(g2.nodes[k].get("group"))
        (clusters.setdefault(path[-1], []) if path else top).append(k)
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    all_groups = set()
    for g in clusters:
        all_groups.update(group_path(g))
    for g in sorted(all_groups):
        parent = g.rpartition(".")[0]
        (children.setdefault(parent, []) if parent else roots).append(g)

    height = layout.bounds[3] if layout is not None else 0.0

    def node_line(k, indent: str) -> str:
        a = g2.nodes[k]
        label = a.get("label")
        parts = [f"label={_dot(k if label is None else label)}", f"tooltip={_dot(k)}",
                 f'fillcolor="{node_fill(a)}"']
        if isinstance(k, GroupNode):
            parts.append('shape=box3d')
        if a.get("health") in HEALTH_FILLS:
            parts.append('color="#c62828", penwidth=2')
        if layout is not None and k in layout.positions:
            x, y = layout.positions[k]
            w, h = layout.sizes[k]
            parts.append(f'pos="{x:.1f},{height - y:.1f}!", width={w / 72:.3f}, height={h / 72:.3f}')
        return f"{indent}{ids[k]} [{', '.join(parts)}];"

    lines = [
        f"digraph {_dot(name)} {{",
        f'  graph [rankdir={direction}, fontname="monospace", fontsize=10];',
        '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=12];',
        '  edge [color="#78909c"];',
    ]

    def cluster(g: str, indent: str) -> None:
        lines.append(f"{indent}subgraph {_dot('cluster_' + g)} {{")
        lines.append(f'{indent}  label={_dot(g)}; style="rounded,dashed"; color="#90a4ae";')
        for k in clusters.get(g, ()):
            lines.append(node_line(k, indent + "  "))
        for child in children.get(g, ()):
            cluster(child, indent + "  ")
        lines.append(f"{indent}}}")

    for g in roots:
        cluster(g, "  ")
    for k in top:
        lines.append(node_line(k, "  "))
    for u, v in sorted(g2.edges(), key=lambda e: (canonical_key(e[0]), canonical_key(e[1]))):
        lines.append(f"  {ids[u]} -> {ids[v]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_dot(graph: nx.DiGraph, path: str | os.PathLike, **kwargs) -> None:
    """Write :func:`to_dot` to ``path`` (UTF-8)."""
    text = to_dot(graph, **kwargs)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_graph(graph: nx.DiGraph, path: str | os.PathLike, *, collapsed=(), **layout_options) -> Layout | None:
    """Write ``graph`` to ``path`` in the format its suffix names: ``.svg`` (laid out
    here, with ``layout_options``) or ``.dot``/``.gv``. Returns the layout (None for
    dot). Raises ValueError for any other suffix."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix == ".svg":
        lay = compute_layout(graph, collapsed=collapsed, **layout_options)
        write_svg(graph, lay, path)
        return lay
    if suffix in (".dot", ".gv"):
        direction = layout_options.pop("direction", "TB")
        if layout_options:
            raise TypeError(f"options {sorted(layout_options)} only apply to .svg output")
        write_dot(graph, path, direction=direction, collapsed=collapsed)
        return None
    raise ValueError(f"cannot write a graph as {suffix or 'a file without suffix'!r}: use .svg, .dot or .gv")
