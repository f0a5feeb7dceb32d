"""Recording on a writer thread (autograd_viz/recorder.py): the file holds exactly what a
synchronous recorder writes, a writer error reaches the training thread and the file's
end status, and the thread ends with the recorder."""

from __future__ import annotations

import pytest

import engine as torch
import engine.nn.functional as F
from autograd_viz.recorder import Recorder
from autograd_viz.session import SessionReader
from autograd_viz.watch import watch

from watch_helpers import no_thread_leak  # noqa: F401  (fixture)


def _train(s, steps):
    torch.manual_seed(0)
    from samples.lenet import Net
    net = Net()
    s.add_model(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for i in range(steps):
        opt.zero_grad()
        F.cross_entropy(net(torch.randn(8, 1, 32, 32)), torch.randint(0, 10, (8,))).backward()
        opt.step()


def _record(path, background, steps=4):
    s = watch()
    rec = Recorder(s, path, background=background)
    try:
        _train(s, steps)
    finally:
        s.detach()
        rec.close()
    return rec


def test_the_writer_thread_writes_what_the_training_thread_would(tmp_path,
                                                                 no_thread_leak):  # noqa: F811
    a = _record(tmp_path / "thread.avz", background=True)
    b = _record(tmp_path / "sync.avz", background=False)
    assert a.written == b.written == 4
    ra, rb = SessionReader(tmp_path / "thread.avz"), SessionReader(tmp_path / "sync.avz")
    try:
        assert ra.iterations() == rb.iterations() == [0, 1, 2, 3]
        for it in range(4):
            x, y = ra.read_iteration(it), rb.read_iteration(it)
            assert x.loss == y.loss and x.structure_id == y.structure_id
            assert x.node_stats == y.node_stats and len(x.node_stats) > 10
            assert x.param_stats == y.param_stats
        assert ra.end.status == rb.end.status == "finished"
    finally:
        ra.close()
        rb.close()


def test_a_writer_error_stops_training_and_ends_the_file_as_error(tmp_path, monkeypatch,
                                                                  no_thread_leak):  # noqa: F811
    path = tmp_path / "full.avz"
    s = watch()
    rec = Recorder(s, path, background=True)
    real = rec.writer.write_iteration
    calls = []

    def failing(record):
        calls.append(record.iteration)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(record)

    monkeypatch.setattr(rec.writer, "write_iteration", failing)
    try:
        with pytest.raises(OSError, match="No space left"):
            _train(s, 8)            # raised at an iteration after the failed write
    finally:
        s.detach()
        with pytest.raises(OSError, match="No space left"):
            rec.close()
    r = SessionReader(path)
    try:
        assert r.iterations() == [0]          # what was committed before the failure
        end = r.end
        assert end.status == "error" and "No space left" in end.message
    finally:
        r.close()
