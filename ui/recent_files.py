"""Recent files (scripts and sessions), remembered in QSettings, newest first."""

from __future__ import annotations

import os

from PySide6 import QtCore

KEY = "recent_files"
MAX_RECENT = 10


class RecentFiles(QtCore.QObject):
    """``add(path, kind)`` with kind 'script' or 'session'; ``entries()`` -> [(path, kind)]."""

    changed = QtCore.Signal()

    def __init__(self, settings: QtCore.QSettings, parent=None):
        super().__init__(parent)
        self.settings = settings

    def entries(self) -> list:
        raw = self.settings.value(KEY, []) or []
        if isinstance(raw, str):
            raw = [raw]
        out = []
        for item in raw:
            kind, _, path = str(item).partition("|")
            if kind in ("script", "session") and path:
                out.append((path, kind))
        return out

    def add(self, path: str, kind: str):
        if kind not in ("script", "session"):
            raise ValueError(f"recent file kind must be 'script' or 'session', not {kind!r}")
        path = os.path.abspath(path)
        items = [(p, k) for p, k in self.entries() if p != path]
        items.insert(0, (path, kind))
        self.settings.setValue(KEY, [f"{k}|{p}" for p, k in items[:MAX_RECENT]])
        self.changed.emit()

    def clear(self):
        self.settings.setValue(KEY, [])
        self.changed.emit()
