"""Loss, metric and per-layer gradient-norm history with bounded memory.

A :class:`Series` keeps the last ``recent`` points at full resolution and everything
older in at most ``buckets`` buckets: when the bucket store is full, neighbouring
buckets merge pairwise (each bucket keeps first/last iteration, sum, count, min, max),
so resolution halves for old data while memory stays fixed — over 100,000 iterations
or ten million. Non-finite values are kept as they are in the recent window and
counted (not averaged) in the buckets.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..signals import Signal

__all__ = ["Series", "HistoryModel"]


class Series:
    """One scalar per iteration, memory bounded by ``recent + buckets`` entries."""

    __slots__ = ("name", "recent", "buckets", "_x", "_y", "_head", "_b", "_n_total", "_last")

    def __init__(self, name: str = "", recent: int = 2000, buckets: int = 1000):
        if recent < 1 or buckets < 2:
            raise ValueError("Series needs recent >= 1 and buckets >= 2")
        self.name = name
        self.recent = recent
        self.buckets = buckets
        self._x: list[int] = []
        self._y: list[float] = []
        self._head = 0                      # index of the oldest live recent point
        # buckets: [first_it, last_it, sum, count, min, max, nonfinite]
        self._b: list[list] = []
        self._n_total = 0
        self._last: tuple[int, float] | None = None

    def append(self, iteration: int, value: float) -> None:
        """Add the value of ``iteration`` (iterations should increase)."""
        value = float(value)
        self._x.append(iteration)
        self._y.append(value)
        self._n_total += 1
        self._last = (iteration, value)
        if len(self._x) - self._head > self.recent:
            old_x, old_y = self._x[self._head], self._y[self._head]
            self._head += 1
            self._push_bucket(old_x, old_y)
            if self._head > self.recent:    # compact the consumed prefix now and then
                del self._x[: self._head], self._y[: self._head]
                self._head = 0

    def _push_bucket(self, x: int, y: float) -> None:
        if math.isfinite(y):
            self._b.append([x, x, y, 1, y, y, 0])
        else:
            self._b.append([x, x, 0.0, 0, math.inf, -math.inf, 1])
        if len(self._b) > self.buckets:
            b = self._b
            merged = []
            for i in range(0, len(b) - 1, 2):
                p, q = b[i], b[i + 1]
                merged.append([p[0], q[1], p[2] + q[2], p[3] + q[3], min(p[4], q[4]),
                               max(p[5], q[5]), p[6] + q[6]])
            if len(b) % 2:
                merged.append(b[-1])
            self._b = merged

    def __len__(self) -> int:
        """Number of stored points (buckets + recent), not the number appended."""
        return len(self._b) + len(self._x) - self._head

    @property
    def count(self) -> int:
        """How many values were appended in all."""
        return self._n_total

    def last(self) -> tuple[int, float] | None:
        """(iteration, value) of the newest point, or None."""
        return self._last

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) arrays for plotting: bucket means at their mid iteration, then the
        recent points as they were (a bucket with only non-finite values plots NaN)."""
        bx = [(b[0] + b[1]) / 2 for b in self._b]
        by = [b[2] / b[3] if b[3] else math.nan for b in self._b]
        x = np.array(bx + self._x[self._head:], dtype=np.float64)
        y = np.array(by + self._y[self._head:], dtype=np.float64)
        return x, y

    def envelope(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, min, max) per stored point (equal for the recent points)."""
        x, y = self.points()
        lo = np.array([b[4] if b[3] else math.nan for b in self._b] + self._y[self._head:])
        hi = np.array([b[5] if b[3] else math.nan for b in self._b] + self._y[self._head:])
        return x, lo, hi

    def recent_points(self) -> tuple[list[int], list[float]]:
        """The full-resolution window as lists (x, y)."""
        return self._x[self._head:], self._y[self._head:]


class HistoryModel:
    """Per-iteration history of a run: the loss, user metrics (``session.log``) and the
    gradient norm of every parameter ("gradient flow" over time).

    Signals: ``appended(iteration)`` after an iteration's values were added;
    ``series_added(name)`` when a new metric or parameter first appears.
    ``names()`` lists series: ``'loss'``, metric names, and ``'grad_norm/<param>'``.
    """

    def __init__(self, recent: int = 2000, buckets: int = 1000):
        self.lock = threading.RLock()
        self._recent = recent
        self._buckets = buckets
        self.loss = Series("loss", recent, buckets)
        self.metrics: dict[str, Series] = {}
        self.grad_norms: dict[str, Series] = {}
        self.iterations = 0             # iterations appended
        self.last_iteration = -1
        self.appended = Signal("history.appended")
        self.series_added = Signal("history.series_added")

    def _series(self, table: dict, name: str, label: str) -> Series:
        s = table.get(name)
        if s is None:
            s = table[name] = Series(label, self._recent, self._buckets)
            self.series_added.emit(label)
        return s

    def append_iteration(self, iteration: int, loss: float | None, metrics: dict | None = None,
                         grad_norms: dict | None = None) -> None:
        """Add one iteration's values (``None`` loss: no scalar loss seen)."""
        with self.lock:
            if loss is not None:
                self.loss.append(iteration, loss)
            for k, v in (metrics or {}).items():
                self._series(self.metrics, k, k).append(iteration, v)
            for k, v in (grad_norms or {}).items():
                self._series(self.grad_norms, k, "grad_norm/" + k).append(iteration, v)
            self.iterations += 1
            self.last_iteration = iteration
        self.appended.emit(iteration)

    def names(self) -> list[str]:
        return (["loss"] + list(self.metrics)
                + ["grad_norm/" + k for k in self.grad_norms])

    def series(self, name: str) -> Series:
        """The series called ``name`` (see :meth:`names`); KeyError if unknown."""
        if name == "loss":
            return self.loss
        if name.startswith("grad_norm/") and name[10:] in self.grad_norms:
            return self.grad_norms[name[10:]]
        if name in self.metrics:
            return self.metrics[name]
        raise KeyError(f"no history series {name!r}; known: {self.names()}")

    def stored_points(self) -> int:
        """Total points held in memory across all series (the memory bound's measure)."""
        return (len(self.loss) + sum(len(s) for s in self.metrics.values())
                + sum(len(s) for s in self.grad_norms.values()))

    def clear(self) -> None:
        with self.lock:
            self.loss = Series("loss", self._recent, self._buckets)
            self.metrics.clear()
            self.grad_norms.clear()
            self.iterations = 0
            self.last_iteration = -1
