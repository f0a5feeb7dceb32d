"""The debugger runs headless: importing and using autograd_viz never loads Qt or ui."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = r"""
import sys, tempfile, os
import engine as torch, engine.nn as nn
import autograd_viz
from autograd_viz import watch, cli, layout, graph_export, replay  # every public piece
from autograd_viz.session import SessionReader
net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
path = os.path.join(tempfile.mkdtemp(), "s.avz")
with watch(net, record=path) as s:
    for _ in range(2):
        net.zero_grad()
        net(torch.randn(5, 4)).pow(2).mean().backward()
layout.layout(s.graph.graph)
bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'ui', 'PyQt5', 'PyQt6')]
print(' '.join(bad) or 'clean')
"""


def test_autograd_viz_never_imports_qt_or_ui():
    r = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "clean", r.stdout


def test_no_module_of_autograd_viz_imports_qt_or_ui():
    for folder, _, files in os.walk(os.path.join(ROOT, "autograd_viz")):
        for name in files:
            if name.endswith(".py"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                for bad in ("import PySide6", "from PySide6", "import pyqtgraph", "import ui",
                            "from ui"):
                    assert bad not in text, f"{name}: {bad}"
