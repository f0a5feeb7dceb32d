"""Non-finite provenance: a planted NaN/Inf is traced to the node that produced it and
to the user's line that created that node — in the backward pass and in the forward."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import engine as torch

from autograd_viz import NonFiniteBreakpoint, StepController, StopTraining
from autograd_viz.watch import watch


def test_backward_inf_traced_to_sqrt_node_and_line():
    x = torch.tensor([0.0, 1.0, 4.0], requires_grad=True)
    w = torch.tensor([2.0, 2.0, 2.0], requires_grad=True)
    with watch() as s:
        y = x * w
        r = y.sqrt(); line = sys._getframe().f_lineno        # noqa: E702 - d sqrt(0) = inf
        loss = (r * 3.0).sum()
        loss.backward()
    assert math.isfinite(loss.item())
    reps = s.provenance.reports
    assert len(reps) == 1, [r.message() for r in reps]
    rep = reps[0]
    assert rep.phase == "backward" and rep.op == "SqrtBackward0" and rep.kind == "inf"
    assert rep.key == "SqrtBackward0#0" and rep.inputs_finite
    assert rep.source[:2] == (__file__, line)
    assert f"{__file__}:{line}" in rep.message()
    assert "nonfinite" in s.health.nodes["MulBackward0#0"]      # it propagated downstream
    assert "nonfinite" in s.health.params["x"]


def test_forward_nan_from_log_of_negative():
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with watch() as s:
        a = x * 2.0
        b = a.log(); line = sys._getframe().f_lineno          # noqa: E702 - log(-4) = NaN
        loss = b.exp().sum()
        loss.backward()
    assert math.isnan(loss.item())
    fw = [r for r in s.provenance.reports if r.phase == "forward"]
    assert len(fw) == 1
    rep = fw[0]
    assert rep.op == "LogBackward0" and rep.kind == "nan" and rep.inputs_finite
    assert rep.source[:2] == (__file__, line)
    assert rep.key == "LogBackward0#0"                         # filled in by the backward pass
    assert s.history.loss.last()[1] != s.history.loss.last()[1]   # NaN loss recorded


def test_nan_in_input_data_is_reported_as_such():
    x = torch.tensor([1.0, float("nan")])
    w = torch.tensor([1.0, 1.0], requires_grad=True)
    with watch() as s:
        loss = (x * w).sum(); line = sys._getframe().f_lineno   # noqa: E702
        loss.backward()
    fw = [r for r in s.provenance.reports if r.phase == "forward"]
    assert len(fw) == 1 and not fw[0].inputs_finite and fw[0].op == "MulBackward0"
    assert fw[0].source[1] == line
    assert "already non-finite" in fw[0].message()


def test_one_report_per_pass_and_clean_passes_report_nothing():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with watch() as s:
        for i in range(3):
            z = x + (0.0 if i != 1 else 1.0)       # iteration 1 is clean
            z.sqrt().sum().backward()
            x.grad = None
    assert [r.iteration for r in s.provenance.reports] == [0, 2]
    assert s.last_summary.reports and s.last_summary.reports[0].iteration == 2


def test_nonfinite_breakpoint_stops_at_producer_with_real_engine():
    ctl = StepController(break_action="stop")
    ctl.breakpoints.add(NonFiniteBreakpoint())
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(StopTraining) as ei:
        with watch(controller=ctl) as s:
            y = (x * 1.0).sqrt()
            (y * 2.0).sum().backward()
    assert "SqrtBackward0#0" in str(ei.value)
    cp = ei.value.checkpoint
    assert cp.kind == "node_finished" and cp.op == "SqrtBackward0"
    assert s.state.mode == "stopped"
    assert x.grad is None                          # the pass was cut short
    from engine.autograd import events
    assert events.listeners() == ()
    # the engine is usable afterwards
    (x * 2.0).sum().backward()
    assert np.allclose(x.grad.numpy(), [2.0, 2.0])
