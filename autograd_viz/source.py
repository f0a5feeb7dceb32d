"""Where in the user's code a node was created: the first stack frame outside the
engine, this package and the standard machinery that runs scripts.

Called once per forward op (``NodeCreated``); it walks ``sys._getframe`` links (no
traceback objects, no source reading), so it costs a few microseconds.
"""

from __future__ import annotations

import os
import sys

__all__ = ["user_frame", "skip_prefixes", "add_skip_prefix"]


def _dir_of(modname: str) -> str | None:
    mod = sys.modules.get(modname)
    f = getattr(mod, "__file__", None)
    return os.path.dirname(os.path.abspath(f)) + os.sep if f else None


_here = os.path.dirname(os.path.abspath(__file__)) + os.sep
_prefixes: list[str] = [_here]
_engine_dir_added = False


def skip_prefixes() -> tuple[str, ...]:
    """Path prefixes whose frames are never 'user code' (engine/, autograd_viz/)."""
    global _engine_dir_added
    if not _engine_dir_added:
        d = _dir_of("engine")
        if d is not None:
            _prefixes.append(d)
            _engine_dir_added = True
            _skip_cache.clear()
    return tuple(_prefixes)


def add_skip_prefix(path: str) -> None:
    """Also skip frames from files under ``path`` (a library wrapping the engine)."""
    p = os.path.abspath(path)
    if os.path.isdir(p):
        p += os.sep
    if p not in _prefixes:
        _prefixes.append(p)
        _skip_cache.clear()


_skip_cache: dict[str, bool] = {}
_STDLIB_SKIP = ("runpy.py", "threading.py", "<frozen runpy>")


def _is_skipped(filename: str, prefixes) -> bool:
    r = _skip_cache.get(filename)
    if r is None:
        a = os.path.abspath(filename) if not filename.startswith("<") else filename
        r = a.startswith(prefixes) or filename.endswith(_STDLIB_SKIP)
        _skip_cache[filename] = r
    return r


def user_frame(depth: int = 1, prefixes: tuple | None = None) -> tuple[str, int, str] | None:
    """(file, line, function) of the innermost frame not in a skipped file, starting
    ``depth`` frames above the caller; None when every frame is skipped."""
    if prefixes is None:
        prefixes = skip_prefixes()
    f = sys._getframe(depth)
    while f is not None:
        code = f.f_code
        if not _is_skipped(code.co_filename, prefixes):
            return (code.co_filename, f.f_lineno, code.co_name)
        f = f.f_back
    return None
