"""Tensor statistics computed on the device, and the per-parameter statistics model.

:func:`compute_stats` reduces a backend array (numpy or CuPy) where it lives: a handful
of reductions, then one small transfer of eight numbers. A whole array is copied to the
host only when someone asks for it (:meth:`StatsModel.fetch_array`, a heatmap).

Fast path: if the sum of squares is finite, every element is finite, so NaN/Inf counts
are zero without an extra ``isfinite`` pass, and the variance comes from the sums
(recomputed exactly when cancellation could bite).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from ..signals import Signal

__all__ = [
    "Stats", "Histogram", "ParamStats", "StatsModel",
    "compute_stats", "compute_histogram", "array_module", "to_host", "l2_norm", "fast_sum",
]


def array_module(arr):
    """numpy or cupy for ``arr`` (engine's ``get_array_module`` when the engine is there)."""
    if isinstance(arr, np.ndarray) or np.isscalar(arr):
        return np
    try:
        from engine.backend import get_array_module
    except Exception:  # pragma: no cover - engine missing or broken: numpy is the only choice
        return np
    return get_array_module(arr)


def to_host(arr) -> np.ndarray:
    """A numpy copy of a backend array (CuPy's ``.get()``), or the array itself on the CPU."""
    if isinstance(arr, np.ndarray):
        return arr
    get = getattr(arr, "get", None)
    if get is not None:
        return get()
    return np.asarray(arr)


_ones: dict = {}


def fast_sum(flat: np.ndarray) -> float:
    """Sum of a 1-D numpy array as a BLAS dot with ones (about twice as fast as
    ``ndarray.sum``'s pairwise loop for float32; accurate enough for statistics)."""
    dt = flat.dtype
    ones = _ones.get(dt)
    if ones is None and dt not in (np.float32, np.float64):
        return float(flat.sum(dtype=np.float64))
    n = flat.size
    if ones is None or ones.size < n:
        ones = _ones[dt] = np.ones(max(n, 1 << 16), dtype=dt)
    return float(np.dot(flat, ones[:n]))


@dataclass(slots=True)
class Stats:
    """Summary of one tensor (treat as read-only; not frozen only because creating a
    frozen dataclass costs several times more, and one is made per gradient). ``mean``/``std``/``min``/``max`` are over the finite
    elements only (NaN when there are none); ``norm`` is the L2 norm over all elements
    (so it is NaN/Inf when the tensor is); ``nan``/``inf`` count the bad elements."""

    n: int
    norm: float
    mean: float
    std: float
    min: float
    max: float
    nan: int = 0
    inf: int = 0

    @property
    def finite(self) -> bool:
        """True when no element is NaN or Inf."""
        return self.nan == 0 and self.inf == 0

    def as_dict(self) -> dict:
        return {"n": self.n, "norm": self.norm, "mean": self.mean, "std": self.std,
                "min": self.min, "max": self.max, "nan": self.nan, "inf": self.inf}

    @classmethod
    def from_dict(cls, d) -> "Stats":
        return cls(int(d["n"]), float(d["norm"]), float(d["mean"]), float(d["std"]),
                   float(d["min"]), float(d["max"]), int(d.get("nan", 0)), int(d.get("inf", 0)))


_NAN = float("nan")
EMPTY_STATS = Stats(0, 0.0, _NAN, _NAN, _NAN, _NAN, 0, 0)


_dot = np.dot
_minr = np.minimum.reduce
_maxr = np.maximum.reduce
_isfinite = math.isfinite
_sqrt = math.sqrt


def compute_stats(arr) -> Stats:
    """Statistics of a backend array (numpy/CuPy, any shape, float or int), reduced on
    its device. Integer and bool arrays are promoted to float64 first."""
    if type(arr) is np.ndarray and arr.dtype.kind == "f" and arr.size:
        # The hot path (one call per gradient tensor): four BLAS/ufunc reductions.
        flat = arr.reshape(-1)
        ss = float(_dot(flat, flat))
        if _isfinite(ss):
            n = flat.size
            mean = fast_sum(flat) / n
            var = ss / n - mean * mean
            if n > 1 and var <= 1e-4 * mean * mean:   # cancellation: compute exactly
                var = float(flat.var(dtype=np.float64))
            return Stats(n, _sqrt(ss), mean, _sqrt(var) if var > 0.0 else 0.0,
                         float(_minr(flat)), float(_maxr(flat)), 0, 0)
    xp = array_module(arr)
    n = int(arr.size)
    if n == 0:
        return EMPTY_STATS
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "c":
        arr = xp.abs(arr)
    flat = arr.reshape(-1)
    if xp is not np:
        vals = xp.stack([xp.sum(flat * flat, dtype=xp.float64), xp.sum(flat, dtype=xp.float64),
                         xp.min(flat).astype(xp.float64), xp.max(flat).astype(xp.float64)])
        ss, s, lo, hi = (float(v) for v in to_host(vals))
        if math.isfinite(ss):
            mean = s / n
            var = ss / n - mean * mean
            if n > 1 and var <= 1e-4 * mean * mean:
                var = float(xp.var(flat, dtype=xp.float64))
            return Stats(n, math.sqrt(ss), mean, math.sqrt(max(var, 0.0)), lo, hi, 0, 0)
    else:
        ss = float(np.dot(flat, flat))
        if math.isfinite(ss):
            mean = float(flat.sum(dtype=np.float64)) / n
            var = ss / n - mean * mean
            if n > 1 and var <= 1e-4 * mean * mean:
                var = float(flat.var(dtype=np.float64))
            return Stats(n, math.sqrt(ss), mean, math.sqrt(max(var, 0.0)),
                         float(flat.min()), float(flat.max()), 0, 0)
    return _stats_with_nonfinite(xp, flat, n)


def l2_norm(arr) -> float:
    """The L2 norm of a backend array, reduced on its device (NaN/Inf propagate)."""
    xp = array_module(arr)
    flat = arr.reshape(-1)
    if flat.dtype.kind not in "fc":
        flat = flat.astype(np.float64)
    if xp is np:
        return math.sqrt(float(np.dot(flat, flat))) if flat.size else 0.0
    return float(xp.sqrt(xp.sum(flat * flat, dtype=xp.float64)))


def _stats_with_nonfinite(xp, flat, n) -> Stats:
    """Slow path: some element is NaN/Inf (or the squares overflowed)."""
    isnan = xp.isnan(flat)
    isinf = xp.isinf(flat)
    nan = int(isnan.sum())
    inf = int(isinf.sum())
    f64 = flat.astype(xp.float64)
    norm = float(xp.sqrt(xp.sum(f64 * f64)))
    good = f64[~(isnan | isinf)] if (nan or inf) else f64
    if good.size == 0:
        return Stats(n, norm, _NAN, _NAN, _NAN, _NAN, nan, inf)
    return Stats(n, norm, float(good.mean()), float(good.std()), float(good.min()),
                 float(good.max()), nan, inf)


@dataclass(frozen=True, slots=True)
class Histogram:
    """A fixed-bin histogram: ``len(counts)`` equal bins spanning ``[lo, hi]`` (finite
    values only). Bin edges are ``numpy.linspace(lo, hi, len(counts) + 1)``."""

    lo: float
    hi: float
    counts: np.ndarray

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.lo, self.hi, len(self.counts) + 1)


def compute_histogram(arr, bins: int = 32, stats: Stats | None = None) -> Histogram:
    """Histogram of the finite values of a backend array, computed on its device; only
    the ``bins`` counts come back to the host. ``stats`` (if known) saves the min/max pass."""
    xp = array_module(arr)
    flat = arr.reshape(-1)
    if stats is None:
        stats = compute_stats(arr)
    lo, hi = stats.min, stats.max
    if stats.n == 0 or not (math.isfinite(lo) and math.isfinite(hi)):
        return Histogram(0.0, 0.0, np.zeros(bins, dtype=np.int64))
    if not stats.finite:
        flat = flat[xp.isfinite(flat)]
    if hi <= lo:                     # constant tensor: a unit-wide range around it
        lo, hi = lo - 0.5, hi + 0.5
    counts, _ = xp.histogram(flat, bins=bins, range=(lo, hi))
    return Histogram(float(lo), float(hi), to_host(counts).astype(np.int64))


@dataclass(slots=True)
class ParamStats:
    """What is known about one parameter after an iteration.

    ``weight``/``grad``: statistics of the value and of ``.grad`` (None when it has no
    gradient); ``update_norm``: norm of the change made by the last optimizer step
    (None without an optimizer step this iteration); ``ratio``: update_norm / weight
    norm; ``hist_values`` / ``hist_grads``: histograms when this iteration took them."""

    name: str
    iteration: int
    shape: tuple
    weight: Stats | None = None
    grad: Stats | None = None
    update_norm: float | None = None
    ratio: float | None = None
    hist_values: Histogram | None = None
    hist_grads: Histogram | None = None

    @property
    def weight_norm(self) -> float | None:
        return None if self.weight is None else self.weight.norm


@dataclass(slots=True)
class NodeStats:
    """Gradient statistics of one backward node in the last pass: one entry per forward
    output for ``grad_in`` (what arrived) and one per ``next_functions`` edge for
    ``grad_out`` (what it sent); None where no gradient flowed."""

    key: str
    iteration: int
    grad_in: list = field(default_factory=list)
    grad_out: list = field(default_factory=list)


class StatsModel:
    """Per-parameter and per-node statistics of the current iteration.

    Signals: ``updated(iteration)`` after the parameter statistics of an iteration are
    complete (after the optimizer step, or the backward pass without an optimizer);
    ``node_updated(key)`` when a node's gradient statistics change during a pass
    (``key`` None: many nodes at once, at the end of an unobserved pass).

    Reading from another thread: take :attr:`lock` (or use :meth:`snapshot`).
    """

    def __init__(self):
        self.lock = threading.RLock()
        self.params: dict[str, ParamStats] = {}
        self.nodes: dict[str, NodeStats] = {}
        self.iteration: int = -1
        self.updated = Signal("stats.updated")
        self.node_updated = Signal("stats.node_updated")
        # Live tensors (by parameter name) for fetch_array; set by the watcher.
        self._tensors: dict = {}
        self._node_grads: dict = {}

    # -- reading ---------------------------------------------------------------------

    def param(self, name: str) -> ParamStats | None:
        """Latest statistics of parameter ``name`` (``'conv1.weight'``), or None."""
        return self.params.get(name)

    def node(self, key: str) -> NodeStats | None:
        """Gradient statistics of node ``key`` in the last backward pass, or None."""
        return self.nodes.get(key)

    def param_names(self) -> list[str]:
        return list(self.params)

    def snapshot(self) -> tuple[dict, dict]:
        """Shallow copies (params, nodes), consistent with one another."""
        with self.lock:
            return dict(self.params), dict(self.nodes)

    def fetch_array(self, name: str, which: str = "value", index: int = 0) -> np.ndarray:
        """A host copy of a whole tensor, made now (for a heatmap).

        ``name`` is a parameter name with ``which`` in ``'value'``/``'grad'``, or a node
        key with ``which`` in ``'grad_in'``/``'grad_out'`` (``index`` picks the output
        or edge; node gradients are only alive during a pass, e.g. while paused).
        Raises KeyError naming what is not available.
        """
        if which in ("value", "grad"):
            t = self._tensors.get(name)
            if t is None:
                raise KeyError(f"no live parameter named {name!r} (known: {sorted(self._tensors)[:8]}...)")
            if which == "grad":
                t = t.grad
                if t is None:
                    raise KeyError(f"parameter {name!r} has no .grad yet")
            return np.array(to_host(t._data), copy=True)
        if which in ("grad_in", "grad_out"):
            grads = self._node_grads.get((name, which))
            if grads is None:
                raise KeyError(f"node {name!r}: {which} is not alive (only during a backward pass)")
            if not 0 <= index < len(grads) or grads[index] is None:
                raise KeyError(f"node {name!r}: no {which}[{index}]")
            return np.array(to_host(grads[index]._data), copy=True)
        raise ValueError(f"which must be 'value', 'grad', 'grad_in' or 'grad_out', not {which!r}")

    # -- writing (the watcher / replay) ------------------------------------------------

    def set_param(self, ps: ParamStats) -> None:
        with self.lock:
            self.params[ps.name] = ps

    def set_node(self, ns: NodeStats) -> None:
        with self.lock:
            self.nodes[ns.key] = ns
        self.node_updated.emit(ns.key)

    def set_nodes(self, items) -> None:
        """Bulk :meth:`set_node` (one lock, one ``node_updated(None)`` signal)."""
        with self.lock:
            for ns in items:
                self.nodes[ns.key] = ns
        self.node_updated.emit(None)

    def finish_iteration(self, iteration: int) -> None:
        """Mark the statistics of ``iteration`` complete and emit ``updated``."""
        self.iteration = iteration
        self.updated.emit(iteration)

    def clear(self) -> None:
        with self.lock:
            self.params.clear()
            self.nodes.clear()
            self._node_grads.clear()
            self.iteration = -1
