"""Each breakpoint kind fires where it should and only there.

Unit part: checkpoints built by hand. Engine part (below): the same kinds on a real
backward pass, checked against the nodes the engine ran."""

from __future__ import annotations

import math

import pytest

from autograd_viz.breakpoints import (
    BreakpointList, GradNormBreakpoint, LossBreakpoint, NodeBreakpoint, NonFiniteBreakpoint,
    OpBreakpoint, ParamBreakpoint, PredicateBreakpoint,
)
from autograd_viz.models.debugger_state import Checkpoint
from autograd_viz.models.stats import Stats

OK = Stats(4, 1.0, 0.0, 0.5, -1.0, 1.0)
BIG = Stats(4, 500.0, 0.0, 250.0, -400.0, 400.0)
NAN = Stats(4, math.nan, 0.0, 0.0, 0.0, 0.0, nan=1)


def run(bps, cps):
    """Indices of checkpoints where some breakpoint hit."""
    return [i for i, cp in enumerate(cps) if bps.check(cp) is not None]


def cp(kind, key=None, op=None, param=None, gin=None, gout=None, loss=None, pass_index=0):
    return Checkpoint(kind, key=key, op=op, param=param, grads_in=gin, grads_out=gout,
                      loss=loss, pass_index=pass_index)


PASS = [
    cp("backward_started", loss=2.0),
    cp("node_started", "NllLossBackward0#0", "NllLossBackward0", gin=[OK]),
    cp("node_finished", "NllLossBackward0#0", "NllLossBackward0", gin=[OK], gout=[OK]),
    cp("node_started", "fc1/AddmmBackward0#0", "AddmmBackward0", gin=[OK]),
    cp("node_finished", "fc1/AddmmBackward0#0", "AddmmBackward0", gin=[OK], gout=[OK, None, BIG]),
    cp("node_started", "fc2/AddmmBackward0#0", "AddmmBackward0", gin=[BIG]),
    cp("node_finished", "fc2/AddmmBackward0#0", "AddmmBackward0", gin=[BIG], gout=[NAN, OK]),
    cp("node_started", "param:fc1.weight", "AccumulateGrad", "fc1.weight", gin=[NAN]),
    cp("grad_accumulated", "param:fc1.weight", "AccumulateGrad", "fc1.weight", gin=[NAN]),
    cp("node_started", "param:fc2.bias", "AccumulateGrad", "fc2.bias", gin=[OK]),
    cp("grad_accumulated", "param:fc2.bias", "AccumulateGrad", "fc2.bias", gin=[OK]),
    cp("backward_finished"),
]


@pytest.mark.parametrize("bp, expected", [
    (NodeBreakpoint("fc2/AddmmBackward0#0"), [5]),
    (OpBreakpoint("AddmmBackward0"), [3, 5]),
    (ParamBreakpoint("fc2.bias"), [10]),
    (NonFiniteBreakpoint(), [6]),              # where it is produced, once per pass
    (GradNormBreakpoint(100.0), [5]),          # first node receiving a norm > 100
    (GradNormBreakpoint(100.0, key="param:fc1.weight"), []),   # NaN norm is not > 100
    (LossBreakpoint(above=1.5), [0]),
    (LossBreakpoint(above=5.0), []),
    (LossBreakpoint(), []),                    # loss 2.0 is finite
    (PredicateBreakpoint(lambda c: c.kind == "node_finished" and c.op == "AddmmBackward0",
                         "addmm done"), [4, 6]),
])
def test_each_kind_fires_only_where_it_should(bp, expected):
    bps = BreakpointList()
    bps.add(bp)
    assert run(bps, PASS) == expected
    assert bp.hit_count == len(expected)


def test_once_per_pass_rearms_next_pass():
    bps = BreakpointList()
    bps.add(NonFiniteBreakpoint())
    second = [cp(c.kind, c.key, c.op, c.param, c.grads_in, c.grads_out, c.loss, pass_index=1)
              for c in PASS]
    assert run(bps, PASS + second) == [6, len(PASS) + 6]


def test_loss_nonfinite():
    bps = BreakpointList()
    bps.add(LossBreakpoint())
    assert run(bps, [cp("backward_started", loss=math.nan), cp("backward_started", loss=1.0),
                     cp("backward_started", loss=math.inf), cp("backward_started")]) == [0, 2]
    with pytest.raises(ValueError):
        LossBreakpoint(nonfinite=False)


def test_enable_disable_list_remove_and_signal():
    bps = BreakpointList()
    changes = []
    bps.changed.connect(lambda: changes.append(1))
    a = bps.add(OpBreakpoint("AddmmBackward0"))
    b = bps.add(NodeBreakpoint("fc2/AddmmBackward0#0", enabled=False))
    assert bps.list() == [a, b] and [x.description for x in bps] == [
        "op AddmmBackward0", "node fc2/AddmmBackward0#0"]
    assert bps.any_enabled
    a.enabled = False
    assert not bps.any_enabled and run(bps, PASS) == []
    bps.set_enabled(b.id, True)
    assert run(bps, PASS) == [5]
    bps.remove(b)
    assert bps.list() == [a] and not bps.any_enabled
    with pytest.raises(KeyError):
        bps.remove(b)
    assert len(changes) == 5
    bps.clear()
    assert len(bps) == 0


def test_predicate_errors_propagate_and_type_checks():
    def boom(c):
        raise ZeroDivisionError("bad predicate")

    bps = BreakpointList()
    bps.add(PredicateBreakpoint(boom))
    with pytest.raises(ZeroDivisionError):
        run(bps, PASS)
    with pytest.raises(TypeError):
        PredicateBreakpoint("not callable")
    with pytest.raises(TypeError):
        bps.add("node")
