"""The background statistics thread (autograd_viz/stats_worker.py): it fills the same
numbers as the training thread would, hands its errors to whoever waits, ends with the
session, and a watched run gives the same node statistics with it as without it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import engine as torch
import engine.nn.functional as F
from autograd_viz.models.stats import compute_stats, pending_stats
from autograd_viz.stats_worker import StatsWorker
from autograd_viz.watch import WatchConfig, watch

from watch_helpers import no_thread_leak  # noqa: F401  (fixture)


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal(300_000).astype(np.float32) * 3 + 1]
            + [rng.standard_normal(n).astype(np.float32) for n in (5, 120, 4000)])


def test_filled_stats_equal_the_training_thread_ones(no_thread_leak):  # noqa: F811
    w = StatsWorker()
    big, *small = _arrays()
    st_big = pending_stats()
    w.submit(st_big, big)
    pairs = [(pending_stats(), a) for a in small]
    w.submit_batch(pairs)
    w.wait()
    assert st_big == compute_stats(big)
    for st, a in pairs:
        ref = compute_stats(a)
        assert st.n == ref.n and st.min == ref.min and st.max == ref.max
        assert st.norm == pytest.approx(ref.norm, rel=1e-6)
        assert st.std == pytest.approx(ref.std, rel=1e-5)
    w.close()


def test_an_error_on_the_thread_is_raised_by_wait_once(no_thread_leak):  # noqa: F811
    w = StatsWorker()
    w.submit_batch([(pending_stats(), "not an array")])
    with pytest.raises(Exception):
        w.wait()
    w.wait()                     # handed over once; the thread still serves
    st = pending_stats()
    w.submit(st, np.arange(10.0))
    w.wait()
    assert st.max == 9.0
    w.close()


def test_close_ends_the_thread_and_a_later_submit_starts_another(no_thread_leak):  # noqa: F811
    w = StatsWorker()
    w.submit(pending_stats(), np.ones(10))
    w.wait()
    assert any(t.name == "autograd-viz-stats" for t in threading.enumerate())
    w.close()
    assert not any(t.name == "autograd-viz-stats" for t in threading.enumerate())
    st = pending_stats()
    w.submit(st, np.ones(4))
    w.wait()
    assert st.norm == 2.0
    w.close()


def _train_watched(background: bool, steps=3):
    torch.manual_seed(0)
    from samples.lenet import Net
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    xs = torch.randn(steps, 64, 1, 32, 32)           # conv1's gradient: 301,056 elements
    ys = torch.randint(0, 10, (steps, 64))
    seen = []
    with watch(net, config=WatchConfig(background_stats=background)) as s:
        s.iteration_closed.connect(lambda summary: seen.append(summary))
        for i in range(steps):
            opt.zero_grad()
            F.cross_entropy(net(xs[i]), ys[i]).backward()
            opt.step()
    return seen


def test_a_watched_run_has_the_same_statistics_with_and_without_the_thread(
        no_thread_leak):  # noqa: F811
    on, off = _train_watched(True), _train_watched(False)
    assert len(on) == len(off) == 3
    for a, b in zip(on, off):
        assert a.loss == b.loss
        assert a.nodes.keys() == b.nodes.keys()
        for key in a.nodes:
            for sa, sb in zip(a.nodes[key].grad_in + a.nodes[key].grad_out,
                              b.nodes[key].grad_in + b.nodes[key].grad_out):
                assert (sa is None) == (sb is None)
                if sa is not None:
                    assert sa == sb, key
