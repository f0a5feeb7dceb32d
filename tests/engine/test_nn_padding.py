"""The padding layers (Zero/Constant/Reflection/Replication/CircularPad1d/2d/3d) against
torch: values, gradients, graph (where torch has one node), reprs, unbatched input."""

import numpy as np
import pytest

import engine
import torch
from _fn_parity import module_parity_dtype, raises_like_torch

rng = np.random.default_rng(0)

LAYERS = [
    ("ZeroPad1d", lambda nn: nn.ZeroPad1d((1, 2)), (2, 3, 4)),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d(1), (2, 3, 4, 3)),
    ("ZeroPad2d_unbatched", lambda nn: nn.ZeroPad2d((0, 1, 2, 0)), (3, 4, 3)),
    ("ZeroPad3d", lambda nn: nn.ZeroPad3d(1), (1, 2, 3, 2, 2)),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d((1, 2), 3.5), (2, 3, 4)),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d((1, 0, 2, 1), -1.0), (2, 3, 4, 3)),
    ("ConstantPad3d", lambda nn: nn.ConstantPad3d(1, 0.5), (1, 2, 3, 2, 2)),
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d(2), (2, 3, 4)),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d((1, 2, 2, 1)), (2, 3, 4, 3)),
    ("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), (1, 2, 3, 2, 2)),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d((3, 1)), (2, 3, 4)),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d(2), (3, 4, 3)),
    ("ReplicationPad3d", lambda nn: nn.ReplicationPad3d((1, 2, 1, 2, 0, 1)), (1, 2, 3, 2, 2)),
]


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_padding_layer_parity(case):
    _, build, shape = case
    module_parity_dtype(build, [rng.standard_normal(shape)], np.float32)


@pytest.mark.parametrize("n,shape", [(1, (2, 3, 4)), (2, (2, 3, 4, 3)), (3, (1, 2, 3, 2, 2))])
def test_circular_padding_values_and_grads(n, shape):
    """CircularPad: torch builds it from slices (CopySlices), engine gathers: same numbers."""
    x = rng.standard_normal(shape)
    res = []
    for T in (engine, torch):
        m = getattr(T.nn, f"CircularPad{n}d")(1)
        t = T.tensor(x, requires_grad=True)
        y = m(t)
        (y * T.tensor(np.arange(y.numel()).reshape(tuple(y.shape)) * 1.0)).sum().backward()
        res.append((y.detach().numpy(), t.grad.numpy(), repr(m)))
    np.testing.assert_allclose(res[0][0], res[1][0])
    np.testing.assert_allclose(res[0][1], res[1][1])
    assert res[0][2] == res[1][2]


def test_errors():
    raises_like_torch(lambda T: T.nn.ReflectionPad1d(2)(T.randn(3, 2, 2)), RuntimeError,
                      r"Padding size should be less than the corresponding input dimension, "
                      r"but got: padding \(2, 2\) at dimension 2 of input \[3, 2, 2\]")
    raises_like_torch(lambda T: T.nn.CircularPad2d(1)(T.randn(2)), ValueError,
                      r"expected 3D or 4D input \(got 1D input\)")
