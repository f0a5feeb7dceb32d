"""A background thread that reduces gradients to statistics while training goes on.

While a backward pass runs quietly (nobody steps, no breakpoint), the statistics of the
gradients it sends are not read before the pass ends. The watcher hands the large ones
(and batches of the small ones) to this thread instead of reducing them on the training
thread: numpy's reductions release the GIL, so on a machine with a spare core they run
beside the engine's own work, and the training thread only waits, at the end of the
pass, for what is not done yet.

This is safe because nobody writes into a gradient once a node has sent it: the engine
sums gradients into new arrays, and backward formulas never modify the gradients they
receive (``tests/engine/test_grad_immutability.py`` holds every op to that).
"""

from __future__ import annotations

import queue
import threading

from engine import threads as _threads

from .models.stats import Stats, _copy_stats, compute_stats, fill_stats

__all__ = ["StatsWorker", "worthwhile"]


def worthwhile() -> bool:
    """A second thread only pays where there is a second core to run it (the thread owner,
    ``engine/threads.py``, decides for every background thread)."""
    return _threads.background_worthwhile()


class StatsWorker:
    """Fills :class:`Stats` objects on one daemon thread, started on first use.

    ``submit(st, array)`` queues one array, ``submit_batch(pairs)`` a batch for
    :func:`fill_stats`; ``wait()`` returns once everything queued is filled (raising what
    the thread raised, if anything); ``close()`` ends the thread."""

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done = threading.Condition()
        self._outstanding = 0
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def _put(self, job) -> None:
        if self._thread is None:
            self._thread = _threads.background_thread(self._serve, "autograd-viz-stats")
        with self._done:
            self._outstanding += 1
        self._jobs.put(job)

    def submit(self, st: Stats, array) -> None:
        self._put((st, array))

    def submit_batch(self, pairs: list) -> None:
        self._put(pairs)

    def _serve(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is None:
                return
            try:
                if type(job) is tuple:
                    _copy_stats(job[0], compute_stats(job[1]))
                else:
                    fill_stats(job)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
                self._error = e
            job = None  # noqa: F841 - don't keep the arrays alive while idle
            with self._done:
                self._outstanding -= 1
                if self._outstanding == 0:
                    self._done.notify_all()

    @property
    def busy(self) -> bool:
        return self._outstanding > 0

    def wait(self) -> None:
        """Block until every queued job is done."""
        if self._outstanding:
            with self._done:
                while self._outstanding:
                    self._done.wait()
        if self._error is not None:
            e, self._error = self._error, None
            raise e

    def close(self) -> None:
        """Finish the queued jobs and end the thread (it may be started again)."""
        t = self._thread
        if t is None:
            return
        self._jobs.put(None)
        t.join()
        self._thread = None
        self._error = None
