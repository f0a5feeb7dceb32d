"""Each panel built from a model shows the model's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from autograd_viz.breakpoints import BreakpointList, OpBreakpoint
from autograd_viz.models import compute_stats
from ui.breakpoints_panel import BreakpointsPanel, make_breakpoint
from ui.inspector import Inspector
from ui.parameters_panel import ParametersPanel
from ui.plots import PlotsPanel, ema
from ui.tensor_views import tile_for_heatmap
from ui.timeline import TimelinePanel

from gui_helpers import LENET_PARAMS, fill_stats, lenet_structure, make_session, write_session_file


def test_parameter_table_equals_the_model(qtbot):
    s = make_session()
    fill_stats(s)
    for i in range(5):
        s.history.append_iteration(i, 1.0, None, {n: 0.1 * (i + 1) for n in LENET_PARAMS})
    panel = ParametersPanel()
    qtbot.addWidget(panel)
    panel.refresh(s.stats, s.history, s.health)
    shown = {name: (w, g) for name, w, g in panel.displayed()}
    assert set(shown) == set(LENET_PARAMS)
    for name, ps in s.stats.params.items():
        assert shown[name] == (ps.weight.norm, ps.grad.norm)
    # sorted by gradient norm, descending
    panel.table.sortByColumn(3, QtCore.Qt.SortOrder.DescendingOrder)
    grads = [g for _n, _w, g in panel.displayed()]
    assert grads == sorted(grads, reverse=True)
    # the sparkline holds the history of that parameter
    row = next(r for r in panel.model.rows if r.name == "fc1.weight")
    assert np.allclose(row.spark, [0.1, 0.2, 0.3, 0.4, 0.5])
    panel.filter.setText("conv")
    assert {n for n, _w, _g in panel.displayed()} == {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"}


def test_parameter_health_column(qtbot):
    s = make_session()
    fill_stats(s)
    s.health.check_param("fc2.bias", compute_stats(np.array([np.nan])), 1.0)
    panel = ParametersPanel()
    qtbot.addWidget(panel)
    panel.refresh(s.stats, s.history, s.health)
    row = next(r for r in panel.model.rows if r.name == "fc2.bias")
    assert row.health == "nonfinite"


def test_inspector_shows_the_node_numbers(qtbot):
    s = make_session()
    s.graph.set_structure(*lenet_structure())
    g_in = np.linspace(-1, 1, 64 * 84).astype(np.float32)
    s.graph.begin_pass(0)
    key = "fc2/AddmmBackward0#0"
    s.graph.node_started(key, [compute_stats(g_in)])
    s.graph.node_finished(key, [compute_stats(g_in * 2), None, compute_stats(np.ones(3))])
    insp = Inspector()
    qtbot.addWidget(insp)
    insp.show_node(key, dict(s.graph.node(key)), s.stats)
    assert insp.fields["Op"].text() == "AddmmBackward0"
    assert insp.fields["Module"].text() == "fc2"
    assert insp.fields["Shapes"].text() == "[64, 84]"
    assert insp.fields["Dtype"].text() == "torch.float32"
    assert insp.fields["Device"].text() == "cpu"
    assert "samples/lenet.py:55" in insp.fields["Source"].text()
    norm = float(np.sqrt(np.dot(g_in.astype(np.float64), g_in)))
    assert insp.grads.item(0, 0).text() == "in[0]"
    assert insp.grads.item(0, 1).text() == f"{norm:.4g}"
    assert insp.grads.item(1, 1).text() == f"{2 * norm:.4g}"
    assert insp.grads.item(2, 1).text() == "—"          # nothing sent along that edge
    insp.copy_source()
    from PySide6 import QtWidgets
    assert QtWidgets.QApplication.clipboard().text() == "samples/lenet.py:55"


def test_inspector_parameter_heatmap_and_histogram(qtbot):
    s = make_session()
    arrays = fill_stats(s)
    # StatsModel.fetch_array reads live tensors; give it stand-ins with the engine's fields
    class T:
        def __init__(self, a, g=None):
            self._data, self.grad = a, g
    s.stats._tensors = {n: T(w, T(g)) for n, (w, g) in arrays.items()}
    insp = Inspector()
    qtbot.addWidget(insp)
    insp.show_parameter("conv2.weight", s.stats.param("conv2.weight"), s.stats)
    img = insp.heatmap.image.image
    assert img.shape == (16 * 6 - 1, 6 * 6 - 1)         # 16x6 kernels of 5x5 with gutters
    w = arrays["conv2.weight"][0]
    assert np.allclose(img[:5, :5], w[0, 0])
    m = float(np.abs(w).max())
    assert insp.heatmap.levels == pytest.approx((-m, m))
    assert insp.histogram.curve.yData.sum() == w.size
    insp.picker.setCurrentIndex(1)                        # the gradient
    assert np.allclose(insp.heatmap.image.image[:5, :5], arrays["conv2.weight"][1][0, 0])


def test_heatmap_tiling():
    assert tile_for_heatmap(np.arange(6))[0].shape == (1, 6)
    assert tile_for_heatmap(np.ones((3, 4)))[0].shape == (3, 4)
    grid, desc = tile_for_heatmap(np.ones((2, 3, 5, 5)))
    assert grid.shape == (2 * 6 - 1, 3 * 6 - 1) and np.isnan(grid[5, 0])
    assert "kernels" in desc


def test_plots_hold_the_loss_history(qtbot):
    s = make_session()
    losses = [2.3 / (1 + i) for i in range(30)]
    for i, v in enumerate(losses):
        s.history.append_iteration(i, v, {"accuracy": i / 30}, {"fc1.weight": 0.1, "fc2.weight": 0.01})
    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.refresh(s.history)
    x, y = plots.loss_curve.getData()
    assert list(x) == list(range(30)) and np.allclose(y, losses)
    assert np.allclose(plots.loss_smooth.getData()[1], ema(np.array(losses)))
    assert plots.metric_curves == {}            # hidden tabs are drawn when shown
    plots.setCurrentIndex(1)
    assert set(plots.metric_curves) == {"accuracy"}
    plots.setCurrentIndex(2)
    assert set(plots.flow_curves) == {"fc1.weight", "fc2.weight"}
    assert np.allclose(plots.flow_curves["fc1.weight"].yData, 0.1)   # log axis, raw data
    plots.setCurrentIndex(3)
    assert plots.bar_names == ["fc1.weight", "fc2.weight"]
    plots.setCurrentIndex(0)
    curve_before = plots.loss_curve
    s.history.append_iteration(30, 0.01)
    plots.refresh(s.history)
    assert plots.loss_curve is curve_before            # reused, not re-created
    assert len(plots.loss_curve.getData()[0]) == 31


def test_ema_skips_nan():
    out = ema(np.array([1.0, np.nan, 3.0]), alpha=0.5)
    assert out[0] == 1.0 and out[1] == 1.0 and out[2] == 2.0


def test_breakpoints_panel_adds_toggles_removes(qtbot):
    bps = BreakpointList()
    panel = BreakpointsPanel()
    qtbot.addWidget(panel)
    panel.set_breakpoints(bps)
    panel.set_choices(ops=["AddmmBackward0", "ReluBackward0"])
    panel.kind.setCurrentIndex(0)       # op type
    panel.value.setEditText("ReluBackward0")
    qtbot.mouseClick(panel.add_button, QtCore.Qt.MouseButton.LeftButton)
    assert [type(b) for b in bps.list()] == [OpBreakpoint] and bps.list()[0].op == "ReluBackward0"
    panel.refresh()
    assert panel.table.item(0, 1).text() == "op ReluBackward0"
    panel.table.item(0, 0).setCheckState(QtCore.Qt.CheckState.Unchecked)
    assert not bps.list()[0].enabled
    panel.table.selectRow(0)
    qtbot.mouseClick(panel.remove_button, QtCore.Qt.MouseButton.LeftButton)
    assert len(bps) == 0


def test_breakpoint_form_rejects_bad_input():
    with pytest.raises(ValueError, match="number"):
        make_breakpoint("norm", "lots")
    with pytest.raises(ValueError, match="needs a name"):
        make_breakpoint("op", "")
    assert make_breakpoint("norm", "1e3").threshold == 1000.0


def test_timeline_lists_and_compares_iterations(qtbot, tmp_path):
    from autograd_viz.session import SessionReader
    path = tmp_path / "run.avz"
    write_session_file(path, iterations=4)
    reader = SessionReader(str(path))
    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.set_source(reader)
    assert panel.list.count() == 4
    with qtbot.waitSignal(panel.iterationChosen) as chosen:
        panel.select_iterations(2)
    assert chosen.args == [2]
    panel.select_iterations(0, 3)
    header = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert header[:4] == ["parameter", "‖grad‖ @0", "‖grad‖ @3", "ratio"]
    row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "fc1.weight")
    assert panel.table.item(row, 1).text() == "0.1" and panel.table.item(row, 2).text() == "0.4"
    assert panel.table.item(row, 3).text() == "4"
    reader.close()
