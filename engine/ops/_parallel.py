"""Costly elementwise functions (exp, tanh, log, ...) on large arrays, spread over threads.

numpy runs a ufunc on one core; PyTorch runs its elementwise kernels on all of them
(``torch.get_num_threads()``). numpy releases the GIL inside a ufunc on plain dtypes, so we
cut a large call into aligned chunks and let a few worker threads take chunks next to the
calling thread. Chunks are taken from one shared counter, not assigned: a worker that
wakes late (on a virtual machine that can take 0.1 ms) takes fewer, and the caller never
waits for more than the chunk a worker is in. Results are bit-identical to one call:
chunk edges fall on multiples of 64 elements, so every element goes through the same SIMD
path.

Only functions that cost a nanosecond or more per element come here (cheap arithmetic is
bound by memory bandwidth and gains nothing), and only arrays of ``PARALLEL_MIN`` elements
or more, where the work outweighs waking a thread. ``engine.set_num_threads(1)`` turns it
off.

The same pool runs any batch of independent tasks (:func:`parallel_for`): convolutions and
pooling cut by batch, large products cut by rows. Its size is the thread owner's
(``engine/threads.py``), which also holds BLAS to one thread so that nothing else spins on
the cores the pool's workers need.
"""

from __future__ import annotations

import itertools
import os
import threading

import numpy as np

from .. import threads as _threads

PARALLEL_MIN = 1 << 18
BLOCK = 1 << 16   # elements per chunk (a multiple of 64: SIMD loops see the same edges)


class _Job:
    """``task(i)`` for every ``i < count``, taken from one shared counter."""

    __slots__ = ("task", "count", "take", "finished", "done", "error")

    def __init__(self, task, count):
        self.task, self.count = task, count
        self.take = itertools.count()      # next() on it is atomic under the GIL
        self.finished = itertools.count(1)
        self.done = threading.Event()
        self.error = None

    def work(self):
        """Take and run tasks until none is left."""
        n, task = self.count, self.task
        for i in self.take:
            if i >= n:
                return
            try:
                task(i)
            except BaseException as e:  # noqa: BLE001 - re-raised in the calling thread
                self.error = e
            if next(self.finished) == n:
                self.done.set()


class _Pool:
    """Worker threads that sleep until a job is posted, then take its tasks. Its size is
    the owner's (``engine.threads.get_num_threads()``), the calling thread included."""

    def __init__(self):
        self.busy = threading.Lock()
        self.posted = threading.Condition()
        self.job: _Job | None = None
        self.generation = 0
        self.workers: list[threading.Thread] = []

    def _ensure_workers(self, threads):
        while len(self.workers) < threads - 1:
            t = threading.Thread(target=self._serve, args=(len(self.workers) + 1,),
                                 name="engine-pool", daemon=True)
            t.start()
            self.workers.append(t)

    def _serve(self, index):
        seen = 0
        with np.errstate(all="ignore"):
            while True:
                with self.posted:
                    while self.generation == seen:
                        self.posted.wait()
                    seen, job = self.generation, self.job
                if job is not None and index < _threads.get_num_threads():
                    job.work()
                    job = None  # don't keep the arrays alive while asleep

    def run(self, task, count):
        """Run ``task(i)`` for ``i < count`` on the pool; False if another thread holds
        the pool (the caller then runs them alone)."""
        if not self.busy.acquire(blocking=False):
            return False
        try:
            _threads.own_blas()
            self._ensure_workers(_threads.get_num_threads())
            job = _Job(task, count)
            with self.posted:
                self.job = job
                self.generation += 1
                self.posted.notify_all()
            job.work()
            job.done.wait()
            with self.posted:
                self.job = None
            if job.error is not None:
                raise job.error
            return True
        finally:
            self.busy.release()


_pool = _Pool()


def _wait_idle(n):  # set_num_threads: not while a job runs; surplus workers stay asleep
    with _pool.busy:
        pass


_threads._resize_hooks.append(_wait_idle)
set_num_threads = _threads.set_num_threads
get_num_threads = _threads.get_num_threads


def _reset_after_fork():
    global _pool
    _pool = _Pool()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def parallel_for(task, count: int) -> None:
    """``task(i)`` for every ``i < count``: on the pool's threads beside the caller when
    there are several threads and several tasks, else in a plain loop (also when called
    from inside a task, or while another thread holds the pool). Tasks must write
    disjoint outputs; an exception in one is raised here once all have run."""
    if count > 1 and _threads.get_num_threads() > 1 and _pool.run(task, count):
        return
    for i in range(count):
        task(i)


#: Below this many bytes of work in all, a batched kernel stays on one thread (waking
#: another costs more than it takes over).
PARALLEL_BYTES = 1 << 20


def batch_bounds(n: int, per_item: int, chunk_bytes: int, parallel_bytes: int | None = None
                 ) -> list:
    """Bounds cutting a batch of ``n`` items of ``per_item`` bytes each into chunks of at
    most ``chunk_bytes`` (cache-sized work), and into at least one chunk per thread when
    the batch holds ``parallel_bytes`` or more."""
    total = n * per_item
    parts = -(-total // max(1, chunk_bytes))
    if total >= (PARALLEL_BYTES if parallel_bytes is None else parallel_bytes):
        parts = max(parts, _threads.get_num_threads())
    return split(n, parts)


def split(n: int, parts: int) -> list:
    """``parts + 1`` bounds cutting ``range(n)`` into nearly equal pieces."""
    parts = max(1, min(parts, n))
    return [n * i // parts for i in range(parts + 1)]


def _flat(x, shape):
    """``x`` as a flat view if it is a C-contiguous array of ``shape``; a scalar as itself;
    None when the call can't be cut into chunks this simply."""
    if isinstance(x, np.ndarray):
        if x.shape == shape and x.flags.c_contiguous:
            return x.reshape(-1)
        return x if x.ndim == 0 else None
    return x


def run_blocks(kernel, *args, out):
    """``kernel(*args, out=out)``, cut into chunks on several threads when the arrays are
    large enough. ``kernel`` computes elementwise (a ufunc, or a few numpy calls that
    write ``out``), so a chunk of the arguments gives the same chunk of the result; a
    chain of calls then runs on cache-sized pieces instead of streaming the whole array
    through memory once per call. ``args`` are arrays of ``out``'s shape or scalars;
    anything else (broadcasting, CuPy arrays, strided views) is one plain call."""
    n = out.size
    if n >= PARALLEL_MIN and _threads.get_num_threads() > 1 and out.__class__ is np.ndarray:
        shape = out.shape
        ins = [_flat(x, shape) for x in args]
        flat_out = _flat(out, shape)
        if flat_out is not None and all(x is not None for x in ins):
            bounds = list(range(0, n, BLOCK)) + [n]

            def task(i):
                lo, hi = bounds[i], bounds[i + 1]
                kernel(*[x[lo:hi] if isinstance(x, np.ndarray) else x for x in ins],
                       out=flat_out[lo:hi])

            if _pool.run(task, len(bounds) - 1):
                return out
    kernel(*args, out=out)
    return out


def apply(ufunc, *args, out=None):
    """``ufunc(*args, out=out)`` through ``run_blocks``; without ``out``, into a new array of
    the first argument's shape and the dtype the ufunc gives."""
    first = args[0]
    if first.__class__ is not np.ndarray or first.size < PARALLEL_MIN or \
            _threads.get_num_threads() < 2:
        return ufunc(*args) if out is None else ufunc(*args, out=out)
    if out is None:
        out = np.empty(first.shape, _result_dtype(ufunc, args))
    return run_blocks(ufunc, *args, out=out)


def _result_dtype(ufunc, args):
    """The dtype ``ufunc(*args)`` returns, found on one-element slices."""
    probe = [x.reshape(-1)[:1] if isinstance(x, np.ndarray) and x.ndim else x for x in args]
    with np.errstate(all="ignore"):
        return ufunc(*probe).dtype


#: Multiply-adds from which a 2-D product is cut over the pool's threads (BLAS itself has
#: one thread: see engine/threads.py); below it one GEMM is quicker than waking a thread.
MATMUL_PARALLEL_MACS = 1 << 21


def matmul(a, b, out=None):
    """``a @ b`` (into ``out`` if given) for 2-D numpy arrays, cut by rows (or, for few
    rows, by columns) into one GEMM per thread of the pool when the product is large
    enough to pay for it."""
    m, k = a.shape
    n = b.shape[1]
    t = _threads.get_num_threads()
    if t < 2 or m * n * k < MATMUL_PARALLEL_MACS or a.__class__ is not np.ndarray or \
            b.__class__ is not np.ndarray:
        return a @ b if out is None else np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a, b))
    by_rows = m >= n or m >= 8 * t
    bounds = split(m if by_rows else n, t)

    def task(i):
        lo, hi = bounds[i], bounds[i + 1]
        if by_rows:
            np.matmul(a[lo:hi], b, out=out[lo:hi])
        else:
            np.matmul(a, b[:, lo:hi], out=out[:, lo:hi])

    parallel_for(task, len(bounds) - 1)
    return out

