"""The status bar: where execution stands (iteration, node, paused/running, samples/s)."""

from __future__ import annotations

import time

from PySide6 import QtWidgets

_MODE_STYLE = {
    "running": "color: #2e7d32; font-weight: bold",
    "paused": "color: #e65100; font-weight: bold",
    "stopped": "color: #616161; font-weight: bold",
    "finished": "color: #1565c0; font-weight: bold",
    "error": "color: #d50000; font-weight: bold",
    "idle": "color: #616161",
}


class DebugStatusBar(QtWidgets.QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.mode = QtWidgets.QLabel("idle")
        self.iteration = QtWidgets.QLabel("iteration —")
        self.node = QtWidgets.QLabel("node —")
        self.speed = QtWidgets.QLabel("— samples/s")
        for w in (self.mode, self.iteration, self.node, self.speed):
            w.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(w)
        self._rate_mark: tuple[float, int] | None = None
        self.rate: float | None = None

    def update_from(self, mode: str, reason: str, iteration, node_text: str, samples: int | None):
        """``samples``: total samples seen so far (None: unknown); the rate is measured here."""
        text = mode if not reason or mode not in ("paused", "stopped") else f"{mode} ({reason})"
        if self.mode.text() != text:
            self.mode.setText(text)
            self.mode.setStyleSheet(_MODE_STYLE.get(mode, ""))
        self.iteration.setText(f"iteration {iteration}" if iteration is not None else "iteration —")
        self.node.setText(f"node {node_text}" if node_text else "node —")
        now = time.monotonic()
        if samples is not None and mode == "running":
            if self._rate_mark is None or samples < self._rate_mark[1]:
                self._rate_mark = (now, samples)
            elif now - self._rate_mark[0] >= 1.0 and samples > self._rate_mark[1]:
                t0, s0 = self._rate_mark
                self.rate = (samples - s0) / (now - t0)
                self._rate_mark = (now, samples)
        elif mode != "running":
            self._rate_mark = None       # paused time does not count; keep the last rate
        self.speed.setText(f"{self.rate:,.0f} samples/s" if self.rate is not None else "— samples/s")
