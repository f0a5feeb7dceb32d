"""Run an unmodified training script under a watch session.

``ScriptRunner(script, args, session).run()`` executes the script as ``python script
args...`` would (``runpy.run_path`` with ``__name__ == '__main__'``, ``sys.argv`` set,
the script's folder first on ``sys.path``), with the session attached. ``start()`` does
the same in a new thread, for the GUI. How it ended is a :class:`RunResult`:

- ``'finished'`` — the script returned (or called ``sys.exit(0)``);
- ``'stopped'`` — the debugger stopped it (:class:`StopTraining`: the stop button, a
  ``--steps`` limit, a headless breakpoint) or Ctrl-C;
- ``'error'`` — it raised (the traceback text is kept, frames of this machinery
  removed) or exited with a non-zero status.

``sys.argv`` and ``sys.path`` are restored afterwards, and the session is detached, so
the engine is as it was before.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import traceback
from dataclasses import dataclass

from .controller import StopTraining
from .signals import Signal

__all__ = ["ScriptRunner", "RunResult", "run_script"]


@dataclass
class RunResult:
    """How a script run ended: ``status`` ('finished', 'stopped', 'error'), ``message``
    (one line), ``traceback`` (text, for 'error' by an exception), ``exit_code`` (its
    ``sys.exit`` status, else 0/1), ``exception`` (the exception object, if any)."""

    status: str
    message: str = ""
    traceback: str | None = None
    exit_code: int = 0
    exception: BaseException | None = None


def _user_traceback(exc: BaseException) -> str:
    """The traceback without the frames of runpy and this module."""
    here = os.path.abspath(__file__)
    tb = exc.__traceback__
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if os.path.abspath(fn) == here or fn.endswith("runpy.py") or fn == "<frozen runpy>":
            tb = tb.tb_next
            continue
        break
    return "".join(traceback.format_exception(type(exc), exc, tb))


class ScriptRunner:
    """Runs ``script`` with ``args`` under ``session`` (a watch Session, attached for
    the run if it is not already, detached at the end). Signal ``finished(result)`` is
    emitted from the running thread when the script ends."""

    def __init__(self, script, args=(), session=None):
        self.script = os.path.abspath(os.fspath(script))
        self.args = [str(a) for a in args]
        self.session = session
        self.result: RunResult | None = None
        self.finished = Signal("runner.finished")
        self._thread: threading.Thread | None = None

    def run(self) -> RunResult:
        """Run in the calling thread; returns (and stores) the result."""
        if not os.path.isfile(self.script):
            self.result = RunResult("error", f"script not found: {self.script}", exit_code=2)
            self._set_state(self.result)
            self.finished.emit(self.result)
            return self.result
        old_argv, old_path = sys.argv[:], sys.path[:]
        sys.argv = [self.script, *self.args]
        sys.path.insert(0, os.path.dirname(self.script))
        s = self.session
        attached_here = s is not None and not s.is_attached
        if attached_here:
            s.attach()
        try:
            runpy.run_path(self.script, run_name="__main__")
            result = RunResult("finished", "the script finished")
        except StopTraining as e:
            result = RunResult("stopped", e.reason, exception=e)
        except KeyboardInterrupt as e:
            result = RunResult("stopped", "interrupted (Ctrl-C)", exit_code=130, exception=e)
        except SystemExit as e:
            code = e.code
            if code is None or code == 0:
                result = RunResult("finished", "the script exited with status 0")
            elif isinstance(code, int):
                result = RunResult("error", f"the script exited with status {code}",
                                   exit_code=code, exception=e)
            else:
                result = RunResult("error", f"the script exited: {code}", exit_code=1, exception=e)
        except BaseException as e:  # noqa: BLE001 - everything a script raises is reported
            result = RunResult("error", f"{type(e).__name__}: {e}", _user_traceback(e), 1, e)
        finally:
            sys.argv[:] = old_argv
            sys.path[:] = old_path
        if s is not None:
            if attached_here:
                s.detach()
            self._set_state(result)
        self.result = result
        self.finished.emit(result)
        return result

    def _set_state(self, result: RunResult) -> None:
        s = self.session
        if s is None:
            return
        if result.status == "finished":
            s.state.set_mode("finished", result.message)
        elif result.status == "stopped":
            if s.state.mode != "stopped":
                s.state.set_mode("stopped", result.message)
        else:
            s.state.set_mode("error", result.message, error=result.traceback or result.message)

    def start(self) -> threading.Thread:
        """Run in a new (non-daemon) thread named 'training'; returns it."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("this runner's script is already running")
        self._thread = threading.Thread(target=self.run, name="training", daemon=False)
        self._thread.start()
        return self._thread

    def stop(self, reason: str = "stopped by the user") -> None:
        """Ask the debugger to stop the script (it unwinds at its next event)."""
        if self.session is not None:
            self.session.controller.stop(reason)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a started run; True when it has ended."""
        t = self._thread
        if t is None:
            return True
        t.join(timeout)
        return not t.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def run_script(script, args=(), session=None) -> RunResult:
    """Run ``script`` in this thread under ``session``; see :class:`ScriptRunner`."""
    return ScriptRunner(script, args, session).run()
