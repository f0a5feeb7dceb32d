"""The one owner of the process's threads: BLAS, the engine's pool, background threads.

Three kinds of thread share the cores of a training process: BLAS's workers (OpenBLAS,
behind numpy's ``@``), the engine's own pool (``engine/ops/_parallel.py``: large
elementwise functions, convolutions and pooling cut by batch), and the debugger's
background threads (gradient statistics, the session writer). Left alone they fight:
after a GEMM, OpenBLAS's workers keep spinning on the cores for a while, waiting for the
next one, while the pool or a background thread needs that core (measured here: LeNet at
batch 64, engine alone, 8.7 ms wall but 16.8 ms of CPU per step with two BLAS threads;
PyTorch's step took 14.4 ms instead of 4.0 when run beside engine in one process).

So they are sized in one place:

- the engine's pool has ``get_num_threads()`` threads (``set_num_threads``; by default
  ``OMP_NUM_THREADS`` or the cores, at most 8), the caller's thread counted; its workers
  sleep on a condition variable between jobs (they never spin);
- BLAS gets one thread, once the engine starts working (the first backward pass or pool
  job): the engine cuts its large products and convolutions itself, so a GEMM runs on the
  pool's threads with nothing left spinning after it. threadpoolctl sets it, imported
  only then (``import engine`` stays light). ``ENGINE_OWN_BLAS=0`` leaves BLAS as it is;
- background threads are started here (:func:`background_thread`), named, as daemons,
  and only where a second core exists (:func:`background_worthwhile`); they block on
  their queues while idle.

:func:`report` says what the process runs (the benchmarks print it).
"""

from __future__ import annotations

import os
import threading
import weakref

__all__ = ["cores", "set_num_threads", "get_num_threads", "own_blas", "blas_owned",
           "background_thread", "background_worthwhile", "report"]


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(cores(), 8))


_num_threads = [_default_threads()]
_resize_hooks: list = []       # called with the new size (the pool waits for its job)


def set_num_threads(n: int) -> None:
    """``torch.set_num_threads``: the threads the engine computes on (its pool, the
    caller included). BLAS stays at one thread either way (see the module docstring)."""
    n = int(n)
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    for hook in _resize_hooks:
        hook(n)
    _num_threads[0] = n


def get_num_threads() -> int:
    """``torch.get_num_threads``."""
    return _num_threads[0]


# ---------------------------------------------------------------- BLAS
_blas = {"owned": False, "threads_before": None}


def blas_owned() -> bool:
    return _blas["owned"]


def own_blas() -> None:
    """Hold BLAS to one thread from now on (once; cheap to call again)."""
    if _blas["owned"]:
        return
    _blas["owned"] = True
    if os.environ.get("ENGINE_OWN_BLAS", "1") == "0":
        return
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:  # optional at run time: BLAS then keeps its own threads
        return
    _blas["threads_before"] = {p["internal_api"]: p["num_threads"] for p in threadpool_info()
                               if p["user_api"] == "blas"}
    threadpool_limits(1, user_api="blas")


# ---------------------------------------------------------------- background threads
_background: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()


def background_worthwhile() -> bool:
    """A background thread only pays where a second core can run it beside training."""
    return cores() > 1


def background_thread(target, name: str) -> threading.Thread:
    """Start ``target`` on a named daemon thread the owner knows of (see :func:`report`).
    The target must block (a queue, a condition) while it has nothing to do."""
    t = threading.Thread(target=target, name=name, daemon=True)
    t.start()
    _background.add(t)
    return t


def report() -> dict:
    """What the process runs: cores, the engine's threads, BLAS (whether held, and its
    thread count before), the background threads alive."""
    return {"cores": cores(), "engine_threads": get_num_threads(),
            "blas_owned": _blas["owned"], "blas_threads_before": _blas["threads_before"],
            "background": sorted(t.name for t in _background if t.is_alive())}
