"""engine/_malloc.py: freed array memory stays in the process, so a training step does not
fault its memory in again page by page (measured in fresh processes, without torch)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="the tuning applies to glibc's malloc only")


def _run(code, **env):
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, **env), timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@glibc_only
def test_tuning_is_on_by_default_and_can_be_turned_off():
    code = "import engine; print(engine._malloc.TUNED)"
    assert _run(code) == "True"
    assert _run(code, ENGINE_MALLOC_TUNING="0") == "False"


@glibc_only
def test_a_step_on_large_tensors_faults_no_memory_in_again():
    out = _run("import sys; sys.argv = ['x', '--iters', '4', "
               "'--elements', '300000', '--json']; sys.path.insert(0, 'benchmarks'); "
               "import malloc_tuning; malloc_tuning.main()")
    rows = json.loads(out.splitlines()[-1])
    assert rows["tuned"]["tuned"] and not rows["default"]["tuned"]
    # 30 ops x 1.2 MB each would be ~9,000 faults per step with glibc's defaults
    assert rows["default"]["faults"] > 1000
    assert rows["tuned"]["faults"] < 100
