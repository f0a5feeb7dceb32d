"""Inspector: everything about the selected node or parameter.

Shows op, module, the source line that created it (click to copy), output shapes,
dtype, device, saved tensors with sizes, the statistics of incoming and outgoing
gradients, and a histogram + heatmap (with colour bar) of a tensor picked from the
selection (a parameter's value or gradient; a node's gradients while they are alive).
Reads a graph snapshot and the StatsModel; never touches the engine directly.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from .graph_view.adapter import shape_text
from .tensor_views import HeatmapView, HistogramView

STAT_COLUMNS = ["", "norm", "mean", "std", "min", "max", "NaN", "Inf"]


def fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        return str(v)
    return f"{v:.4g}"


def nbytes_text(n) -> str:
    n = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class Inspector(QtWidgets.QWidget):
    """Details of one selection; ``show_node`` / ``show_parameter`` / ``clear``."""

    sourceCopied = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("inspector")
        self.selection: tuple | None = None   # ('node', key) or ('param', name)
        self._stats_model = None
        self._saved_arrays = None
        self._version = None
        self._loaded = None
        self._tensor_key = None
        self.title = QtWidgets.QLabel("Nothing selected")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() + 2)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        self.form = QtWidgets.QFormLayout()
        self.form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QtWidgets.QLabel] = {}
        for name in ("Op", "Module", "Source", "Shapes", "Dtype", "Device", "State", "Health"):
            lab = QtWidgets.QLabel("—")
            lab.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setWordWrap(True)
            self.fields[name] = lab
            self.form.addRow(name + ":", lab)
        src = self.fields["Source"]
        src.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.LinksAccessibleByMouse)
        src.setToolTip("click to copy file:line")
        src.linkActivated.connect(self.copy_source)
        self.saved = QtWidgets.QTableWidget(0, 3)
        self.saved.setHorizontalHeaderLabels(["saved tensor", "shape", "size"])
        self.grads = QtWidgets.QTableWidget(0, len(STAT_COLUMNS))
        self.grads.setHorizontalHeaderLabels(STAT_COLUMNS)
        for t in (self.saved, self.grads):
            t.verticalHeader().setVisible(False)
            t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
            t.horizontalHeader().setStretchLastSection(True)
            t.setMaximumHeight(150)
            t.verticalHeader().setDefaultSectionSize(20)
        self.picker = QtWidgets.QComboBox()
        self.picker.currentIndexChanged.connect(lambda _i: self._load_tensor(force=True))
        self.tensor_note = QtWidgets.QLabel("")
        self.tensor_note.setWordWrap(True)
        self.histogram = HistogramView()
        self.heatmap = HeatmapView()
        tabs = QtWidgets.QTabWidget()
        tabs.addTab(self.heatmap, "Heatmap")
        tabs.addTab(self.histogram, "Histogram")
        self.tensor_tabs = tabs

        body = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(body)
        lay.addWidget(self.title)
        lay.addLayout(self.form)
        lay.addWidget(QtWidgets.QLabel("<b>Gradients</b> (in: arrived, out: sent)"))
        lay.addWidget(self.grads)
        lay.addWidget(QtWidgets.QLabel("<b>Saved tensors</b>"))
        lay.addWidget(self.saved)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("<b>Tensor</b>"))
        row.addWidget(self.picker, 1)
        lay.addLayout(row)
        lay.addWidget(self.tensor_note)
        lay.addWidget(tabs, 1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.source_text = ""

    # ------------------------------------------------------------------ helpers
    def _set(self, name, text):
        self.fields[name].setText(text)

    def copy_source(self, _link=None):
        if self.source_text:
            QtWidgets.QApplication.clipboard().setText(self.source_text)
            self.sourceCopied.emit(self.source_text)

    def _fill_grads(self, rows):
        self.grads.setRowCount(len(rows))
        for r, (label, s) in enumerate(rows):
            vals = [label] + ([fmt(s.norm), fmt(s.mean), fmt(s.std), fmt(s.min), fmt(s.max),
                               str(s.nan), str(s.inf)] if s is not None else ["—"] * 7)
            for c, v in enumerate(vals):
                item = QtWidgets.QTableWidgetItem(v)
                if s is not None and not s.finite and c in (1, 6, 7):
                    item.setForeground(QtGui.QColor("#d50000"))
                self.grads.setItem(r, c, item)
        self.grads.resizeColumnsToContents()

    def _set_picker(self, entries):
        """entries: list of (label, (name, which, index)); keeps the current pick if possible."""
        current = self.picker.currentData()
        self.picker.blockSignals(True)
        self.picker.clear()
        for label, data in entries:
            self.picker.addItem(label, data)
        i = self.picker.findData(current) if current is not None else -1
        self.picker.setCurrentIndex(i if i >= 0 else (0 if entries else -1))
        self.picker.blockSignals(False)

    # ------------------------------------------------------------------ show
    def clear(self):
        self.selection = None
        self.title.setText("Nothing selected")
        for k in self.fields:
            self._set(k, "—")
        self.grads.setRowCount(0)
        self.saved.setRowCount(0)
        self.picker.clear()
        self.histogram.clear_view()
        self.heatmap.clear_view()
        self.tensor_note.setText("")
        self._tensor_key = None

    def show_node(self, key, attrs: dict, stats_model=None, health_flags=frozenset(),
                  saved_arrays=None, version=None):
        """Show node ``key`` of a graph snapshot (``attrs``: its attribute dict).

        ``saved_arrays``: a callable returning [(name, array)] of the node's saved tensors,
        given only while execution is paused at this node (they are freed once it ran)."""
        self.selection = ("node", key)
        self._saved_arrays = saved_arrays
        self._version = version
        self._stats_model = stats_model
        op = attrs.get("op", "")
        param = attrs.get("param")
        shapes = attrs.get("shapes") or []
        self.title.setText(f"{param} {shape_text(shapes[0]) if shapes else ''}" if param else op)
        self._set("Op", op)
        self._set("Module", attrs.get("module") or "(top level)")
        src = attrs.get("source")
        if src:
            file, line, func = (list(src) + [None, None, None])[:3]
            self.source_text = f"{file}:{line}"
            self._set("Source", f'<a href="copy">{file}:{line}</a> in {func or "?"}')
        else:
            self.source_text = ""
            self._set("Source", "—")
        self._set("Shapes", ", ".join(shape_text(s) for s in shapes) or "—")
        self._set("Dtype", attrs.get("dtype") or "—")
        self._set("Device", attrs.get("device") or "—")
        self._set("State", attrs.get("state", "idle"))
        self._set_health(health_flags)
        grad_in = attrs.get("grad_in") or []
        grad_out = attrs.get("grad_out") or []
        self._fill_grads([(f"in[{i}]", s) for i, s in enumerate(grad_in)]
                         + [(f"out[{i}]", s) for i, s in enumerate(grad_out)])
        saved = attrs.get("saved") or []
        self.saved.setRowCount(len(saved))
        for r, entry in enumerate(saved):
            name, shape, nbytes = (list(entry) + [None, None, None])[:3]
            for c, v in enumerate((str(name), shape_text(shape), nbytes_text(nbytes))):
                self.saved.setItem(r, c, QtWidgets.QTableWidgetItem(v))
        entries = []
        if param:
            entries = [(f"{param} value", (param, "value", 0)), (f"{param}.grad", (param, "grad", 0))]
        else:
            entries = ([(f"grad in[{i}]", (key, "grad_in", i)) for i, s in enumerate(grad_in) if s is not None]
                       + [(f"grad out[{i}]", (key, "grad_out", i)) for i, s in enumerate(grad_out) if s is not None])
        if saved_arrays is not None:
            entries += [(f"saved {entry[0]}", (key, "saved", i)) for i, entry in enumerate(saved)]
        self._set_picker(entries)
        self._load_tensor()

    def show_parameter(self, name: str, ps, stats_model=None, health_flags=frozenset(), version=None):
        """Show parameter ``name`` from its ParamStats ``ps``."""
        self.selection = ("param", name)
        self._version = version
        self._stats_model = stats_model
        self.title.setText(f"{name} {shape_text(ps.shape) if ps is not None else ''}")
        self._set("Op", "parameter (AccumulateGrad)")
        self._set("Module", name.rpartition(".")[0] or "(top level)")
        self.source_text = ""
        self._set("Source", "—")
        self._set("Shapes", shape_text(ps.shape) if ps is not None else "—")
        for k in ("Dtype", "Device", "State"):
            self._set(k, "—")
        self._set_health(health_flags)
        rows = []
        if ps is not None:
            rows = [("weight", ps.weight), ("grad", ps.grad)]
        self._fill_grads(rows)
        self.saved.setRowCount(0)
        self._set_picker([(f"{name} value", (name, "value", 0)), (f"{name}.grad", (name, "grad", 0))])
        self._load_tensor()

    def _set_health(self, flags):
        if flags:
            self._set("Health", f'<span style="color:#d50000"><b>{", ".join(sorted(flags))}</b></span>')
        else:
            self._set("Health", "ok")

    def _load_tensor(self, force: bool = False):
        """Fetch and draw the picked tensor; skipped when neither the pick nor the
        caller's ``version`` (where execution stands) changed since the last draw."""
        data = self.picker.currentData()
        token = (self.selection, data, self._version)
        if not force and self._version is not None and token == self._loaded:
            return
        self._loaded = token
        if data is None or (self._stats_model is None and data[1] != "saved"):
            self.histogram.clear_view()
            self.heatmap.clear_view()
            self.tensor_note.setText("" if data is None else "no statistics model")
            return
        name, which, index = data
        try:
            if which == "saved":
                if self._saved_arrays is None:
                    raise KeyError("saved tensors exist only while paused at this node")
                try:
                    arr = self._saved_arrays()[index][1]
                except RuntimeError as e:     # the engine freed them (the node ran)
                    raise KeyError(str(e)) from None
            else:
                arr = self._stats_model.fetch_array(name, which, index)
        except (KeyError, ValueError, IndexError) as e:
            self.histogram.clear_view()
            self.heatmap.clear_view()
            self.tensor_note.setText(str(e).strip("'\""))
            return
        from autograd_viz.models.stats import compute_histogram
        self.heatmap.set_array(arr)
        self.histogram.set_histogram(compute_histogram(arr, bins=40))
        lo, hi = self.heatmap.levels
        self.tensor_note.setText(f"{self.heatmap.description}; colour range ±{hi:.3g}")
