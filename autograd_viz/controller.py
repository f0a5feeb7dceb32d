"""The step controller: pause a training thread between two backward nodes.

The training thread calls :meth:`StepController.checkpoint` at every backward node
(started and finished), every gradient accumulation, the start and end of each backward
pass and the end of each iteration. The checkpoint returns at once while running (two
attribute reads when no breakpoint is enabled), or waits on a ``threading.Condition``
while paused — no polling, no sleeping. Commands come from any other thread:

================== ================================================================
``resume()``       run until a breakpoint hits (alias ``continue_()``)
``pause()``        stop at the next checkpoint
``step_node()``    run to the next node checkpoint (its start, or its finish when
                   ``pause_on_finish``: there the outgoing gradients exist)
``finish_pass()``  run to the end of the current backward pass
``step_iteration()`` run to the end of the current iteration
``run_to(n)``      run until ``n`` iterations are complete
``stop()``         unwind the training thread: the waiting (or next) checkpoint raises
                   :class:`StopTraining`, which the runner catches
================== ================================================================

``break_action='stop'`` (headless runs, where nobody could resume) turns a breakpoint
hit into a stop instead of a pause.
"""

from __future__ import annotations

import threading

from .models.debugger_state import Checkpoint, DebuggerState
from .breakpoints import BreakpointList

__all__ = ["StepController", "StopTraining"]


class StopTraining(BaseException):
    """Raised in the training thread to unwind it when the debugger stops a run.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that a script's own
    ``except Exception:`` does not swallow it. ``reason`` says why; ``checkpoint``
    where (when known)."""

    def __init__(self, reason: str = "stopped by the debugger", checkpoint: Checkpoint | None = None):
        super().__init__(reason)
        self.reason = reason
        self.checkpoint = checkpoint


_RUN, _PAUSE, _STEP_NODE, _FINISH_PASS, _STEP_ITER, _RUN_TO = range(6)
_NODE_KINDS_STEP = frozenset(("node_started", "node_finished"))


class StepController:
    """Pauses and resumes the training thread; see the module docstring for commands.

    ``state`` (a DebuggerState) is updated on every pause/resume; ``breakpoints`` is
    consulted at each checkpoint. ``start_paused=True`` pauses at the first checkpoint.
    """

    def __init__(self, state: DebuggerState | None = None, breakpoints: BreakpointList | None = None,
                 *, start_paused: bool = False, pause_on_finish: bool = True,
                 break_action: str = "pause"):
        if break_action not in ("pause", "stop"):
            raise ValueError(f"break_action must be 'pause' or 'stop', not {break_action!r}")
        self.state = state if state is not None else DebuggerState()
        self.breakpoints = breakpoints if breakpoints is not None else BreakpointList()
        self.pause_on_finish = pause_on_finish
        self.break_action = break_action
        self._cond = threading.Condition()
        self._mode = _PAUSE if start_paused else _RUN
        self._target = 0
        self._paused = False
        self._stop: StopTraining | None = None
        self._thread: threading.Thread | None = None   # the thread paused, if any

    # -- the training thread -----------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once stop() was requested (the next checkpoint raises)."""
        return self._stop is not None

    def check_stop(self) -> None:
        """Raise StopTraining if a stop was requested (cheap; called on forward events)."""
        if self._stop is not None:
            raise self._stop

    def checkpoint(self, cp: Checkpoint) -> None:
        """Called by the watcher in the training thread; may block until resumed."""
        if self._stop is not None:
            raise self._stop
        mode = self._mode
        if mode == _RUN and not self.breakpoints._active:
            return
        hit = self.breakpoints.check(cp) if self.breakpoints._active else None
        if hit is not None:
            reason = "breakpoint"
        else:
            reason = self._pause_reason(mode, cp)
            if reason is None:
                return
        if hit is not None and self.break_action == "stop":
            stop = StopTraining(f"breakpoint '{hit.description}' at {cp.where()}", cp)
            self._stop = stop
            self.state.set_mode("stopped", "breakpoint", cp, hit)
            raise stop
        self._wait_paused(cp, reason, hit)

    def _pause_reason(self, mode, cp) -> str | None:
        kind = cp.kind
        if mode == _RUN:
            return None
        if mode == _PAUSE:
            return "pause"
        if mode == _STEP_NODE:
            if kind == "node_started" or (kind == "node_finished" and self.pause_on_finish):
                return "step"
            return None
        if mode == _FINISH_PASS:
            return "backward end" if kind == "backward_finished" else None
        if mode == _STEP_ITER:
            return "iteration" if kind == "iteration_end" else None
        if mode == _RUN_TO:
            if kind == "iteration_end" and cp.iteration + 1 >= self._target:
                return f"reached iteration {self._target}"
            return None
        return None

    def _wait_paused(self, cp, reason, hit) -> None:
        with self._cond:                 # a re-entrant lock: state slots may send commands
            if self._stop is not None:
                raise self._stop
            self._paused = True
            self._mode = _PAUSE          # whatever resumes us sets the next mode
            self._thread = threading.current_thread()
            self.state.set_mode("paused", reason, cp, hit)
            self._cond.notify_all()      # wake wait_until_paused()
            while self._paused and self._stop is None:
                self._cond.wait()
            self._thread = None
            stop = self._stop
        if stop is not None:
            self.state.set_mode("stopped", "stop", cp)
            raise stop
        self.state.set_mode("running", "")

    # -- commands (any thread) -------------------------------------------------------

    def _command(self, mode: int, target: int = 0) -> None:
        with self._cond:
            self._mode = mode
            self._target = target
            self._paused = False
            self._cond.notify_all()

    def resume(self) -> None:
        """Run freely until a breakpoint hits (or stop)."""
        self._command(_RUN)

    continue_ = resume

    def pause(self) -> None:
        """Pause at the next checkpoint (no effect on an already paused thread)."""
        with self._cond:
            if not self._paused:
                self._mode = _PAUSE

    def step_node(self) -> None:
        """Run to the next node checkpoint (node start, or node finish when pause_on_finish)."""
        self._command(_STEP_NODE)

    def finish_pass(self) -> None:
        """Run to the end of the current (or next) backward pass."""
        self._command(_FINISH_PASS)

    def step_iteration(self) -> None:
        """Run to the end of the current iteration (after the optimizer step)."""
        self._command(_STEP_ITER)

    def run_to(self, iterations: int) -> None:
        """Run until ``iterations`` iterations are complete (counted from the start)."""
        if iterations < 1:
            raise ValueError(f"run_to needs a positive iteration count, got {iterations}")
        self._command(_RUN_TO, int(iterations))

    def stop(self, reason: str = "stopped by the debugger") -> None:
        """Unwind the training thread with StopTraining at its current (or next) checkpoint."""
        with self._cond:
            if self._stop is None:
                self._stop = StopTraining(reason)
            self._paused = False
            self._cond.notify_all()

    def reset(self) -> None:
        """Forget a stop and run freely again (for a new run on the same session)."""
        with self._cond:
            self._stop = None
            self._mode = _RUN
            self._paused = False
            self._cond.notify_all()

    @property
    def is_paused(self) -> bool:
        return self._paused

    def wait_until_paused(self, timeout: float | None = None) -> bool:
        """Block the calling (non-training) thread until the training thread pauses;
        True if it did within ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: self._paused, timeout)
