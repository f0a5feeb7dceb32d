"""The Qt-free models on their own: statistics equal numpy's, histograms, bounded
history, health rules, the graph model's pass states, grouping and signals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_viz.models.graph import GraphModel
from autograd_viz.models.health import HealthModel, HealthThresholds
from autograd_viz.models.history import HistoryModel, Series
from autograd_viz.models.stats import compute_histogram, compute_stats
from autograd_viz.signals import Signal


@pytest.mark.parametrize("arr", [
    np.random.default_rng(0).standard_normal((64, 6, 5, 5)).astype(np.float32),
    np.random.default_rng(1).standard_normal(1000) * 1e-6 + 3.0,     # cancellation-prone
    np.arange(12, dtype=np.int64).reshape(3, 4),
    np.float32([7.0]),
])
def test_stats_equal_numpy(arr):
    s = compute_stats(arr)
    a = arr.astype(np.float64).ravel()
    assert s.n == a.size and s.nan == 0 and s.inf == 0 and s.finite
    assert s.norm == pytest.approx(np.linalg.norm(a), rel=1e-5)
    assert s.mean == pytest.approx(a.mean(), rel=1e-5, abs=1e-7)
    assert s.std == pytest.approx(a.std(), rel=1e-3, abs=1e-9)
    assert s.min == a.min() and s.max == a.max()


def test_stats_with_nan_and_inf_use_finite_values():
    a = np.float32([1.0, np.nan, 3.0, np.inf, -np.inf, 5.0])
    s = compute_stats(a)
    assert (s.nan, s.inf) == (1, 2) and not s.finite
    assert math.isnan(s.norm)
    assert s.mean == pytest.approx(3.0) and s.min == 1.0 and s.max == 5.0
    assert s.std == pytest.approx(np.std([1.0, 3.0, 5.0]))
    allbad = compute_stats(np.float32([np.nan, np.nan]))
    assert allbad.nan == 2 and math.isnan(allbad.mean)
    assert compute_stats(np.zeros((0,), np.float32)).n == 0


def test_histogram_fixed_bins():
    a = np.random.default_rng(2).standard_normal(10_000).astype(np.float32)
    h = compute_histogram(a, bins=16)
    counts, edges = np.histogram(a, bins=16, range=(a.min(), a.max()))
    assert np.array_equal(h.counts, counts) and h.counts.sum() == a.size
    assert np.allclose(h.edges, edges)
    const = compute_histogram(np.full(5, 2.0, np.float32), bins=4)
    assert const.counts.sum() == 5 and const.lo < 2.0 < const.hi
    with_nan = compute_histogram(np.float32([np.nan, 1.0, 2.0]), bins=2)
    assert with_nan.counts.sum() == 2


def test_series_keeps_recent_points_exactly_and_bounds_memory():
    s = Series("loss", recent=100, buckets=50)
    for i in range(100_000):
        s.append(i, float(i % 7))
    assert s.count == 100_000
    assert len(s) <= 150
    x, y = s.points()
    assert len(x) == len(s)
    assert list(x[-100:]) == list(range(99_900, 100_000))
    assert list(y[-100:]) == [float(i % 7) for i in range(99_900, 100_000)]
    assert np.all(np.diff(x) > 0)                  # in order, old buckets first
    assert 2.5 < y[:-100].mean() < 3.5             # bucket means of 0..6 average to ~3
    assert s.last() == (99_999, float(99_999 % 7))


def test_history_memory_bound_over_100k_iterations():
    h = HistoryModel(recent=200, buckets=100)
    grads = {"conv1.weight": 0.1, "fc1.weight": 0.2}
    for i in range(100_000):
        h.append_iteration(i, 1.0 / (i + 1), {"acc": 0.5}, grads)
        if i == 20_000:
            at_20k = h.stored_points()
    assert h.iterations == 100_000
    assert at_20k <= 4 * 300 and h.stored_points() <= 4 * 300
    for s in [h.loss, h.metrics["acc"], *h.grad_norms.values()]:
        assert len(s._x) <= 2 * s.recent + 1 and len(s._b) <= s.buckets   # the lists themselves
    assert h.names() == ["loss", "acc", "grad_norm/conv1.weight", "grad_norm/fc1.weight"]
    assert h.series("grad_norm/fc1.weight").last() == (99_999, 0.2)
    with pytest.raises(KeyError):
        h.series("nope")


def test_series_nonfinite_values():
    s = Series(recent=2, buckets=4)
    for i, v in enumerate([1.0, math.nan, 3.0, 4.0, 5.0]):
        s.append(i, v)
    x, y = s.points()
    assert list(x) == [0, 1, 2, 3, 4]
    assert y[0] == 1.0 and math.isnan(y[1])


def test_health_rules():
    from autograd_viz.models.stats import Stats
    h = HealthModel(HealthThresholds(vanish_ratio=1e-6, vanish_abs=1e-9, explode_norm=100))
    seen = []
    h.changed.connect(lambda *a: seen.append(a))
    tiny = Stats(4, 1e-8, 0, 0, 0, 0)
    big = Stats(4, 1e3, 0, 0, 0, 0)
    bad = Stats(4, math.nan, 0, 0, 0, 0, nan=1)
    ok = Stats(4, 1.0, 0, 0, 0, 0)
    assert h.check_param("w", tiny, weight_norm=10.0) == {"vanishing"}
    assert h.check_param("w", tiny, weight_norm=1e-3) == frozenset()
    assert h.check_param("w", big, 1.0) == {"exploding"}
    assert h.check_param("w", bad, 1.0) == {"nonfinite"}
    assert h.check_node("n", [ok, None]) == frozenset()
    assert h.check_node("n", [Stats(4, 1e-12, 0, 0, 0, 0)]) == {"vanishing"}
    assert h.issues() == [("param", "w", {"nonfinite"}), ("node", "n", {"vanishing"})]
    assert [a[:2] for a in seen] == [("param", "w")] * 4 + [("node", "n")]


def _chain_model():
    g = GraphModel()
    nodes = [{"key": k, "op": op, "module": m} for k, op, m in [
        ("a", "SumBackward0", ""), ("b", "MulBackward0", "fc"), ("c", "AddBackward0", "fc.sub"),
        ("param:w", "AccumulateGrad", "fc")]]
    edges = [("a", "b", {"slots": [0]}), ("a", "c", {"slots": [1]}), ("b", "param:w", {"slots": [0]}),
             ("c", "param:w", {"slots": [0]})]
    return g, nodes, edges


def test_graph_model_pass_states_and_structure_signal():
    g, nodes, edges = _chain_model()
    changes, touched = [], []
    g.structure_changed.connect(changes.append)
    g.node_changed.connect(touched.append)
    ch = g.set_structure(nodes, edges, iteration=0)
    assert ch is not None and ch.old_id is None and set(ch.added) == {"a", "b", "c", "param:w"}
    assert g.set_structure(nodes, edges, iteration=1) is None       # same structure
    assert len(changes) == 1
    g.begin_pass(0)
    st = lambda: {k: g.node(k)["state"] for k in g.keys()}           # noqa: E731
    assert st() == {"a": "ready", "b": "pending", "c": "pending", "param:w": "pending"}
    g.node_started("a")
    g.node_finished("a")
    assert st()["b"] == "ready" and st()["c"] == "ready"
    g.node_started("b"); g.node_finished("b")
    assert st()["param:w"] == "pending"                             # still waits for c
    g.node_started("c"); g.node_finished("c")
    assert st()["param:w"] == "ready"
    g.node_started("param:w"); g.node_finished("param:w")
    g.end_pass()
    assert g.order == ["a", "b", "c", "param:w"] and set(st().values()) == {"done"}
    assert "a" in touched
    ch2 = g.set_structure(nodes[:3], edges[:2], iteration=5)
    assert ch2.removed == ("param:w",) and ch2.iteration == 5 and g.structure_version == 2


def test_graph_groups_and_collapse():
    g, nodes, edges = _chain_model()
    g.set_structure(nodes, edges)
    assert g.groups() == {"": ["a"], "fc": ["b", "param:w"], "fc.sub": ["c"]}
    assert g.group_tree() == {"": ["fc"], "fc": ["fc.sub"], "fc.sub": []}
    seen = []
    g.collapsed_changed.connect(lambda grp, c: seen.append((grp, c)))
    assert g.toggle_collapsed("fc") is True
    g.set_collapsed("fc", True)                                       # no change, no signal
    g.set_collapsed("fc", False)
    assert seen == [("fc", True), ("fc", False)] and g.collapsed == set()
    snap = g.snapshot()
    snap.nodes["a"]["label"] = "changed"
    assert g.node("a")["label"] == "SumBackward0"


def test_signal_connect_disconnect_emit():
    s = Signal("x")
    got = []
    slot = s.connect(lambda v: got.append(v))
    s.connect(slot)
    s.emit(1)
    s.disconnect(slot)
    s.emit(2)
    assert got == [1] and len(s) == 0
    with pytest.raises(TypeError):
        s.connect(3)
