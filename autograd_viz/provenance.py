"""Non-finite provenance: which node first produced a NaN/Inf, and which line built it.

Backward: during a pass, the origin is the first node (in execution order) whose
outgoing gradients hold a NaN/Inf while its incoming gradients were all finite — every
later non-finite gradient is that one propagating. A non-finite seed (the loss's own
gradient) is reported at the root.

Forward: a NaN made in the forward pass (``log`` of a negative) often leaves the
gradients finite but ruins the loss. The watcher checks each op's outputs as they are
created (a sum on the device, the exact count only when the sum is not finite; ops
that cannot create a NaN, such as relu or a view, are skipped); the first op whose
output is non-finite while its tensor inputs are finite is the origin.
If an input was already non-finite (bad data), the report says so.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .models.stats import array_nonfinite  # noqa: F401  (re-exported: one implementation)
from .signals import Signal

__all__ = ["NonFiniteReport", "ProvenanceModel", "nonfinite_kind", "array_nonfinite",
           "FINITE_PRESERVING"]


@dataclass(slots=True)
class NonFiniteReport:
    """One origin of non-finite values.

    ``phase``: 'backward' or 'forward'; ``key``: node key (for a forward report it is
    filled in when the backward pass assigns keys; may stay None); ``op``/``module``:
    the node's; ``source``: (file, line, function) of the user's forward code that
    created the node; ``kind``: 'nan', 'inf' or 'nan+inf'; ``inputs_finite``: False
    when the op's inputs were already non-finite (bad data, not this op's fault).
    """

    iteration: int
    pass_index: int
    phase: str
    key: str | None
    op: str
    module: str
    source: tuple | None
    kind: str
    inputs_finite: bool = True

    @property
    def location(self) -> str:
        """``'train.py:42'`` or ``'<unknown line>'``."""
        if not self.source:
            return "<unknown line>"
        return f"{self.source[0]}:{self.source[1]}"

    def message(self) -> str:
        who = self.key or (f"{self.module}/{self.op}" if self.module else self.op)
        if self.phase == "backward":
            what = f"{self.kind.upper()} first produced in backward by {who}"
        else:
            what = f"{self.kind.upper()} first produced in forward by {who}"
        if not self.inputs_finite:
            what += " (its inputs were already non-finite)"
        fn = f" in {self.source[2]}" if self.source and len(self.source) > 2 else ""
        return f"iteration {self.iteration}: {what}, created at {self.location}{fn}"

    def as_dict(self) -> dict:
        return {"iteration": self.iteration, "pass_index": self.pass_index, "phase": self.phase,
                "key": self.key, "op": self.op, "module": self.module,
                "file": self.source[0] if self.source else None,
                "line": self.source[1] if self.source else None,
                "function": self.source[2] if self.source and len(self.source) > 2 else None,
                "kind": self.kind, "inputs_finite": self.inputs_finite}


def nonfinite_kind(stats_list) -> str | None:
    """'nan', 'inf', 'nan+inf' or None for a list of Stats (None entries ignored)."""
    nan = inf = 0
    for s in stats_list or ():
        if s is not None:
            nan += s.nan
            inf += s.inf
            if s.n and not math.isfinite(s.norm) and not (s.nan or s.inf):
                inf += 1           # squares overflowed without an Inf element
    if nan and inf:
        return "nan+inf"
    if nan:
        return "nan"
    if inf:
        return "inf"
    return None


#: Ops whose outputs cannot hold a NaN/Inf their inputs did not: data movement, relu,
#: max-pooling. The forward check skips them (their inputs were checked already).
FINITE_PRESERVING = frozenset({
    "ReluBackward0", "MaxPool2DWithIndicesBackward0", "MaxPool1DWithIndicesBackward0",
    "ViewBackward0", "ReshapeAliasBackward0", "UnsafeViewBackward0", "TBackward0",
    "TransposeBackward0", "PermuteBackward0", "ExpandBackward0", "SliceBackward0",
    "SelectBackward0", "SqueezeBackward0", "SqueezeBackward1", "UnsqueezeBackward0",
    "CloneBackward0", "FlattenBackward0", "IndexBackward0", "CatBackward0", "StackBackward0",
    "SplitBackward0", "UnbindBackward0", "ToCopyBackward0", "NegBackward0", "AbsBackward0",
    "ClampBackward1", "HardtanhBackward0", "MaxBackward0", "MinBackward0", "AliasBackward0",
    "DropoutBackward0", "NativeDropoutBackward0",
})


class ProvenanceModel:
    """Reports of non-finite origins, oldest first (at most ``limit`` kept).

    Signal ``found(report)`` on each new report. ``first`` is the first report of the
    run; :meth:`for_iteration` the reports of one iteration.
    """

    def __init__(self, limit: int = 1000):
        self.lock = threading.RLock()
        self.limit = limit
        self.reports: list[NonFiniteReport] = []
        self.dropped = 0
        self.found = Signal("provenance.found")

    @property
    def first(self) -> NonFiniteReport | None:
        return self.reports[0] if self.reports else None

    def add(self, report: NonFiniteReport) -> None:
        with self.lock:
            if len(self.reports) >= self.limit:
                self.dropped += 1
                return
            self.reports.append(report)
        self.found.emit(report)

    def for_iteration(self, iteration: int) -> list[NonFiniteReport]:
        return [r for r in self.reports if r.iteration == iteration]

    def clear(self) -> None:
        with self.lock:
            self.reports.clear()
            self.dropped = 0
