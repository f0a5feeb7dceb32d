"""Colours and pens of the graph view: one place decides how a state or a norm looks.

Fill colour shows where the backward pass stands at a node (pending, ready, running,
done); the border shows its health (NaN/Inf red, exploding orange, vanishing blue).
Edge colour and width follow log10 of the gradient norm that flowed along the edge,
quantised into a few buckets so all edges of one bucket share one QPainterPath.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui

# Fill by execution state. 'idle' is a node outside a running backward pass.
STATE_FILL = {
    "idle": QtGui.QColor("#f4f6f8"),
    "pending": QtGui.QColor("#e3e7ec"),
    "ready": QtGui.QColor("#fff3c4"),
    "running": QtGui.QColor("#ffb74d"),
    "done": QtGui.QColor("#c8e6c9"),
}
LEAF_FILL = {
    "idle": QtGui.QColor("#e3f2fd"),
    "pending": QtGui.QColor("#dde6ee"),
    "ready": QtGui.QColor("#fff3c4"),
    "running": QtGui.QColor("#ffb74d"),
    "done": QtGui.QColor("#b3e5fc"),
}

# Border by health.
HEALTH_BORDER = {
    "ok": (QtGui.QColor("#607080"), 1.2),
    "nan": (QtGui.QColor("#d50000"), 3.5),
    "inf": (QtGui.QColor("#d50000"), 3.5),
    "exploding": (QtGui.QColor("#ff6d00"), 3.0),
    "vanishing": (QtGui.QColor("#2962ff"), 2.5),
}
NAN_FILL = QtGui.QColor("#ffcdd2")
LEAF_BORDER = QtGui.QColor("#1565c0")

CURRENT_PEN = QtGui.QPen(QtGui.QColor("#e65100"), 4.0)
CURRENT_PEN.setCosmetic(True)
SELECTED_PEN = QtGui.QPen(QtGui.QColor("#1e88e5"), 2.5, QtCore.Qt.PenStyle.DashLine)
SELECTED_PEN.setCosmetic(True)
BREAKPOINT_BRUSH = QtGui.QBrush(QtGui.QColor("#e53935"))
BREAKPOINT_DISABLED_BRUSH = QtGui.QBrush(QtGui.QColor("#bdbdbd"))
# Solid and cosmetic: a dashed outline around a 40,000 px wide module costs a paint
# thousands of dashes.
GROUP_PEN = QtGui.QPen(QtGui.QColor("#b0bec5"), 1.0)
GROUP_PEN.setCosmetic(True)
GROUP_BRUSH = QtGui.QBrush(QtGui.QColor(236, 239, 241, 110))
GROUP_COLLAPSED_BRUSH = QtGui.QBrush(QtGui.QColor("#cfd8dc"))
TEXT_COLOR = QtGui.QColor("#1b1f23")
SUBTEXT_COLOR = QtGui.QColor("#4a5560")
BACKGROUND = QtGui.QColor("#ffffff")

# Edge buckets: 'none' (no gradient yet), 'nan', then N_NORM_BUCKETS by log10(norm).
N_NORM_BUCKETS = 8
LOG_NORM_LOW, LOG_NORM_HIGH = -7.0, 3.0
EDGE_NONE_PEN = QtGui.QPen(QtGui.QColor("#b0bec5"), 1.0)
EDGE_NAN_PEN = QtGui.QPen(QtGui.QColor("#d50000"), 3.0)

# A perceptual ramp from faint blue (tiny gradients) to dark red (large ones).
_RAMP = ["#9fb3c8", "#64b5f6", "#26a69a", "#66bb6a", "#d4e157", "#ffca28", "#fb8c00", "#c62828"]


def edge_bucket(norm) -> str | int:
    """Bucket key of an edge that carried a gradient of this norm (None: nothing yet)."""
    if norm is None:
        return "none"
    if not math.isfinite(norm):
        return "nan"
    if norm <= 0.0:
        return 0
    t = (math.log10(norm) - LOG_NORM_LOW) / (LOG_NORM_HIGH - LOG_NORM_LOW)
    return min(N_NORM_BUCKETS - 1, max(0, int(t * N_NORM_BUCKETS)))


def edge_pen(bucket) -> QtGui.QPen:
    """The pen of one edge bucket (width grows with the norm)."""
    if bucket == "none":
        pen = QtGui.QPen(EDGE_NONE_PEN)
    elif bucket == "nan":
        pen = QtGui.QPen(EDGE_NAN_PEN)
    else:
        pen = QtGui.QPen(QtGui.QColor(_RAMP[bucket]), 1.0 + 0.5 * bucket)
    pen.setCosmetic(True)  # screen pixels: edges stay visible in a zoomed-out overview
    # Square caps close the joints between segments; round caps and joins make Qt's
    # antialiased stroker 5-10x slower on thousands of segments.
    pen.setCapStyle(QtCore.Qt.PenCapStyle.SquareCap)
    pen.setJoinStyle(QtCore.Qt.PenJoinStyle.MiterJoin)
    return pen


def bucket_range(bucket: int) -> tuple[float, float]:
    """The norm interval a numeric bucket stands for (for the legend)."""
    step = (LOG_NORM_HIGH - LOG_NORM_LOW) / N_NORM_BUCKETS
    return 10 ** (LOG_NORM_LOW + bucket * step), 10 ** (LOG_NORM_LOW + (bucket + 1) * step)


def bucket_rank(norm) -> int:
    """Drawing order of an edge's bucket: 0 'none', 1..N by norm, N+1 'nan' (on top)."""
    b = edge_bucket(norm)
    if b == "none":
        return 0
    if b == "nan":
        return N_NORM_BUCKETS + 1
    return b + 1


def rank_bucket(rank: int):
    """Inverse of :func:`bucket_rank`."""
    if rank == 0:
        return "none"
    if rank == N_NORM_BUCKETS + 1:
        return "nan"
    return rank - 1


def bucket_rank_of(bucket) -> int:
    """Rank of a bucket key ('none', 0..N-1, 'nan')."""
    if bucket == "none":
        return 0
    if bucket == "nan":
        return N_NORM_BUCKETS + 1
    return int(bucket) + 1
