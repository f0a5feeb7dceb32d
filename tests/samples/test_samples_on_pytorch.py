"""The samples are plain PyTorch code: each runs unchanged on real PyTorch.

``pytorch_as_engine/engine.py`` makes ``import engine`` import PyTorch; each sample runs
with ``--steps 2`` in a subprocess with that folder first on ``PYTHONPATH``. A sample
that used an engine-only name or behaviour would fail here. Skipped without PyTorch.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from samples.catalog import SAMPLES

pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
SHIM = Path(__file__).resolve().parent / "pytorch_as_engine"


def run_on_pytorch(name: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHIM), str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, f"samples/{name}.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("name", [s.name for s in SAMPLES if s.name != "shape_mismatch"])
def test_sample_runs_on_pytorch(name):
    proc = run_on_pytorch(name, "--steps", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"step\s+2\b", proc.stdout), proc.stdout


@pytest.mark.slow
def test_shape_mismatch_message_is_pytorchs():
    proc = run_on_pytorch("shape_mismatch", "--steps", "2")
    assert proc.returncode == 1
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied (16x1350 and 576x120)" \
        in proc.stderr


@pytest.mark.slow
def test_the_shim_really_imports_pytorch(tmp_path):
    """What a sample sees: its own folder first on sys.path (no engine there), then PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SHIM), str(REPO)])
    out = subprocess.run([sys.executable, "-c", "import engine, engine.nn as nn, "
                          "engine.utils.data as d; print(engine.__name__, nn.__name__, d.__name__)"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["torch", "torch.nn", "torch.utils.data"], out.stderr
