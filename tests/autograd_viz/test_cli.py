"""The ``autograd-viz`` command end to end, each in a subprocess, on a small script."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow      # subprocesses: ~20 s in all

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "scripts" / "train_tiny.py"


def cli(*args, timeout=120, env_extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")     # tiny matrices: threads only contend
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "autograd_viz", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec") / "run.avz"
    r = cli("record", SCRIPT, "--iters", "6", "-o", out)
    return out, r


def test_record_progress_and_file(recorded):
    out, r = recorded
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("iter ")]
    assert len(lines) == 6
    assert lines[0].split()[:3] == ["iter", "0", "loss"] and "it/s" in lines[0]
    assert "script done" in r.stdout                     # the script's own output
    assert f"recorded 6 iteration(s) to {out}" in r.stdout
    assert out.stat().st_size > 0


def test_info_text_and_json(recorded):
    out, _ = recorded
    r = cli("info", out)
    assert r.returncode == 0, r.stderr
    assert "iterations 6 (0..5)" in r.stdout and "w1" in r.stdout and "finished" in r.stdout
    j = cli("info", out, "--json")
    info = json.loads(j.stdout)
    assert info["iterations"] == 6 and info["status"] == "finished"
    assert {p["name"] for p in info["parameters"]} == {"w1", "w2"}
    assert info["graph"]["nodes"] == 8 and info["nonfinite_events"]["count"] == 0
    assert info["run"]["args"] == ["--iters", "6"]


def test_export_csv(recorded, tmp_path):
    out, _ = recorded
    r = cli("export", out, "--csv", tmp_path / "csv")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "csv" / "losses.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(x["iteration"]) for x in rows] == list(range(6))
    assert float(rows[0]["loss"]) > float(rows[-1]["loss"])


@pytest.mark.parametrize("suffix", [".svg", ".dot"])
def test_graph_export(recorded, tmp_path, suffix):
    out, _ = recorded
    target = tmp_path / f"g{suffix}"
    r = cli("graph", out, "-o", target)
    assert r.returncode == 0, r.stderr
    text = target.read_text()
    assert "TanhBackward0" in text and "w1" in text
    assert text.lstrip().startswith("<svg" if suffix == ".svg" else "digraph") or "<svg" in text


def test_record_steps_stops_cleanly(tmp_path):
    out = tmp_path / "steps.avz"
    r = cli("record", SCRIPT, "--iters", "50", "--steps", "3", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "completed 3 iteration(s)" in r.stdout
    assert "script done" not in r.stdout
    info = json.loads(cli("info", out, "--json").stdout)
    assert info["iterations"] == 3 and info["status"] == "stopped"


def test_record_break_on_nonfinite_names_node_and_line(tmp_path):
    out = tmp_path / "nan.avz"
    r = cli("record", SCRIPT, "--iters", "6", "--nan-at", "2", "--break-on", "nonfinite", "-o", out)
    assert r.returncode == 3, r.stdout + r.stderr
    line = next(i for i, t in enumerate(SCRIPT.read_text().splitlines(), 1) if "planted" in t)
    assert "SqrtBackward0" in r.stdout and f"{SCRIPT}:{line}" in r.stdout
    assert "in iteration 2" in r.stdout
    info = json.loads(cli("info", out, "--json").stdout)
    assert info["iterations"] == 3 and info["nonfinite_events"]["count"] == 1
    assert info["nonfinite_events"]["first"][0]["source"] == f"{SCRIPT}:{line}"


def test_record_script_error_and_usage_errors(tmp_path):
    r = cli("record", SCRIPT, "--iters", "2", "--fail", "-o", tmp_path / "f.avz")
    assert r.returncode == 1
    assert "ValueError: planted failure" in r.stderr and "train_tiny.py" in r.stderr
    assert "runpy" not in r.stderr
    assert cli("record", SCRIPT).returncode == 2                       # no -o
    r = cli("record", tmp_path / "missing.py", "-o", tmp_path / "x.avz")
    assert r.returncode == 2 and "script not found" in r.stderr
    r = cli("record", SCRIPT, "--steps", "zero", "-o", tmp_path / "x.avz")
    assert r.returncode == 2 and "--steps" in r.stderr
    # script options after `--` are passed through untouched
    r = cli("record", SCRIPT, "-o", tmp_path / "y.avz", "--", "--iters", "2")
    assert r.returncode == 0 and r.stdout.count("\niter ") + r.stdout.startswith("iter ") == 2


def test_bad_session_file_gives_clear_error(tmp_path):
    bad = tmp_path / "junk.avz"
    bad.write_bytes(os.urandom(3000))
    r = cli("info", bad)
    assert r.returncode == 2 and str(bad) in r.stderr and "Traceback" not in r.stderr


def test_gui_commands_fail_clearly_without_qt(tmp_path):
    """With Qt made unimportable, the GUI commands say so and exit non-zero."""
    shim = tmp_path / "shim"
    (shim / "PySide6").mkdir(parents=True)
    (shim / "PySide6" / "__init__.py").write_text("raise ImportError('PySide6 is blocked in this test')\n")
    env = {"PYTHONPATH": f"{shim}{os.pathsep}{ROOT}", "QT_QPA_PLATFORM": "offscreen"}
    for args in ([], ["open", "x.avz"], ["run", str(SCRIPT)]):
        r = cli(*args, env_extra=env)
        assert r.returncode != 0, args
        assert "GUI cannot start" in r.stderr and "PySide6 is blocked" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_gui_without_display_fails_clearly():
    env = {k: "" for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if not sys.platform.startswith("linux"):
        pytest.skip("display check is for Linux")
    r = cli(env_extra=env)
    assert r.returncode == 2 and "no display" in r.stderr


def test_gui_is_found_through_its_entry_point_not_an_import():
    """autograd_viz never imports ui/Qt: the app is registered as an entry point."""
    from autograd_viz.cli import _find_gui
    import ui.app
    assert _find_gui() is ui.app.main
    src = open(os.path.join(ROOT, "autograd_viz", "cli.py")).read()
    assert "import ui" not in src and "from ui" not in src
