"""Graph and gradient events: every kind fires with the right payload, in order; with no
listener no event object is ever built."""

import pytest

import engine
from engine.autograd import events


@pytest.fixture
def recorder():
    seen = []
    h = events.add_listener(seen.append)
    yield seen
    h.remove()


def test_forward_and_backward_events_in_order(recorder):
    w = engine.tensor([[1.0, 2.0]], requires_grad=True)
    x = engine.tensor([[3.0], [4.0]])
    y = w @ x                       # MmBackward0
    loss = (y * 2).sum()            # MulBackward0, SumBackward0
    created = [e for e in recorder if e.kind == "node_created"]
    assert [e.node.name() for e in created] == ["MmBackward0", "MulBackward0", "SumBackward0"]
    mm = created[0]
    assert mm.inputs[0] is w and mm.inputs[1] is x and mm.outputs == (y,)
    assert mm.node is y.grad_fn
    recorder.clear()
    loss.backward()
    kinds = [e.kind for e in recorder]
    assert kinds[0] == "backward_started" and kinds[-1] == "backward_finished"
    start = recorder[0]
    assert start.tensors == (loss,) and start.roots[0][0] is loss.grad_fn
    assert start.roots[0][1].item() == 1.0 and start.inputs is None
    assert start.create_graph is False and start.order == 4
    runs = [(e.kind, e.node.name()) for e in recorder if e.kind in ("node_started",
                                                                    "node_finished")]
    assert runs == [("node_started", "SumBackward0"), ("node_finished", "SumBackward0"),
                    ("node_started", "MulBackward0"), ("node_finished", "MulBackward0"),
                    ("node_started", "MmBackward0"), ("node_finished", "MmBackward0"),
                    ("node_started", "AccumulateGrad"), ("node_finished", "AccumulateGrad")]
    fin_mm = next(e for e in recorder if e.kind == "node_finished" and e.node.name() == "MmBackward0")
    assert fin_mm.grads_in[0].tolist() == [[2.0]]
    assert fin_mm.grads_out[0].tolist() == [[6.0, 8.0]] and fin_mm.grads_out[1] is None
    acc = [e for e in recorder if e.kind == "grad_accumulated"]
    assert len(acc) == 1 and acc[0].variable is w and acc[0].grad.tolist() == [[6.0, 8.0]]
    # accumulated after NodeStarted(AccumulateGrad), before its NodeFinished
    i = kinds.index("grad_accumulated")
    assert kinds[i - 1] == "node_started" and kinds[i + 1] == "node_finished"
    assert recorder[-1].error is None and recorder[-1].roots == (loss.grad_fn,)


def test_backward_finished_carries_error(recorder):
    x = engine.tensor([1.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError):
        y.sum().backward()
    last = recorder[-1]
    assert last.kind == "backward_finished" and isinstance(last.error, RuntimeError)


def test_listener_exception_propagates_and_stops_backward():
    x = engine.tensor([1.0], requires_grad=True)
    loss = (x * 2).sum()

    class Stop(Exception):
        pass

    def listener(e):
        if e.kind == "node_started" and e.node.name() == "MulBackward0":
            raise Stop

    with events.add_listener(listener):
        with pytest.raises(Stop):
            loss.backward()
    assert x.grad is None
    assert events.listeners() == ()


def test_autograd_grad_event_lists_inputs(recorder):
    x = engine.tensor([1.0], requires_grad=True)
    engine.autograd.grad((x * x).sum(), x)
    start = next(e for e in recorder if e.kind == "backward_started")
    assert start.inputs == (x,)


def test_optimizer_step_event_class():
    e = events.OptimizerStep("opt", ("p",), "begin")
    assert e.kind == "optimizer_step" and e.phase == "begin" and "OptimizerStep" in repr(e)


def test_add_listener_validates_and_handle_removes():
    with pytest.raises(TypeError):
        events.add_listener(3)
    f = lambda e: None  # noqa: E731
    h = events.add_listener(f)
    assert events.listeners() == (f,)
    h.remove()
    h.remove()
    assert events.listeners() == ()


def test_no_listener_builds_no_event_objects(monkeypatch):
    def forbid(*a, **k):
        raise AssertionError("an event object was built with no listener attached")

    for name in ("NodeCreated", "BackwardStarted", "NodeStarted", "NodeFinished",
                 "GradAccumulated", "BackwardFinished"):
        monkeypatch.setattr(events, name, forbid)
    assert events.listeners() == ()
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    loss = (h.exp() @ x).sum()
    loss.backward()
    engine.autograd.grad((x * x).sum(), x)
    assert x.grad is not None
