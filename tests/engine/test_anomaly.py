"""``detect_anomaly``: the first backward node returning NaN/Inf is named, with the user's
forward line."""

import pytest

import engine


def test_anomaly_names_node_and_forward_line():
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    with engine.autograd.detect_anomaly():
        y = x.sqrt()   # MARKER: d/dx sqrt(0) = inf
        loss = y.sum()
        with pytest.raises(RuntimeError) as e:
            loss.backward()
    msg = str(e.value)
    assert "Function 'SqrtBackward0' returned nan values in its 0th output." in msg
    assert "test_anomaly.py" in msg and "MARKER" in msg


def test_anomaly_as_decorator_and_disabled_outside():
    @engine.autograd.detect_anomaly()
    def run():
        x = engine.tensor([0.0], requires_grad=True)
        x.log().sum().backward()       # d/dx log(0) = inf

    with pytest.raises(RuntimeError, match="LogBackward0"):
        run()
    assert not engine.autograd.is_anomaly_enabled()
    x = engine.tensor([0.0], requires_grad=True)
    x.sqrt().sum().backward()            # no anomaly mode: inf gradient, no error
    assert x.grad.item() == float("inf")


def test_anomaly_mode_does_not_flag_finite_grads():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.autograd.detect_anomaly():
        (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_set_detect_anomaly():
    engine.autograd.set_detect_anomaly(True)
    try:
        assert engine.autograd.is_anomaly_enabled()
    finally:
        engine.autograd.set_detect_anomaly(False)
    assert not engine.autograd.is_anomaly_enabled()
