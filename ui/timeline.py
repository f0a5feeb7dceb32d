"""Timeline: go back to any earlier iteration recorded in the session, compare two.

The source is a session reader (``iterations()``, ``losses()``, ``read_iteration(i)``),
for a finished file, one still being written, or the live run's own recording. Pick one
iteration to see its parameters and graph statistics; pick two (Ctrl+click) to compare
them side by side with the ratio of gradient norms.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets


def _f(v) -> str:
    if v is None:
        return "—"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.4g}"


def compare_rows(a, b=None) -> tuple[list, list]:
    """(header, rows) of the parameter table for one record, or two compared."""
    names = list(a.param_stats)
    if b is not None:
        names += [n for n in b.param_stats if n not in a.param_stats]
        header = ["parameter", f"‖grad‖ @{a.iteration}", f"‖grad‖ @{b.iteration}", "ratio",
                  f"‖w‖ @{a.iteration}", f"‖w‖ @{b.iteration}"]
    else:
        header = ["parameter", "‖grad‖", "grad NaN/Inf", "‖w‖", "update/‖w‖"]
    rows = []
    for n in names:
        pa = a.param_stats.get(n)
        ga = pa.grad.norm if pa is not None and pa.grad is not None else None
        if b is None:
            bad = f"{pa.grad.nan_count}/{pa.grad.inf_count}" if pa is not None and pa.grad is not None else "—"
            rows.append([n, _f(ga), bad, _f(pa.weight_norm if pa else None),
                         _f(pa.update_ratio if pa else None)])
            continue
        pb = b.param_stats.get(n)
        gb = pb.grad.norm if pb is not None and pb.grad is not None else None
        ratio = gb / ga if (ga and gb is not None and math.isfinite(ga) and ga != 0) else None
        rows.append([n, _f(ga), _f(gb), _f(ratio), _f(pa.weight_norm if pa else None),
                     _f(pb.weight_norm if pb else None)])
    return header, rows


class TimelinePanel(QtWidgets.QWidget):
    iterationChosen = QtCore.Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("timelinePanel")
        self.source = None
        self.list = QtWidgets.QListWidget()
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.summary = QtWidgets.QLabel("No session recording: open a session file, or run a script.")
        self.summary.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        right = QtWidgets.QWidget()
        rl = QtWidgets.QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.summary)
        rl.addWidget(self.table, 1)
        split = QtWidgets.QSplitter()
        split.addWidget(self.list)
        split.addWidget(right)
        split.setSizes([220, 600])
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self._shown: list = []
        self.records: list = []

    def set_source(self, source):
        self.source = source
        self.list.clear()
        self._shown = []
        self.table.setRowCount(0)
        self.summary.setText("No session recording: open a session file, or run a script."
                             if source is None else "Pick an iteration (Ctrl+click a second one to compare).")
        self.refresh()

    def refresh(self):
        """Add the iterations the source gained since the last call."""
        if self.source is None:
            return
        try:
            its = self.source.iterations()
            if len(its) == len(self._shown):
                return
            xs, losses = self.source.losses()
        except Exception as e:  # a damaged file: say so here, keep the rest of the window
            self.summary.setText(f"cannot read the session: {e}")
            return
        loss_of = {int(x): float(y) for x, y in zip(xs, losses)}
        new = its[len(self._shown):]
        for it in new:
            loss = loss_of.get(int(it))
            item = QtWidgets.QListWidgetItem(f"iteration {it:>6}   loss {_f(loss)}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, int(it))
            if loss is not None and not math.isfinite(loss):
                item.setForeground(QtGui.QColor("#d50000"))
            self.list.addItem(item)
        self._shown = list(its)

    def select_iterations(self, *iterations):
        self.list.clearSelection()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(QtCore.Qt.ItemDataRole.UserRole) in iterations:
                item.setSelected(True)

    def _selection_changed(self):
        its = sorted(i.data(QtCore.Qt.ItemDataRole.UserRole) for i in self.list.selectedItems())[:2]
        if not its or self.source is None:
            return
        try:
            self.records = [self.source.read_iteration(i) for i in its]
        except Exception as e:
            self.summary.setText(f"cannot read iteration {its}: {e}")
            return
        header, rows = compare_rows(*self.records)
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(v))
        self.table.resizeColumnsToContents()
        texts = []
        for rec in self.records:
            bad = sum(1 for s in rec.node_stats.values() if s.nan_count or s.inf_count)
            ev = f", {len(rec.events)} event(s)" if rec.events else ""
            texts.append(f"iteration {rec.iteration}: loss {_f(rec.loss)}, {len(rec.node_stats)} nodes"
                         f" ({bad} with NaN/Inf){ev}")
        self.summary.setText("<br>".join(texts))
        if len(its) == 1:
            self.iterationChosen.emit(its[0])
