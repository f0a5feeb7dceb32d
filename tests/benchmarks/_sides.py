"""Sides for tests/benchmarks/test_alone.py: run in the harness's child processes."""

import os
import sys


def recorder(imports=None):
    """A step that records the indices it is called with; ``imports`` is imported first.
    Its ``close`` reports the process id, the indices and which test modules are loaded."""
    if imports:
        __import__(imports)
    seen = []

    def step(i):
        seen.append(i)

    step.close = lambda: {"pid": os.getpid(), "indices": seen,
                          "loaded": sorted(m for m in ("wave", "colorsys") if m in sys.modules)}
    return step


def bad_return():
    return 42
