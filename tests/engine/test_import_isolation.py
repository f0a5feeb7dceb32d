"""``import engine`` pulls in none of networkx, Qt (PySide6/PyQt/pyqtgraph) or CuPy."""

import subprocess
import sys
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_import_engine_is_isolated():
    code = (
        "import sys\n"
        "import engine, engine.autograd, engine.linalg\n"
        "light = 'threadpoolctl' not in sys.modules  # loaded at the first backward only\n"
        "x = engine.ones(2, requires_grad=True); (x * 2).sum().backward()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('networkx', 'PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'cupy', 'torch', "
        "'autograd_viz', 'ui')]\n"
        "print(','.join(sorted(bad + ([] if light else ['threadpoolctl at import']))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"import engine imported: {out.stdout.strip()}"
