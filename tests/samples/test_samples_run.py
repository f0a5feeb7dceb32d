"""Every sample runs headless, as a user runs it: ``python samples/NAME.py --steps 2``.

Each script runs in its own interpreter (a subprocess), from the repository root, with
the repository on ``PYTHONPATH`` (as an editable install puts it). ``shape_mismatch`` is
the one sample that fails on purpose: it lets the engine's error escape, so a user sees
the traceback pointing at the ``fc1`` line; its test asserts the exit code and the
message, and that ``--fix`` runs cleanly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from samples.catalog import SAMPLES

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # seconds; a busy 2-core CI box is slow, a healthy run takes a few seconds


def run_sample(name: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, f"samples/{name}.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def describe(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


RUNNING = [s.name for s in SAMPLES if s.name != "shape_mismatch"]


@pytest.mark.parametrize("name", RUNNING)
def test_sample_runs_two_steps(name):
    proc = run_sample(name, "--steps", "2")
    assert proc.returncode == 0, describe(proc)
    assert re.search(r"step\s+2\b", proc.stdout), describe(proc)
    assert "Traceback" not in proc.stderr, describe(proc)


def test_shape_mismatch_exits_with_the_engine_error():
    proc = run_sample("shape_mismatch", "--steps", "2")
    assert proc.returncode == 1, describe(proc)
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied (16x1350 and 576x120)" \
        in proc.stderr, describe(proc)
    # the traceback points at the line that feeds fc1 the wrong tensor
    assert "x = F.relu(self.fc1(x))" in proc.stderr, describe(proc)


def test_shape_mismatch_fix_runs():
    proc = run_sample("shape_mismatch", "--fix", "--steps", "2")
    assert proc.returncode == 0, describe(proc)
    assert "step    2" in proc.stdout, describe(proc)
