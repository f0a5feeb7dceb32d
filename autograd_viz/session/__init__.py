"""Session store: one SQLite file per recorded training run (Qt-free, numpy only).

- :class:`SessionWriter` creates a file and commits one :class:`IterationRecord` per training
  iteration (WAL mode: readable while written, a killed run keeps every committed iteration).
- :class:`SessionReader` opens a file (live or finished) and returns the same records.
- :func:`summarize` and :func:`export_csv` back ``autograd-viz info`` / ``export --csv``.
- Every problem with a file is a :class:`SessionError` (a ``ValueError``) naming the file.

Layout and format version: :mod:`.schema`; records: :mod:`.records`.
"""

from .errors import (CorruptSessionError, EmptySessionError, InvalidRecordError,
                     IterationNotFoundError, NotASessionError, SessionError,
                     SessionExistsError, SessionNotFoundError, SessionVersionError,
                     SessionWriteError, TruncatedSessionError)
from .export import CSV_FILES, export_csv, summarize
from .reader import SessionReader
from .records import (EVENT_NONFINITE, Event, GraphStructure, Histogram, IterationRecord,
                      NodeInfo, NodeKey, ParamStats, RunEnd, RunInfo, Stats)
from .schema import FORMAT_VERSION
from .writer import SessionWriter

__all__ = [
    "SessionWriter", "SessionReader", "summarize", "export_csv", "CSV_FILES", "FORMAT_VERSION",
    "IterationRecord", "Stats", "ParamStats", "Histogram", "Event", "EVENT_NONFINITE",
    "NodeInfo", "NodeKey", "GraphStructure", "RunInfo", "RunEnd",
    "SessionError", "SessionNotFoundError", "EmptySessionError", "NotASessionError",
    "TruncatedSessionError", "CorruptSessionError", "SessionVersionError",
    "SessionExistsError", "SessionWriteError", "InvalidRecordError", "IterationNotFoundError",
]
