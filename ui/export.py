"""Export the graph picture (PNG, SVG) and the statistics (CSV)."""

from __future__ import annotations

import csv
import math

from PySide6 import QtCore, QtGui
from PySide6.QtSvg import QSvgGenerator

MAX_PNG_SIDE = 8000


def _source_rect(scene) -> QtCore.QRectF:
    return scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)


def export_png(scene, path: str, scale: float = 2.0) -> QtCore.QSize:
    """Render the whole graph scene to a PNG (labels forced on); returns the image size."""
    rect = _source_rect(scene)
    scale = min(scale, MAX_PNG_SIDE / max(rect.width(), rect.height(), 1.0))
    size = QtCore.QSize(max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale)))
    img = QtGui.QImage(size, QtGui.QImage.Format.Format_ARGB32)
    img.fill(QtGui.QColor("white"))
    labels = scene.labels_visible
    scene.ensure_labels(None)
    scene.set_labels_visible(True)
    p = QtGui.QPainter(img)
    p.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing | QtGui.QPainter.RenderHint.TextAntialiasing)
    scene.render(p, QtCore.QRectF(0, 0, size.width(), size.height()), rect)
    p.end()
    scene.set_labels_visible(labels)
    if not img.save(path, "PNG"):
        raise OSError(f"could not write PNG to {path}")
    return size


def export_svg(scene, path: str) -> None:
    """Render the whole graph scene as SVG vector graphics."""
    rect = _source_rect(scene)
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(QtCore.QSize(int(rect.width()), int(rect.height())))
    gen.setViewBox(QtCore.QRectF(0, 0, rect.width(), rect.height()))
    gen.setTitle("autograd-viz graph")
    labels = scene.labels_visible
    scene.ensure_labels(None)
    scene.set_labels_visible(True)
    p = QtGui.QPainter()
    if not p.begin(gen):
        raise OSError(f"could not write SVG to {path}")
    scene.render(p, QtCore.QRectF(0, 0, rect.width(), rect.height()), rect)
    p.end()
    scene.set_labels_visible(labels)


def history_table(history) -> tuple[list, list]:
    """(header, rows): one row per iteration, one column per series (loss, metrics,
    grad_norm/<param>); empty cells where a series has no value at that iteration."""
    with history.lock:
        names = history.names()
        cols = {n: dict(zip(*(a.tolist() for a in history.series(n).points()))) for n in names}
    iterations = sorted({x for c in cols.values() for x in c})
    rows = []
    for it in iterations:
        row = [int(it) if float(it).is_integer() else it]
        for n in names:
            v = cols[n].get(it)
            row.append("" if v is None else (repr(v) if not math.isfinite(v) else f"{v:.9g}"))
        rows.append(row)
    return ["iteration"] + names, rows


def export_csv(history, path: str, stats=None) -> int:
    """Write the per-iteration history as CSV (and, with ``stats``, a second file
    ``<path stem>_parameters.csv`` of the current per-parameter statistics).
    Returns the number of iteration rows written."""
    header, rows = history_table(history)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    if stats is not None:
        params, _ = stats.snapshot()
        stem = path[:-4] if path.lower().endswith(".csv") else path
        with open(stem + "_parameters.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["parameter", "shape", "weight_norm", "grad_norm", "grad_mean", "grad_std",
                        "grad_nan", "grad_inf", "update_norm", "update_ratio", "iteration"])
            for name, ps in params.items():
                g = ps.grad
                w.writerow([name, "x".join(map(str, ps.shape)),
                            ps.weight.norm if ps.weight else "", g.norm if g else "",
                            g.mean if g else "", g.std if g else "", g.nan if g else "",
                            g.inf if g else "", "" if ps.update_norm is None else ps.update_norm,
                            "" if ps.ratio is None else ps.ratio, ps.iteration])
    return len(rows)
