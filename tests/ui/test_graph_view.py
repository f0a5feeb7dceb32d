"""The graph view draws the GraphModel: one item per node, states, health, edges, input."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from autograd_viz.models import compute_stats
from ui.graph_view import GraphView, palette
from ui.graph_view.adapter import look_from_graph, spec_from_graph
from ui.graph_view.placement import LayoutEngine

from gui_helpers import lenet_structure, make_session


@pytest.fixture
def view(qtbot):
    v = GraphView()
    v.resize(900, 700)
    qtbot.addWidget(v)
    return v


def _show_model(view, session):
    eng = LayoutEngine()
    with session.graph.lock:
        snap = session.graph.graph.copy()
    spec, placement = eng.place(snap)
    view.graph_scene.set_graph(spec, placement)
    view.graph_scene.apply_look(look_from_graph(session.graph.graph, session.health))
    return eng


def test_one_item_per_node_with_op_shape_and_param_labels(view, qtbot):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    _show_model(view, s)
    scene = view.graph_scene
    assert sorted(scene.node_ids()) == sorted(s.graph.keys())
    assert len(scene.node_ids()) == 24
    spec = scene.spec.nodes
    assert spec["fc1/AddmmBackward0#0"].title == "AddmmBackward0"
    assert spec["fc1/AddmmBackward0#0"].subtitle == "[64, 120]"
    assert spec["param:fc1.weight"].title == "fc1.weight"
    assert spec["param:fc1.weight"].subtitle == "[120, 400]"
    assert spec["param:fc1.weight"].leaf
    view.show()
    view.set_zoom(1.0)
    view.center_on_node("param:fc1.weight")
    texts = [c.text() for c in scene.node_item("param:fc1.weight").childItems()]
    assert texts == ["fc1.weight", "[120, 400]"]


def test_states_health_and_edges_follow_a_step(view):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    _show_model(view, s)
    scene = view.graph_scene
    s.graph.begin_pass(0)
    loss, logsm = "NllLossBackward0#0", "LogSoftmaxBackward0#0"
    s.graph.node_started(loss, [compute_stats(np.ones(1))])
    s.graph.node_finished(loss, [compute_stats(np.full(640, 0.01))])
    bad = compute_stats(np.array([1.0, np.nan]))
    s.graph.node_started(logsm, [bad])
    s.health.check_node(logsm, [bad])
    scene.apply_look(look_from_graph(s.graph.graph, s.health))

    assert scene.node_item(loss).brush().color() == palette.STATE_FILL["done"]
    assert scene.node_item(logsm).pen().color() == palette.HEALTH_BORDER["nan"][0]
    assert scene.node_item(logsm).brush().color() == palette.NAN_FILL
    assert scene.node_item("fc3/AddmmBackward0#0").brush().color() == palette.STATE_FILL["pending"]
    assert scene.current == logsm          # the running node is the current one
    assert scene._current_ring.isVisible()
    assert scene.edge_bucket_of((loss, logsm)) == palette.edge_bucket(0.01 * np.sqrt(640))
    assert scene.edge_bucket_of((logsm, "fc3/AddmmBackward0#0")) == "none"
    # a NaN sent along an edge draws it in the 'nan' bucket
    s.graph.node_finished(logsm, [bad])
    scene.apply_look(look_from_graph(s.graph.graph, s.health))
    assert scene.edge_bucket_of((logsm, "fc3/AddmmBackward0#0")) == "nan"
    paths = scene.edge_paths("nan")
    assert paths and not paths[0].isEmpty()


def test_click_selects_and_right_click_asks_for_a_breakpoint(view, qtbot):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    _show_model(view, s)
    view.show()
    view.set_zoom(1.0)
    key = "fc2/AddmmBackward0#0"
    view.center_on_node(key)
    pos = view.mapFromScene(view.graph_scene.node_rect(key).center())
    with qtbot.waitSignal(view.nodeClicked) as clicked:
        qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert clicked.args == [key]
    assert view.graph_scene.selected == key
    with qtbot.waitSignal(view.breakpointToggleRequested) as bp:
        qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.RightButton, pos=pos)
    assert bp.args == [key]


def test_search_cycles_through_matches_and_centres(view):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    _show_model(view, s)
    view.show()
    first = view.find("addmm")
    second = view.find("addmm")
    third = view.find("addmm")
    assert {first, second, third} == {"fc1/AddmmBackward0#0", "fc2/AddmmBackward0#0",
                                       "fc3/AddmmBackward0#0"}
    assert view.find("fc1.weight") == "param:fc1.weight"
    assert view.find("no such node") is None


def test_labels_only_above_a_zoom_level(view):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    _show_model(view, s)
    view.show()
    view.set_zoom(0.1)
    assert not view.graph_scene.labels_visible
    view.set_zoom(1.0)
    assert view.graph_scene.labels_visible
    assert view.graph_scene.labelled_count() > 0


def test_forward_direction_flips_the_picture(view):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    _show_model(view, s)
    scene = view.graph_scene
    y_loss = scene.node_rect("NllLossBackward0#0").center().y()
    y_leaf = scene.node_rect("param:conv1.weight").center().y()
    assert y_loss < y_leaf          # backward: the loss on top
    scene.set_direction("forward")
    assert scene.node_rect("NllLossBackward0#0").center().y() > scene.node_rect("param:conv1.weight").center().y()
    assert len(scene.node_ids()) == 24


def test_collapsed_module_is_one_box(view):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    eng = LayoutEngine()
    spec, placement = eng.place(s.graph.snapshot(), {"fc1"})
    view.graph_scene.set_graph(spec, placement)
    ids = view.graph_scene.node_ids()
    assert "fc1/AddmmBackward0#0" not in ids and "param:fc1.weight" not in ids
    box = eng.scene_key("param:fc1.weight")
    assert box in ids
    assert view.graph_scene.spec.nodes[box].title == "fc1"
    # a NaN inside the collapsed module shows on its box
    look = look_from_graph(s.graph.graph, None)
    look.health["param:fc1.weight"] = "nan"
    view.graph_scene.apply_look(eng.look_for_scene(look, view.graph_scene.spec))
    assert view.graph_scene.node_item(box).pen().color() == palette.HEALTH_BORDER["nan"][0]


def test_two_thousand_nodes_build_one_item_each(view):
    from benchmarks._graphs import layered_random_dag
    g = layered_random_dag(2000)
    spec, placement = LayoutEngine().place(g)
    view.graph_scene.set_graph(spec, placement)
    assert len(view.graph_scene.node_ids()) == 2000
    view.show()
    view.fit()
    assert not view.graph_scene.labels_visible      # zoomed out: no labels
    assert view.graph_scene.labelled_count() < 100   # only what was on screen at 1:1
    ranks = {r for r, _tile in view.graph_scene._edge_items}
    assert ranks == {0}                 # no gradient yet: every edge in the 'none' bucket


def test_spec_from_graph_uses_parameter_names():
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    spec = spec_from_graph(s.graph.snapshot())
    assert spec.nodes["param:conv1.weight"].title == "conv1.weight"
    assert spec.nodes["param:conv1.weight"].subtitle == "[6, 1, 5, 5]"


def test_same_structure_is_not_laid_out_again():
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    eng = LayoutEngine()
    eng.place(s.graph.snapshot())
    s.graph.begin_pass(1)                  # a new pass: states change, structure does not
    eng.place(s.graph.snapshot())
    assert (eng.cache.misses, eng.cache.hits) == (1, 1)
    eng.place(s.graph.snapshot(), {"fc1"})  # collapsing a module is a new layout
    assert eng.cache.misses == 2


def _render(view):
    from PySide6 import QtGui
    img = QtGui.QImage(view.viewport().size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    view.viewport().render(img)
    return img


def _stepping_looks(scene, placement, n_steps):
    """Looks of a backward pass in progress: a node runs, its edges get norms, then it is done."""
    from ui.graph_view.spec import GraphLook
    ids, edges = scene.node_ids(), list(placement.edges)
    states, norms = {}, {}
    for step in range(n_steps):
        k = ids[step]
        states[k] = "running"
        for i, e in enumerate(edges[3 * step: 3 * step + 3]):
            norms[e] = (float("nan"), 0.5, 10.0 ** -(step % 9))[i]
        yield GraphLook(states=dict(states), edge_norms=dict(norms), current=k,
                        health={ids[0]: "exploding"} if step > 2 else {})
        states[k] = "done"


def test_edge_paths_updated_per_step_equal_a_full_rebuild(view):
    """Steps rebuild only the paths of tiles whose segments changed bucket; the result must
    be what rebuilding every path from scratch gives."""
    from benchmarks._graphs import layered_random_dag, rnn_steps_for, unrolled_rnn_graph
    for g in (layered_random_dag(400), unrolled_rnn_graph(rnn_steps_for(300))):
        spec, placement = LayoutEngine().place(g)
        scene = view.graph_scene
        scene.set_graph(spec, placement)
        for look in _stepping_looks(scene, placement, 12):
            scene.apply_look(look)
        seg = scene._segments
        want = seg.groups(seg.segment_ranks(scene._edge_rank))
        assert set(scene._edge_items) == set(want)
        for key, idx in want.items():
            assert scene._edge_items[key].path() == seg.path(idx), key
        # and the buckets are those of the norms
        for e, norm in look.edge_norms.items():
            assert scene.edge_bucket_of(e) == palette.edge_bucket(norm)


def test_overview_paint_is_pixel_identical_with_cached_edges(view):
    """Zoomed far out, edge paths are cached as device pixmaps: steps must paint exactly
    what painting every path afresh paints."""
    from benchmarks._graphs import layered_random_dag
    spec, placement = LayoutEngine().place(layered_random_dag(400))
    scene = view.graph_scene
    scene.set_graph(spec, placement)
    view.show()
    view.set_zoom(0.04)
    assert scene.thin_edges and scene.edge_cache_on()
    frames = []
    for look in _stepping_looks(scene, placement, 6):
        scene.apply_look(look)
        frames.append(_render(view))
    for it in scene._edge_items.values():
        it.setCacheMode(it.CacheMode.NoCache)
    assert _render(view) == frames[-1]
    view.set_zoom(1.0)                      # zoomed in: no pixmaps, strokes as before
    assert not scene.thin_edges and not scene.edge_cache_on()
    assert all(it.cacheMode() == it.CacheMode.NoCache for it in scene._edge_items.values())


def test_overview_draws_one_pixel_borders_but_keeps_health_widths(view):
    from benchmarks._graphs import layered_random_dag
    from ui.graph_view.spec import GraphLook
    spec, placement = LayoutEngine().place(layered_random_dag(200))
    scene = view.graph_scene
    scene.set_graph(spec, placement)
    a, b = scene.node_ids()[:2]
    scene.apply_look(GraphLook(states={a: "done"}, health={b: "nan"}))
    view.show()
    view.set_zoom(1.0)
    assert scene.node_item(a).pen().widthF() == palette.HEALTH_BORDER["ok"][1]
    view.set_zoom(0.05)                     # unantialiased overview
    assert scene.node_item(a).pen().widthF() == 1.0
    assert scene.node_item(b).pen().widthF() == palette.HEALTH_BORDER["nan"][1]
    assert scene.node_item(b).pen().color() == palette.HEALTH_BORDER["nan"][0]
    assert scene.node_item(a).brush().color() == palette.STATE_FILL["done"]
    view.set_zoom(1.0)
    assert scene.node_item(a).pen().widthF() == palette.HEALTH_BORDER["ok"][1]
