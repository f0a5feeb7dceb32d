"""Plain records of a recorded training run: what the writer stores and the reader gives back.

These dataclasses are the contract between the live debugger and the session file: the models
fill an :class:`IterationRecord` per training iteration and hand it to
``SessionWriter.write_iteration``; on replay ``SessionReader.read_iteration`` returns an equal
record, so the models can be rebuilt from the file exactly as they were live. They hold only
Python scalars, strings, dicts, lists and NumPy arrays (never engine tensors), and all fields are
keyword-only.

Equality is by content: floats compare with NaN equal to NaN (a NaN loss read back from a file
equals the NaN written), arrays by dtype, shape and values.

Node keys (:data:`NodeKey`) are ``str`` or ``int``, whichever the models use; both round-trip.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

__all__ = [
    "NodeKey", "EVENT_NONFINITE", "Stats", "StatsTable", "ParamStats", "Histogram", "Event", "NodeInfo",
    "GraphStructure", "RunInfo", "RunEnd", "IterationRecord",
]

#: How a graph node is named across records: a string or an int chosen by the models.
NodeKey = Union[str, int]

#: ``Event.kind`` for a non-finite (NaN/inf) value detected at a node.
EVENT_NONFINITE = "nonfinite"


def _same_float(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b or (math.isnan(a) and math.isnan(b))


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and bool(
        np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _check_key(key, what: str) -> None:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"{what} must be a str or an int, got {type(key).__name__} {key!r}")


# --------------------------------------------------------------------------------------------
# statistics

@dataclass(eq=False, kw_only=True)
class Stats:
    """Summary of one array (a node's gradient, a parameter's gradient).

    ``norm`` is the L2 norm; ``mean``/``std``/``min``/``max`` as NumPy computes them. The
    counts say how many entries were NaN or infinite; :meth:`from_array` computes the other
    fields over the finite entries only, so a few NaNs do not hide the scale of the rest.
    """

    norm: float
    mean: float
    std: float
    min: float
    max: float
    nan_count: int = 0
    inf_count: int = 0

    FLOAT_FIELDS = ("norm", "mean", "std", "min", "max")
    COUNT_FIELDS = ("nan_count", "inf_count")

    @classmethod
    def from_array(cls, array) -> "Stats":
        """Statistics of a NumPy array, accumulated in float64. An array with no finite entry
        gives NaN for every float field."""
        a = np.asarray(array)
        if a.dtype.kind == "c":
            a = np.abs(a)
        a = a.astype(np.float64, copy=False).ravel()
        finite_mask = np.isfinite(a)
        nan_count = int(np.count_nonzero(np.isnan(a)))
        inf_count = int(a.size - nan_count - np.count_nonzero(finite_mask))
        finite = a if nan_count + inf_count == 0 else a[finite_mask]
        if finite.size == 0:
            nan = math.nan
            return cls(norm=nan, mean=nan, std=nan, min=nan, max=nan,
                       nan_count=nan_count, inf_count=inf_count)
        return cls(norm=float(math.sqrt(float(np.dot(finite, finite)))),
                   mean=float(finite.mean()), std=float(finite.std()),
                   min=float(finite.min()), max=float(finite.max()),
                   nan_count=nan_count, inf_count=inf_count)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Stats):
            return NotImplemented
        return (all(_same_float(getattr(self, f), getattr(other, f)) for f in self.FLOAT_FIELDS)
                and self.nan_count == other.nan_count and self.inf_count == other.inf_count)

    __hash__ = None  # mutable, compared by content


class StatsTable(Mapping):
    """Many :class:`Stats` by key, held as two arrays: what a recorder builds for the node
    statistics of an iteration, and what the writer stores as is (one row of bytes per
    table, no per-value work). Reads as a read-only ``{key: Stats}`` mapping and compares
    equal to a dict with equal entries.

    ``keys``: a tuple of node keys; ``floats``: float64 ``(len(keys), 5)`` in
    :attr:`Stats.FLOAT_FIELDS` order; ``counts``: int64 ``(len(keys), 2)`` in
    :attr:`Stats.COUNT_FIELDS` order (non-negative).
    """

    __slots__ = ("keys_", "floats", "counts", "_index")

    def __init__(self, keys, floats, counts) -> None:
        keys = tuple(keys)
        for key in keys:
            if type(key) is not str:             # str keys (the usual) need no more checks
                _check_key(key, "node key")
        floats = np.ascontiguousarray(floats, dtype=np.float64)
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        n = len(keys)
        if floats.shape != (n, len(Stats.FLOAT_FIELDS)) or counts.shape != (n, len(Stats.COUNT_FIELDS)):
            raise ValueError(f"a StatsTable of {n} keys needs floats of shape "
                             f"({n}, {len(Stats.FLOAT_FIELDS)}) and counts of shape "
                             f"({n}, {len(Stats.COUNT_FIELDS)}), got {floats.shape} and "
                             f"{counts.shape}")
        if counts.size and counts.min() < 0:
            raise ValueError("StatsTable counts must not be negative")
        self.keys_ = keys
        self.floats = floats
        self.counts = counts
        self._index = None

    def _row(self, i: int) -> Stats:
        f = self.floats[i].tolist()
        c = self.counts[i].tolist()
        return Stats(norm=f[0], mean=f[1], std=f[2], min=f[3], max=f[4],
                     nan_count=c[0], inf_count=c[1])

    def __getitem__(self, key) -> Stats:
        index = self._index
        if index is None:
            index = self._index = {k: i for i, k in enumerate(self.keys_)}
        return self._row(index[key])

    def __iter__(self):
        return iter(self.keys_)

    def __len__(self) -> int:
        return len(self.keys_)

    def __repr__(self) -> str:
        return f"StatsTable({len(self.keys_)} entries)"

    __hash__ = None


@dataclass(eq=False, kw_only=True)
class ParamStats:
    """One parameter at one iteration: its gradient's :class:`Stats` (``None`` when it got no
    gradient), the L2 norm of its weights, and the L2 norm of the optimizer's update with the
    ratio ``update_norm / weight_norm`` (``None`` where no step was taken)."""

    grad: Stats | None
    weight_norm: float
    update_norm: float | None = None
    update_ratio: float | None = None

    def __eq__(self, other) -> bool:
        if not isinstance(other, ParamStats):
            return NotImplemented
        return (self.grad == other.grad and _same_float(self.weight_norm, other.weight_norm)
                and _same_float(self.update_norm, other.update_norm)
                and _same_float(self.update_ratio, other.update_ratio))

    __hash__ = None


@dataclass(eq=False, kw_only=True)
class Histogram:
    """A fixed-bin histogram: ``edges`` (1-D float array, ``bins + 1`` increasing values) and
    ``counts`` (1-D int64 array, ``bins`` values). ``counts`` is converted to int64 on creation
    so a histogram read back from a file equals the one written."""

    edges: np.ndarray
    counts: np.ndarray

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges)
        counts = np.asarray(self.counts)
        if edges.ndim != 1 or edges.dtype.kind != "f":
            raise ValueError(f"histogram edges must be a 1-D float array, got dtype "
                             f"{edges.dtype} shape {edges.shape}")
        if counts.ndim != 1 or counts.shape[0] != max(edges.shape[0] - 1, 0):
            raise ValueError(f"histogram needs len(edges) - 1 counts: {edges.shape[0]} edges, "
                             f"counts of shape {counts.shape}")
        if counts.dtype.kind not in "iub" and not np.all(np.mod(counts, 1) == 0):
            raise ValueError("histogram counts must be whole numbers")
        if counts.size and counts.min() < 0:
            raise ValueError("histogram counts must not be negative")
        self.edges = edges
        self.counts = counts.astype(np.int64, copy=False)

    @classmethod
    def from_array(cls, array, bins: int = 32, range: tuple[float, float] | None = None,
                   dtype=np.float32) -> "Histogram":
        """Histogram of the finite entries of ``array`` with ``bins`` equal bins over ``range``
        (default: the finite min..max); edges are stored as ``dtype``."""
        a = np.asarray(array).ravel()
        if a.dtype.kind in "fc":
            a = a[np.isfinite(a)]
        counts, edges = np.histogram(a, bins=bins, range=range)
        return cls(edges=edges.astype(dtype), counts=counts)

    @property
    def bins(self) -> int:
        return int(self.counts.shape[0])

    def __eq__(self, other) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return _same_array(self.edges, other.edges) and _same_array(self.counts, other.counts)

    __hash__ = None


# --------------------------------------------------------------------------------------------
# events, graph structure, run metadata

@dataclass(kw_only=True)
class Event:
    """Something the debugger noticed during an iteration, e.g. a non-finite gradient
    (``kind == EVENT_NONFINITE``) at ``node_key`` (op ``op``, forward line ``source`` as
    ``'file.py:42'``)."""

    iteration: int
    kind: str
    message: str
    node_key: NodeKey | None = None
    op: str | None = None
    source: str | None = None


@dataclass(kw_only=True)
class NodeInfo:
    """One node of a backward graph as the debugger shows it.

    ``key`` identifies the node in stats and edges; ``op`` is the grad_fn name
    (``'AddmmBackward0'``, ``'AccumulateGrad'``); ``module_path`` the module that ran the forward
    op (``'features.0'``); ``output_shapes`` the forward op's output shapes; ``dtype``/``device``
    as strings (``'torch.float32'``, ``'cpu'``); ``param_name`` the parameter for a leaf
    (``'conv1.weight'``); ``source`` the forward line (``'lenet.py:31'``); ``attrs`` any other
    JSON-able facts.
    """

    key: NodeKey
    op: str
    module_path: str | None = None
    output_shapes: list[tuple[int, ...]] = field(default_factory=list)
    dtype: str | None = None
    device: str | None = None
    param_name: str | None = None
    source: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_key(self.key, "node key")
        self.output_shapes = [tuple(int(n) for n in shape) for shape in self.output_shapes]

    def to_json(self) -> dict:
        out = {"key": self.key, "op": self.op}
        for name in ("module_path", "dtype", "device", "param_name", "source"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.output_shapes:
            out["output_shapes"] = [list(s) for s in self.output_shapes]
        if self.attrs:
            out["attrs"] = self.attrs
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "NodeInfo":
        return cls(key=obj["key"], op=obj["op"], module_path=obj.get("module_path"),
                   output_shapes=obj.get("output_shapes", []), dtype=obj.get("dtype"),
                   device=obj.get("device"), param_name=obj.get("param_name"),
                   source=obj.get("source"), attrs=obj.get("attrs", {}))


@dataclass(kw_only=True)
class GraphStructure:
    """A backward graph's shape: its nodes and its edges as ``(from_key, to_key)`` pairs.

    Iterations that build the same graph share one structure; an :class:`IterationRecord`
    names it by ``structure_id``.
    """

    nodes: list[NodeInfo]
    edges: list[tuple[NodeKey, NodeKey]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.edges = [tuple(edge) for edge in self.edges]
        for edge in self.edges:
            if len(edge) != 2:
                raise ValueError(f"an edge is a pair of node keys, got {edge!r}")
            _check_key(edge[0], "edge end")
            _check_key(edge[1], "edge end")

    def to_json(self) -> dict:
        return {"nodes": [node.to_json() for node in self.nodes],
                "edges": [list(edge) for edge in self.edges]}

    @classmethod
    def from_json(cls, obj: dict) -> "GraphStructure":
        return cls(nodes=[NodeInfo.from_json(n) for n in obj["nodes"]],
                   edges=[tuple(e) for e in obj["edges"]])

    def canonical_json(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"),
                          allow_nan=False)

    def structure_id(self) -> str:
        """A content hash (16 hex digits): equal structures get equal ids."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def parameters(self) -> dict[str, tuple[int, ...]]:
        """``{param_name: shape}`` of the leaf nodes that name a parameter."""
        return {node.param_name: (node.output_shapes[0] if node.output_shapes else ())
                for node in self.nodes if node.param_name is not None}


@dataclass(kw_only=True)
class RunInfo:
    """What was run: written once when a session is created.

    ``start_time`` is Unix time in seconds; ``parameters`` maps parameter names to shapes
    (optional: the graph's leaves name them too); ``extra`` holds any other JSON-able facts.
    ``format_version`` is set by the writer to the format it writes, and by the reader to the
    file's version.
    """

    script: str | None = None
    args: list[str] = field(default_factory=list)
    start_time: float = field(default_factory=time.time)
    engine_version: str | None = None
    device: str | None = None
    parameters: dict[str, tuple[int, ...]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int | None = None

    def __post_init__(self) -> None:
        self.args = [str(a) for a in self.args]
        self.parameters = {str(k): tuple(int(n) for n in v) for k, v in self.parameters.items()}

    def to_json(self) -> dict:
        return {"script": self.script, "args": self.args, "start_time": self.start_time,
                "engine_version": self.engine_version, "device": self.device,
                "parameters": {k: list(v) for k, v in self.parameters.items()},
                "extra": self.extra, "format_version": self.format_version}

    @classmethod
    def from_json(cls, obj: dict) -> "RunInfo":
        return cls(script=obj.get("script"), args=obj.get("args", []),
                   start_time=obj.get("start_time", 0.0),
                   engine_version=obj.get("engine_version"), device=obj.get("device"),
                   parameters=obj.get("parameters", {}), extra=obj.get("extra", {}),
                   format_version=obj.get("format_version"))


@dataclass(kw_only=True)
class RunEnd:
    """How a run ended, written when the writer is closed: ``status`` is ``'finished'``,
    ``'stopped'`` (by the user) or ``'error'`` (with ``message``). A session without one is
    still being written, or its writer was killed."""

    status: str
    end_time: float = field(default_factory=time.time)
    message: str | None = None


# --------------------------------------------------------------------------------------------
# one training iteration

@dataclass(eq=False, kw_only=True)
class IterationRecord:
    """Everything recorded for one training iteration.

    - ``loss``: the loss value (``None`` if not known; NaN is kept as NaN);
    - ``metrics``: other scalars by name (accuracy, learning rate, ...);
    - ``structure_id``: the :class:`GraphStructure` this iteration's backward graph had;
    - ``node_stats``: gradient statistics per graph node key (a dict, or a :class:`StatsTable`,
      which the writer stores without per-value work);
    - ``param_stats``: per parameter name;
    - ``value_histograms`` / ``grad_histograms``: per parameter name, usually only every few
      iterations (empty dicts in between);
    - ``events``: things noticed (non-finite values, ...), each with this ``iteration``;
    - ``snapshots``: arrays the user asked to keep, by name;
    - ``wall_time``: Unix time when the iteration ended; ``samples_per_s``: throughput.
    """

    iteration: int
    loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    structure_id: str | None = None
    node_stats: dict[NodeKey, Stats] = field(default_factory=dict)
    param_stats: dict[str, ParamStats] = field(default_factory=dict)
    value_histograms: dict[str, Histogram] = field(default_factory=dict)
    grad_histograms: dict[str, Histogram] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)
    wall_time: float = field(default_factory=time.time)
    samples_per_s: float | None = None

    def __eq__(self, other) -> bool:
        if not isinstance(other, IterationRecord):
            return NotImplemented
        return (self.iteration == other.iteration
                and _same_float(self.loss, other.loss)
                and self.metrics.keys() == other.metrics.keys()
                and all(_same_float(v, other.metrics[k]) for k, v in self.metrics.items())
                and self.structure_id == other.structure_id
                and self.node_stats == other.node_stats
                and self.param_stats == other.param_stats
                and self.value_histograms == other.value_histograms
                and self.grad_histograms == other.grad_histograms
                and self.events == other.events
                and self.snapshots.keys() == other.snapshots.keys()
                and all(_same_array(v, other.snapshots[k]) for k, v in self.snapshots.items())
                and _same_float(self.wall_time, other.wall_time)
                and _same_float(self.samples_per_s, other.samples_per_s))

    __hash__ = None
