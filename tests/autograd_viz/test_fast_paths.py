"""The watcher's fast paths give the same answers as the plain ones: batched and deferred
statistics equal numpy's, the histogram equals numpy's bin for bin, the one-pass parameter
step statistics equal the per-parameter ones, a node-stats table is stored like a dict,
statistics deferred in a quiet pass are filled before anyone can look mid-pass, and the
graph's fast path keeps keys while refreshing shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as hst

import engine as torch
from autograd_viz.breakpoints import PredicateBreakpoint
from autograd_viz.models.stats import (CHUNK, ROWSUM_MIN, Stats, compute_histogram,
                                       compute_histograms,
                                       compute_stats, compute_stats_many, fill_stats, l2_norm,
                                       pending_stats, same_elements_owner, snapshot_arrays,
                                       step_stats)
from autograd_viz.session import IterationRecord, SessionReader, SessionWriter
from autograd_viz.session.records import Stats as RecStats
from autograd_viz.session.records import StatsTable
from autograd_viz.watch import watch
from engine.autograd import events


def _ref(a):
    d = np.asarray(a, dtype=np.float64).ravel()
    f = d[np.isfinite(d)]
    return dict(norm=math.sqrt(float(np.dot(d, d))), mean=f.mean(), std=f.std(), min=f.min(),
                max=f.max())


def _close(s, a, rel=1e-5):
    ref = _ref(a)
    for k, v in ref.items():
        # a mean near 0 is judged relative to the spread
        scale = max(ref["std"], abs(v)) if k == "mean" else abs(v)
        assert abs(getattr(s, k) - v) <= rel * max(scale, 1e-30), (k, getattr(s, k), v)


@pytest.mark.parametrize("n, scale, offset", [
    (ROWSUM_MIN + 7, 0.01, 0.003),           # row-sum path with a tail
    (CHUNK + 1000, 1.0, 0.1),               # more than one chunk
    (300_000, 1e-3, 1.0),                    # mean >> spread: the exact variance
])
def test_stats_of_large_float32_within_1e5_of_float64(n, scale, offset):
    a = (np.random.default_rng(n).standard_normal(n) * scale + offset).astype(np.float32)
    s = compute_stats(a)
    _close(s, a)
    assert s.n == n and s.min == a.min() and s.max == a.max()


def test_stats_of_transposed_and_strided_arrays():
    a = np.random.default_rng(0).standard_normal((300, 400)).astype(np.float32)
    _close(compute_stats(a.T), a)                       # F-contiguous: no copy, same stats
    _close(compute_stats(a[:, ::3]), a[:, ::3])         # not contiguous: copied, still right


def test_batched_stats_equal_single_ones():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (1, 10, (64, 84), (3, 5, 7))]
    arrays += [np.float32(2.5).reshape(()),                     # a 0-d gradient (the seed)
               np.full(50, 3.0, np.float32) + rng.standard_normal(50).astype(np.float32) * 1e-4,
               np.float32([1.0, np.nan, np.inf, -2.0]),          # non-finite: redone exactly
               rng.standard_normal(100),                         # float64 group
               np.arange(6),                                     # not batchable: int
               rng.standard_normal(200_000).astype(np.float32)]  # not batchable: large
    many = compute_stats_many(arrays)
    for a, m in zip(arrays, many):
        s = compute_stats(a)
        assert (m.n, m.nan, m.inf) == (s.n, s.nan, s.inf)
        for k in ("norm", "mean", "std", "min", "max"):
            x, y = getattr(m, k), getattr(s, k)
            if math.isnan(y):
                assert math.isnan(x), k
            else:
                scale = s.std if k == "mean" else abs(y)
                assert abs(x - y) <= 1e-6 * max(scale, 1e-30), (k, x, y)
    # fill_stats fills Stats handed out before the numbers were known
    st = pending_stats()
    with pytest.raises(AttributeError):
        st.norm
    fill_stats([(st, arrays[2]), (pending_stats(), arrays[1])])
    _close(st, arrays[2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogram_equals_numpy_on_edge_values(dtype):
    rng = np.random.default_rng(7)
    for bins in (1, 3, 16, 32, 63):
        lo, hi = sorted(rng.standard_normal(2) * 5)
        edges = np.linspace(dtype(lo), dtype(hi), bins + 1, dtype=dtype)
        a = np.concatenate([edges, rng.choice(edges, 300), rng.uniform(lo, hi, 500).astype(dtype),
                            np.nextafter(edges, np.inf, dtype=dtype)]).astype(dtype)
        a = a[(a >= edges[0]) & (a <= edges[-1])]
        h = compute_histogram(a, bins)
        ref, _ = np.histogram(a, bins=bins, range=(h.lo, h.hi))
        assert np.array_equal(h.counts, ref), bins
    big = rng.standard_normal(200_000).astype(dtype)           # several blocks
    h = compute_histogram(big, 32)
    assert np.array_equal(h.counts, np.histogram(big, 32, range=(h.lo, h.hi))[0])


def _edge_heavy(rng, dtype, bins, n):
    """Values on, next to and between the bin edges of a random range (numpy's edges)."""
    lo, hi = sorted(rng.standard_normal(2) * rng.choice([1e-3, 1.0, 1e3]))
    edges = np.linspace(dtype(lo), dtype(hi), bins + 1, dtype=dtype)
    a = np.concatenate([edges, rng.choice(edges, n), rng.uniform(lo, hi, n).astype(dtype),
                        np.nextafter(edges, np.inf, dtype=dtype)]).astype(dtype)
    return rng.permutation(a[(a >= edges[0]) & (a <= edges[-1])])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_histograms_equal_numpy(dtype):
    rng = np.random.default_rng(11)
    for bins in (1, 3, 32, 63):
        arrays = [_edge_heavy(rng, dtype, bins, n) for n in (0, 3, 40, 700)]
        arrays += [np.full(9, 2.5, dtype),                                # constant
                   (rng.standard_normal((6, 5)) * 1e-7 + 1e4).astype(dtype),  # tiny spread
                   rng.standard_normal(300_000).astype(dtype),           # too large: alone
                   np.array([1.0, np.nan, np.inf, 3.0], dtype),          # non-finite: alone
                   np.zeros(0, dtype)]
        hs = compute_histograms(arrays, bins)
        for a, h in zip(arrays, hs):
            one = compute_histogram(a, bins)
            assert (h.lo, h.hi) == (one.lo, one.hi)
            assert np.array_equal(h.counts, one.counts), (bins, a.shape)
            finite = a[np.isfinite(a)]
            if finite.size:
                ref, _ = np.histogram(finite, bins=bins, range=(h.lo, h.hi))
                assert np.array_equal(h.counts, ref), (bins, a.shape)


@settings(max_examples=60, deadline=None)
@given(sizes=hst.lists(hst.integers(1, 500), min_size=1, max_size=8),
       scales=hst.lists(hst.sampled_from([1e-6, 1e-2, 1.0, 1e3, 1e6]), min_size=8, max_size=8),
       offsets=hst.lists(hst.sampled_from([0.0, 1.0, -1e4, 3e5]), min_size=8, max_size=8),
       bins=hst.integers(1, 64), seed=hst.integers(0, 2**16), f64=hst.booleans())
def test_batched_histograms_property(sizes, scales, offsets, bins, seed, f64):
    dtype = np.float64 if f64 else np.float32
    rng = np.random.default_rng(seed)
    arrays = [(rng.standard_normal(n) * sc + off).astype(dtype)
              for n, sc, off in zip(sizes, scales, offsets)]
    for a, h in zip(arrays, compute_histograms(arrays, bins)):
        one = compute_histogram(a, bins)
        assert (h.lo, h.hi) == (one.lo, one.hi) and np.array_equal(h.counts, one.counts)
        assert h.counts.sum() == a.size
        try:
            ref, _ = np.histogram(a, bins=bins, range=(h.lo, h.hi))
        except ValueError:      # numpy: a range too narrow for the dtype to split in bins
            continue
        assert np.array_equal(h.counts, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_edges_equal_numpy_linspace(dtype):
    """The batched binning computes every array's edges at once; they must be numpy's
    (``numpy.histogram`` bins against ``linspace(lo, hi, bins + 1, dtype=dtype)``),
    also for ranges whose step underflows (linspace's own path is taken then)."""
    from autograd_viz.models.stats import _linspace_rows
    rng = np.random.default_rng(5)
    los = rng.standard_normal(40) * rng.choice([1e-30, 1e-3, 1.0, 1e5], 40)
    his = los + np.abs(rng.standard_normal(40)) * rng.choice([1e-7, 1.0, 1e4], 40) + 1e-300
    los[0], his[0] = 0.0, 5e-324 * 3                       # a step of zero in float64
    for bins in (1, 7, 32):
        rows = _linspace_rows(los, his, bins, np.dtype(dtype)).reshape(len(los), bins + 1)
        for lo, hi, row in zip(los, his, rows):
            ref = np.linspace(lo, hi, bins + 1, endpoint=True, dtype=dtype)
            assert np.array_equal(row, ref), (lo, hi, bins)


def test_batched_histograms_split_large_batches(monkeypatch):
    from autograd_viz.models import stats as stats_mod
    monkeypatch.setattr(stats_mod, "HIST_BATCH_MAX", 100)
    rng = np.random.default_rng(12)
    arrays = [rng.standard_normal(n).astype(np.float32) for n in (60, 60, 60, 30, 200)]
    for a, h in zip(arrays, compute_histograms(arrays, 16)):
        assert np.array_equal(h.counts, np.histogram(a, 16, range=(h.lo, h.hi))[0])


def test_same_elements_owner():
    a = np.arange(12, dtype=np.float32).reshape(3, 4).copy()      # owns its memory
    assert same_elements_owner(a) is a
    assert same_elements_owner(a.T) is a
    assert same_elements_owner(a.reshape(4, 3)) is a
    assert same_elements_owner(a[:2]) is None                  # part of the buffer
    assert same_elements_owner(a[:, ::2]) is None
    assert same_elements_owner(a.view(np.int32)) is None       # other dtype


def test_step_stats_equal_per_parameter_statistics():
    rng = np.random.default_rng(5)
    params = [rng.standard_normal(s).astype(np.float32) for s in ((6, 1, 5, 5), (6,), (120, 400))]
    copies, flat = snapshot_arrays(params)
    assert flat is not None and all(np.array_equal(c, p) for c, p in zip(copies, params))
    for p in params:
        p -= 0.01 * rng.standard_normal(p.shape).astype(np.float32)
    stats, norms = step_stats(params, flat)
    for p, c, s, n in zip(params, copies, stats, norms):
        _close(s, p, rel=1e-6)
        assert n == pytest.approx(l2_norm(p - c), rel=1e-6)
    assert step_stats(params[:2], flat) is None                # no longer the snapshot's layout
    one, flat1 = snapshot_arrays([np.arange(3)])               # not batchable: plain copies
    assert flat1 is None and np.array_equal(one[0], np.arange(3))


def test_stats_table_reads_and_stores_like_a_dict(tmp_path):
    keys = ("a/AddmmBackward0#0", "b|in1")
    floats = np.array([[1.0, 0.1, 0.2, -0.5, 0.5], [np.nan, 0.0, 0.0, 1.0, 2.0]])
    counts = np.array([[0, 0], [1, 0]])
    table = StatsTable(keys, floats, counts)
    as_dict = {k: RecStats(norm=f[0], mean=f[1], std=f[2], min=f[3], max=f[4], nan_count=int(c[0]),
                           inf_count=int(c[1])) for k, f, c in zip(keys, floats, counts)}
    assert table == as_dict and as_dict == table and len(table) == 2 and list(table) == list(keys)
    assert table["b|in1"].nan_count == 1 and "a/AddmmBackward0#0" in table
    with pytest.raises(ValueError, match="shape"):
        StatsTable(keys, floats[:1], counts)
    with pytest.raises(ValueError, match="negative"):
        StatsTable(keys, floats, -counts - 1)
    path = tmp_path / "t.avz"
    with SessionWriter(path) as w:
        w.write_iteration(IterationRecord(iteration=0, loss=1.0, node_stats=table))
        w.write_iteration(IterationRecord(iteration=1, loss=0.5, node_stats=as_dict))
    with SessionReader(path) as r:
        assert r.read_iteration(0).node_stats == as_dict
        assert r.read_iteration(1).node_stats == table


def _mlp(batch):
    torch.manual_seed(0)
    w1 = torch.randn(4, 8, requires_grad=True)
    w2 = torch.randn(8, 3, requires_grad=True)
    x = torch.randn(batch, 4)
    return ((x @ w1).relu() @ w2).pow(2).mean(), (w1, w2)


def test_deferred_stats_are_filled_before_a_mid_pass_checkpoint():
    """A pass runs quietly (statistics queued), then a breakpoint appears mid-pass: at its
    first checkpoint every statistic the models hold is filled and equals numpy's."""
    seen, checked = [], []

    with watch() as s:
        loss, _ = _mlp(5)

        def check(cp):
            # (the spy below runs after the session's listener: the node at this very
            # checkpoint is not in ``grads`` yet)
            done = [k for k in s.graph.order if k in grads]
            assert len(done) >= 3
            for key in done:
                for st, arr in zip(s.graph.graph.nodes[key]["grad_in"], grads[key]):
                    _close(st, arr)
            checked.append(cp.key)
            return False

        grads = {}

        def spy(ev):
            if ev.kind == "node_started":
                seen.append(ev.node)
                grads[s._key_of[id(ev.node)]] = [g.numpy().copy() for g in ev.grads_in]
                if len(seen) == 3:                    # from here on, someone is looking
                    s.breakpoints.add(PredicateBreakpoint(check))

        h = events.add_listener(spy)
        try:
            loss.backward()
        finally:
            h.remove()
    assert checked and len(s.graph.order) >= 3


def test_graph_fast_path_keeps_keys_and_refreshes_shapes():
    with watch() as s:
        loss, _ = _mlp(5)
        loss.backward()
        keys = set(s.graph.graph)
        sid = s.graph.structure_id
        for batch in (5, 7):                         # same structure, then a smaller batch
            loss, _ = _mlp(batch)
            loss.backward()
            assert set(s.graph.graph) == keys and s.graph.structure_id == sid
        shapes = {a["op"]: a["shapes"] for a in s.graph.graph.nodes.values()}
    assert (7, 8) in [tuple(x) for x in shapes["ReluBackward0"]]
    assert len(s.graph.changes) == 1
