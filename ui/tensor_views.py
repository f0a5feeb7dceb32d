"""Histogram and heatmap widgets for one tensor (used by the inspector).

``tile_for_heatmap`` turns any array into the 2-D image the heatmap shows: a 2-D
tensor as itself, a conv weight ``[out, in, kh, kw]`` as a grid of its kh x kw kernels
(one row per output channel, NaN gutters between kernels), 1-D as one row, and higher
ranks folded to ``[first, rest]``. Colour levels are fixed and symmetric around zero,
so a colour means the same value from one refresh to the next.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

MAX_KERNEL_ROWS = 32      # output channels shown in a kernel grid
MAX_KERNEL_COLS = 32      # input channels shown in a kernel grid


def tile_for_heatmap(arr: np.ndarray) -> tuple[np.ndarray, str]:
    """(2-D float image, description) for a tensor of any rank."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 0:
        return a.reshape(1, 1), "scalar"
    if a.ndim == 1:
        return a.reshape(1, -1), f"vector of {a.shape[0]}"
    if a.ndim == 2:
        return a, f"{a.shape[0]} x {a.shape[1]} matrix"
    if a.ndim == 4:
        o, i, kh, kw = a.shape
        o2, i2 = min(o, MAX_KERNEL_ROWS), min(i, MAX_KERNEL_COLS)
        grid = np.full((o2 * (kh + 1) - 1, i2 * (kw + 1) - 1), np.nan)
        for r in range(o2):
            for c in range(i2):
                grid[r * (kh + 1): r * (kh + 1) + kh, c * (kw + 1): c * (kw + 1) + kw] = a[r, c]
        note = "" if (o2, i2) == (o, i) else f", first {o2}x{i2} shown"
        return grid, f"{o}x{i} kernels of {kh}x{kw} (rows: output channel{note})"
    return a.reshape(a.shape[0], -1), f"{a.shape} folded to {a.shape[0]} x {a.size // a.shape[0]}"


class HistogramView(pg.PlotWidget):
    """Bars of a fixed-bin histogram (a step curve filled to zero)."""

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMinimumHeight(120)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setLabel("left", "count")
        self.curve = self.plot([], [], stepMode="center", fillLevel=0,
                               brush=(74, 144, 217, 150), pen=pg.mkPen("#1f5fa8"))

    def set_histogram(self, hist):
        if hist is None or len(hist.counts) == 0 or hist.hi <= hist.lo:
            self.curve.setData([], [])
            return
        self.curve.setData(hist.edges, hist.counts.astype(float), stepMode="center")

    def clear_view(self):
        self.curve.setData([], [])


class HeatmapView(pg.GraphicsLayoutWidget):
    """An image of a tensor with a colour bar (diverging map, symmetric fixed levels)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumHeight(160)
        self.plot = self.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.hideAxis("bottom")
        self.plot.hideAxis("left")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        cmap = pg.colormap.get("CET-D1A")
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=cmap, interactive=False,
                                        width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.description = ""
        self.levels = (-1.0, 1.0)

    def set_array(self, arr):
        if arr is None:
            self.clear_view()
            return
        img, self.description = tile_for_heatmap(arr)
        finite = img[np.isfinite(img)]
        m = float(np.abs(finite).max()) if finite.size else 1.0
        if not math.isfinite(m) or m == 0.0:
            m = 1.0
        self.levels = (-m, m)
        self.image.setImage(img, levels=self.levels, autoLevels=False)
        self.colorbar.setLevels(self.levels)
        self.plot.autoRange()

    def clear_view(self):
        self.image.clear()
        self.description = ""

