"""Tests of the graph export (autograd_viz.graph_export): SVG and Graphviz dot text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from autograd_viz.graph_export import (
    HEALTH_FILLS, STATE_FILLS, to_dot, to_svg, write_dot, write_graph, write_svg,
)
from autograd_viz.layout import GroupNode, layout
from benchmarks._graphs import lenet_like_graph, unrolled_rnn_graph

SVG = "{http://www.w3.org/2000/svg}"


def svg_tree(text: str) -> ET.Element:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == SVG + "svg"
    return root


def node_groups(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(SVG + "g") if (e.get("class") or "").split()[:1] == ["node"]]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(SVG + "text")]


def nasty_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_node("a", label='Mul<&>"quoted"', group="blk")
    g.add_node("b", label="back\\slash\nsecond line", health="nan", group="blk.inner")
    g.add_node("c", label="ctrl\x01char", state="running")
    g.add_node("d")  # no label: drawn as its key
    g.add_edges_from([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    return g


# -- SVG -------------------------------------------------------------------------------------

def test_svg_parses_and_draws_every_node_edge_and_group():
    g = lenet_like_graph()
    lay = layout(g)
    root = svg_tree(to_svg(g, lay))
    labels = texts(root)
    for node, attrs in g.nodes(data=True):
        assert attrs["label"] in labels
    for grp in lay.groups:
        assert grp in labels
    polylines = list(root.iter(SVG + "polyline"))
    assert len(polylines) == g.number_of_edges()
    assert all(p.get("marker-end") == "url(#arrow)" for p in polylines)
    assert len(node_groups(root)) == len(g)
    assert root.find(f"{SVG}defs/{SVG}marker") is not None
    w, h = float(root.get("width")), float(root.get("height"))
    assert w > lay.width and h > lay.height


def test_svg_points_follow_the_layout():
    g = nx.DiGraph([("u", "v")])
    lay = layout(g)
    root = svg_tree(to_svg(g, lay, margin=10))
    pts = root.find(f".//{SVG}polyline").get("points").split()
    (x0, y0), (x1, y1) = lay.edges[("u", "v")]
    assert [float(c) for c in pts[0].split(",")] == pytest.approx([x0 + 10, y0 + 10], abs=0.06)
    assert [float(c) for c in pts[-1].split(",")] == pytest.approx([x1 + 10, y1 + 10], abs=0.06)


def test_svg_escapes_labels_and_colours_by_health_and_state():
    g = nasty_graph()
    lay = layout(g)
    text = to_svg(g, lay, title="a <title> & more")
    root = svg_tree(text)
    labels = texts(root)
    assert 'Mul<&>"quoted"' in labels
    assert "back\\slash" in labels and "second line" in labels  # one <text> per line
    assert "ctrl\ufffdchar" in labels  # XML forbids \x01
    assert "d" in labels
    assert root.find(SVG + "title").text == "a <title> & more"
    fills = {}
    for grp in node_groups(root):
        fills[grp.find(SVG + "title").text] = (grp.find(SVG + "rect").get("fill"), grp.get("class"))
    assert fills["b"] == (HEALTH_FILLS["nan"], "node bad")
    assert fills["c"] == (STATE_FILLS["running"], "node")


def test_svg_of_a_collapsed_layout_summarises_members():
    g = lenet_like_graph()
    g.nodes["features.3/ConvolutionBackward0#0"]["health"] = "exploding"
    lay = layout(g, collapsed={"features"})
    root = svg_tree(to_svg(g, lay))
    assert lay.labels[GroupNode("features")] in texts(root)
    box = [e for e in node_groups(root) if e.find(SVG + "title").text == "[features]"]
    assert len(box) == 1 and box[0].find(SVG + "rect").get("fill") == HEALTH_FILLS["exploding"]


def test_write_svg_and_bad_layout(tmp_path):
    g = unrolled_rnn_graph(4)
    path = tmp_path / "g.svg"
    write_svg(g, layout(g, direction="LR"), path)
    svg_tree(path.read_text(encoding="utf-8"))
    with pytest.raises(TypeError, match="Layout"):
        to_svg(g, {"positions": {}})


# -- dot -------------------------------------------------------------------------------------

def dot_nodes(text: str) -> dict[str, str]:
    """node id -> label, read back with a regex that honours dot's escapes."""
    out = {}
    for m in re.finditer(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"', text, re.M):
        out[m.group(1)] = m.group(2)
    return out


def test_dot_has_every_node_edge_and_cluster():
    g = lenet_like_graph()
    text = to_dot(g)
    nodes = dot_nodes(text)
    assert sorted(nodes.values()) == sorted(a["label"] for _, a in g.nodes(data=True))
    edges = re.findall(r"^\s*(n\d+) -> (n\d+);$", text, re.M)
    assert len(edges) == g.number_of_edges()
    assert {u for e in edges for u in e} <= set(nodes)
    assert 'subgraph "cluster_features" {' in text
    assert text.index('subgraph "cluster_features"') < text.index('subgraph "cluster_features.0"')
    assert text.count("{") == text.count("}")
    assert "rankdir=TB" in text and text.startswith('digraph "autograd" {')


def test_dot_escapes_labels():
    text = to_dot(nasty_graph(), direction="LR")
    labels = set(dot_nodes(text).values())
    assert 'Mul<&>\\"quoted\\"' in labels
    assert "back\\\\slash\\nsecond line" in labels
    assert "rankdir=LR" in text
    assert 'color="#c62828"' in text  # the NaN node
    with pytest.raises(ValueError, match="direction"):
        to_dot(nasty_graph(), direction="sideways")


def test_dot_with_a_layout_carries_positions_and_collapsing(tmp_path):
    g = lenet_like_graph()
    lay = layout(g, collapsed={"classifier"}, direction="BT")
    text = to_dot(g, layout=lay)
    assert "rankdir=BT" in text
    assert text.count('pos="') == len(lay.positions)
    assert '"classifier (' in text and "shape=box3d" in text
    assert "cluster_classifier" not in text
    path = tmp_path / "g.dot"
    write_dot(g, path, layout=lay)
    assert path.read_text(encoding="utf-8") == text


def test_write_graph_picks_the_format_by_suffix(tmp_path):
    g = lenet_like_graph()
    lay = write_graph(g, tmp_path / "g.svg", direction="LR")
    assert lay is not None and lay.direction == "LR"
    svg_tree((tmp_path / "g.svg").read_text(encoding="utf-8"))
    assert write_graph(g, tmp_path / "g.dot", collapsed={"features"}) is None
    assert "features (" in (tmp_path / "g.dot").read_text(encoding="utf-8")
    assert write_graph(g, tmp_path / "g.gv") is None
    with pytest.raises(ValueError, match=r"\.png"):
        write_graph(g, tmp_path / "g.png")
    with pytest.raises(TypeError, match="only apply to .svg"):
        write_graph(g, tmp_path / "g.dot", node_sep=3)
