"""Tests of the layered layout (autograd_viz.layout): layering, crossing reduction,
groups, collapsing, coordinates, directions, determinism, the cache and speed."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import time

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_viz.layout import (
    GroupNode, Layout, LayoutCache, LayoutOptions, count_crossings, group_path, layout,
    structure_signature,
)
from benchmarks._graphs import lenet_like_graph, rnn_steps_for, unrolled_rnn_graph

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# -- helpers ---------------------------------------------------------------------------------

def depth_axis(lay: Layout, node) -> float:
    """Coordinate along the layout direction (grows from roots to leaves)."""
    x, y = lay.positions[node]
    return {"TB": y, "BT": -y, "LR": x, "RL": -x}[lay.direction]


def breadth_axis(lay: Layout, node) -> float:
    x, y = lay.positions[node]
    return x if lay.direction in ("TB", "BT") else y


def breadth_size(lay: Layout, node) -> float:
    w, h = lay.sizes[node]
    return w if lay.direction in ("TB", "BT") else h


def layer_rows(lay: Layout) -> dict[int, list]:
    """Real nodes per layer, in drawing order along the layer."""
    rows: dict[int, list] = {}
    for node, li in lay.layer_of.items():
        rows.setdefault(li, []).append(node)
    for nodes in rows.values():
        nodes.sort(key=lambda n: breadth_axis(lay, n))
    return rows


def assert_no_overlap_in_layers(lay: Layout) -> None:
    for li, nodes in layer_rows(lay).items():
        for a, b in zip(nodes, nodes[1:]):
            gap = breadth_axis(lay, b) - breadth_axis(lay, a)
            need = (breadth_size(lay, a) + breadth_size(lay, b)) / 2
            assert gap >= need - 1e-6, f"layer {li}: {a!r} and {b!r} overlap ({gap} < {need})"


def shuffled_copy(graph: nx.DiGraph, seed: int) -> nx.DiGraph:
    rng = random.Random(seed)
    nodes = list(graph.nodes(data=True))
    edges = list(graph.edges(data=True))
    rng.shuffle(nodes)
    rng.shuffle(edges)
    out = nx.DiGraph()
    for n, a in nodes:
        items = list(a.items())
        rng.shuffle(items)
        out.add_node(n, **dict(items))
    out.add_edges_from(edges)
    return out


def tree(depth: int, fanout: int) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_node("r", label="root")
    frontier = ["r"]
    for d in range(depth):
        nxt = []
        for p in frontier:
            for k in range(fanout):
                c = f"{p}.{k}"
                g.add_node(c, label=f"Op{d}{k}Backward0")
                g.add_edge(p, c)
                nxt.append(c)
        frontier = nxt
    return g


# -- basics ----------------------------------------------------------------------------------

def test_every_node_and_edge_is_placed_inside_the_bounds():
    g = lenet_like_graph()
    lay = layout(g)
    assert set(lay.positions) == set(g.nodes) == set(lay.sizes) == set(lay.labels)
    assert set(lay.edges) == set(g.edges)
    x0, y0, x1, y1 = lay.bounds
    assert (x0, y0) == (0.0, 0.0) and x1 > 0 and y1 > 0
    for node, (x, y) in lay.positions.items():
        w, h = lay.sizes[node]
        assert x - w / 2 >= -1e-6 and x + w / 2 <= x1 + 1e-6
        assert y - h / 2 >= -1e-6 and y + h / 2 <= y1 + 1e-6
    for pts in lay.edges.values():
        assert len(pts) >= 2
        for px, py in pts:
            assert -1e-6 <= px <= x1 + 1e-6 and -1e-6 <= py <= y1 + 1e-6
    assert lay.labels["param:features.0.weight"] == "features.0.weight"


def test_box_width_follows_the_label():
    g = nx.DiGraph()
    g.add_node("a", label="x")
    g.add_node("b", label="a rather long label for a node")
    g.add_node("c", label="two\nlines")
    g.add_edges_from([("a", "b"), ("a", "c")])
    lay = layout(g)
    assert lay.sizes["b"][0] > lay.sizes["a"][0]
    assert lay.sizes["a"][0] == LayoutOptions().min_width
    assert lay.sizes["c"][1] > lay.sizes["a"][1]


def test_edges_point_down_the_layers_and_start_and_end_at_the_boxes():
    g = unrolled_rnn_graph(8)
    lay = layout(g)
    for u, v in g.edges:
        assert lay.layer_of[v] > lay.layer_of[u]
        assert lay.positions[v][1] > lay.positions[u][1]
        pts = lay.edges[(u, v)]
        (sx, sy), (ex, ey) = pts[0], pts[-1]
        ux, uy = lay.positions[u]
        vx, vy = lay.positions[v]
        assert sx == pytest.approx(ux) and sy == pytest.approx(uy + lay.sizes[u][1] / 2)
        assert ex == pytest.approx(vx) and ey == pytest.approx(vy - lay.sizes[v][1] / 2)
        ys = [p[1] for p in pts]
        assert ys == sorted(ys), "an edge polyline turns back up"
    assert lay.layer_of["MseLossBackward0#0"] == 0


@pytest.mark.parametrize("direction", ["TB", "BT", "LR", "RL"])
def test_directions(direction):
    g = lenet_like_graph()
    lay = layout(g, direction=direction)
    assert lay.direction == direction
    for u, v in g.edges:
        assert depth_axis(lay, v) > depth_axis(lay, u), (direction, u, v)
    assert_no_overlap_in_layers(lay)
    base = layout(g)
    if direction in ("LR", "RL"):
        # Layers run along x: the boxes keep their size, the picture turns.
        assert lay.sizes == base.sizes
        assert lay.width > lay.height
    else:
        assert lay.height > lay.width


def test_long_edges_get_bend_points_around_the_nodes_they_pass():
    g = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    lay = layout(g)
    assert lay.dummy_count == 2
    pts = lay.edges[("a", "d")]
    assert len(pts) >= 3, pts
    for node in ("b", "c"):
        x, y = lay.positions[node]
        w, _ = lay.sizes[node]
        # Where the edge crosses the node's layer it passes beside the box.
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            if y0 <= y <= y1 and y1 > y0:
                xe = x0 + (x1 - x0) * (y - y0) / (y1 - y0)
                assert abs(xe - x) >= w / 2, f"edge a->d runs through {node}"


def test_shared_weights_share_a_trunk():
    g = unrolled_rnn_graph(40)
    bundled = layout(g)
    single = layout(g, bundle=False)
    # One trunk per shared leaf (and one out of the stack): linear in the depth, where
    # one chain per edge is quadratic.
    assert bundled.dummy_count <= 6 * bundled.n_layers
    assert single.dummy_count > 5 * bundled.dummy_count
    # Bundled edges into the shared weight end on the same last segment.
    ends = {lay_pts[-2:] for (u, v), lay_pts in bundled.edges.items() if v == "param:rnn.weight_ih"
            and len(lay_pts) > 2}
    assert len(ends) == 1


def test_the_main_chain_runs_straight():
    g = unrolled_rnn_graph(12)
    lay = layout(g)
    spine = [n for n in g if n.startswith("rnn/TanhBackward0#")]
    xs = {round(lay.positions[n][0], 6) for n in spine[1:-1]}
    assert len(xs) == 1, xs


# -- crossings -------------------------------------------------------------------------------

def test_count_crossings_small_cases():
    assert count_crossings([["a", "b"], ["c", "d"]], [("a", "d"), ("b", "c")]) == 1
    assert count_crossings([["a", "b"], ["c", "d"]], [("a", "c"), ("b", "d")]) == 0
    # Sharing an end point is not a crossing; edge direction does not matter.
    assert count_crossings([["a", "b"], ["c"]], [("a", "c"), ("c", "b")]) == 0
    # K(3,3) drawn in any order has 9 crossings between its 9 edges... of which:
    top, bottom = ["a", "b", "c"], ["x", "y", "z"]
    assert count_crossings([top, bottom], itertools.product(top, bottom)) == 9
    assert count_crossings([["a"], ["b"], ["c"]], [("a", "b"), ("b", "c")]) == 0
    assert count_crossings([], []) == 0


def test_count_crossings_matches_brute_force():
    rng = random.Random(3)
    for _ in range(30):
        layers = [[f"{i}.{j}" for j in range(rng.randint(1, 6))] for i in range(4)]
        edges = set()
        for i in range(3):
            for _ in range(rng.randint(0, 10)):
                edges.add((rng.choice(layers[i]), rng.choice(layers[i + 1])))
        pos = {n: (i, j) for i, lay in enumerate(layers) for j, n in enumerate(lay)}
        brute = sum(
            1 for (a, b), (c, d) in itertools.combinations(sorted(edges), 2)
            if pos[a][0] == pos[c][0] and (pos[a][1] - pos[c][1]) * (pos[b][1] - pos[d][1]) < 0)
        assert count_crossings(layers, edges) == brute


def test_count_crossings_rejects_bad_input():
    with pytest.raises(ValueError, match="not adjacent"):
        count_crossings([["a"], ["b"], ["c"]], [("a", "c")])
    with pytest.raises(ValueError, match="in no layer"):
        count_crossings([["a"], ["b"]], [("a", "z")])
    with pytest.raises(ValueError, match="twice"):
        count_crossings([["a"], ["a"]], [])


def crossing_graph() -> nx.DiGraph:
    """Three layers whose canonical (sorted) order crosses a lot: every top node i links
    to the bottom nodes in reverse, and the middle layer is scrambled."""
    g = nx.DiGraph()
    n = 8
    mid = [f"m{(5 * i) % n}" for i in range(n)]
    for i in range(n):
        g.add_edge(f"a{i}", mid[i])
        g.add_edge(mid[i], f"z{n - 1 - i}")
        g.add_edge(mid[i], f"z{(n - 1 - i + 1) % n}")
    return g


def test_crossing_reduction_removes_crossings_of_a_bad_start():
    g = crossing_graph()
    lay = layout(g, initial_order="sorted")
    assert lay.initial_crossings >= 20
    assert lay.crossings <= lay.initial_crossings // 4
    # The depth-first start is already good, and the sweeps never make it worse.
    dfs = layout(g)
    assert dfs.crossings <= dfs.initial_crossings
    assert dfs.crossings <= lay.crossings


def test_crossing_reduction_on_a_random_layered_graph():
    rng = random.Random(11)
    g = nx.DiGraph()
    for layer in range(4):
        for j in range(10):
            g.add_node((layer, j))
    for layer in range(3):
        for j in range(10):
            for k in rng.sample(range(10), 2):
                g.add_edge((layer, j), (layer + 1, k))
    lay = layout(g, initial_order="sorted")
    assert lay.crossings < 0.75 * lay.initial_crossings


@pytest.mark.parametrize("depth,fanout", [(3, 3), (5, 2), (1, 7)])
def test_a_tree_has_no_crossings(depth, fanout):
    lay = layout(tree(depth, fanout))
    assert lay.crossings == 0 and lay.initial_crossings == 0
    assert lay.dummy_count == 0


# -- groups and collapsing -------------------------------------------------------------------

def assert_groups_contiguous(g: nx.DiGraph, lay: Layout) -> None:
    for li, nodes in layer_rows(lay).items():
        paths = [group_path(g.nodes[n].get("group")) for n in nodes]
        for grp in {p for path in paths for p in path}:
            inside = [i for i, path in enumerate(paths) if grp in path]
            assert inside == list(range(inside[0], inside[-1] + 1)), \
                f"layer {li}: group {grp} is split: {[nodes[i] for i in range(inside[0], inside[-1] + 1)]}"


def assert_group_boxes_hold_members(g: nx.DiGraph, lay: Layout) -> None:
    for node, (x, y) in lay.positions.items():
        w, h = lay.sizes[node]
        for grp in group_path(g.nodes[node].get("group")):
            if grp in lay.unboxed_groups:
                continue
            x0, y0, x1, y1 = lay.groups[grp]
            assert x0 <= x - w / 2 and x + w / 2 <= x1 and y0 <= y - h / 2 and y + h / 2 <= y1


def _intersect(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_group_boxes_disjoint(g: nx.DiGraph, lay: Layout) -> None:
    """Every group is boxed or listed unboxed; boxes of sibling (non-nested) groups do not
    intersect, nested boxes nest, and no box touches a node of another group."""
    names = {p for n in lay.positions if not isinstance(n, GroupNode)
             for p in group_path(g.nodes[n].get("group"))} - set(lay.collapsed_groups)
    assert names <= set(lay.groups) | set(lay.unboxed_groups)
    assert not set(lay.groups) & set(lay.unboxed_groups)
    boxed = sorted(lay.groups)
    for i, a in enumerate(boxed):
        for b in boxed[i + 1:]:
            A, B = lay.groups[a], lay.groups[b]
            if a in group_path(b):
                assert A[0] <= B[0] and A[1] <= B[1] and B[2] <= A[2] and B[3] <= A[3], (a, b)
            elif b in group_path(a):
                assert B[0] <= A[0] and B[1] <= A[1] and A[2] <= B[2] and A[3] <= B[3], (a, b)
            else:
                assert not _intersect(A, B), f"boxes of {a!r} and {b!r} overlap: {A} {B}"
    for node, (x, y) in lay.positions.items():
        w, h = lay.sizes[node]
        rect = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        if isinstance(node, GroupNode):
            path = group_path(node.name)
        else:
            path = group_path(g.nodes[node].get("group"))
        for name, box in lay.groups.items():
            if name not in path:
                assert not _intersect(rect, box), f"node {node!r} lies in the box of {name!r}"


def grouped_graph(seed: int) -> nx.DiGraph:
    rng = random.Random(seed)
    g = nx.DiGraph()
    groups = [None, "enc", "enc.l0", "enc.l1", "dec", "dec.attn"]
    for i in range(40):
        g.add_node(i, label=f"Op{i}", group=rng.choice(groups))
    for i in range(40):
        for j in rng.sample(range(i + 1, 41), min(2, 40 - i)):
            if j < 40:
                g.add_edge(i, j)
    return g


@pytest.mark.parametrize("seed", range(5))
def test_groups_stay_contiguous_within_a_layer(seed):
    g = grouped_graph(seed)
    lay = layout(g)
    assert_groups_contiguous(g, lay)
    assert_group_boxes_hold_members(g, lay)
    assert_group_boxes_disjoint(g, lay)
    assert_no_overlap_in_layers(lay)


def test_lenet_groups_and_boxes():
    g = lenet_like_graph()
    lay = layout(g)
    assert_groups_contiguous(g, lay)
    assert_group_boxes_hold_members(g, lay)
    assert_group_boxes_disjoint(g, lay)
    assert not lay.unboxed_groups
    assert {"features", "features.0", "classifier", "classifier.4"} <= set(lay.groups)
    fx0, fy0, fx1, fy1 = lay.groups["features"]
    ix0, iy0, ix1, iy1 = lay.groups["features.3"]
    assert fx0 < ix0 and fy0 < iy0 and ix1 < fx1 and iy1 < fy1  # nested boxes nest


def test_collapsed_group_becomes_one_box():
    g = lenet_like_graph()
    lay = layout(g, collapsed={"features"})
    box = GroupNode("features")
    assert box in lay.positions
    assert not any(isinstance(n, str) and g.nodes[n].get("group", None) and
                   str(g.nodes[n]["group"]).startswith("features") for n in lay.positions)
    members = lay.collapsed_members[box]
    assert set(members) == {n for n in g if str(g.nodes[n].get("group") or "").startswith("features")}
    assert lay.box_of("features.0/ConvolutionBackward0#0") == box
    assert lay.box_of("param:features.3.weight") == box
    assert lay.box_of("NllLossBackward0#0") == "NllLossBackward0#0"
    with pytest.raises(KeyError):
        lay.box_of("no such node")
    assert ("ViewBackward0#0", box) in lay.edges
    assert lay.labels[box] == f"features ({len(members)} nodes)"
    assert "features" not in lay.groups and "classifier" in lay.groups
    assert lay.collapsed_groups == frozenset({"features"})
    assert_group_boxes_disjoint(g, lay)
    # The graph given is left alone.
    assert "features.0/ConvolutionBackward0#0" in g


# -- group boxes of real models (the engine and the debugger's watch) ------------------------

def watched_graph(model, x, loss_fn) -> nx.DiGraph:
    """The backward graph the debugger builds for one pass of ``model``."""
    import engine
    from autograd_viz import watch
    engine.manual_seed(0)
    with watch(model) as session:
        loss_fn(model(x)).backward()
    return session.graph.graph


def real_lenet() -> nx.DiGraph:
    import engine
    import engine.nn.functional as F
    from samples.lenet import Net
    engine.manual_seed(0)
    return watched_graph(Net(), engine.randn(2, 1, 32, 32),
                         lambda out: F.cross_entropy(out, engine.tensor([1, 7])))


def real_mlp() -> nx.DiGraph:
    import engine
    import engine.nn as nn
    import engine.nn.functional as F
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    return watched_graph(model, engine.randn(5, 4),
                         lambda out: F.cross_entropy(out, engine.tensor([0, 1, 2, 1, 0])))


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_lenet_module_boxes_do_not_overlap(direction):
    g = real_lenet()
    lay = layout(g, direction=direction)
    assert set(lay.groups) == {"conv1", "conv2", "fc1", "fc2", "fc3"} and not lay.unboxed_groups
    assert_group_boxes_hold_members(g, lay)
    assert_group_boxes_disjoint(g, lay)
    # fc3's leaves no longer share layers with fc2: each module is a band of its own.
    fc3 = {lay.layer_of[n] for n in g if g.nodes[n].get("group") == "fc3"}
    fc2 = {lay.layer_of[n] for n in g if g.nodes[n].get("group") == "fc2"}
    assert max(fc3) < min(fc2)


def test_sequential_mlp_module_boxes_do_not_overlap():
    g = real_mlp()
    lay = layout(g)
    assert set(lay.groups) == {"0", "1", "2", "3", "4"} and not lay.unboxed_groups
    assert_group_boxes_disjoint(g, lay)
    # The ReLU '1' sits between the Linear '2' above it and the Linear '0' below it.
    assert lay.groups["2"][3] < lay.groups["1"][1] and lay.groups["1"][3] < lay.groups["0"][1]
    # The trunk runs straight: the AddmmBackward0 nodes of the three Linears line up.
    xs = {round(lay.positions[f"{m}/AddmmBackward0#0"][0], 6) for m in "024"}
    assert len(xs) == 1, xs


def test_a_module_called_twice_gets_no_box_and_the_others_stay_apart():
    import engine
    import engine.nn as nn

    class SharedAct(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 2)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))

    engine.manual_seed(0)
    g = watched_graph(SharedAct(), engine.randn(3, 4), lambda y: (y * y).mean())
    lay = layout(g)
    assert lay.unboxed_groups == frozenset({"act"})
    assert set(lay.groups) == {"fc1", "fc2", "fc3"}
    assert_group_boxes_disjoint(g, lay)
    assert_groups_contiguous(g, lay)


def test_unrolled_rnn_cell_and_per_step_output_boxes_do_not_overlap():
    import engine
    import engine.nn as nn

    class Unrolled(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell, self.out = nn.RNNCell(3, 5), nn.Linear(5, 2)

        def forward(self, xs):
            h = engine.zeros(xs.shape[1], 5)
            outs = []
            for t in range(xs.shape[0]):
                h = self.cell(xs[t], h)
                outs.append(self.out(h))
            return engine.stack(outs)

    engine.manual_seed(0)
    g = watched_graph(Unrolled(), engine.randn(6, 2, 3), lambda y: (y * y).mean())
    lay = layout(g)
    assert set(lay.groups) == {"cell", "out"}
    assert_group_boxes_disjoint(g, lay)
    assert all(lay.layer_of[v] > lay.layer_of[u] for u, v in g.edges)


def test_band_layers_dissolves_spread_and_cyclic_groups():
    from autograd_viz.layout.bands import band_layers
    # a(g0) -> x -> b(g0): g0 cannot be one band (x would have to be inside it).
    layer, dissolved = band_layers(3, [(0, 1), (1, 2)], [(0,), (), (0,)], [0, 1, 2])
    assert dissolved == {0} and layer == [0, 1, 2]
    # g0 = {0, 1} then g1 = {2, 3}: plain layers interleave, bands do not.
    edges = [(0, 1), (0, 2), (2, 3), (1, 4), (4, 5)]
    paths = [(0,), (0,), (1,), (1,), (), ()]
    layer, dissolved = band_layers(6, edges, paths, [0, 1, 1, 2, 2, 3])
    assert not dissolved
    assert max(layer[0], layer[1]) < min(layer[2], layer[3])
    assert all(layer[b] > layer[a] for a, b in edges)
    assert sorted(set(layer)) == list(range(max(layer) + 1))  # no empty layer
    # Nothing grouped: the plain layers come back unchanged.
    assert band_layers(2, [(0, 1)], [(), ()], [0, 1]) == ([0, 1], set())


def test_collapsing_a_nested_group_and_unknown_names():
    g = lenet_like_graph()
    lay = layout(g, collapsed=["classifier.4", "no.such.group"])
    box = GroupNode("classifier.4")
    assert set(lay.collapsed_members) == {box}
    assert len(lay.collapsed_members[box]) == 4
    assert "classifier" in lay.groups  # the box sits in its parent group
    x, y = lay.positions[box]
    x0, y0, x1, y1 = lay.groups["classifier"]
    assert x0 < x < x1 and y0 < y < y1
    # An outer collapsed group swallows an inner one.
    both = layout(g, collapsed={"classifier", "classifier.4"})
    assert set(both.collapsed_members) == {GroupNode("classifier")}
    # A single name given as a str.
    assert set(layout(g, collapsed="classifier").collapsed_members) == {GroupNode("classifier")}


def test_collapsing_that_makes_a_cycle_still_lays_out():
    # a -> x -> b with a, b in module 'm' and x outside: collapsing m gives m -> x -> m.
    g = nx.DiGraph()
    g.add_node("a", group="m")
    g.add_node("b", group="m")
    g.add_node("x")
    g.add_edges_from([("a", "x"), ("x", "b")])
    lay = layout(g, collapsed={"m"})
    assert set(lay.positions) == {GroupNode("m"), "x"}
    assert len(lay.reversed_edges) == 1
    assert set(lay.edges) == {(GroupNode("m"), "x"), ("x", GroupNode("m"))}


def test_merged_attributes_of_a_collapsed_box():
    from autograd_viz.layout.collapse import collapse_groups, merged_attr
    assert merged_attr("health", ["ok", "vanishing", None, "nonfinite"]) == "nonfinite"
    assert merged_attr("state", ["done", "pending", "running"]) == "running"
    assert merged_attr("state", [None, None]) is None
    assert merged_attr("colour", ["red", "blue"]) == "blue"  # unknown: smallest, stable
    g = lenet_like_graph()
    g.nodes["features.0/ConvolutionBackward0#0"]["state"] = "done"
    g.nodes["features.3/ConvolutionBackward0#0"]["state"] = "running"
    merged, members, box_of = collapse_groups(g, {"features"})
    box = GroupNode("features")
    assert merged.nodes[box]["state"] == "running" and merged.nodes[box]["collapsed"] is True
    assert merged.nodes[box]["members"] == members[box]
    assert set(box_of) == set(members[box])
    assert collapse_groups(g, ())[0] is g


def test_layout_restores_the_garbage_collector_state():
    import gc
    g = unrolled_rnn_graph(3)
    assert gc.isenabled()
    layout(g)
    assert gc.isenabled()
    gc.disable()
    try:
        layout(g)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_self_loops_and_tiny_graphs():
    g = nx.DiGraph([(1, 2), (2, 3), (3, 1), (3, 4), (4, 4)])
    lay = layout(g)
    assert set(lay.positions) == {1, 2, 3, 4}
    assert len(lay.reversed_edges) == 1
    assert len(lay.edges[(4, 4)]) == 4
    assert_no_overlap_in_layers(lay)
    empty = layout(nx.DiGraph())
    assert empty.positions == {} and empty.bounds == (0.0, 0.0, 0.0, 0.0)
    one = layout(nx.DiGraph([("only", "only")]))
    assert set(one.positions) == {"only"}
    lone = nx.DiGraph()
    lone.add_node("x")
    assert layout(lone).crossings == 0


def test_bad_arguments_are_named():
    g = lenet_like_graph()
    with pytest.raises(ValueError, match="direction"):
        layout(g, direction="up")
    with pytest.raises(TypeError, match="unknown layout option"):
        layout(g, spacing=3)
    with pytest.raises(ValueError, match="node_sep"):
        layout(g, node_sep=-1)
    with pytest.raises(TypeError, match="DiGraph"):
        layout(nx.Graph([(1, 2)]))
    with pytest.raises(TypeError, match="collapsed group names"):
        layout(g, collapsed={3})
    assert layout(g, direction="lr").direction == "LR"


# -- determinism -----------------------------------------------------------------------------

def summary(lay: Layout) -> tuple:
    return (sorted((repr(k), v) for k, v in lay.positions.items()),
            sorted((repr(k), v) for k, v in lay.edges.items()),
            sorted(lay.groups.items()), lay.crossings, lay.bounds)


@pytest.mark.parametrize("seed", range(3))
def test_insertion_order_does_not_matter(seed):
    for g in (lenet_like_graph(), unrolled_rnn_graph(10), grouped_graph(seed)):
        assert summary(layout(shuffled_copy(g, seed))) == summary(layout(g))


def test_same_layout_under_different_hash_seeds():
    code = (
        "import json, sys; sys.path.insert(0, %r)\n"
        "from autograd_viz.layout import layout\n"
        "from benchmarks._graphs import lenet_like_graph, unrolled_rnn_graph\n"
        "out = {}\n"
        "for g in (lenet_like_graph(), unrolled_rnn_graph(7)):\n"
        "    lay = layout(g, collapsed={'classifier'})\n"
        "    out.update({repr(k): v for k, v in lay.positions.items()})\n"
        "print(json.dumps(sorted(out.items())))\n" % REPO)
    results = []
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        results.append(json.loads(proc.stdout))
    assert results[0] == results[1]


# -- cache -----------------------------------------------------------------------------------

def test_cache_hits_for_the_same_structure_and_misses_on_a_change():
    cache = LayoutCache(maxsize=3)
    g = unrolled_rnn_graph(150)
    t0 = time.perf_counter()
    first = cache.get(g)
    miss_time = time.perf_counter() - t0
    assert (cache.hits, cache.misses) == (0, 1)
    # The next iteration: same structure, new insertion order, new states.
    g2 = shuffled_copy(g, 1)
    for n in g2:
        g2.nodes[n]["state"] = "done"
    hit_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        again = cache.get(g2)
        hit_times.append(time.perf_counter() - t0)
        assert again is first
    assert (cache.hits, cache.misses) == (3, 1)
    assert min(hit_times) < miss_time / 5
    assert cache.lookup(g2) is first
    # Structure changes: an edge, a label, the options, the collapsed set.
    g3 = g.copy()
    g3.add_edge("MseLossBackward0#0", "param:rnn.bias_ih")
    assert cache.get(g3) is not first
    g4 = g.copy()
    g4.nodes["StackBackward0#0"]["label"] = "CatBackward0"
    assert cache.get(g4) is not first
    assert cache.get(g, direction="LR").direction == "LR"
    assert cache.misses == 4
    assert cache.lookup(g) is None  # evicted: maxsize 3, least recently used first
    assert cache.get(g, collapsed={"rnn"}) is not first
    assert len(cache) == 3
    cache.clear()
    assert len(cache) == 0 and cache.lookup(g4) is None


def test_structure_signature_is_order_independent_and_exact():
    g = lenet_like_graph()
    assert structure_signature(g) == structure_signature(shuffled_copy(g, 5))
    h = g.copy()
    h.nodes["ViewBackward0#0"]["group"] = "features"
    assert structure_signature(h) != structure_signature(g)
    h = g.copy()
    h.nodes["ViewBackward0#0"]["state"] = "running"
    assert structure_signature(h) == structure_signature(g)


def test_cache_rejects_a_bad_size():
    with pytest.raises(ValueError, match="maxsize"):
        LayoutCache(maxsize=0)


def test_layout_mappings_are_read_only():
    lay = layout(lenet_like_graph())
    with pytest.raises(TypeError):
        lay.positions["x"] = (0, 0)  # type: ignore[index]


# -- generators and speed --------------------------------------------------------------------

def test_benchmark_graphs_have_the_advertised_shape():
    assert len(lenet_like_graph()) == 27 and nx.is_directed_acyclic_graph(lenet_like_graph())
    g = unrolled_rnn_graph(5)
    assert len(g) == 6 * 5 + 6 and nx.is_directed_acyclic_graph(g)
    assert g.in_degree("param:rnn.weight_ih") == 5
    assert abs(len(unrolled_rnn_graph(rnn_steps_for(2000))) - 2000) <= 6


def test_two_thousand_nodes_lay_out_quickly():
    g = unrolled_rnn_graph(rnn_steps_for(2000))
    t0 = time.perf_counter()
    lay = layout(g)
    elapsed = time.perf_counter() - t0
    assert len(lay.positions) == len(g)
    assert elapsed < 3.0, f"2,000-node layout took {elapsed:.2f} s"


# -- properties over random DAGs -------------------------------------------------------------

@st.composite
def random_dags(draw):
    n = draw(st.integers(min_value=1, max_value=24))
    g = nx.DiGraph()
    groups = [None, "a", "a.x", "a.y", "b"]
    for i in range(n):
        g.add_node(i, label="L" * draw(st.integers(min_value=0, max_value=20)),
                   group=draw(st.sampled_from(groups)))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if pairs:
        for i, j in draw(st.lists(st.sampled_from(pairs), max_size=3 * n, unique=True)):
            g.add_edge(i, j)
    return g


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(), st.sampled_from(["TB", "BT", "LR", "RL"]), st.booleans())
def test_random_dags_lay_out_cleanly(g, direction, bundle):
    lay = layout(g, direction=direction, bundle=bundle)
    assert set(lay.positions) == set(g.nodes)
    assert_no_overlap_in_layers(lay)
    assert_groups_contiguous(g, lay)
    assert_group_boxes_hold_members(g, lay)
    assert_group_boxes_disjoint(g, lay)
    for u, v in g.edges:
        assert lay.layer_of[v] > lay.layer_of[u]
        assert depth_axis(lay, v) > depth_axis(lay, u)
        pts = lay.edges[(u, v)]
        depth = [{"TB": y, "BT": -y, "LR": x, "RL": -x}[direction] for x, y in pts]
        assert all(b >= a - 1e-6 for a, b in zip(depth, depth[1:])), "edge turns back"
    assert lay.crossings <= lay.initial_crossings
    assert not lay.reversed_edges


@settings(max_examples=25, deadline=None)
@given(random_dags(), st.integers(min_value=0, max_value=1000))
def test_random_dags_are_deterministic(g, seed):
    assert summary(layout(shuffled_copy(g, seed))) == summary(layout(g))
