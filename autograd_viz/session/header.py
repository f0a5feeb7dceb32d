"""Checks on a file before SQLite opens it, so each kind of wrong file gets its own message.

SQLite's own error for most of these is 'file is not a database' (or nothing at all: it
happily creates a missing file). Here a missing path, a directory, an empty file, a text file,
random bytes and a truncated copy are told apart from the first 100 bytes (the SQLite header)
and the file size.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import (CorruptSessionError, EmptySessionError, NotASessionError, SessionError,
                     SessionNotFoundError, TruncatedSessionError)

__all__ = ["SQLITE_MAGIC", "check_session_file", "in_wal_mode"]

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100


def _looks_like_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)


def check_session_file(path: Path) -> bytes:
    """Return the 100-byte SQLite header of ``path``, or raise a :class:`SessionError` subclass if ``path`` cannot be a session file.

    Passing this check means: an existing, non-empty regular file that starts with a SQLite
    header and is not shorter than that header says. Whether it is an autograd-viz session is
    decided after opening it (the header of a session still being written may not carry the
    application id yet: it lives in the WAL until the first checkpoint).
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SessionNotFoundError(path, "no such file") from None
    except OSError as exc:
        raise SessionError(path, f"cannot be read: {exc.strerror or exc}") from None
    if path.is_dir():
        raise NotASessionError(path, "is a directory, not a session file")
    size = st.st_size
    if size == 0:
        raise EmptySessionError(path, "is empty (0 bytes), not a session file: the recording "
                                "never started, or the file was cut off")
    try:
        with open(path, "rb") as f:
            header = f.read(HEADER_SIZE)
    except OSError as exc:
        raise SessionError(path, f"cannot be read: {exc.strerror or exc}") from None

    head = header[:len(SQLITE_MAGIC)]
    if head != SQLITE_MAGIC[:len(head)] or (len(head) < len(SQLITE_MAGIC) and len(head) < 4):
        what = ("it looks like a text file" if _looks_like_text(header)
                else f"it starts with bytes {header[:8].hex(' ')}")
        raise NotASessionError(path, f"is not an autograd-viz session: not a SQLite database "
                                     f"({what})")
    if len(header) < HEADER_SIZE:
        raise TruncatedSessionError(path, f"is truncated: only {size} bytes, less than the "
                                          f"{HEADER_SIZE}-byte SQLite header")

    page_size = int.from_bytes(header[16:18], "big")
    if page_size == 1:
        page_size = 65536
    if page_size < 512 or page_size & (page_size - 1):
        raise CorruptSessionError(path, f"is damaged: its header gives an invalid page size "
                                        f"({page_size})")
    # With a WAL next to it the file may be mid-checkpoint (header already updated, pages not
    # yet written); SQLite reads through the WAL, so leave that case to it.
    if os.path.exists(f"{path}-wal"):
        return header
    change_counter = header[24:28]
    valid_for = header[92:96]
    page_count = int.from_bytes(header[28:32], "big")
    if page_count and change_counter == valid_for:
        expected = page_count * page_size
        if size < expected:
            raise TruncatedSessionError(
                path, f"is truncated: {size} bytes, but its header says {page_count} pages of "
                      f"{page_size} bytes ({expected} bytes); the copy or download was cut off")
    if size % page_size:
        raise TruncatedSessionError(path, f"is truncated: {size} bytes is not a whole number "
                                          f"of {page_size}-byte pages")
    return header


def in_wal_mode(header: bytes) -> bool:
    """Whether the header says the database was last used in WAL mode."""
    return header[18] == 2 and header[19] == 2
