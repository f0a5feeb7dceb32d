"""A writer killed with SIGKILL mid-run leaves every committed iteration whole, and no part of
the one in flight."""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograd_viz.session import NotASessionError, SessionReader, SessionWriter, summarize

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _load_sample_run():
    spec = importlib.util.spec_from_file_location("session_sample_run",
                                                  HERE / "session_sample_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sample = _load_sample_run()


def _start_writer(path: Path, delay: float) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, str(HERE / "session_sample_run.py"), "write",
                             str(path), "0", str(delay)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _kill_after(child: subprocess.Popen, committed: int, jitter: float = 0.0,
                timeout: float = 30.0) -> int:
    """Kill ``child`` ``jitter`` seconds after it reports ``committed`` commits (so the kill
    lands at varying points of an iteration); return the last iteration it reported."""
    deadline = time.monotonic() + timeout
    last = -1
    try:
        while last < committed - 1:
            line = child.stdout.readline()
            if not line:
                raise AssertionError(f"writer exited early: {child.stderr.read()}")
            last = int(line)
            if time.monotonic() > deadline:
                raise AssertionError(f"writer reported only {last + 1} commits in {timeout}s")
        if jitter:
            time.sleep(jitter)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return last


def _check_killed_session(path: Path, last_reported: int) -> None:
    with SessionReader(path) as reader:
        iterations = reader.iterations()
        # Everything the writer reported committed is there, plus at most the commits it
        # made after its last report reached us (it is killed asynchronously), in order.
        assert iterations == list(range(len(iterations)))
        assert len(iterations) >= last_reported + 1
        assert reader.end is None  # killed: never closed
        sid = reader.latest_structure_id()
        for it in iterations:
            assert reader.read_iteration(it) == sample.make_record(it, sid), it
        # No rows of a half-written iteration anywhere.
        last = iterations[-1]
        assert [i for i, _ in reader.param_stats_history()] == iterations
        assert [i for i, _ in reader.node_stats_history()] == iterations
        assert all(e.iteration <= last for e in reader.events())
        assert all(i <= last for i in reader.snapshot_iterations("mask"))
        assert all(i <= last for i, _ in reader.histogram_history("fc1.weight", "values"))
    summary = summarize(path)
    assert summary["status"] == "incomplete"
    assert summary["iterations"] == len(iterations)


@pytest.mark.parametrize("committed, delay, jitter",
                         [(5, 0.0, 0.0), (37, 0.0, 0.0007), (60, 0.002, 0.0013)])
def test_sigkill_keeps_every_committed_iteration(tmp_path, committed, delay, jitter):
    path = tmp_path / "killed.avz"
    child = _start_writer(path, delay)
    _check_killed_session(path, _kill_after(child, committed, jitter))


@pytest.mark.slow
def test_sigkill_at_many_random_moments(tmp_path):
    rng = random.Random(7)
    for n in range(20):
        path = tmp_path / f"killed{n}.avz"
        child = _start_writer(path, 0.0)
        _check_killed_session(path, _kill_after(child, rng.randrange(1, 50),
                                                rng.uniform(0.0, 0.004)))


def test_killed_session_reopens_after_recovery(tmp_path):
    """The first reader recovers the WAL of the killed writer; later readers see the same."""
    path = tmp_path / "killed.avz"
    child = _start_writer(path, 0.0)
    _kill_after(child, 20)
    with SessionReader(path) as reader:
        first = reader.iterations()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    with SessionReader(path) as reader:
        assert reader.iterations() == first
        assert reader.read_iteration(first[-1]) == sample.make_record(
            first[-1], reader.latest_structure_id())
    # A new session may replace the killed one.
    SessionWriter(path, overwrite=True).close()
    with SessionReader(path) as reader:
        assert reader.iterations() == []


def test_copy_of_killed_session_without_its_wal_says_so(tmp_path):
    path = tmp_path / "killed.avz"
    child = _start_writer(path, 0.0)
    _kill_after(child, 3)
    copy = tmp_path / "copy.avz"
    copy.write_bytes(path.read_bytes())  # the WAL, where the iterations are, stays behind
    with pytest.raises(NotASessionError) as info:
        SessionReader(copy)
    message = str(info.value)
    assert message.startswith(f"{copy}: ") and "copy.avz-wal along with it" in message
