"""Gradient health flags per node and per parameter: vanishing, exploding, non-finite.

Rules (thresholds in :class:`HealthThresholds`, all configurable):

- ``nonfinite``: the gradient holds a NaN or an Inf.
- ``exploding``: the gradient norm is above ``explode_norm``.
- ``vanishing``: for a parameter, grad norm < ``vanish_ratio`` x weight norm; for a
  node (no weight to compare with), grad norm < ``vanish_abs``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from ..signals import Signal

__all__ = ["HealthThresholds", "HealthModel", "VANISHING", "EXPLODING", "NONFINITE"]

_EMPTY = frozenset()
VANISHING = "vanishing"
EXPLODING = "exploding"
NONFINITE = "nonfinite"


@dataclass(slots=True)
class HealthThresholds:
    vanish_ratio: float = 1e-7
    vanish_abs: float = 1e-12
    explode_norm: float = 1e3


def classify(grad, weight_norm: float | None, th: HealthThresholds) -> frozenset:
    """Flags for one gradient ``grad`` (a :class:`~autograd_viz.models.stats.Stats`)."""
    if grad is None:
        return _EMPTY
    norm = grad.norm
    if (grad.nan == 0 and grad.inf == 0 and norm <= th.explode_norm
            and (norm >= th.vanish_ratio * weight_norm if weight_norm is not None
                 else (norm >= th.vanish_abs or not grad.n))):
        return _EMPTY                    # healthy: the common case, no set built
    flags = set()
    if not grad.finite or not math.isfinite(grad.norm):
        flags.add(NONFINITE)
    elif grad.norm > th.explode_norm:
        flags.add(EXPLODING)
    elif weight_norm is not None:
        if weight_norm > 0 and grad.norm < th.vanish_ratio * weight_norm:
            flags.add(VANISHING)
    elif grad.n and grad.norm < th.vanish_abs:
        flags.add(VANISHING)
    return frozenset(flags)


class HealthModel:
    """Current flags: ``nodes[key]`` and ``params[name]`` -> frozenset of
    ``'vanishing'``/``'exploding'``/``'nonfinite'`` (only entries with a flag are kept).

    Signal ``changed(kind, name, flags)`` when an entry's flags change (kind is
    ``'node'`` or ``'param'``; flags empty when it became healthy).
    """

    def __init__(self, thresholds: HealthThresholds | None = None):
        self.thresholds = thresholds or HealthThresholds()
        self.lock = threading.RLock()
        self.nodes: dict[str, frozenset] = {}
        self.params: dict[str, frozenset] = {}
        self.changed = Signal("health.changed")

    def check_node(self, key: str, grad_stats) -> frozenset:
        """Classify a node from its incoming gradients (a list of Stats/None); the
        worst flag of any output wins."""
        flags = frozenset()
        for s in grad_stats:
            flags = flags | classify(s, None, self.thresholds)
        self._set(self.nodes, "node", key, flags)
        return flags

    def check_nodes(self, items) -> dict:
        """Bulk :meth:`check_node` over ``(key, grad_stats)`` pairs; returns key -> flags.
        ``changed`` is emitted only for entries whose flags changed."""
        th = self.thresholds
        lo, hi = th.vanish_abs, th.explode_norm
        out, changed = {}, []
        empty = _EMPTY
        with self.lock:
            table = self.nodes
            for key, stats_list in items:
                flags = empty
                for st in stats_list:
                    # Healthy (the common case) decided inline: finite, not exploding, not
                    # vanishing; anything else goes through classify().
                    if st is not None and (st.nan or st.inf or not lo <= st.norm <= hi):
                        f = classify(st, None, th)
                        if f:
                            flags = flags | f
                out[key] = flags
                if flags or key in table:
                    _store(table, key, flags, changed)
        for key, flags in changed:
            self.changed.emit("node", key, flags)
        return out

    def check_param(self, name: str, grad, weight_norm: float | None) -> frozenset:
        """Classify a parameter from its gradient Stats and its weight norm."""
        flags = classify(grad, weight_norm, self.thresholds)
        self._set(self.params, "param", name, flags)
        return flags

    def check_params(self, items) -> dict:
        """Bulk :meth:`check_param` over ``(name, grad_stats, weight_norm)`` triples;
        returns name -> flags. ``changed`` is emitted only for entries whose flags changed."""
        th = self.thresholds
        hi, ratio = th.explode_norm, th.vanish_ratio
        out, changed = {}, []
        empty = _EMPTY
        with self.lock:
            table = self.params
            for name, grad, wn in items:
                if grad is None or (not grad.nan and not grad.inf and grad.norm <= hi
                                    and wn is not None and grad.norm >= ratio * wn):
                    flags = empty                # healthy, decided inline
                else:
                    flags = classify(grad, wn, th)
                out[name] = flags
                if flags or name in table:
                    _store(table, name, flags, changed)
        for name, flags in changed:
            self.changed.emit("param", name, flags)
        return out

    def _set(self, table, kind, name, flags):
        with self.lock:
            old = table.get(name, frozenset())
            if flags:
                table[name] = flags
            else:
                table.pop(name, None)
        if old != flags:
            self.changed.emit(kind, name, flags)

    def issues(self) -> list[tuple[str, str, frozenset]]:
        """All flagged entries as (kind, name, flags), parameters first."""
        with self.lock:
            return ([("param", k, v) for k, v in self.params.items()]
                    + [("node", k, v) for k, v in self.nodes.items()])

    def clear(self) -> None:
        with self.lock:
            self.nodes.clear()
            self.params.clear()


def _store(table: dict, name, flags: frozenset, changed: list) -> None:
    """Put ``flags`` for ``name`` in ``table`` (healthy entries are absent) and note a change."""
    if table.get(name, _EMPTY) != flags:
        if flags:
            table[name] = flags
        else:
            del table[name]
        changed.append((name, flags))
