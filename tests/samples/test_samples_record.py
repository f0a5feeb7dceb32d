"""Every sample records a session with ``autograd-viz record``, and ``info`` reports its graph.

The expected graph is the engine's own: each sample's ``main(['--steps', '1'])`` runs
in-process with an event listener that keeps the roots of the iteration's last backward
call, and the nodes reachable from them are counted. ``info --json`` of the recorded session must
report that many nodes. LeNet, the first sample a user sees, runs in the default test
selection; the other samples are marked slow (each records in a fresh interpreter).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.autograd import events
from samples.catalog import SAMPLES

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 300


def autograd_viz(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "autograd_viz", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def describe(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


def engine_dag_size(name: str) -> int:
    """Nodes of the graph of sample ``name``'s first ``backward()``, counted from the engine.

    The roots of the iteration's last backward call are kept: in ``higher_order`` the
    ``autograd.grad(..., create_graph=True)`` call comes first and ``total.backward()``
    last, and the debugger shows the training backward's graph (which contains the first).
    """
    roots = []

    def listener(event):
        if isinstance(event, events.BackwardStarted):
            roots[:] = [node for node, _ in event.roots]

    module = importlib.import_module(f"samples.{name}")
    with events.add_listener(listener), contextlib.redirect_stdout(io.StringIO()), \
            np.errstate(all="ignore"):
        module.main(["--steps", "1"])
    seen, stack = set(), list(roots)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(fn for fn, _ in node.next_functions)
    return len(seen)


def record_and_info(name: str, tmp_path) -> dict:
    session = tmp_path / f"{name}.avz"
    proc = autograd_viz("record", f"samples/{name}.py", "-o", str(session), "-q",
                        "--", "--steps", "2")
    assert proc.returncode == 0, describe(proc)
    info = autograd_viz("info", str(session), "--json")
    assert info.returncode == 0, describe(info)
    return json.loads(info.stdout)


def check_recorded_graph(name: str, tmp_path):
    info = record_and_info(name, tmp_path)
    assert info["status"] == "finished"
    assert info["iterations"] == 2
    assert info["graph"]["nodes"] == engine_dag_size(name)
    return info


def test_lenet_records_its_27_node_graph(tmp_path):
    info = check_recorded_graph("lenet", tmp_path)
    # PyTorch's LeNet graph: 17 operation nodes and 10 AccumulateGrad leaves
    assert info["graph"]["nodes"] == 27
    names = {p["name"] for p in info["parameters"]}
    assert names == {f"{layer}.{kind}" for layer in ("conv1", "conv2", "fc1", "fc2", "fc3")
                     for kind in ("weight", "bias")}


RECORDABLE = [s.name for s in SAMPLES if s.name not in ("lenet", "shape_mismatch")]


@pytest.mark.slow
@pytest.mark.parametrize("name", RECORDABLE)
def test_sample_records_the_engine_graph(name, tmp_path):
    check_recorded_graph(name, tmp_path)


@pytest.mark.slow
def test_shape_mismatch_record_reports_the_script_error(tmp_path):
    proc = autograd_viz("record", "samples/shape_mismatch.py", "-o", str(tmp_path / "s.avz"),
                        "-q", "--", "--steps", "2")
    assert proc.returncode == 1, describe(proc)
    assert "mat1 and mat2 shapes cannot be multiplied (16x1350 and 576x120)" in proc.stderr


def test_nan_hunt_breaks_at_the_log_line(tmp_path):
    """Under the debugger, break-on-non-finite stops the run and names LogBackward0 and its line."""
    source = (REPO / "samples" / "nan_hunt.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "= torch.log(probs)" in text)
    proc = autograd_viz("record", "samples/nan_hunt.py", "-o", str(tmp_path / "nan.avz"), "-q",
                        "--break-on", "nonfinite")
    assert proc.returncode == 3, describe(proc)  # 3: stopped at a non-finite value
    assert "LogBackward0" in proc.stdout, describe(proc)
    assert f"nan_hunt.py:{line}" in proc.stdout, describe(proc)
