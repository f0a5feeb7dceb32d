"""Shared test setup: the repository root on sys.path, Qt offscreen, fixed seeds."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
TESTS = os.path.dirname(os.path.abspath(__file__))  # shared test helpers (cupy_standin)
if TESTS not in sys.path:
    sys.path.insert(1, TESTS)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One BLAS thread: tests run beside each other (and beside subprocesses they start) on a
# 2-core machine, where oversubscribed BLAS threads make small GEMMs 10-30x slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
