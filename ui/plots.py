"""Plots panel (pyqtgraph): loss with a smoothed line, logged metrics, gradient flow.

Every curve is created once and updated with ``setData`` (DESIGN.md: reuse plot items).
``refresh(history, stats)`` is called by the window's redraw timer and does nothing
when the history has not grown since the last call.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def ema(y: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Exponential moving average of ``y`` (NaNs are skipped, not propagated)."""
    out = np.empty_like(y, dtype=np.float64)
    acc = math.nan
    for i, v in enumerate(y):
        if math.isfinite(v):
            acc = v if not math.isfinite(acc) else acc + alpha * (v - acc)
        out[i] = acc
    return out


def _plot(title: str, left: str, log_y: bool = False, legend_columns: int = 1) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    w.setTitle(title, color="#333", size="9pt")
    w.setLabel("left", left)
    w.setLabel("bottom", "iteration")
    w.showGrid(x=True, y=True, alpha=0.2)
    w.setLogMode(y=log_y)
    legend = w.addLegend(offset=(-10, 10), labelTextSize="8pt", brush=(255, 255, 255, 200),
                         pen=(200, 200, 200))
    legend.setColumnCount(legend_columns)
    w.getAxis("bottom").enableAutoSIPrefix(False)   # iterations are counts: no "x0.001"
    return w


class PlotsPanel(QtWidgets.QTabWidget):
    """Tabs: Loss, Metrics, Gradient flow (over iterations), Gradient flow (this iteration)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("plotsPanel")
        self.loss_plot = _plot("Loss", "loss")
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#9ecae1", width=1),
                                              name="loss")
        self.loss_smooth = self.loss_plot.plot([], [], pen=pg.mkPen("#08519c", width=2.5),
                                               name="smoothed")
        self.metrics_plot = _plot("Metrics", "value", legend_columns=2)
        # many parameters: a wide, short legend (several columns) hides fewer curves
        self.flow_plot = _plot("Gradient norm per parameter", "‖grad‖ (log)", log_y=True,
                               legend_columns=3)
        self.current_plot = pg.PlotWidget(background="w")
        self.current_plot.setTitle("Gradient flow, this iteration", color="#333", size="9pt")
        self.current_plot.setLabel("left", "log10 ‖grad‖")
        self.current_plot.showGrid(y=True, alpha=0.2)
        self.current_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#4a90d9")
        self.current_plot.addItem(self.current_bars)
        self.addTab(self.loss_plot, "Loss")
        self.addTab(self.metrics_plot, "Metrics")
        self.addTab(self.flow_plot, "Gradient flow")
        self.addTab(self.current_plot, "This iteration")
        self.metric_curves: dict = {}
        self.flow_curves: dict = {}
        self._drawn: dict = {}          # tab index -> history key it was last drawn for
        self._source = (None, None)
        self.currentChanged.connect(lambda _i: self.refresh(*self._source))
        self.bar_names: list = []
        self.bar_norms: list = []

    def _curve(self, table: dict, plot: pg.PlotWidget, name: str):
        c = table.get(name)
        if c is None:
            color = _COLORS[len(table) % len(_COLORS)]
            c = table[name] = plot.plot([], [], pen=pg.mkPen(color, width=1.5), name=name)
        return c

    def clear(self):
        self.loss_curve.setData([], [])
        self.loss_smooth.setData([], [])
        for table, plot in ((self.metric_curves, self.metrics_plot),
                            (self.flow_curves, self.flow_plot)):
            for c in table.values():
                plot.removeItem(c)
                if plot.plotItem.legend is not None:
                    plot.plotItem.legend.removeItem(c)
            table.clear()
        self.current_bars.setOpts(x=[], height=[])
        self._drawn = {}

    def refresh(self, history, stats=None, force: bool = False):
        """Redraw the visible tab from a HistoryModel (and the StatsModel for this
        iteration's bars); hidden tabs are drawn when they are shown."""
        self._source = (history, stats)
        if history is None:
            return
        key = (id(history), history.iterations, history.last_iteration)
        tab = self.currentIndex()
        if self._drawn.get(tab) == key and not force:
            return
        self._drawn[tab] = key
        with history.lock:
            if tab == 0:
                lx, ly = history.loss.points()
            metrics = {k: s.points() for k, s in history.metrics.items()} if tab == 1 else {}
            flows = ({k: s.points() for k, s in history.grad_norms.items()}
                     if tab in (2, 3) else {})
        if tab == 0:
            few = len(lx) <= 60          # a handful of iterations: show the points themselves
            self.loss_curve.setData(lx, ly, connect="finite", symbol="o" if few else None,
                                    symbolSize=5, symbolBrush="#6baed6", symbolPen=None)
            self.loss_smooth.setData(lx, ema(ly), connect="finite")
        elif tab == 1:
            for k, (x, y) in metrics.items():
                self._curve(self.metric_curves, self.metrics_plot, k).setData(x, y, connect="finite")
        elif tab == 2:
            for k, (x, y) in flows.items():
                y = np.where(y > 0, y, np.nan)  # log scale: zeros cannot be drawn
                self._curve(self.flow_curves, self.flow_plot, k).setData(x, y, connect="finite")
        else:
            self._refresh_current(flows, stats)

    def _refresh_current(self, flows: dict, stats):
        names, norms = [], []
        params = stats.snapshot()[0] if stats is not None else {}
        if params:
            for name, ps in params.items():
                if ps.grad is not None:
                    names.append(name)
                    norms.append(ps.grad.norm)
        else:
            for name, (x, y) in flows.items():
                if len(y):
                    names.append(name)
                    norms.append(float(y[-1]))
        heights = np.array([n if (math.isfinite(n) and n > 0) else np.nan for n in norms])
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(heights)
        floor = np.nanmin(logs) - 1 if np.isfinite(logs).any() else -8.0
        # BarGraphItem in log mode needs the log heights itself; bars start at the floor.
        logs = np.where(np.isfinite(logs), logs, floor)
        self.current_bars.setOpts(x=np.arange(len(names)), y0=np.full(len(names), floor),
                                  height=logs - floor, width=0.7)
        axis = self.current_plot.getAxis("bottom")
        axis.setTicks([[(i, n) for i, n in enumerate(names)]])
        self.bar_names = names
        self.bar_norms = norms
