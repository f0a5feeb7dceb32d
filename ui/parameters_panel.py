"""Parameters panel: a sortable table of every parameter with a grad-norm sparkline.

Columns: name (module tree order), shape, weight norm, gradient norm, update/weight
ratio, health, and a sparkline of the gradient norm over iterations. The Qt table model
holds a plain snapshot of the StatsModel/HistoryModel/HealthModel, refreshed by the
window's redraw timer when the iteration changed.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

COLUMNS = ["Parameter", "Shape", "‖w‖", "‖grad‖", "update/‖w‖", "Health", "‖grad‖ history"]
COL_NAME, COL_SHAPE, COL_W, COL_G, COL_RATIO, COL_HEALTH, COL_SPARK = range(7)
SPARK_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2
_HEALTH_COLORS = {"nonfinite": "#d50000", "exploding": "#ff6d00", "vanishing": "#2962ff"}


def fmt(v) -> str:
    """A number as the table shows it ('—' for unknown)."""
    if v is None:
        return "—"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    return f"{v:.3e}" if (abs(v) < 1e-3 or abs(v) >= 1e4) else f"{v:.4f}"


class ParameterRow:
    __slots__ = ("name", "shape", "weight_norm", "grad_norm", "ratio", "health", "spark")

    def __init__(self, name, shape, weight_norm, grad_norm, ratio, health, spark):
        self.name, self.shape = name, shape
        self.weight_norm, self.grad_norm, self.ratio = weight_norm, grad_norm, ratio
        self.health, self.spark = health, spark


def rows_from_models(stats, history=None, health=None) -> list:
    """Table rows from the models (a plain function: testable, no Qt)."""
    params, _ = stats.snapshot()
    flags = dict(health.params) if health is not None else {}
    sparks = {}
    if history is not None:
        with history.lock:
            for name, series in history.grad_norms.items():
                sparks[name] = series.points()[1][-120:]
    rows = []
    for name, ps in params.items():
        f = flags.get(name, frozenset())
        rows.append(ParameterRow(
            name, tuple(ps.shape),
            ps.weight.norm if ps.weight is not None else None,
            ps.grad.norm if ps.grad is not None else None,
            ps.ratio, ", ".join(sorted(f)) if f else "ok", sparks.get(name, np.empty(0))))
    return rows


class ParametersTableModel(QtCore.QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows: list):
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QtCore.QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QtCore.QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        c = index.column()
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            return [r.name, str(list(r.shape)), fmt(r.weight_norm), fmt(r.grad_norm),
                    fmt(r.ratio), r.health, None][c]
        if role == SORT_ROLE:
            num = [index.row(), math.prod(r.shape) if r.shape else 1, r.weight_norm,
                   r.grad_norm, r.ratio, r.health, r.grad_norm][c]
            if isinstance(num, str):
                return num
            return -math.inf if num is None or (isinstance(num, float) and math.isnan(num)) else num
        if role == SPARK_ROLE and c == COL_SPARK:
            return r.spark
        if role == QtCore.Qt.ItemDataRole.ForegroundRole and c == COL_HEALTH and r.health != "ok":
            return QtGui.QColor(_HEALTH_COLORS.get(r.health.split(",")[0], "#d50000"))
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole and c in (COL_W, COL_G, COL_RATIO):
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        if role == QtCore.Qt.ItemDataRole.ToolTipRole and c == COL_NAME:
            return f"{r.name} {list(r.shape)}"
        return None


class SparklineDelegate(QtWidgets.QStyledItemDelegate):
    """Draws a small log-scale line of the gradient norm history in its cell."""

    def paint(self, painter, option, index):
        super().paint(painter, option, index)
        y = index.data(SPARK_ROLE)
        if y is None or len(y) < 2:
            return
        y = np.asarray(y, dtype=np.float64)
        good = np.isfinite(y) & (y > 0)
        if good.sum() < 2:
            return
        ly = np.log10(np.where(good, y, np.nan))
        lo, hi = np.nanmin(ly), np.nanmax(ly)
        span = hi - lo if hi > lo else 1.0
        r = option.rect.adjusted(4, 3, -4, -3)
        n = len(ly)
        pts = [QtCore.QPointF(r.left() + r.width() * i / (n - 1),
                              r.bottom() - r.height() * (v - lo) / span)
               for i, v in enumerate(ly) if math.isfinite(v)]
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtGui.QPen(QtGui.QColor("#1e88e5"), 1.2))
        painter.drawPolyline(pts)
        painter.restore()

    def sizeHint(self, option, index):
        return QtCore.QSize(110, 20)


class ParametersPanel(QtWidgets.QWidget):
    """The table plus a filter box; ``parameterActivated(name)`` on click."""

    parameterActivated = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("parametersPanel")
        self.model = ParametersTableModel(self)
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(COL_NAME)
        self.proxy.setFilterCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QtWidgets.QLineEdit(placeholderText="Filter parameters…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_NAME, QtCore.Qt.SortOrder.AscendingOrder)
        self.table.setItemDelegateForColumn(COL_SPARK, SparklineDelegate(self.table))
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        self.table.clicked.connect(self._clicked)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.filter)
        lay.addWidget(self.table)
        self._seen = None

    def _clicked(self, proxy_index):
        src = self.proxy.mapToSource(proxy_index)
        self.parameterActivated.emit(self.model.rows[src.row()].name)

    def refresh(self, stats, history=None, health=None, force: bool = False):
        if stats is None:
            return
        key = (stats.iteration, len(stats.params), history.iterations if history else 0)
        if key == self._seen and not force:
            return
        self._seen = key
        selected = self.selected_name()
        rows = rows_from_models(stats, history, health)
        grew = len(rows) != self.model.rowCount()
        self.model.set_rows(rows)
        if grew:                 # size the columns once per set of parameters, not per frame
            self.table.resizeColumnsToContents()
        if selected:
            self.select(selected)

    def selected_name(self):
        idx = self.table.selectionModel().selectedRows()
        if not idx:
            return None
        return self.model.rows[self.proxy.mapToSource(idx[0]).row()].name

    def select(self, name: str) -> bool:
        for i, r in enumerate(self.model.rows):
            if r.name == name:
                self.table.selectRow(self.proxy.mapFromSource(self.model.index(i, 0)).row())
                return True
        return False

    def displayed(self) -> list:
        """Rows as (name, weight_norm, grad_norm) in displayed (sorted) order (tests)."""
        out = []
        for r in range(self.proxy.rowCount()):
            row = self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
            out.append((row.name, row.weight_norm, row.grad_norm))
        return out
