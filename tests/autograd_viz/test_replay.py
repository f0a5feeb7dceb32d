"""Recording and replay: a recorded session loads into the same models and equals what
was seen live; a recording killed with SIGKILL keeps every committed iteration; bad
files give clear errors."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import engine as torch

from autograd_viz import open_session
from autograd_viz.watch import watch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "scripts" / "train_tiny.py"


def _train(s, iters=5, nan_at=-1):
    torch.manual_seed(1)
    w1 = torch.randn(4, 8, requires_grad=True)
    b1 = torch.zeros(8, requires_grad=True)
    w2 = torch.randn(8, 2, requires_grad=True)
    from engine.autograd.events import OptimizerStep, emit
    params = [w1, b1, w2]
    for it in range(iters):
        x = torch.randn(6, 4)
        loss = ((x @ w1 + b1).relu() @ w2).pow(2).mean()
        if it == nan_at:
            loss = loss + (b1 * 0.0).sum().sqrt()
        loss.backward()
        emit(OptimizerStep(None, params, "begin"))
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        emit(OptimizerStep(None, params, "end"))
        s.log(lr=0.1, acc=it / 10)
        for p in params:
            p.grad = None


def _same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _same_stats(a, b):
    if a is None or b is None:
        return a is None and b is None
    return all(_same(getattr(a, f), getattr(b, f))
               for f in ("n", "norm", "mean", "std", "min", "max", "nan", "inf"))


def test_replay_equals_live(tmp_path):
    path = tmp_path / "live.avz"
    with watch(record=path, hist_every=2) as s:
        _train(s, iters=5, nan_at=3)
    s.recorder.close()
    assert s.recorder.written == 5
    r = open_session(path)
    try:
        # history
        for name in s.history.names():
            lx, ly = s.history.series(name).points()
            rx, ry = r.history.series(name).points()
            assert np.array_equal(lx, rx) and np.allclose(ly, ry, equal_nan=True), name
        assert r.history.names() == s.history.names()
        # graph structure and static attributes, execution order
        lg, rg = s.graph.graph, r.graph.graph
        assert r.graph.structure_id == s.graph.structure_id
        assert set(lg.nodes) == set(rg.nodes) and set(lg.edges) == set(rg.edges)
        for k in lg:
            for attr in ("op", "kind", "module", "group", "label", "param", "shapes", "dtype",
                         "device", "saved", "source", "seq"):
                assert rg.nodes[k][attr] == lg.nodes[k][attr], (k, attr)
        for u, v in lg.edges:
            assert rg.edges[u, v]["slots"] == lg.edges[u, v]["slots"]
        assert r.graph.order == s.graph.order
        # node gradient statistics of the last iteration
        for k in lg:
            for ls, rs in zip(lg.nodes[k]["grad_in"], rg.nodes[k]["grad_in"]):
                assert (ls is None) == (rs is None)
                assert _same_stats(ls, rs), k
            assert rg.nodes[k]["health"] == lg.nodes[k]["health"]
        # parameter statistics and histograms, at an iteration with histograms
        r.goto(4)
        for name, lp in s.stats.params.items():
            rp = r.stats.param(name)
            assert _same_stats(rp.grad, lp.grad) and rp.shape == lp.shape
            assert _same(rp.weight.norm, lp.weight.norm)
            assert _same(rp.update_norm, lp.update_norm) and _same(rp.ratio, lp.ratio)
            for h in ("hist_values", "hist_grads"):
                lh, rh = getattr(lp, h), getattr(rp, h)
                assert np.array_equal(lh.counts, rh.counts) and (lh.lo, lh.hi) == (rh.lo, rh.hi)
        assert r.health.params == s.health.params
        # non-finite provenance
        assert [(x.iteration, x.phase, x.key, x.op, x.source[:2], x.kind) for x in r.provenance.reports] \
            == [(x.iteration, x.phase, x.key, x.op, x.source[:2], x.kind) for x in s.provenance.reports]
        assert r.state.mode == "finished"
        r.goto(3)
        assert r.stats.param("b1").hist_values is None        # hist_every=2: none at 3
        assert "nonfinite" in r.health.params.get("b1", ())
    finally:
        r.close()


def test_replay_follows_a_file_being_written(tmp_path):
    path = tmp_path / "follow.avz"
    s = watch(record=path)
    try:
        _train(s, iters=2)
        s.recorder.flush()           # the writer thread commits behind the training thread
        # iteration 1 is finalized only when the next iteration starts
        r = open_session(path)
        assert r.iterations == [0] and r.state.mode == "running"
        _train(s, iters=2)
        s.recorder.flush()
        assert r.refresh() == [1, 2]
        assert r.history.loss.count == 3
    finally:
        s.detach()
        s.recorder.close()
    assert r.refresh() == [3] and r.state.mode == "finished"
    r.close()


def test_killed_recording_keeps_committed_iterations(tmp_path):
    out = tmp_path / "killed.avz"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, "-m", "autograd_viz", "record", str(SCRIPT),
                          "--iters", "100000", "-o", str(out), "--quiet"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from autograd_viz.session import SessionError, SessionReader
        deadline = time.monotonic() + 120
        n = 0
        while time.monotonic() < deadline and n < 5 and p.poll() is None:
            time.sleep(0.2)
            if out.exists():
                try:
                    with SessionReader(out) as rd:
                        n = rd.iteration_count()
                except SessionError:
                    pass
        assert n >= 5, f"the recording did not get going: {p.poll()=}"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    r = open_session(out)
    try:
        its = r.iterations
        assert len(its) >= 5 and its == list(range(len(its)))
        assert r.state.mode == "running"          # no end record: killed
        assert r.history.loss.count == len(its)
        assert r.graph.graph.number_of_nodes() == 8
    finally:
        r.close()


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (os.urandom(4096), "not"),
    (b"SQLite format 3\x00" + b"\x00" * 50, ""),
])
def test_bad_files_give_clear_errors(tmp_path, content, words):
    from autograd_viz.session import SessionError
    bad = tmp_path / "bad.avz"
    bad.write_bytes(content)
    with pytest.raises(SessionError) as ei:
        open_session(bad)
    assert str(bad) in str(ei.value) and words in str(ei.value).lower()


def test_missing_file(tmp_path):
    from autograd_viz.session import SessionError
    with pytest.raises(SessionError, match="missing.avz"):
        open_session(tmp_path / "missing.avz")


def test_a_file_that_fails_to_load_is_closed(tmp_path, monkeypatch):
    """open_session raising after the reader opened the file must not leave it open."""
    from autograd_viz.replay import ReplaySession
    from autograd_viz.session import SessionReader
    path = tmp_path / "run.avz"
    with watch(record=path) as s:
        _train(s, iters=2)
    s.recorder.close()
    closed = []
    real_close = SessionReader.close
    monkeypatch.setattr(SessionReader, "close", lambda self: (closed.append(self), real_close(self)))

    def broken_goto(self, iteration):
        raise ValueError(f"iteration {iteration} is damaged")
    monkeypatch.setattr(ReplaySession, "goto", broken_goto)
    with pytest.raises(ValueError, match="damaged"):
        open_session(path)
    assert len(closed) == 1 and closed[0]._conn is None
