"""What the window can show: a live run of a training script, or a recorded session file.

``start_script`` builds a :class:`LiveRun`: a watch Session (the debugger's models and
step controller) whose script runs in a worker thread via ``ScriptRunner``, recorded to
a temporary session file so the timeline can go back to earlier iterations and the
user can save it. ``open_session`` loads a session file (``ReplaySession``) and, when
the file is still being written, follows it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile

from autograd_viz.breakpoints import BreakpointList
from autograd_viz.controller import StepController
from autograd_viz.models import DebuggerState
from autograd_viz.runner import ScriptRunner
from autograd_viz.watch import Session, WatchConfig


def batch_size_of(graph_model) -> int | None:
    """The batch size a loss was computed over: the first dimension of the first
    non-scalar output met walking down from the loss (``mean()`` and ``sum()`` of a
    per-sample loss are scalars; the tensor they reduced is ``[batch, ...]``).
    None when it cannot be told."""
    g = graph_model.graph
    with graph_model.lock:
        frontier = [k for k in g.nodes if g.in_degree(k) == 0]
        seen = set(frontier)
        while frontier:
            nxt = []
            for k in frontier:
                a = g.nodes[k]
                shapes = a.get("shapes") or []
                if a.get("kind") == "op" and shapes and len(shapes[0]) >= 1:
                    return int(shapes[0][0])
                for c in g.successors(k):
                    if c not in seen:
                        seen.add(c)
                        nxt.append(c)
            frontier = nxt
    return None


def copy_session_file(src: str, dst: str) -> None:
    """Copy a (possibly still written) SQLite session file consistently (backup API)."""
    if os.path.abspath(src) == os.path.abspath(dst):
        raise ValueError(f"{dst}: cannot save a session onto its own recording")
    tmp = dst + ".partial"
    if os.path.exists(tmp):
        os.remove(tmp)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    os.replace(tmp, dst)


class LiveRun:
    """A script running under the debugger. The models are the watch Session's."""

    def __init__(self, script: str, args=(), *, start_paused: bool = False, record: bool = True,
                 config: WatchConfig | None = None):
        script = os.path.abspath(script)
        if not os.path.isfile(script):
            raise FileNotFoundError(f"no such script: {script}")
        controller = StepController(DebuggerState(), BreakpointList(), start_paused=start_paused)
        self.watch = Session(config or WatchConfig(), controller)
        s = self.watch
        self.graph, self.stats, self.history, self.health = s.graph, s.stats, s.history, s.health
        self.state, self.breakpoints, self.controller = s.state, s.breakpoints, s.controller
        self.provenance = s.provenance
        self.title = os.path.basename(script)
        self.script, self.args = script, list(args)
        self.recorder = None
        self.record_path = None
        self.saved_iterations = 0  # iterations recorded when the user last saved
        self._tmpdir = None
        self.timeline_source = None
        if record:
            from autograd_viz.recorder import Recorder
            from autograd_viz.session import SessionReader
            self._tmpdir = tempfile.mkdtemp(prefix="autograd-viz-")
            self.record_path = os.path.join(self._tmpdir, "run.avz")
            self.recorder = Recorder(s, self.record_path, script=script, args=self.args)
            self.timeline_source = SessionReader(self.record_path)
        self.runner = ScriptRunner(script, self.args, s)
        self.runner.finished.connect(self._on_finished)
        self._batch = None

    def start(self):
        """Start the training thread (after the window is listening to the models)."""
        from .gc_guard import guard_run
        self.state.set_mode("running", "started")
        guard_run(self)          # cyclic garbage (Qt objects too) freed in the GUI thread only
        self.runner.start()

    def _on_finished(self, result):
        # Training thread, after the script ended: end the recording with its status.
        if self.recorder is not None:
            try:
                self.recorder.close(result.status, result.message)
            except Exception:  # the recording is a convenience; never hide the run's result
                pass
            self.recorder = None

    def samples_seen(self) -> int | None:
        """Samples processed so far (iterations x batch size), None before the first pass."""
        if self._batch is None and self.graph.structure_id is not None:
            self._batch = batch_size_of(self.graph)
        if self._batch is None:
            return None
        return self.history.iterations * self._batch

    @property
    def running(self) -> bool:
        return self.runner.running

    def save_as(self, path: str):
        if self.record_path is None:
            raise ValueError("this run is not recorded")
        copy_session_file(self.record_path, path)
        self.saved_iterations = self.history.iterations

    @property
    def unsaved_iterations(self) -> int:
        """Recorded iterations the user has not saved (lost when the window closes)."""
        if self.record_path is None:
            return 0
        return max(self.history.iterations - self.saved_iterations, 0)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop the script (a paused one too) and wait for its thread; True if it ended."""
        if self.runner.running:
            self.runner.stop("the window was closed" if timeout else "stopped")
        ended = self.runner.join(timeout)
        if ended:
            from .gc_guard import release_run
            release_run(self)
            if self.timeline_source is not None:
                self.timeline_source.close()
                self.timeline_source = None
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None
        return ended


class OpenedSession:
    """A recorded session file shown in the window (ReplaySession underneath)."""

    def __init__(self, path: str):
        from autograd_viz.replay import open_session as _open
        self.replay = _open(path)
        r = self.replay
        self.graph, self.stats, self.history, self.health = r.graph, r.stats, r.history, r.health
        self.state, self.breakpoints, self.provenance = r.state, r.breakpoints, r.provenance
        self.controller = None
        self.path = os.path.abspath(path)
        self.title = os.path.basename(path)
        self.timeline_source = r.reader

    @property
    def live(self) -> bool:
        """True while another process is still writing the file."""
        return self.state.mode == "running"

    def follow(self) -> list:
        """Read iterations committed since the last call; show the newest if the user was
        looking at the newest before."""
        if not self.live:
            return []
        was_last = self.replay.current is None or (
            self.replay.iterations and self.replay.current == self.replay.iterations[-1])
        new = self.replay.refresh()
        if new and was_last:
            self.replay.goto(new[-1])
        return new

    def goto(self, iteration: int):
        self.replay.goto(iteration)

    def save_as(self, path: str):
        copy_session_file(self.path, path)

    def shutdown(self, timeout: float = 0.0) -> bool:
        self.replay.close()
        return True


def start_script(path: str, args=(), *, start_paused: bool = False, record: bool = True) -> LiveRun:
    """A LiveRun of ``path`` (not started yet: the window calls ``start()``)."""
    return LiveRun(path, args, start_paused=start_paused, record=record)


def open_session(path: str) -> OpenedSession:
    """Open a session file; raises the session store's SessionError for a bad file."""
    return OpenedSession(path)
