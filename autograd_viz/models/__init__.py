"""Qt-free models of a debugging session, each with its own change signals.

- :class:`GraphModel` — the backward graph (networkx DiGraph) and the pass's progress;
- :class:`StatsModel` — per-parameter and per-node statistics, arrays on demand;
- :class:`HistoryModel` — loss, metrics and gradient norms per iteration (bounded);
- :class:`HealthModel` — vanishing/exploding/non-finite flags;
- :class:`DebuggerState` — running/paused/stopped, where, why; inspection while paused.
"""

from .debugger_state import Checkpoint, DebuggerState
from .graph import GraphModel, StructureChange
from .health import HealthModel, HealthThresholds
from .history import HistoryModel, Series
from .stats import Histogram, NodeStats, ParamStats, Stats, StatsModel, compute_histogram, compute_stats

__all__ = [
    "Checkpoint", "DebuggerState", "GraphModel", "StructureChange", "HealthModel",
    "HealthThresholds", "HistoryModel", "Series", "Histogram", "NodeStats", "ParamStats",
    "Stats", "StatsModel", "compute_histogram", "compute_stats",
]
