"""nn.init: gains and fans as torch computes them, distributions with the right bounds and
moments, in-place writes outside autograd, and layers initialised as torch initialises."""

import math

import numpy as np
import pytest
import torch

import engine
from engine.nn import init
from _nn_parity import to_np


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",),
                                  ("relu",), ("leaky_relu",), ("leaky_relu", 0.2),
                                  ("selu",)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign2"):
        init.calculate_gain("softsign2")


@pytest.mark.parametrize("shape", [(4, 3), (6, 2, 5, 5), (3, 4, 7)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(engine.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(engine.empty(5))


def test_in_place_outside_autograd_and_version_bump():
    w = engine.nn.Parameter(engine.zeros(200, 300))
    v0 = w._version
    out = init.kaiming_uniform_(w, a=math.sqrt(5))
    assert out is w and w.grad_fn is None and w.requires_grad
    assert w._version > v0
    assert w.dtype == engine.float32


def _bounded(t, bound):
    a = to_np(t)
    assert a.min() >= -bound and a.max() <= bound
    assert a.max() > 0.9 * bound and a.min() < -0.9 * bound   # fills the interval


def test_uniform_family_bounds():
    w = engine.empty(300, 200)
    init.uniform_(w, -0.3, 0.7)
    a = to_np(w)
    assert a.min() >= -0.3 and a.max() <= 0.7 and abs(a.mean() - 0.2) < 0.01
    init.xavier_uniform_(w, gain=2.0)
    _bounded(w, 2.0 * math.sqrt(6 / 500))
    init.kaiming_uniform_(w, a=math.sqrt(5))
    _bounded(w, math.sqrt(6 / ((1 + 5) * 200)))
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    _bounded(w, math.sqrt(2) * math.sqrt(3 / 300))


def test_normal_family_moments():
    w = engine.empty(400, 250)
    init.normal_(w, 1.0, 0.5)
    assert abs(to_np(w).mean() - 1.0) < 0.01 and abs(to_np(w).std() - 0.5) < 0.01
    init.xavier_normal_(w)
    assert abs(to_np(w).std() - math.sqrt(2 / 650)) < 0.002
    init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(to_np(w).std() - math.sqrt(2 / 250)) < 0.002
    init.trunc_normal_(w, 0.0, 1.0, -0.5, 1.5)
    a = to_np(w)
    assert a.min() >= -0.5 and a.max() <= 1.5


def test_constant_zeros_ones_eye_dirac():
    w = engine.empty(3, 4)
    init.constant_(w, 2.5)
    assert np.all(to_np(w) == 2.5)
    init.zeros_(w)
    assert np.all(to_np(w) == 0)
    init.ones_(w)
    assert np.all(to_np(w) == 1)
    init.eye_(w)
    np.testing.assert_array_equal(to_np(w), np.eye(3, 4))
    c = engine.empty(4, 2, 3, 3)
    tc = torch.empty(4, 2, 3, 3)
    init.dirac_(c, groups=2)
    torch.nn.init.dirac_(tc, groups=2)
    np.testing.assert_array_equal(to_np(c), tc.numpy())


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3)])
def test_orthogonal(shape):
    w = engine.empty(*shape)
    init.orthogonal_(w, gain=2.0)
    m = to_np(w).reshape(shape[0], -1).astype(np.float64)
    rows, cols = m.shape
    prod = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(prod, 4 * np.eye(min(rows, cols)), atol=1e-5)


def test_seed_makes_init_repeatable():
    engine.manual_seed(11)
    a = to_np(engine.nn.Linear(5, 4).weight).copy()
    engine.manual_seed(11)
    b = to_np(engine.nn.Linear(5, 4).weight)
    np.testing.assert_array_equal(a, b)


def test_layers_initialise_with_torch_bounds():
    lin = engine.nn.Linear(400, 120)
    _bounded(lin.weight, 1 / math.sqrt(400))   # kaiming_uniform_(a=sqrt(5)) == U(+-1/sqrt(fan_in))
    b = to_np(lin.bias)
    assert np.abs(b).max() <= 1 / math.sqrt(400)
    conv = engine.nn.Conv2d(6, 16, 5)
    _bounded(conv.weight, 1 / math.sqrt(6 * 25))
    cell = engine.nn.LSTMCell(10, 20)
    for p in cell.parameters():
        assert np.abs(to_np(p)).max() <= 1 / math.sqrt(20)
    emb = engine.nn.Embedding(1000, 20)
    assert abs(to_np(emb.weight).std() - 1) < 0.05
    bn = engine.nn.BatchNorm2d(3)
    np.testing.assert_array_equal(to_np(bn.weight), 1)
    np.testing.assert_array_equal(to_np(bn.bias), 0)
    np.testing.assert_array_equal(to_np(bn.running_var), 1)
    assert bn.num_batches_tracked.dtype == engine.int64
    ln = engine.nn.LayerNorm(5)
    np.testing.assert_array_equal(to_np(ln.weight), 1)


def test_layer_dtype_argument():
    lin = engine.nn.Linear(3, 2, dtype=engine.float64)
    assert lin.weight.dtype == engine.float64 and lin.bias.dtype == engine.float64
