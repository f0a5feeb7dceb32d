"""autograd_viz: the Qt-free backpropagation debugger.

Watch any training run (``watch()``), step its backward pass node by node
(``StepController``), break on bad gradients (``breakpoints``), find where a NaN came
from (``provenance``), record it to a session file (``Recorder``) and load it again
(``open_session``). The GUI (``ui``) draws the models this package builds.
"""

from .breakpoints import (BreakpointList, GradNormBreakpoint, LossBreakpoint, NodeBreakpoint,
                          NonFiniteBreakpoint, OpBreakpoint, ParamBreakpoint, PredicateBreakpoint)
from .controller import StepController, StopTraining
from .models import (DebuggerState, GraphModel, HealthModel, HistoryModel, Stats, StatsModel)
from .provenance import NonFiniteReport, ProvenanceModel
from .signals import Signal
from .runner import RunResult, ScriptRunner, run_script
from .watch import IterationSummary, Session, WatchConfig, watch


def open_session(path, **kw):
    """Load a recorded session file into models (see :mod:`autograd_viz.replay`)."""
    from .replay import ReplaySession
    return ReplaySession(path, **kw)


def __getattr__(name):
    if name == "Recorder":               # imports the session store only when asked
        from .recorder import Recorder
        return Recorder
    raise AttributeError(f"module 'autograd_viz' has no attribute {name!r}")


__all__ = [
    "watch", "Session", "WatchConfig", "IterationSummary", "StepController", "StopTraining",
    "BreakpointList", "NodeBreakpoint", "OpBreakpoint", "ParamBreakpoint", "NonFiniteBreakpoint",
    "GradNormBreakpoint", "LossBreakpoint", "PredicateBreakpoint", "GraphModel", "StatsModel",
    "HistoryModel", "HealthModel", "DebuggerState", "Stats", "NonFiniteReport",
    "ProvenanceModel", "Signal", "open_session", "ScriptRunner", "RunResult", "run_script",
    "Recorder",
]
