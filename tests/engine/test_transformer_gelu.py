"""The exact GELU of transformer MLPs rests on erf: in float32 it is a vectorised table
interpolation (not libm per element), so it is checked here against ``math.erf`` over its
whole range, at the special values, and through GELU's forward and backward (with and
without ``create_graph``) against PyTorch."""

import math

import numpy as np
import pytest
import torch

import engine
import engine.nn.functional as F
from _nn_parity import assert_close
from engine.nn._activation import _erf_array


def test_float32_erf_within_two_ulps_of_libm():
    x = np.concatenate([np.linspace(-6, 6, 60001), np.logspace(-30, 1, 500),
                        -np.logspace(-30, 1, 500), [3.9999, 4.0, 4.0001, 1e-45]]).astype(np.float32)
    ref = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    got = _erf_array(x)
    assert got.dtype == np.float32
    ulps = np.abs(got.astype(np.float64) - ref) / np.spacing(np.abs(ref)).clip(1e-45)
    assert ulps.max() <= 2.0
    assert np.all(np.sign(got) == np.sign(ref))


def test_float32_erf_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30], dtype=np.float32)
    got = _erf_array(x)
    np.testing.assert_array_equal(got[[0, 2, 3, 5, 6]], [0, 1, -1, 1, -1])
    assert np.signbit(got[1]) and np.isnan(got[4])
    assert _erf_array(x[:5].astype(np.float16)).dtype == np.float16


@pytest.mark.parametrize("create_graph", [False, True])
def test_gelu_forward_and_backward_match_torch(create_graph):
    a = (np.random.default_rng(0).standard_normal((64, 50)) * 3).astype(np.float32)
    res = []
    for T, gelu in ((torch, torch.nn.functional.gelu), (engine, F.gelu)):
        x = T.tensor(a, requires_grad=True)
        y = gelu(x)
        (gx,) = T.autograd.grad((y * y).sum(), x, create_graph=create_graph)
        values = [y, gx]
        if create_graph:     # the gradient differentiated again
            values.append(T.autograd.grad(gx.sum(), x)[0])
        res.append(values)
    for ours, theirs in zip(res[1], res[0]):
        assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
