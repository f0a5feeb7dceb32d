"""Errors raised by the session store.

Every problem a user can meet with a session file (missing, empty, not a session, truncated,
damaged, written by a newer version) is a :class:`SessionError`, a ``ValueError`` whose message
starts with the file's path and says what is wrong. Callers (the CLI, the GUI's open dialog)
catch ``SessionError`` and show ``str(error)``; no raw ``sqlite3`` traceback reaches the user.
"""

from __future__ import annotations

import os


class SessionError(ValueError):
    """A session file cannot be read or written; ``path`` names the file."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class SessionNotFoundError(SessionError):
    """The path does not exist."""


class EmptySessionError(SessionError):
    """The file exists but holds 0 bytes."""


class NotASessionError(SessionError):
    """The file is something else: not SQLite at all, or a SQLite database of another program."""


class TruncatedSessionError(SessionError):
    """The file is shorter than its own header says (a partial copy or download)."""


class CorruptSessionError(SessionError):
    """The file is a session but its content is damaged or inconsistent."""


class SessionVersionError(SessionError):
    """The file was written in a newer session format than this version of autograd-viz reads."""

    def __init__(self, path: str | os.PathLike, file_version: int, supported_version: int) -> None:
        self.file_version = file_version
        self.supported_version = supported_version
        super().__init__(
            path,
            f"written in session format version {file_version}, but this autograd-viz reads "
            f"format versions up to {supported_version}; upgrade autograd-viz to open it",
        )


class SessionExistsError(SessionError):
    """A writer was asked to create a session at a path that already exists."""


class SessionWriteError(SessionError):
    """Writing to the session failed (disk full, read-only location, closed writer, ...)."""


class InvalidRecordError(SessionError):
    """A record handed to the writer cannot be stored (wrong type, duplicate iteration, ...)."""


class IterationNotFoundError(SessionError):
    """A reader was asked for an iteration the session does not hold."""
