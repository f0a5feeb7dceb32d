"""Tensor statistics computed on the device, and the per-parameter statistics model.

:func:`compute_stats` reduces a backend array (numpy or CuPy) where it lives: a handful
of reductions, then one small transfer of eight numbers. A whole array is copied to the
host only when someone asks for it (:meth:`StatsModel.fetch_array`, a heatmap).

It runs once per gradient tensor of every backward pass, so the numpy path is lean:
four passes over the data (sum of squares as one BLAS dot, sum as a BLAS product with
ones, min, max) and nothing else. If the sum of squares is finite, every element is
finite, so the NaN/Inf counts are zero without an ``isfinite`` pass; the variance comes
from the two sums (float32 BLAS partial sums over at most :data:`CHUNK` elements, added
in float64), recomputed exactly in float64 when the mean dominates the spread and
cancellation could cost digits.

Small arrays cost more in calls than in data, so they are reduced many at a time:
:func:`fill_stats` (the watcher's queued gradients), :func:`compute_stats_many`,
:func:`step_stats` (parameters and the size of an optimizer step, from one
:func:`snapshot_arrays` buffer): one concatenation into a reused buffer, then one
segmented reduction (``ufunc.reduceat``) per statistic. :func:`compute_histogram` bins
float arrays itself, with numpy's edges and rule, without ``numpy.histogram``'s overhead.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass, field

import numpy as np

from ..signals import Signal

__all__ = [
    "Stats", "Histogram", "ParamStats", "StatsModel", "NodeStats", "EMPTY_STATS",
    "compute_stats", "compute_stats_many", "compute_histogram", "compute_histograms",
    "array_module", "to_host",
    "l2_norm", "diff_norms", "fast_sum", "fill_stats", "pending_stats", "batchable",
    "snapshot_arrays", "step_stats", "array_nonfinite", "same_elements_owner",
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
#: Above this many elements a sum is taken as row sums of a (rows, ROW) matrix (one GEMV
#: that reads the data once) rather than a dot with a ones vector as long as the data.
ROWSUM_MIN = 1 << 16
ROW = 1024
#: Largest run summed by one BLAS call: float32 partial sums over at most this many
#: elements, added in float64, keep the relative error near 1e-7 for any size.
CHUNK = 1 << 20


def _ones_for(dt, n):
    ones = _ones.get(dt)
    if ones is None or ones.size < n:
        ones = _ones[dt] = np.ones(max(n, ROWSUM_MIN), dtype=dt)
    return ones


def fast_sum(flat: np.ndarray) -> float:
    """Sum of a 1-D numpy array by BLAS (a dot with ones, or row sums of a matrix view for
    large arrays; about twice as fast as ``ndarray.sum``'s pairwise loop for float32;
    partial sums in the array's dtype over at most :data:`CHUNK` elements, added in
    float64)."""
    dt = flat.dtype
    if dt.kind != "f" or dt.itemsize < 4:
        return float(flat.sum(dtype=np.float64))
    n = flat.size
    if n > CHUNK:
        return math.fsum(fast_sum(flat[i:i + CHUNK]) for i in range(0, n, CHUNK))
    if n < ROWSUM_MIN:
        return float(_dot(flat, _ones_for(dt, n)[:n]))
    m = n // ROW
    head = m * ROW
    ones = _ones_for(dt, ROW)
    s = float(_dot(flat[:head].reshape(m, ROW), ones[:ROW]).sum(dtype=np.float64))
    if head < n:
        s += float(_dot(flat[head:], ones[:n - head]))
    return s


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
_ndarray = np.ndarray
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
#: The variance from the sums is trusted while var > CANCEL * mean**2 (relative error of
#: the std then stays below ~1e-6); below, it is recomputed exactly in float64.
CANCEL = 0.1


def compute_stats(arr) -> Stats:
    """Statistics of a backend array (numpy/CuPy, any shape, float or int), reduced on
    its device. Integer and bool arrays are promoted to float64 first."""
    if type(arr) is _ndarray:
        dt = arr.dtype
        if (dt is _F32 or dt is _F64) and 0 < arr.size <= CHUNK:
            # The hot path (one call per gradient tensor): four reductions, no copies
            # (ravel('K') is a view of any C- or F-contiguous array).
            flat = arr.ravel("K")
            ss = float(_dot(flat, flat))
            if _isfinite(ss):
                n = flat.size
                if n < ROWSUM_MIN:
                    ones = _ones.get(dt)
                    if ones is None:
                        ones = _ones_for(dt, n)
                    mean = float(_dot(flat, ones[:n])) / n
                else:
                    mean = fast_sum(flat) / n
                var = ss / n - mean * mean
                if var <= CANCEL * mean * mean and n > 1:   # cancellation: compute exactly
                    var = float(flat.var(dtype=np.float64))
                lo, hi = float(_minr(flat)), float(_maxr(flat))
                return Stats(n, _sqrt(ss), lo if mean < lo else (hi if mean > hi else mean),
                             _sqrt(var) if var > 0.0 else 0.0, lo, hi, 0, 0)
    return _compute_stats_general(arr)


def _compute_stats_general(arr) -> Stats:
    xp = array_module(arr)
    n = int(arr.size)
    if n == 0:
        return EMPTY_STATS
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "c":
        arr = xp.abs(arr)
    if xp is not np:
        flat = arr.reshape(-1)
        vals = xp.stack([xp.sum(flat * flat, dtype=xp.float64), xp.sum(flat, dtype=xp.float64),
                         xp.min(flat).astype(xp.float64), xp.max(flat).astype(xp.float64)])
        ss, s, lo, hi = (float(v) for v in to_host(vals))
        if math.isfinite(ss):
            mean = s / n
            var = ss / n - mean * mean
            if n > 1 and var <= CANCEL * mean * mean:
                var = float(xp.var(flat, dtype=xp.float64))
            return Stats(n, math.sqrt(ss), mean, math.sqrt(max(var, 0.0)), lo, hi, 0, 0)
        return _stats_with_nonfinite(xp, flat, n)
    flat = arr.ravel("K")
    if flat.dtype.kind != "f" or flat.dtype.itemsize < 4:
        flat = flat.astype(np.float64)
    ss = s = 0.0
    lo, hi = math.inf, -math.inf
    for i in range(0, n, CHUNK):             # float64 totals of BLAS partial sums
        c = flat[i:i + CHUNK]
        ss += float(_dot(c, c))
        s += fast_sum(c)
        lo = min(lo, float(_minr(c)))
        hi = max(hi, float(_maxr(c)))
    if math.isfinite(ss):
        mean = s / n
        var = ss / n - mean * mean
        if n > 1 and var <= CANCEL * mean * mean:
            var = float(flat.var(dtype=np.float64))
        return Stats(n, math.sqrt(ss), mean, math.sqrt(max(var, 0.0)), lo, hi, 0, 0)
    return _stats_with_nonfinite(np, flat, n)


#: Arrays up to this size are reduced together by :func:`compute_stats_many` and
#: :func:`fill_stats` (larger ones: four BLAS/ufunc passes each, see compute_stats).
BATCH_MAX = 1 << 16

_scratch = threading.local()


def _scratch_buffers(dtype, n: int):
    """Two reusable 1-D buffers of ``dtype`` with at least ``n`` elements (per thread):
    fresh large arrays cost page faults on every use; these are touched once."""
    bufs = getattr(_scratch, "bufs", None)
    if bufs is None:
        bufs = _scratch.bufs = {}
    pair = bufs.get(dtype)
    if pair is None or pair[0].size < n:
        size = max(n, 1 << 14)
        pair = bufs[dtype] = (np.empty(size, dtype), np.empty(size, dtype))
    return pair[0][:n], pair[1][:n]


def batchable(arr) -> bool:
    """True for the arrays :func:`fill_stats` reduces together: numpy float32/float64,
    non-empty, at most :data:`BATCH_MAX` elements."""
    return (type(arr) is _ndarray and (arr.dtype is _F32 or arr.dtype is _F64)
            and 0 < arr.size <= BATCH_MAX)


def pending_stats() -> Stats:
    """An empty :class:`Stats` to be filled by :func:`fill_stats` (reading a field first
    raises AttributeError)."""
    return Stats.__new__(Stats)


def fill_stats(pairs) -> None:
    """Fill each ``(stats, array)`` pair's :class:`Stats` (from :func:`pending_stats`) with
    the statistics of its :func:`batchable` array, all arrays of a dtype at once: one
    concatenation into a reused buffer, then one segmented reduction per statistic
    (``ufunc.reduceat``, pairwise sums) — about ten numpy calls for any number of small
    arrays, instead of four or more each. An array whose sum of squares is not finite,
    or whose variance needs the exact formula, is redone by :func:`compute_stats`."""
    groups: dict = {}
    for st, a in pairs:
        groups.setdefault(a.dtype, []).append((st, a))
    for dt, items in groups.items():
        if len(items) == 1:
            _copy_stats(items[0][0], compute_stats(items[0][1]))
            continue
        arrs = [a for _, a in items]
        sizes = [a.size for a in arrs]
        starts = np.zeros(len(sizes), dtype=np.intp)
        np.cumsum(sizes[:-1], out=starts[1:])
        buf, sq = _scratch_buffers(dt, int(starts[-1]) + sizes[-1])
        np.concatenate(arrs, axis=None, out=buf)
        _segment_stats(buf, sq, starts, sizes, [st for st, _ in items], arrs)


def _segment_stats(buf, sq, starts, sizes, out, arrs) -> None:
    """Fill the Stats ``out[j]`` of segment j of ``buf`` (``sq``: scratch of buf's size;
    ``arrs[j]``: the segment's own array, for the rare exact recomputation)."""
    mins = np.minimum.reduceat(buf, starts).tolist()
    maxs = np.maximum.reduceat(buf, starts).tolist()
    sums = np.add.reduceat(buf, starts).tolist()
    np.multiply(buf, buf, out=sq)
    sss = np.add.reduceat(sq, starts).tolist()
    for st, a, n, s, ss, lo, hi in zip(out, arrs, sizes, sums, sss, mins, maxs):
        mean = s / n
        var = ss / n - mean * mean
        if not _isfinite(ss) or (var <= CANCEL * mean * mean and n > 1):
            _copy_stats(st, compute_stats(a))
            continue
        st.n = n
        st.norm = _sqrt(ss)
        st.mean = lo if mean < lo else (hi if mean > hi else mean)   # rounding: keep in range
        st.std = _sqrt(var) if var > 0.0 else 0.0
        st.min = lo
        st.max = hi
        st.nan = 0
        st.inf = 0


def snapshot_arrays(arrays):
    """Copies of ``arrays`` taken together (before an optimizer step): ``(copies, flat)``
    where ``flat`` is the one buffer the :func:`batchable` arrays were copied into (in
    order; ``None`` unless they all were, with one dtype) and ``copies[i]`` a view of it
    shaped like ``arrays[i]``. Otherwise each array is copied on its own device."""
    if len(arrays) > 1 and all(batchable(a) for a in arrays) \
            and all(a.dtype == arrays[0].dtype for a in arrays):
        flat = np.concatenate(arrays, axis=None)
        copies, o = [], 0
        for a in arrays:
            copies.append(flat[o:o + a.size].reshape(a.shape))
            o += a.size
        return copies, flat
    return [array_module(a).array(a, copy=True) for a in arrays], None


def step_stats(news, flat_before):
    """``(compute_stats_many(news), diff_norms(news, before))`` when ``flat_before`` is the
    :func:`snapshot_arrays` buffer of the same arrays' earlier values: one concatenation
    of the new values serves both (segmented min/max/sums, then the difference's squares).
    Returns None when the arrays no longer fit that buffer (shapes or dtype changed)."""
    if flat_before is None or not news or not all(batchable(a) for a in news):
        return None
    dt = flat_before.dtype
    sizes = [a.size for a in news]
    if sum(sizes) != flat_before.size or any(a.dtype != dt for a in news):
        return None
    starts = np.zeros(len(sizes), dtype=np.intp)
    np.cumsum(sizes[:-1], out=starts[1:])
    buf, sq = _scratch_buffers(dt, flat_before.size)
    np.concatenate(news, axis=None, out=buf)
    stats = [Stats.__new__(Stats) for _ in news]
    _segment_stats(buf, sq, starts, sizes, stats, news)
    np.subtract(buf, flat_before, out=sq)
    np.multiply(sq, sq, out=sq)
    norms = [_sqrt(x) for x in np.add.reduceat(sq, starts).tolist()]
    return stats, norms


def _copy_stats(dst: Stats, src: Stats) -> None:
    dst.n, dst.norm, dst.mean, dst.std = src.n, src.norm, src.mean, src.std
    dst.min, dst.max, dst.nan, dst.inf = src.min, src.max, src.nan, src.inf


def compute_stats_many(arrays) -> list:
    """``[compute_stats(a) for a in arrays]``, with the small float numpy arrays reduced
    together by :func:`fill_stats`. Same results as :func:`compute_stats` up to rounding."""
    out = []
    pairs = []
    for a in arrays:
        if batchable(a):
            st = Stats.__new__(Stats)
            pairs.append((st, a))
            out.append(st)
        else:
            out.append(compute_stats(a))
    if pairs:
        fill_stats(pairs)
    return out


def diff_norms(news, olds) -> list:
    """``[l2_norm(a - b) for a, b in zip(news, olds)]`` (the size of an optimizer step per
    parameter), with the :func:`batchable` pairs of one dtype done together: their
    concatenations subtracted in reused buffers, one segmented sum of squares."""
    out = [None] * len(news)
    groups: dict = {}
    for i, (a, b) in enumerate(zip(news, olds)):
        if batchable(a) and type(b) is _ndarray and b.dtype == a.dtype:
            groups.setdefault(a.dtype, []).append(i)
        else:
            out[i] = l2_norm(a - b)
    for dt, idx in groups.items():
        if len(idx) == 1:
            i = idx[0]
            out[i] = l2_norm(news[i] - olds[i])
            continue
        sizes = [news[i].size for i in idx]
        starts = np.zeros(len(sizes), dtype=np.intp)
        np.cumsum(sizes[:-1], out=starts[1:])
        new, old = _scratch_buffers(dt, int(starts[-1]) + sizes[-1])
        np.concatenate([news[i] for i in idx], axis=None, out=new)
        np.concatenate([olds[i] for i in idx], axis=None, out=old)
        np.subtract(new, old, out=new)
        np.multiply(new, new, out=new)
        for i, ss in zip(idx, np.add.reduceat(new, starts).tolist()):
            out[i] = _sqrt(ss)
    return out


def same_elements_owner(arr):
    """The array owning ``arr``'s memory when ``arr`` holds exactly the owner's elements
    (a reshape, a transpose, a C/F-contiguous view of the whole buffer), else None.
    Statistics do not depend on the order of elements, so such arrays share them."""
    if type(arr) is not _ndarray:
        return None
    base = arr.base
    if base is None:
        return arr
    if type(base) is not _ndarray or base.base is not None or base.size != arr.size \
            or base.dtype != arr.dtype:
        return None
    flags = arr.flags
    if flags.c_contiguous or flags.f_contiguous:
        return base
    return None


def array_nonfinite(arr) -> str | None:
    """'nan'/'inf'/'nan+inf' or None for a backend array: one device-side reduction (the
    sum of squares, a BLAS dot on the CPU) in the common finite case, exact checks only
    when it is not finite."""
    if type(arr) is _ndarray:
        dt = arr.dtype
        if dt is _F32 or dt is _F64:
            if not arr.size:
                return None
            flat = arr.ravel("K")
            if flat.size <= CHUNK and _isfinite(float(_dot(flat, flat))):
                return None
        elif dt.kind not in "fc" or arr.size == 0:
            return None
        xp = np
    else:
        if arr.dtype.kind not in "fc" or arr.size == 0:
            return None
        xp = array_module(arr)
    s = fast_sum(arr.ravel("K")) if xp is np else float(xp.sum(arr))
    if math.isfinite(s) and arr.dtype.kind == "f":
        return None
    has_nan = bool(xp.isnan(arr).any())
    has_inf = bool(xp.isinf(arr).any())
    if has_nan and has_inf:
        return "nan+inf"
    if has_nan:
        return "nan"
    if has_inf:
        return "inf"
    return None            # the squares or the sum overflowed, the values are finite


def l2_norm(arr) -> float:
    """The L2 norm of a backend array, reduced on its device (NaN/Inf propagate)."""
    xp = array_module(arr)
    flat = arr.reshape(-1)
    if flat.dtype.kind not in "fc":
        flat = flat.astype(np.float64)
    if xp is np:
        if flat.size > CHUNK:
            return math.sqrt(math.fsum(float(_dot(c, c)) for c in
                                       (flat[i:i + CHUNK] for i in range(0, flat.size, CHUNK))))
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
    the ``bins`` counts come back to the host. ``stats`` (if known) saves the min/max pass.
    Counts equal ``numpy.histogram(finite_values, bins, range=(lo, hi))``'s."""
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
    if xp is np and flat.dtype.kind == "f" and math.isfinite(float(flat.dtype.type(hi - lo))):
        counts = _uniform_counts(flat, float(lo), float(hi), bins)
    else:
        counts, _ = xp.histogram(flat, bins=bins, range=(lo, hi))
    return Histogram(float(lo), float(hi), to_host(counts).astype(np.int64))


_HIST_BLOCK = 1 << 16


def _uniform_counts(flat: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """``numpy.histogram(flat, bins, range=(lo, hi))[0]`` for a float array whose values
    all lie in ``[lo, hi]``, without its generic checks and masked assignments (the
    one-array case of :func:`_uniform_counts_many`)."""
    return _uniform_counts_many([flat], [lo], [hi], bins, np.result_type(lo, hi, flat))[0]


#: At most this many elements are binned together by :func:`compute_histograms`.
HIST_BATCH_MAX = 1 << 20


def compute_histograms(arrays, bins: int = 32, stats=None) -> list:
    """``[compute_histogram(a, bins, s) for a, s in zip(arrays, stats)]`` with the small
    finite float numpy arrays binned together: a network's parameters are many small
    arrays, and binning each costs a dozen numpy calls whatever its size. Same counts."""
    if stats is None:
        stats = compute_stats_many(arrays)
    out: list = [None] * len(arrays)
    groups: dict = {}
    for i, (a, st) in enumerate(zip(arrays, stats)):
        if batchable(a) and st is not None and st.n and st.finite:
            lo, hi = st.min, st.max
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            if math.isfinite(float(a.dtype.type(hi - lo))):
                groups.setdefault(a.dtype, []).append((i, a, lo, hi))
                continue
        out[i] = compute_histogram(a, bins, st)
    for dt, items in groups.items():
        batch, total = [], 0
        for item in items + [None]:
            if item is None or (batch and total + item[1].size > HIST_BATCH_MAX):
                counts = _uniform_counts_many([a for _, a, _, _ in batch],
                                              [lo for _, _, lo, _ in batch],
                                              [hi for _, _, _, hi in batch], bins, dt)
                for (i, _, lo, hi), c in zip(batch, counts):
                    out[i] = Histogram(float(lo), float(hi), c)
                batch, total = [], 0
            if item is not None:
                batch.append(item)
                total += item[1].size
    return out


def _uniform_counts_many(arrs, los, his, bins: int, dt) -> np.ndarray:
    """``numpy.histogram(a, bins, range=(lo, hi))[0]`` of each float array ``a`` (all its
    values in ``[lo, hi]``), as the rows of one array.

    Same rule and same edges as numpy: the edges are ``linspace(lo, hi, bins + 1)`` in
    ``dt``; value v goes to bin i when ``edges[i] <= v < edges[i + 1]`` (the last bin also
    takes ``hi``). The bin is estimated from the scaled value ``(v - lo) * scale``; only
    values whose estimate lies within rounding of a bin boundary (``tol``: a bound on the
    edges' and the arithmetic's rounding, in bins) are checked against the edges
    themselves. One array is binned in blocks of ``_HIST_BLOCK`` (bounded temporaries);
    several at once: each scaled with its own ``lo`` and scale into one buffer, the rest
    done once for all (the largest ``tol`` of them), and one ``bincount`` over
    ``segment * bins + bin``."""
    k = len(arrs)
    eps8 = 8.0 * float(np.finfo(dt).eps)
    scales = [bins / (hi - lo) for lo, hi in zip(los, his)]
    tol = max(eps8 * (max(abs(lo), abs(hi)) * sc + bins) + 1e-9
              for lo, hi, sc in zip(los, his, scales))
    tol = 1.0 if tol >= 0.25 else tol
    lo_dt, scale_dt = np.array(los, dt), np.array(scales, dt)
    if k == 1:
        edges = np.linspace(los[0], his[0], bins + 1, endpoint=True, dtype=dt)
        flat = arrs[0].reshape(-1)
        counts = np.zeros(bins, dtype=np.int64)
        for i in range(0, flat.size, _HIST_BLOCK):
            v = flat[i:i + _HIST_BLOCK].astype(dt, copy=False)
            f = v - lo_dt[0]
            f *= scale_dt[0]
            counts += np.bincount(_bin_of(v, f, tol, edges, bins), minlength=bins)
        return counts.reshape(1, bins)
    edges = _linspace_rows(np.array(los, np.float64), np.array(his, np.float64), bins, dt)
    ends = list(itertools.accumulate(a.size for a in arrs))
    v = np.concatenate(arrs, axis=None)
    if v.dtype != dt:
        v = v.astype(dt)
    f = np.empty_like(v)
    s = 0
    for j, e in enumerate(ends):
        np.subtract(v[s:e], lo_dt[j], out=f[s:e])
        np.multiply(f[s:e], scale_dt[j], out=f[s:e])
        s = e
    idx = _bin_of(v, f, tol, edges, bins, ends)
    s = ends[0]
    for j, e in enumerate(ends[1:], 1):
        idx[s:e] += j * bins
        s = e
    return np.bincount(idx, minlength=k * bins).astype(np.int64).reshape(k, bins)


def _linspace_rows(lo64, hi64, bins: int, dt) -> np.ndarray:
    """``numpy.linspace(lo, hi, bins + 1, dtype=dt)`` for each (lo, hi) pair, one row each,
    raveled; the arithmetic is linspace's own for one pair (float64 ``i * step + lo``, the
    last edge set to ``hi``), done for all rows at once. (``linspace`` given arrays of
    endpoints switches every row to its underflow formula when one row's step is zero;
    ``numpy.histogram`` bins each array against its own scalar linspace.)"""
    step = (hi64 - lo64) / bins
    y = np.arange(bins + 1, dtype=np.float64) * step[:, None]
    y += lo64[:, None]
    y[:, -1] = hi64
    if not step.all():          # a step that underflows to zero: linspace's other formula
        for r in np.flatnonzero(step == 0):
            y[r] = np.linspace(lo64[r], hi64[r], bins + 1, endpoint=True)
    return y.astype(dt).ravel()


def _bin_of(v, f, tol, edges, bins: int, ends=None) -> np.ndarray:
    """Bin index of each value of ``v`` from ``f``, its scaled value (``(v - lo) * scale``,
    overwritten). ``edges``: the rows of edges, ``bins + 1`` per array; ``ends``: where
    each array's values end in ``v`` (None: one array). A ``tol`` of 1 checks every value
    against the edges (the estimate is too coarse)."""
    fl = np.floor(f)
    last = bins - 1
    np.minimum(fl, last, out=fl)
    f -= fl                                          # position inside the bin
    idx = fl.astype(np.intp)
    near = np.flatnonzero((f < tol) | (f > 1.0 - tol))
    vn = v[near]
    kk = idx[near]
    b = 0 if ends is None else np.searchsorted(ends, near, side="right") * (bins + 1)
    kk -= vn < edges[b + kk]                         # estimate one too high
    kk += (vn >= edges[b + kk + 1]) & (kk != last)   # estimate one too low
    idx[near] = kk
    return idx


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

    def set_params(self, items) -> None:
        """Bulk :meth:`set_param` (one lock)."""
        with self.lock:
            params = self.params
            for ps in items:
                params[ps.name] = ps

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
