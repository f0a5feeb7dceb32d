"""Breakpoints panel: every breakpoint with on/off, its condition and hit count, and a
form to add one (op type, node, parameter, non-finite gradient, gradient norm above X,
loss non-finite or above X). Edits go straight to the session's BreakpointList.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from autograd_viz import breakpoints as bpmod

KINDS = [
    ("Op type", "op"), ("Node", "node"), ("Parameter", "param"),
    ("Non-finite gradient", "nonfinite"), ("Gradient norm above", "norm"),
    ("Loss non-finite", "loss_nonfinite"), ("Loss above", "loss_above"),
]
_NEEDS_NAME = {"op", "node", "param"}
_NEEDS_NUMBER = {"norm", "loss_above"}


def make_breakpoint(kind: str, value: str = ""):
    """A Breakpoint from the form's kind and text; ValueError with a readable message."""
    value = value.strip()
    if kind in _NEEDS_NAME and not value:
        raise ValueError(f"a {dict((k, l) for l, k in KINDS)[kind].lower()} breakpoint needs a name")
    if kind == "op":
        return bpmod.OpBreakpoint(value)
    if kind == "node":
        return bpmod.NodeBreakpoint(value)
    if kind == "param":
        return bpmod.ParamBreakpoint(value)
    if kind == "nonfinite":
        return bpmod.NonFiniteBreakpoint()
    if kind == "loss_nonfinite":
        return bpmod.LossBreakpoint(nonfinite=True)
    if kind in _NEEDS_NUMBER:
        try:
            x = float(value)
        except ValueError:
            raise ValueError(f"threshold must be a number, got {value!r}") from None
        return bpmod.GradNormBreakpoint(x) if kind == "norm" else bpmod.LossBreakpoint(above=x, nonfinite=False)
    raise ValueError(f"unknown breakpoint kind {kind!r}")


class BreakpointsPanel(QtWidgets.QWidget):
    errorMessage = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("breakpointsPanel")
        self.breakpoints = None
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["on", "condition", "hits"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._item_changed)
        self.kind = QtWidgets.QComboBox()
        for label, key in KINDS:
            self.kind.addItem(label, key)
        self.value = QtWidgets.QComboBox()
        self.value.setEditable(True)
        self.value.setMinimumWidth(160)
        self.value.lineEdit().setPlaceholderText("name or threshold")
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.add_button = QtWidgets.QPushButton("Add")
        self.add_button.setObjectName("addBreakpoint")
        self.add_button.clicked.connect(self.add_from_form)
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.setObjectName("removeBreakpoint")
        self.remove_button.clicked.connect(self.remove_selected)
        form = QtWidgets.QHBoxLayout()
        form.addWidget(self.kind)
        form.addWidget(self.value, 1)
        form.addWidget(self.add_button)
        form.addWidget(self.remove_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(form)
        lay.addWidget(self.table)
        self._ops: list = []
        self._nodes: list = []
        self._params: list = []
        self._ids: list = []
        self._kind_changed()

    def set_breakpoints(self, bps):
        self.breakpoints = bps
        self.refresh()

    def set_choices(self, ops=(), nodes=(), params=()):
        """Names offered in the value box (from the current graph)."""
        self._ops, self._nodes, self._params = sorted(set(ops)), list(nodes), list(params)
        self._kind_changed()

    def _kind_changed(self, *_):
        kind = self.kind.currentData()
        text = self.value.currentText()
        self.value.clear()
        choices = {"op": self._ops, "node": self._nodes, "param": self._params}.get(kind, [])
        self.value.addItems(choices)
        self.value.setEnabled(kind in _NEEDS_NAME or kind in _NEEDS_NUMBER)
        if kind in _NEEDS_NUMBER:
            self.value.setEditText(text if text.replace(".", "", 1).replace("e", "").isdigit() else "1000")
        elif not choices:
            self.value.setEditText("")

    def add_from_form(self):
        if self.breakpoints is None:
            self.errorMessage.emit("no session: open a script or a sample first")
            return None
        try:
            bp = make_breakpoint(self.kind.currentData(), self.value.currentText())
        except ValueError as e:
            self.errorMessage.emit(str(e))
            return None
        return self.breakpoints.add(bp)

    def remove_selected(self):
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            if r < len(self._ids):
                try:
                    self.breakpoints.remove(self._ids[r])
                except KeyError:
                    pass

    def _item_changed(self, item):
        if item.column() != 0 or self.breakpoints is None or item.row() >= len(self._ids):
            return
        on = item.checkState() == QtCore.Qt.CheckState.Checked
        try:
            self.breakpoints.set_enabled(self._ids[item.row()], on)
        except KeyError:
            pass

    def refresh(self):
        bps = self.breakpoints.list() if self.breakpoints is not None else []
        self.table.blockSignals(True)
        self.table.setRowCount(len(bps))
        self._ids = [b.id for b in bps]
        for r, b in enumerate(bps):
            on = QtWidgets.QTableWidgetItem()
            on.setFlags(QtCore.Qt.ItemFlag.ItemIsUserCheckable | QtCore.Qt.ItemFlag.ItemIsEnabled
                        | QtCore.Qt.ItemFlag.ItemIsSelectable)
            on.setCheckState(QtCore.Qt.CheckState.Checked if b.enabled else QtCore.Qt.CheckState.Unchecked)
            self.table.setItem(r, 0, on)
            self.table.setItem(r, 1, QtWidgets.QTableWidgetItem(b.description))
            self.table.setItem(r, 2, QtWidgets.QTableWidgetItem(str(b.hit_count)))
        self.table.resizeColumnToContents(0)
        self.table.blockSignals(False)
