"""The session file's layout (format version 1).

A session is one SQLite database. Its header carries :data:`APPLICATION_ID` (so another
program's database is told apart from a session) and ``PRAGMA user_version`` =
:data:`FORMAT_VERSION`; the ``meta`` table repeats the version next to the run's metadata.

One training iteration is one transaction: a row in ``iterations`` plus its rows in the other
tables, committed together, so a reader (or a run killed mid-write) only ever sees whole
iterations.

Tables:

- ``meta(key, value)``: JSON values; keys ``format_version``, ``run`` (:class:`RunInfo`),
  ``end`` (:class:`RunEnd`, written on close).
- ``structures(id, graph)``: a :class:`GraphStructure` as JSON, by structure id.
- ``keysets(id, keys)``: a JSON list of node keys or parameter names, stored once and shared by
  every stats row that lists the same names in the same order.
- ``iterations(iteration, wall_time, structure_id, scalars)``: ``scalars`` is JSON
  ``{"loss", "metrics", "samples_per_s"}`` (JSON keeps NaN, which a SQLite REAL would turn
  into NULL).
- ``node_stats`` / ``param_stats(iteration, keyset, floats, counts)``: one row per iteration;
  ``floats`` is a float64 ``(n, len(*_FLOAT_COLUMNS))`` array and ``counts`` an int64
  ``(n, len(*_COUNT_COLUMNS))`` array, raw little-endian bytes, rows in keyset order.
- ``histograms(iteration, kind, name, edges_dtype, edges, counts_dtype, counts)``: ``kind`` is
  ``'values'`` or ``'grads'``; 1-D arrays as raw bytes (counts narrowed to the smallest
  unsigned type that holds them).
- ``events(id, iteration, kind, node_key, op, source, message)``: ``node_key`` as JSON.
- ``snapshots(iteration, name, dtype, shape, data)``: any user array, raw bytes.
"""

from __future__ import annotations

#: Version of the layout below. Bump it when a reader of the old version could misread a new
#: file; readers refuse files with a higher version.
FORMAT_VERSION = 1

#: SQLite header application id, "AGVS" (autograd-viz session).
APPLICATION_ID = 0x41475653

NODE_FLOAT_COLUMNS = ("norm", "mean", "std", "min", "max")
NODE_COUNT_COLUMNS = ("nan_count", "inf_count")

#: Gradient stats, then the parameter's own columns.
PARAM_FLOAT_COLUMNS = ("norm", "mean", "std", "min", "max",
                       "weight_norm", "update_norm", "update_ratio")
#: ``present`` is a bit mask of the optional fields that are not ``None``.
PARAM_COUNT_COLUMNS = ("nan_count", "inf_count", "present")
PRESENT_GRAD = 1
PRESENT_UPDATE_NORM = 2
PRESENT_UPDATE_RATIO = 4

HISTOGRAM_KINDS = ("values", "grads")

TABLES = ("meta", "structures", "keysets", "iterations", "node_stats", "param_stats",
          "histograms", "events", "snapshots")

SCHEMA_SQL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE structures (
    id    TEXT PRIMARY KEY,
    graph TEXT NOT NULL
);
CREATE TABLE keysets (
    id   INTEGER PRIMARY KEY,
    keys TEXT NOT NULL UNIQUE
);
CREATE TABLE iterations (
    iteration    INTEGER PRIMARY KEY,
    wall_time    REAL NOT NULL,
    structure_id TEXT REFERENCES structures(id),
    scalars      TEXT NOT NULL
);
CREATE TABLE node_stats (
    iteration INTEGER PRIMARY KEY REFERENCES iterations(iteration),
    keyset    INTEGER NOT NULL REFERENCES keysets(id),
    floats    BLOB NOT NULL,
    counts    BLOB NOT NULL
);
CREATE TABLE param_stats (
    iteration INTEGER PRIMARY KEY REFERENCES iterations(iteration),
    keyset    INTEGER NOT NULL REFERENCES keysets(id),
    floats    BLOB NOT NULL,
    counts    BLOB NOT NULL
);
CREATE TABLE histograms (
    iteration    INTEGER NOT NULL REFERENCES iterations(iteration),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    edges_dtype  TEXT NOT NULL,
    edges        BLOB NOT NULL,
    counts_dtype TEXT NOT NULL,
    counts       BLOB NOT NULL,
    PRIMARY KEY (iteration, kind, name)
);
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    iteration INTEGER NOT NULL REFERENCES iterations(iteration),
    kind      TEXT NOT NULL,
    node_key  TEXT,
    op        TEXT,
    source    TEXT,
    message   TEXT NOT NULL
);
CREATE INDEX events_by_iteration ON events(iteration);
CREATE TABLE snapshots (
    iteration INTEGER NOT NULL REFERENCES iterations(iteration),
    name      TEXT NOT NULL,
    dtype     TEXT NOT NULL,
    shape     TEXT NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (iteration, name)
);
"""
