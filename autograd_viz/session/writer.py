"""Record a training run into a session file, one committed transaction per iteration.

    writer = SessionWriter("run.avz", RunInfo(script="lenet.py", device="cpu"))
    sid = writer.add_structure(structure)          # once per distinct graph
    writer.write_iteration(IterationRecord(iteration=0, loss=2.3, structure_id=sid, ...))
    writer.close()                                 # or use it as a context manager

The file is in WAL mode while it is written, so readers in other threads or processes can
follow it live, and a run killed at any moment leaves every committed iteration readable. With
``durable=False`` (the default, SQLite ``synchronous=NORMAL``) a commit survives the process
being killed; ``durable=True`` (``synchronous=FULL``) also survives a power cut, at the cost of
an fsync per iteration. On close the file is checkpointed and switched back to a rollback
journal, so a finished session is a single self-contained file.

The writer may be created in one thread and used from another (the training thread); calls are
serialized by a lock.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from .arrays import encode_array, encode_shape, narrow_counts
from .errors import InvalidRecordError, SessionExistsError, SessionWriteError
from .records import GraphStructure, IterationRecord, ParamStats, RunEnd, RunInfo, Stats, \
    StatsTable, Histogram, Event
from .schema import (APPLICATION_ID, FORMAT_VERSION, HISTOGRAM_KINDS, PRESENT_GRAD,
                     PRESENT_UPDATE_NORM, PRESENT_UPDATE_RATIO, SCHEMA_SQL)

__all__ = ["SessionWriter", "SIDECAR_SUFFIXES"]

#: Files SQLite keeps next to a database while it is open (or after a crash).
SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=True)


def _float(value, what: str) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, got a bool")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}") \
            from exc


def _optional_float(value, what: str) -> float | None:
    return None if value is None else _float(value, what)


def _count(value, what: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise TypeError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def _key(key, what: str):
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"{what} must be a str or an int, got {type(key).__name__} {key!r}")
    return key


class SessionWriter:
    """Creates a new session file at ``path`` and appends iterations to it."""

    def __init__(self, path: str | os.PathLike, run: RunInfo | None = None, *,
                 overwrite: bool = False, durable: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._last_iteration: int | None = None
        self._structures: dict[str, str] = {}   # id -> canonical JSON
        self._structure_objects: dict[str, GraphStructure] = {}  # id -> the object added
        self._keysets: dict[str, int] = {}      # keys JSON -> keysets.id
        self._key_texts: dict[tuple, str] = {}  # tuple of keys -> its JSON (recent ones)
        self.run = run if run is not None else RunInfo()
        self.run.format_version = FORMAT_VERSION
        self._prepare_path(overwrite)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None,
                                         check_same_thread=False, timeout=10.0)
            self._create(durable)
        except sqlite3.Error as exc:
            self._abandon()
            raise SessionWriteError(self.path, f"cannot create a session file here: {exc}") \
                from exc

    # ---------------------------------------------------------------------------------------
    # creation

    def _prepare_path(self, overwrite: bool) -> None:
        if self.path.is_dir():
            raise SessionExistsError(self.path, "is a directory; give a file name for the session")
        if self.path.exists():
            if not overwrite:
                raise SessionExistsError(
                    self.path, "already exists; choose another name or pass overwrite=True")
            self.path.unlink()
        if not self.path.parent.is_dir():
            raise SessionWriteError(self.path, f"cannot create a session file: directory "
                                    f"{self.path.parent} does not exist")
        # Sidecar files without their database are leftovers of a crashed run; SQLite would
        # replay a stale WAL into the new file, so they must go.
        for suffix in SIDECAR_SUFFIXES:
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _create(self, durable: bool) -> None:
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"the file system does not support WAL mode "
                                           f"(journal mode stayed {mode!r})")
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
            for statement in SCHEMA_SQL.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                ("format_version", _json(FORMAT_VERSION)),
                ("run", _json(self.run.to_json())),
            ])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _abandon(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ---------------------------------------------------------------------------------------
    # writing

    @property
    def closed(self) -> bool:
        return self._conn is None

    @property
    def last_iteration(self) -> int | None:
        """The last iteration committed by this writer (``None`` before the first)."""
        return self._last_iteration

    def _check_open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SessionWriteError(self.path, "the session writer is closed")
        return self._conn

    def add_structure(self, structure: GraphStructure, structure_id: str | None = None) -> str:
        """Store a graph structure (once; adding it again is a no-op) and return its id.

        ``structure_id`` defaults to :meth:`GraphStructure.structure_id`, a content hash; pass
        your own to use the models' ids. Reusing an id for a different structure raises
        :class:`InvalidRecordError`. Passing the very same object again costs nothing (a
        structure must not be changed after it was added).
        """
        if structure_id is not None and self._structure_objects.get(structure_id) is structure:
            return structure_id
        if not isinstance(structure, GraphStructure):
            raise InvalidRecordError(self.path, f"add_structure takes a GraphStructure, got "
                                     f"{type(structure).__name__}")
        try:
            text = structure.canonical_json()
        except (TypeError, ValueError) as exc:
            raise InvalidRecordError(self.path, f"graph structure is not JSON-able: {exc}") \
                from exc
        sid = structure_id if structure_id is not None else structure.structure_id()
        if not isinstance(sid, str) or not sid:
            raise InvalidRecordError(self.path, f"structure id must be a non-empty str, "
                                     f"got {sid!r}")
        with self._lock:
            conn = self._check_open()
            known = self._structures.get(sid)
            if known is not None:
                if known != text:
                    raise InvalidRecordError(self.path, f"structure id {sid!r} is already used "
                                             f"for a different graph structure")
                return sid
            try:
                conn.execute("INSERT INTO structures(id, graph) VALUES (?, ?)", (sid, text))
            except sqlite3.Error as exc:
                raise SessionWriteError(self.path, f"could not store graph structure {sid!r}: "
                                        f"{exc}") from exc
            self._structures[sid] = text
            self._structure_objects[sid] = structure
        return sid

    def write_iteration(self, record: IterationRecord) -> None:
        """Store one iteration and commit it: after this returns, the iteration survives the
        process being killed and is visible to readers."""
        if not isinstance(record, IterationRecord):
            raise InvalidRecordError(self.path, f"write_iteration takes an IterationRecord, got "
                                     f"{type(record).__name__}")
        with self._lock:
            conn = self._check_open()
            it = record.iteration
            if isinstance(it, bool) or not isinstance(it, (int, np.integer)):
                raise InvalidRecordError(self.path, f"iteration must be an int, got {it!r}")
            it = int(it)
            if self._last_iteration is not None and it <= self._last_iteration:
                raise InvalidRecordError(
                    self.path, f"iteration {it} is not after the last recorded iteration "
                    f"{self._last_iteration}; iterations must increase")
            if record.structure_id is not None and record.structure_id not in self._structures:
                raise InvalidRecordError(
                    self.path, f"iteration {it} names structure {record.structure_id!r}, which "
                    f"was never added (call add_structure first)")
            try:
                rows = _encode(it, record, self._keys_json)
            except (TypeError, ValueError) as exc:
                raise InvalidRecordError(self.path, f"iteration {it}: {exc}") from exc
            new_keysets: dict[str, int] = {}
            try:
                conn.execute("BEGIN")
                try:
                    self._insert(conn, it, rows, new_keysets)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise SessionWriteError(self.path, f"could not write iteration {it}: {exc}") \
                    from exc
            self._keysets.update(new_keysets)
            self._last_iteration = it

    def _keys_json(self, keys: tuple) -> str:
        """JSON of a key list, remembered: iterations of one structure repeat the same keys."""
        text = self._key_texts.get(keys)
        if text is None:
            if len(self._key_texts) > 64:
                self._key_texts.clear()
            text = self._key_texts[keys] = _json(list(keys))
        return text

    def _keyset(self, conn, keys_json: str, new: dict[str, int]) -> int:
        found = self._keysets.get(keys_json)
        if found is None:
            found = new.get(keys_json)
        if found is None:
            conn.execute("INSERT OR IGNORE INTO keysets(keys) VALUES (?)", (keys_json,))
            found = conn.execute("SELECT id FROM keysets WHERE keys = ?",
                                 (keys_json,)).fetchone()[0]
            new[keys_json] = found
        return found

    def _insert(self, conn, it: int, rows: dict, new_keysets: dict[str, int]) -> None:
        conn.execute("INSERT INTO iterations(iteration, wall_time, structure_id, scalars) "
                     "VALUES (?, ?, ?, ?)", rows["iteration"])
        for table in ("node_stats", "param_stats"):
            if table in rows:
                keys_json, floats, counts = rows[table]
                conn.execute(f"INSERT INTO {table}(iteration, keyset, floats, counts) "
                             f"VALUES (?, ?, ?, ?)",
                             (it, self._keyset(conn, keys_json, new_keysets), floats, counts))
        if rows["histograms"]:
            conn.executemany("INSERT INTO histograms(iteration, kind, name, edges_dtype, edges, "
                             "counts_dtype, counts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             rows["histograms"])
        if rows["events"]:
            conn.executemany("INSERT INTO events(iteration, kind, node_key, op, source, message) "
                             "VALUES (?, ?, ?, ?, ?, ?)", rows["events"])
        if rows["snapshots"]:
            conn.executemany("INSERT INTO snapshots(iteration, name, dtype, shape, data) "
                             "VALUES (?, ?, ?, ?, ?)", rows["snapshots"])

    # ---------------------------------------------------------------------------------------
    # closing

    def close(self, status: str = "finished", message: str | None = None) -> None:
        """Record how the run ended (``'finished'``, ``'stopped'`` or ``'error'``), fold the
        WAL into the file and close it. Closing twice is a no-op."""
        with self._lock:
            conn = self._conn
            if conn is None:
                return
            end = RunEnd(status=status, message=message)
            try:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('end', ?)",
                             (_json({"status": end.status, "end_time": end.end_time,
                                     "message": end.message}),))
                # Leave WAL mode so the finished session is one file. This needs the file to
                # itself: with a reader still attached, stay in WAL (still a valid session).
                conn.execute("PRAGMA busy_timeout=200")
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    conn.execute("PRAGMA journal_mode=DELETE")
                except sqlite3.OperationalError:
                    pass
            except sqlite3.Error as exc:
                raise SessionWriteError(self.path, f"could not finish the session: {exc}") \
                    from exc
            finally:
                self._conn = None
                conn.close()

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close("finished")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close("stopped", "interrupted")
        else:
            self.close("error", f"{exc_type.__name__}: {exc}")


# -------------------------------------------------------------------------------------------
# encoding one record into rows (pure, no database)

_FLOAT = float


def _stats_floats(s: Stats) -> list[float]:
    vals = [s.norm, s.mean, s.std, s.min, s.max]
    for v in vals:
        if type(v) is not _FLOAT:          # the common case (Python floats) costs no calls
            return [_float(getattr(s, f), f"stats.{f}") for f in Stats.FLOAT_FIELDS]
    return vals


def _stats_counts(s: Stats) -> list[int]:
    a, b = s.nan_count, s.inf_count
    if type(a) is int and type(b) is int and a >= 0 and b >= 0:
        return [a, b]
    return [_count(getattr(s, f), f"stats.{f}") for f in Stats.COUNT_FIELDS]


def _encode(it: int, record: IterationRecord, keys_json=None) -> dict:
    """The rows of one iteration (no database work). ``keys_json(tuple_of_keys)`` gives a
    key list's JSON (the writer's cache); default: encode it here."""
    if keys_json is None:
        def keys_json(keys):
            return _json(list(keys))
    rows: dict = {}
    scalars = {"loss": _optional_float(record.loss, "loss"),
               "metrics": {_key_str(k, "metric name"): _float(v, f"metric {k!r}")
                           for k, v in record.metrics.items()},
               "samples_per_s": _optional_float(record.samples_per_s, "samples_per_s")}
    rows["iteration"] = (it, _float(record.wall_time, "wall_time"), record.structure_id,
                         _json(scalars))

    node_stats = record.node_stats
    if isinstance(node_stats, StatsTable):
        # Already two checked arrays: stored as they are.
        if len(node_stats):
            rows["node_stats"] = (keys_json(node_stats.keys_),
                                  node_stats.floats.astype("<f8", copy=False).tobytes(),
                                  node_stats.counts.astype("<i8", copy=False).tobytes())
    elif node_stats:
        keys, floats, counts = [], [], []
        for key, s in node_stats.items():
            if not isinstance(s, Stats):
                raise TypeError(f"node_stats[{key!r}] must be Stats, got {type(s).__name__}")
            keys.append(_key(key, "node key"))
            floats.append(_stats_floats(s))
            counts.append(_stats_counts(s))
        rows["node_stats"] = (keys_json(tuple(keys)), np.asarray(floats, "<f8").tobytes(),
                              np.asarray(counts, "<i8").tobytes())

    if record.param_stats:
        keys, floats, counts = [], [], []
        nan = math.nan
        for name, p in record.param_stats.items():
            if not isinstance(p, ParamStats):
                raise TypeError(f"param_stats[{name!r}] must be ParamStats, got "
                                f"{type(p).__name__}")
            keys.append(_key_str(name, "parameter name"))
            present = 0
            if p.grad is not None:
                if not isinstance(p.grad, Stats):
                    raise TypeError(f"param_stats[{name!r}].grad must be Stats or None")
                present |= PRESENT_GRAD
                grad_floats, grad_counts = _stats_floats(p.grad), _stats_counts(p.grad)
            else:
                grad_floats, grad_counts = [nan] * len(Stats.FLOAT_FIELDS), [0, 0]
            upd, ratio, wn = p.update_norm, p.update_ratio, p.weight_norm
            if upd is not None:
                present |= PRESENT_UPDATE_NORM
                if type(upd) is not _FLOAT:
                    upd = _float(upd, "update_norm")
            if ratio is not None:
                present |= PRESENT_UPDATE_RATIO
                if type(ratio) is not _FLOAT:
                    ratio = _float(ratio, "update_ratio")
            if type(wn) is not _FLOAT:
                wn = _float(wn, "weight_norm")
            grad_floats.append(wn)
            grad_floats.append(nan if upd is None else upd)
            grad_floats.append(nan if ratio is None else ratio)
            floats.append(grad_floats)
            grad_counts.append(present)
            counts.append(grad_counts)
        rows["param_stats"] = (keys_json(tuple(keys)), np.asarray(floats, "<f8").tobytes(),
                               np.asarray(counts, "<i8").tobytes())

    rows["histograms"] = []
    for kind, hists in zip(HISTOGRAM_KINDS, (record.value_histograms, record.grad_histograms)):
        for name, h in hists.items():
            if not isinstance(h, Histogram):
                raise TypeError(f"{kind} histogram {name!r} must be a Histogram, got "
                                f"{type(h).__name__}")
            edges_dtype, _, edges = encode_array(h.edges)
            counts_dtype, _, counts = encode_array(narrow_counts(np.asarray(h.counts)))
            rows["histograms"].append((it, kind, _key_str(name, "histogram name"),
                                       edges_dtype, edges, counts_dtype, counts))

    rows["events"] = []
    for e in record.events:
        if not isinstance(e, Event):
            raise TypeError(f"events must be Event objects, got {type(e).__name__}")
        if e.iteration != it:
            raise ValueError(f"event {e.message!r} says iteration {e.iteration}, but it is "
                             f"in the record of iteration {it}")
        node_key = None if e.node_key is None else _json(_key(e.node_key, "event node key"))
        rows["events"].append((it, str(e.kind), node_key, e.op, e.source, str(e.message)))

    rows["snapshots"] = []
    for name, array in record.snapshots.items():
        dtype, shape, data = encode_array(array)
        rows["snapshots"].append((it, _key_str(name, "snapshot name"), dtype,
                                  encode_shape(shape), data))
    return rows


def _key_str(name, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__} {name!r}")
    return name
