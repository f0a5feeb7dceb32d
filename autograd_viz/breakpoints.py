"""Breakpoints: predicates on checkpoints (:class:`~autograd_viz.models.debugger_state.Checkpoint`).

Each breakpoint has an ``id``, a human ``description``, an ``enabled`` flag and the
checkpoint kinds it looks at (so the controller asks only the relevant ones). Kinds:

- :class:`NodeBreakpoint` — a node key, when it is about to run;
- :class:`OpBreakpoint` — any node of an op type (``'ConvolutionBackward0'``);
- :class:`ParamBreakpoint` — a parameter's gradient accumulation (``'conv1.weight'``);
- :class:`NonFiniteBreakpoint` — the first NaN/Inf gradient of a pass (where it is
  produced: the node that sends it);
- :class:`GradNormBreakpoint` — a gradient norm above a threshold (first in a pass);
- :class:`LossBreakpoint` — the loss non-finite, or above a threshold;
- :class:`PredicateBreakpoint` — any user function of the checkpoint.

:class:`BreakpointList` holds them; ``check(cp)`` returns the first enabled one that
hits. "Once per pass" breakpoints reset at each ``backward_started``.
"""

from __future__ import annotations

import itertools
import math
import threading

from .signals import Signal

__all__ = [
    "Breakpoint", "NodeBreakpoint", "OpBreakpoint", "ParamBreakpoint", "NonFiniteBreakpoint",
    "GradNormBreakpoint", "LossBreakpoint", "PredicateBreakpoint", "BreakpointList",
]

_ids = itertools.count(1)


def _nonfinite(stats_list) -> bool:
    return bool(stats_list) and any(s is not None and not s.finite for s in stats_list)


def _max_norm(stats_list) -> float:
    m = 0.0
    for s in stats_list or ():
        if s is not None and s.norm > m:
            m = s.norm
    return m


class Breakpoint:
    """Base class. Subclasses set ``kinds`` and implement :meth:`hit`."""

    kinds: tuple = ()
    once_per_pass = False

    def __init__(self, description: str, enabled: bool = True):
        self.id = next(_ids)
        self.description = description
        self._enabled = bool(enabled)
        self._owner = None
        self.hit_count = 0
        self._fired_pass = None

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = bool(value)
        if self._owner is not None:
            self._owner._enabled_changed()

    def hit(self, cp) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, cp) -> bool:
        """True if this breakpoint stops at ``cp`` (counts the hit)."""
        if not self._enabled or cp.kind not in self.kinds:
            return False
        if self.once_per_pass and self._fired_pass == cp.pass_index:
            return False
        if self.hit(cp):
            self.hit_count += 1
            self._fired_pass = cp.pass_index
            return True
        return False

    def __repr__(self):
        state = "on" if self.enabled else "off"
        return f"<{type(self).__name__} #{self.id} {state}: {self.description}>"


class NodeBreakpoint(Breakpoint):
    """Stop before node ``key`` runs."""

    kinds = ("node_started",)

    def __init__(self, key: str, enabled: bool = True):
        super().__init__(f"node {key}", enabled)
        self.key = key

    def hit(self, cp):
        return cp.key == self.key


class OpBreakpoint(Breakpoint):
    """Stop before any node of op type ``op`` runs (``'ConvolutionBackward0'``)."""

    kinds = ("node_started",)

    def __init__(self, op: str, enabled: bool = True):
        super().__init__(f"op {op}", enabled)
        self.op = op

    def hit(self, cp):
        return cp.op == self.op


class ParamBreakpoint(Breakpoint):
    """Stop when parameter ``name``'s ``.grad`` was accumulated."""

    kinds = ("grad_accumulated",)

    def __init__(self, name: str, enabled: bool = True):
        super().__init__(f"accumulation into {name}", enabled)
        self.name = name

    def hit(self, cp):
        return cp.param == self.name


class NonFiniteBreakpoint(Breakpoint):
    """Stop at the first non-finite gradient of a backward pass: at the node that sends
    it (``node_finished``), or where it arrives if the sender was not seen (a
    non-finite seed, or outgoing statistics switched off)."""

    kinds = ("node_started", "node_finished")
    once_per_pass = True

    def __init__(self, enabled: bool = True):
        super().__init__("any non-finite gradient", enabled)

    def hit(self, cp):
        if cp.kind == "node_finished":
            return _nonfinite(cp.grads_out)
        return _nonfinite(cp.grads_in)


class GradNormBreakpoint(Breakpoint):
    """Stop at the first node of a pass whose incoming gradient norm exceeds
    ``threshold`` (optionally only node ``key``)."""

    kinds = ("node_started",)
    once_per_pass = True

    def __init__(self, threshold: float, key: str | None = None, enabled: bool = True):
        where = f" at {key}" if key else ""
        super().__init__(f"gradient norm > {threshold:g}{where}", enabled)
        self.threshold = float(threshold)
        self.key = key

    def hit(self, cp):
        if self.key is not None and cp.key != self.key:
            return False
        return _max_norm(cp.grads_in) > self.threshold


class LossBreakpoint(Breakpoint):
    """Stop when a backward pass starts from a loss that is non-finite (if
    ``nonfinite``) or above ``above`` (if given)."""

    kinds = ("backward_started",)

    def __init__(self, above: float | None = None, nonfinite: bool = True, enabled: bool = True):
        parts = []
        if nonfinite:
            parts.append("non-finite")
        if above is not None:
            parts.append(f"> {above:g}")
        if not parts:
            raise ValueError("LossBreakpoint needs nonfinite=True or a threshold 'above'")
        super().__init__("loss " + " or ".join(parts), enabled)
        self.above = above
        self.nonfinite = nonfinite

    def hit(self, cp):
        loss = cp.loss
        if loss is None:
            return False
        if not math.isfinite(loss):
            return self.nonfinite or (self.above is not None and loss > self.above)
        return self.above is not None and loss > self.above


class PredicateBreakpoint(Breakpoint):
    """Stop where ``predicate(checkpoint)`` is true, at checkpoints of ``kinds``
    (default: every node start and finish). An exception in the predicate propagates
    (a broken predicate must not pass silently)."""

    def __init__(self, predicate, description: str | None = None,
                 kinds=("node_started", "node_finished"), enabled: bool = True):
        if not callable(predicate):
            raise TypeError("PredicateBreakpoint needs a callable predicate(checkpoint)")
        name = getattr(predicate, "__name__", "predicate")
        super().__init__(description or f"predicate {name}", enabled)
        self.predicate = predicate
        self.kinds = tuple(kinds)

    def hit(self, cp):
        return bool(self.predicate(cp))


class BreakpointList:
    """The breakpoints of a session. Signal ``changed()`` after add/remove/enable."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: list[Breakpoint] = []
        self._active: tuple[Breakpoint, ...] = ()   # enabled ones, read without the lock
        self.changed = Signal("breakpoints.changed")

    def _refresh(self):
        self._active = tuple(b for b in self._items if b.enabled)

    def add(self, bp: Breakpoint) -> Breakpoint:
        """Add ``bp`` and return it."""
        if not isinstance(bp, Breakpoint):
            raise TypeError(f"expected a Breakpoint, got {type(bp).__name__}")
        with self._lock:
            self._items.append(bp)
            bp._owner = self
            self._refresh()
        self.changed.emit()
        return bp

    def remove(self, bp_or_id) -> None:
        """Remove a breakpoint (object or id); KeyError if unknown."""
        bp = self.get(bp_or_id)
        with self._lock:
            self._items.remove(bp)
            bp._owner = None
            self._refresh()
        self.changed.emit()

    def get(self, bp_or_id) -> Breakpoint:
        if isinstance(bp_or_id, Breakpoint):
            if bp_or_id in self._items:
                return bp_or_id
        else:
            for b in self._items:
                if b.id == bp_or_id:
                    return b
        raise KeyError(f"no breakpoint {bp_or_id!r}")

    def set_enabled(self, bp_or_id, enabled: bool) -> None:
        """Enable or disable a breakpoint (object or id); same as ``bp.enabled = x``."""
        self.get(bp_or_id).enabled = enabled

    def _enabled_changed(self) -> None:
        with self._lock:
            self._refresh()
        self.changed.emit()

    def clear(self) -> None:
        with self._lock:
            for b in self._items:
                b._owner = None
            self._items.clear()
            self._refresh()
        self.changed.emit()

    def list(self) -> list[Breakpoint]:
        """All breakpoints, in the order added."""
        return list(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    @property
    def any_enabled(self) -> bool:
        return bool(self._active)

    def check(self, cp) -> Breakpoint | None:
        """The first enabled breakpoint that hits at ``cp``, or None."""
        for b in self._active:
            if b.check(cp):
                return b
        return None
