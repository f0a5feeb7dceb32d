"""Read a session file, finished or still being written, into plain records.

    with SessionReader("run.avz") as reader:
        for record in reader.records():        # IterationRecord, as the writer got it
            ...
        new = reader.refresh()                 # iterations committed since the last call

Opening checks the file first (see :mod:`.header`, then the application id and the format
version), so a wrong file gives a :class:`SessionError` naming the file and the problem. Any
SQLite error later (a damaged page) also surfaces as a :class:`CorruptSessionError`.

A reader can follow a live session: the writer commits one transaction per iteration in WAL
mode, so :meth:`refresh` / :meth:`latest_iteration` see each iteration once it is whole and
never a part of one. Polling them is cheap (one indexed query).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from .arrays import ALLOWED_DTYPES, ArrayDecodeError, decode_array, decode_shape
from .errors import (CorruptSessionError, IterationNotFoundError, NotASessionError,
                     SessionError, SessionVersionError)
from .header import check_session_file, in_wal_mode
from .records import (EVENT_NONFINITE, Event, GraphStructure, Histogram, IterationRecord,
                      NodeKey, ParamStats, RunEnd, RunInfo, Stats)
from .schema import (APPLICATION_ID, FORMAT_VERSION, HISTOGRAM_KINDS, NODE_COUNT_COLUMNS,
                     NODE_FLOAT_COLUMNS, PARAM_COUNT_COLUMNS, PARAM_FLOAT_COLUMNS,
                     PRESENT_GRAD, PRESENT_UPDATE_NORM, PRESENT_UPDATE_RATIO, TABLES)

__all__ = ["SessionReader"]

_BATCH = 512  # iterations per query when streaming a history


class _Corrupt(Exception):
    """Internal: stored content does not decode; becomes a CorruptSessionError."""


def _json_loads(text, what: str):
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise _Corrupt(f"{what} is not valid JSON") from exc


def _decode_1d(data, dtype, what: str) -> np.ndarray:
    if dtype not in ALLOWED_DTYPES or not isinstance(data, bytes):
        raise _Corrupt(f"{what} has dtype {dtype!r}, which is not an allowed array dtype")
    itemsize = np.dtype(dtype).itemsize
    if len(data) % itemsize:
        raise _Corrupt(f"{what} holds {len(data)} bytes, not a whole number of {dtype} items")
    try:
        return decode_array(data, dtype, (len(data) // itemsize,))
    except ArrayDecodeError as exc:
        raise _Corrupt(f"{what}: {exc}") from exc


def _decode_table(data, dtype: str, rows: int, cols: int, what: str) -> np.ndarray:
    try:
        return decode_array(data, dtype, (rows, cols))
    except ArrayDecodeError as exc:
        raise _Corrupt(f"{what}: {exc}") from exc


def _optional_number(value, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Corrupt(f"{what} is {value!r}, not a number")
    return float(value)


class SessionReader:
    """Opens the session at ``path`` for reading. It writes no data; the one change it may
    make is SQLite's own: the last connection to close folds a killed writer's WAL into the
    file (committed iterations only)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._keysets: dict[int, list] = {}
        self._structures: dict[str, GraphStructure] = {}
        self._seen: int | None = None
        self._header = check_session_file(self.path)
        self._conn = self._connect()
        try:
            self.format_version, self.run = self._validate()
        except BaseException:
            self.close()
            raise

    # ---------------------------------------------------------------------------------------
    # opening

    def _connect(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        last_error = None
        # Read-write mode lets SQLite recover the WAL of a killed writer; a read-only file
        # falls back to read-only mode. Neither creates a missing file.
        for mode in ("rw", "ro"):
            conn = None
            try:
                conn = sqlite3.connect(f"{uri}?mode={mode}", uri=True, isolation_level=None,
                                       check_same_thread=False, timeout=5.0)
                conn.execute("PRAGMA query_only=1")
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
                return conn
            except sqlite3.DatabaseError as exc:
                last_error = exc
                if conn is not None:
                    conn.close()
                if "not a database" in str(exc) or "malformed" in str(exc):
                    break
        raise self._db_error(last_error)

    def _db_error(self, exc: sqlite3.Error) -> SessionError:
        text = str(exc)
        if "not a database" in text:
            return NotASessionError(self.path, f"is not an autograd-viz session: SQLite cannot "
                                               f"read it ({text})")
        if "locked" in text or "busy" in text:
            return SessionError(self.path, f"is locked by another program ({text}); "
                                           f"try again in a moment")
        if isinstance(exc, sqlite3.OperationalError) and "unable to open" in text:
            return SessionError(self.path, f"cannot be opened ({text})")
        return CorruptSessionError(self.path, f"is damaged: SQLite says {text!r}")

    def _validate(self) -> tuple[int, RunInfo]:
        app_id = self._value("PRAGMA application_id")
        version = self._value("PRAGMA user_version")
        tables = {row[0] for row in self._rows(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app_id != APPLICATION_ID:
            listing = (f"its tables are {', '.join(sorted(tables))}" if tables
                       else "it has no tables")
            hint = ""
            if not tables and in_wal_mode(self._header):
                hint = (f"; if it is a copy of a session whose writer was killed, copy "
                        f"{self.path.name}-wal along with it")
            raise NotASessionError(self.path, f"is a SQLite database but not an autograd-viz "
                                              f"session ({listing}){hint}")
        if version > FORMAT_VERSION:
            raise SessionVersionError(self.path, version, FORMAT_VERSION)
        if version < 1:
            raise CorruptSessionError(self.path, f"is damaged: its session format version is "
                                                 f"{version}")
        missing = [t for t in TABLES if t not in tables]
        if missing:
            raise CorruptSessionError(self.path, f"is damaged: missing table(s) "
                                                 f"{', '.join(missing)}")
        meta = dict(self._rows("SELECT key, value FROM meta"))
        try:
            meta_version = _json_loads(meta.get("format_version"), "meta format_version")
            if meta_version != version:
                raise _Corrupt(f"its format version is {version} in the header but "
                               f"{meta_version!r} in the meta table")
            run_json = _json_loads(meta.get("run"), "run metadata")
            if not isinstance(run_json, dict):
                raise _Corrupt("run metadata is not a JSON object")
            run = RunInfo.from_json(run_json)
        except (_Corrupt, TypeError, ValueError, AttributeError) as exc:
            raise CorruptSessionError(self.path, f"is damaged: {exc}") from None
        run.format_version = version
        return version, run

    # ---------------------------------------------------------------------------------------
    # queries (every SQLite error becomes a SessionError)

    def _rows(self, sql: str, params=()) -> list:
        with self._lock:
            if self._conn is None:
                raise SessionError(self.path, "the session reader is closed")
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._db_error(exc) from None

    def _value(self, sql: str, params=()):
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    @contextlib.contextmanager
    def _read_transaction(self):
        """One consistent snapshot of the file across several queries."""
        with self._lock:
            if self._conn is not None and self._conn.in_transaction:
                yield  # already inside one
                return
            self._rows("BEGIN")
            try:
                yield
            finally:
                with contextlib.suppress(SessionError):
                    self._rows("COMMIT")

    @contextlib.contextmanager
    def _decoding(self, what: str):
        try:
            yield
        except (_Corrupt, KeyError, IndexError, TypeError, ValueError) as exc:
            if isinstance(exc, SessionError):
                raise
            raise CorruptSessionError(self.path, f"is damaged: {what}: {exc}") from None

    # ---------------------------------------------------------------------------------------
    # following a live session

    def iterations(self) -> list[int]:
        """Every committed iteration number, in order."""
        return [row[0] for row in self._rows("SELECT iteration FROM iterations "
                                             "ORDER BY iteration")]

    def iteration_count(self) -> int:
        """How many iterations are committed."""
        return self._value("SELECT COUNT(*) FROM iterations")

    def latest_iteration(self) -> int | None:
        """The last committed iteration (``None`` if there is none yet); cheap to poll."""
        return self._value("SELECT MAX(iteration) FROM iterations")

    def refresh(self) -> list[int]:
        """Iterations committed since the previous call (all of them on the first call)."""
        with self._lock:
            if self._seen is None:
                new = self.iterations()
            else:
                new = [row[0] for row in self._rows(
                    "SELECT iteration FROM iterations WHERE iteration > ? ORDER BY iteration",
                    (self._seen,))]
            if new:
                self._seen = new[-1]
            return new

    @property
    def end(self) -> RunEnd | None:
        """How the run ended, or ``None`` while it is being written (or if it was killed)."""
        text = self._value("SELECT value FROM meta WHERE key = 'end'")
        if text is None:
            return None
        with self._decoding("run end"):
            obj = _json_loads(text, "run end")
            return RunEnd(status=str(obj["status"]), end_time=float(obj["end_time"]),
                          message=obj.get("message"))

    # ---------------------------------------------------------------------------------------
    # structures

    def structure(self, structure_id: str) -> GraphStructure:
        """The graph structure stored under ``structure_id``."""
        with self._lock:
            found = self._structures.get(structure_id)
            if found is not None:
                return found
            text = self._value("SELECT graph FROM structures WHERE id = ?", (structure_id,))
            if text is None:
                raise CorruptSessionError(self.path, f"is damaged: graph structure "
                                                     f"{structure_id!r} is missing")
            with self._decoding(f"graph structure {structure_id!r}"):
                found = GraphStructure.from_json(_json_loads(text, "graph structure"))
            self._structures[structure_id] = found
            return found

    def structures(self) -> dict[str, GraphStructure]:
        """All graph structures, in the order they were stored."""
        ids = [row[0] for row in self._rows("SELECT id FROM structures ORDER BY rowid")]
        return {sid: self.structure(sid) for sid in ids}

    def iteration_structures(self) -> dict[int, str]:
        """``{iteration: structure_id}`` for the iterations that name a structure."""
        return dict(self._rows("SELECT iteration, structure_id FROM iterations "
                               "WHERE structure_id IS NOT NULL ORDER BY iteration"))

    def latest_structure_id(self) -> str | None:
        """The structure of the last iteration that names one (else the last one stored)."""
        sid = self._value("SELECT structure_id FROM iterations WHERE structure_id IS NOT NULL "
                          "ORDER BY iteration DESC LIMIT 1")
        if sid is None:
            sid = self._value("SELECT id FROM structures ORDER BY rowid DESC LIMIT 1")
        return sid

    # ---------------------------------------------------------------------------------------
    # iterations

    def _keyset(self, keyset_id: int) -> list:
        keys = self._keysets.get(keyset_id)
        if keys is None:
            text = self._value("SELECT keys FROM keysets WHERE id = ?", (keyset_id,))
            keys = _json_loads(text, f"key set {keyset_id}")
            if not isinstance(keys, list) or not all(
                    isinstance(k, (str, int)) and not isinstance(k, bool) for k in keys):
                raise _Corrupt(f"key set {keyset_id} is not a list of keys")
            self._keysets[keyset_id] = keys
        return keys

    def _node_stats(self, keyset, floats, counts) -> dict[NodeKey, Stats]:
        keys = self._keyset(keyset)
        f = _decode_table(floats, "<f8", len(keys), len(NODE_FLOAT_COLUMNS), "node stats")
        c = _decode_table(counts, "<i8", len(keys), len(NODE_COUNT_COLUMNS), "node stats")
        out = {}
        for key, fr, cr in zip(keys, f.tolist(), c.tolist()):
            out[key] = Stats(norm=fr[0], mean=fr[1], std=fr[2], min=fr[3], max=fr[4],
                             nan_count=cr[0], inf_count=cr[1])
        return out

    def _param_stats(self, keyset, floats, counts) -> dict[str, ParamStats]:
        names = self._keyset(keyset)
        f = _decode_table(floats, "<f8", len(names), len(PARAM_FLOAT_COLUMNS), "param stats")
        c = _decode_table(counts, "<i8", len(names), len(PARAM_COUNT_COLUMNS), "param stats")
        out = {}
        for name, fr, cr in zip(names, f.tolist(), c.tolist()):
            present = cr[2]
            grad = (Stats(norm=fr[0], mean=fr[1], std=fr[2], min=fr[3], max=fr[4],
                          nan_count=cr[0], inf_count=cr[1]) if present & PRESENT_GRAD else None)
            out[name] = ParamStats(
                grad=grad, weight_norm=fr[5],
                update_norm=fr[6] if present & PRESENT_UPDATE_NORM else None,
                update_ratio=fr[7] if present & PRESENT_UPDATE_RATIO else None)
        return out

    def read_iteration(self, iteration: int) -> IterationRecord:
        """Everything stored for ``iteration``, as the :class:`IterationRecord` written."""
        with self._read_transaction():
            row = self._rows("SELECT wall_time, structure_id, scalars FROM iterations "
                             "WHERE iteration = ?", (iteration,))
            if not row:
                raise IterationNotFoundError(self.path, f"has no iteration {iteration}")
            wall_time, structure_id, scalars_text = row[0]
            node_rows = self._rows("SELECT keyset, floats, counts FROM node_stats "
                                   "WHERE iteration = ?", (iteration,))
            param_rows = self._rows("SELECT keyset, floats, counts FROM param_stats "
                                    "WHERE iteration = ?", (iteration,))
            hist_rows = self._rows("SELECT kind, name, edges_dtype, edges, counts_dtype, counts "
                                   "FROM histograms WHERE iteration = ? ORDER BY rowid",
                                   (iteration,))
            event_rows = self._rows("SELECT kind, node_key, op, source, message FROM events "
                                    "WHERE iteration = ? ORDER BY id", (iteration,))
            snap_rows = self._rows("SELECT name, dtype, shape, data FROM snapshots "
                                   "WHERE iteration = ? ORDER BY rowid", (iteration,))
            with self._decoding(f"iteration {iteration}"):
                scalars = _json_loads(scalars_text, "iteration scalars")
                metrics = scalars["metrics"]
                if not isinstance(metrics, dict):
                    raise _Corrupt("metrics are not a JSON object")
                record = IterationRecord(
                    iteration=iteration,
                    loss=_optional_number(scalars["loss"], "loss"),
                    metrics={str(k): _optional_number(v, f"metric {k!r}")
                             for k, v in metrics.items()},
                    structure_id=structure_id,
                    wall_time=float(wall_time),
                    samples_per_s=_optional_number(scalars["samples_per_s"], "samples_per_s"))
                if node_rows:
                    record.node_stats = self._node_stats(*node_rows[0])
                if param_rows:
                    record.param_stats = self._param_stats(*param_rows[0])
                for kind, name, edges_dtype, edges, counts_dtype, counts in hist_rows:
                    if kind not in HISTOGRAM_KINDS:
                        raise _Corrupt(f"histogram kind {kind!r} is unknown")
                    target = (record.value_histograms if kind == "values"
                              else record.grad_histograms)
                    target[name] = Histogram(
                        edges=_decode_1d(edges, edges_dtype, f"histogram {name!r} edges"),
                        counts=_decode_1d(counts, counts_dtype, f"histogram {name!r} counts"))
                for kind, node_key, op, source, message in event_rows:
                    record.events.append(Event(
                        iteration=iteration, kind=kind, message=message, op=op, source=source,
                        node_key=None if node_key is None else _json_loads(node_key,
                                                                           "event node key")))
                for name, dtype, shape, data in snap_rows:
                    try:
                        record.snapshots[name] = decode_array(data, dtype, decode_shape(shape))
                    except ArrayDecodeError as exc:
                        raise _Corrupt(f"snapshot {name!r}: {exc}") from None
        return record

    def records(self, start: int | None = None, stop: int | None = None
                ) -> Iterator[IterationRecord]:
        """Every iteration with ``start <= iteration < stop``, in order, read lazily."""
        for iteration in self.iterations():
            if (start is None or iteration >= start) and (stop is None or iteration < stop):
                yield self.read_iteration(iteration)

    # ---------------------------------------------------------------------------------------
    # histories (one pass over one table, without decoding whole records)

    def _batches(self, sql: str) -> Iterator[tuple]:
        """Rows of ``sql`` (which filters ``iteration > ?`` and orders by iteration), fetched
        in batches so no statement stays open while the caller works."""
        after = -(2 ** 63)
        while True:
            rows = self._rows(f"{sql} LIMIT {_BATCH}", (after,))
            yield from rows
            if len(rows) < _BATCH:
                return
            after = rows[-1][0]

    def losses(self) -> tuple[np.ndarray, np.ndarray]:
        """``(iterations, losses)`` as int64 and float64 arrays (NaN where no loss)."""
        its, values = [], []
        with self._decoding("iteration scalars"):
            for it, text in self._batches("SELECT iteration, scalars FROM iterations WHERE "
                                          "iteration > ? ORDER BY iteration"):
                loss = _optional_number(_json_loads(text, "scalars")["loss"], "loss")
                its.append(it)
                values.append(math.nan if loss is None else loss)
        return np.asarray(its, dtype=np.int64), np.asarray(values, dtype=np.float64)

    def scalars(self) -> Iterator[tuple[int, float, float | None, dict[str, float], float | None]]:
        """``(iteration, wall_time, loss, metrics, samples_per_s)`` per iteration."""
        for it, wall_time, text in self._batches(
                "SELECT iteration, wall_time, scalars FROM iterations WHERE iteration > ? "
                "ORDER BY iteration"):
            with self._decoding(f"iteration {it}"):
                obj = _json_loads(text, "scalars")
                yield (it, float(wall_time), _optional_number(obj["loss"], "loss"),
                       {str(k): _optional_number(v, k) for k, v in obj["metrics"].items()},
                       _optional_number(obj["samples_per_s"], "samples_per_s"))

    def node_stats_history(self) -> Iterator[tuple[int, dict[NodeKey, Stats]]]:
        """``(iteration, node_stats)`` for every iteration that has node stats."""
        for it, keyset, floats, counts in self._batches(
                "SELECT iteration, keyset, floats, counts FROM node_stats WHERE iteration > ? "
                "ORDER BY iteration"):
            with self._decoding(f"iteration {it} node stats"):
                yield it, self._node_stats(keyset, floats, counts)

    def param_stats_history(self) -> Iterator[tuple[int, dict[str, ParamStats]]]:
        """``(iteration, param_stats)`` for every iteration that has parameter stats."""
        for it, keyset, floats, counts in self._batches(
                "SELECT iteration, keyset, floats, counts FROM param_stats WHERE iteration > ? "
                "ORDER BY iteration"):
            with self._decoding(f"iteration {it} parameter stats"):
                yield it, self._param_stats(keyset, floats, counts)

    def histogram_history(self, name: str, kind: str = "grads") -> list[tuple[int, Histogram]]:
        """``(iteration, histogram)`` of parameter ``name``; ``kind`` is 'values' or 'grads'."""
        if kind not in HISTOGRAM_KINDS:
            raise ValueError(f"histogram kind must be one of {HISTOGRAM_KINDS}, got {kind!r}")
        out = []
        for it, edges_dtype, edges, counts_dtype, counts in self._rows(
                "SELECT iteration, edges_dtype, edges, counts_dtype, counts FROM histograms "
                "WHERE kind = ? AND name = ? ORDER BY iteration", (kind, name)):
            with self._decoding(f"iteration {it} histogram {name!r}"):
                out.append((it, Histogram(edges=_decode_1d(edges, edges_dtype, "edges"),
                                          counts=_decode_1d(counts, counts_dtype, "counts"))))
        return out

    def events(self, kind: str | None = None) -> list[Event]:
        """All events of the run (of one ``kind`` if given), in order."""
        sql = "SELECT iteration, kind, node_key, op, source, message FROM events"
        rows = (self._rows(sql + " WHERE kind = ? ORDER BY id", (kind,)) if kind is not None
                else self._rows(sql + " ORDER BY id"))
        with self._decoding("events"):
            return [Event(iteration=it, kind=k, message=msg, op=op, source=src,
                          node_key=None if key is None else _json_loads(key, "node key"))
                    for it, k, key, op, src, msg in rows]

    def snapshot_names(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT DISTINCT name FROM snapshots ORDER BY name")]

    def snapshot(self, name: str, iteration: int) -> np.ndarray:
        rows = self._rows("SELECT dtype, shape, data FROM snapshots WHERE iteration = ? AND "
                          "name = ?", (iteration, name))
        if not rows:
            raise IterationNotFoundError(self.path, f"has no snapshot {name!r} at iteration "
                                                    f"{iteration}")
        dtype, shape, data = rows[0]
        with self._decoding(f"snapshot {name!r} at iteration {iteration}"):
            try:
                return decode_array(data, dtype, decode_shape(shape))
            except ArrayDecodeError as exc:
                raise _Corrupt(str(exc)) from None

    def snapshot_iterations(self, name: str) -> list[int]:
        return [row[0] for row in self._rows("SELECT iteration FROM snapshots WHERE name = ? "
                                             "ORDER BY iteration", (name,))]

    # ---------------------------------------------------------------------------------------
    # summary

    def summary(self) -> dict:
        """A JSON-ready overview for ``autograd-viz info``.

        Keys: ``path``, ``format_version``, ``run`` (:meth:`RunInfo.to_json`), ``status``
        (``'finished'``/``'stopped'``/``'error'``, or ``'incomplete'`` while being written or
        after a kill), ``end_time``, ``iterations`` (count), ``first_iteration``,
        ``last_iteration``, ``graph`` (``structure_id``, ``nodes``, ``edges`` of the latest
        structure and the number of ``structures``; ``None`` without one), ``parameters``
        (list of ``{name, shape}``), ``loss`` (``first``/``final``: the first and last loss
        recorded, a NaN included), ``events`` (count per kind), ``nonfinite_events``
        (``count`` and the ``first`` ten as dicts). Non-finite floats appear as the strings
        ``'nan'``, ``'inf'``, ``'-inf'`` so the result is strict JSON.
        """
        with self._read_transaction():
            its: list[int] = []
            first_loss = final_loss = None  # the first and last loss that was recorded
            for it, _, loss, _, _ in self.scalars():
                its.append(it)
                if loss is not None:
                    final_loss = loss
                    if first_loss is None:
                        first_loss = loss
            sid = self.latest_structure_id()
            graph = None
            if sid is not None:
                structure = self.structure(sid)
                graph = {"structure_id": sid, "nodes": len(structure.nodes),
                         "edges": len(structure.edges),
                         "structures": self._value("SELECT COUNT(*) FROM structures")}
            params = dict(self.run.parameters) or (
                self.structure(sid).parameters() if sid is not None else {})
            counts = dict(self._rows("SELECT kind, COUNT(*) FROM events GROUP BY kind"))
            nonfinite = self.events(EVENT_NONFINITE)
            end = self.end
        return {
            "path": str(self.path),
            "format_version": self.format_version,
            "run": _json_safe(self.run.to_json()),
            "status": end.status if end is not None else "incomplete",
            "end_time": end.end_time if end is not None else None,
            "iterations": len(its),
            "first_iteration": its[0] if its else None,
            "last_iteration": its[-1] if its else None,
            "graph": graph,
            "parameters": [{"name": n, "shape": list(s)} for n, s in params.items()],
            "loss": {"first": _json_safe(first_loss), "final": _json_safe(final_loss)},
            "events": counts,
            "nonfinite_events": {
                "count": len(nonfinite),
                "first": [_json_safe({"iteration": e.iteration, "node_key": e.node_key,
                                      "op": e.op, "source": e.source, "message": e.message})
                          for e in nonfinite[:10]]},
        }

    # ---------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _json_safe(value):
    """Replace non-finite floats (anywhere in dicts/lists) by 'nan' / 'inf' / '-inf'."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
