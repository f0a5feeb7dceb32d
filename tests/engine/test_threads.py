"""engine/threads.py, the one owner of the process's threads: BLAS held to one thread from
the first backward pass on (threadpoolctl, imported only then), the engine's pool sized by
set_num_threads, background threads started and listed in one place."""

import os
import subprocess
import sys
import threading

import engine
from engine import threads

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_PROBE = (
    "import json, sys\n"
    "import numpy as np\n"
    "from threadpoolctl import threadpool_info\n"
    "def blas():\n"
    "    return [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n"
    "import engine\n"
    "before = blas()\n"
    "x = engine.ones(3, requires_grad=True); (x * 2).sum().backward()\n"
    "print(json.dumps({'before': before, 'after': blas(),\n"
    "                  'report': engine.threads.report()}))\n")


def _probe(**env):
    e = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", **env)
    r = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env=e)
    assert r.returncode == 0, r.stderr
    import json
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_blas_has_one_thread_from_the_first_backward_on():
    out = _probe()
    assert out["before"] and all(n == 2 for n in out["before"])
    assert all(n == 1 for n in out["after"])
    assert out["report"]["blas_owned"] and out["report"]["engine_threads"] == 2
    assert all(n == 2 for n in out["report"]["blas_threads_before"].values())


def test_engine_own_blas_0_leaves_blas_alone():
    out = _probe(ENGINE_OWN_BLAS="0")
    assert out["after"] == out["before"]


def test_background_threads_are_started_named_and_listed():
    release = threading.Event()
    t = threads.background_thread(release.wait, "test-background")
    try:
        assert t.daemon and t.name == "test-background"
        assert "test-background" in threads.report()["background"]
    finally:
        release.set()
        t.join()
    assert "test-background" not in threads.report()["background"]


def test_set_num_threads_sizes_the_pool():
    before = engine.get_num_threads()
    try:
        engine.set_num_threads(3)
        assert threads.get_num_threads() == engine.get_num_threads() == 3
    finally:
        engine.set_num_threads(before)
