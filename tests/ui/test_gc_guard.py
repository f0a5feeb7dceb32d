"""While a script trains in its own thread, cyclic garbage (Qt objects in it) is freed in
the GUI thread only (ui/gc_guard.py): a widget destroyed by a collection that ran on the
training thread once hung the whole app."""

from __future__ import annotations

import gc
import os
import threading

from PySide6 import QtCore

from ui.gc_guard import GuiThreadGC, guard_run, release_run
from ui.session_loader import start_script

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")


class _Cyclic(QtCore.QObject):
    """A QObject kept only by a reference cycle: only the cyclic collector frees it."""

    freed_in: list = []

    def __init__(self):
        super().__init__()
        self.me = self

    def __del__(self):
        _Cyclic.freed_in.append(threading.current_thread().name)


class _FakeRun:
    running = True


def test_a_running_script_leaves_collection_to_the_gui_thread(qtbot):
    assert gc.isenabled()
    run = start_script(os.path.join(SCRIPTS, "churn.py"), ["--seconds", "1.5"])
    try:
        run.start()
        assert not gc.isenabled()           # no automatic collection on any thread now
        _Cyclic.freed_in.clear()
        for _ in range(20):
            _Cyclic()                       # garbage that needs the cyclic collector
        # The script allocates thousands of containers a millisecond: unguarded, the
        # collector would run on its thread and free these there.
        qtbot.waitUntil(lambda: len(_Cyclic.freed_in) == 20, timeout=10_000)
        assert set(_Cyclic.freed_in) == {threading.main_thread().name}
        qtbot.waitUntil(lambda: not run.running, timeout=30_000)
        qtbot.waitUntil(gc.isenabled, timeout=5_000)   # the timer saw the run end
    finally:
        assert run.shutdown()
    assert gc.isenabled()


def test_closing_the_run_restores_the_collector_at_once(qtbot):
    guard = GuiThreadGC()
    run = _FakeRun()
    guard.add(run)
    assert guard.active and not gc.isenabled()
    guard.release(run)
    assert not guard.active and gc.isenabled()


def test_a_collector_switched_off_by_the_user_stays_off(qtbot):
    guard = GuiThreadGC()
    run = _FakeRun()
    gc.disable()
    try:
        guard.add(run)
        run.running = False
        qtbot.waitUntil(lambda: not guard.active, timeout=5_000)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collect_due_collects_what_the_automatic_collector_would(qtbot):
    gc.disable()
    try:
        _Cyclic.freed_in.clear()
        for _ in range(gc.get_threshold()[0] + 50):   # past generation 0's threshold
            _Cyclic()
        GuiThreadGC.collect_due()
        assert len(_Cyclic.freed_in) > 0
    finally:
        gc.enable()
        gc.collect()


def test_no_guard_off_the_gui_thread(qtbot):
    got = []
    t = threading.Thread(target=lambda: got.append(guard_run(_FakeRun())))
    t.start()
    t.join()
    assert got == [None] and gc.isenabled()
    release_run(_FakeRun())                  # never guarded: nothing happens
