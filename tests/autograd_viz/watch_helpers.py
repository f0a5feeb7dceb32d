"""Shared helpers for the debugger-core tests: a thread-leak guard, a watch session
that must leave the engine as it found it, and a training thread runner."""

from __future__ import annotations

import threading
import time

import pytest


@pytest.fixture
def no_thread_leak():
    """Fail a test that leaves a thread it started running (after a short grace)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not extra, f"threads left running: {extra}"


def engine_listeners():
    from engine.autograd import events
    return events.listeners()


class TrainingThread(threading.Thread):
    """Runs ``fn`` in a thread and keeps its exception (StopTraining included)."""

    def __init__(self, fn):
        super().__init__(daemon=True, name="training")
        self.fn = fn
        self.exc = None
        self.result = None

    def run(self):
        try:
            self.result = self.fn()
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            self.exc = e
