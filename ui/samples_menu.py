"""The samples a user can open from File > Open sample (the scripts in ``samples/``)."""

from __future__ import annotations

import ast
import os

import samples as _samples_pkg

# Data helpers in samples/ that are not training scripts.
_NOT_SCRIPTS = {"__init__", "digits", "mnist"}


def samples_dir() -> str:
    return os.path.dirname(os.path.abspath(_samples_pkg.__file__))


def list_samples() -> list[tuple[str, str, str]]:
    """(name, path, first docstring line) of every runnable sample, LeNet first."""
    out = []
    d = samples_dir()
    for fn in sorted(os.listdir(d)):
        name, ext = os.path.splitext(fn)
        if ext != ".py" or name in _NOT_SCRIPTS or name.startswith("_"):
            continue
        path = os.path.join(d, fn)
        try:
            with open(path, encoding="utf-8") as f:
                doc = ast.get_docstring(ast.parse(f.read())) or ""
        except (OSError, SyntaxError):
            continue
        out.append((name, path, doc.splitlines()[0] if doc else name))
    out.sort(key=lambda t: (t[0] != "lenet", t[0]))
    return out


def sample_path(name: str) -> str:
    """Path of sample ``name`` ('lenet'); ValueError naming the known ones."""
    for n, path, _doc in list_samples():
        if n == name:
            return path
    raise ValueError(f"no sample {name!r}; known: {', '.join(n for n, _p, _d in list_samples())}")
