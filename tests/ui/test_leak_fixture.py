"""The leak check itself: it must notice a running thread, QThread or timer."""

from __future__ import annotations

import threading

from PySide6 import QtCore

from leakcheck import _Tracker, find_leaks


def test_reports_an_active_timer_and_a_running_thread(qtbot):
    tracker = _Tracker()
    before = set(threading.enumerate())
    timer = QtCore.QTimer()
    timer.setObjectName("refreshTimer")
    timer.start(1000)
    tracker.timers.append(timer)
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="training")
    worker.start()
    try:
        problems = find_leaks(before, tracker, grace_s=0.2)
    finally:
        release.set()
        worker.join()
    assert any("QTimer refreshTimer still active" in p for p in problems)
    assert any("thread 'training' still running" in p for p in problems)
    assert not timer.isActive()              # stopped, so the next test starts clean
    assert find_leaks(before, tracker, grace_s=0.2) == []


def test_timers_started_in_a_test_are_tracked(no_leaks):
    timer = QtCore.QTimer()
    timer.start(50)
    assert timer in no_leaks.timers
    timer.stop()
