"""Property tests (hypothesis): binary ops over mutually broadcastable shapes and
reductions over random dims/keepdim agree with PyTorch in values and gradients."""

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from _parity import check_parity

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

BINARY = {
    "add": lambda T, a, b: a + b,
    "sub": lambda T, a, b: a - b,
    "mul": lambda T, a, b: a * b,
    "div": lambda T, a, b: a / b,
    "pow": lambda T, a, b: a ** b,
    "maximum": lambda T, a, b: T.maximum(a, b),
    "minimum": lambda T, a, b: T.minimum(a, b),
    "where": lambda T, a, b: T.where(a > 1.4, a, b),
    "atan2_like": lambda T, a, b: (a * b).sqrt() - a / (b + 1),
}
POSITIVE = {"div", "pow", "atan2_like"}


def _arrays(shapes, seed, positive):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        a = rng.uniform(0.5, 2.5, s) if positive else rng.standard_normal(s)
        out.append(np.asarray(a, dtype=np.float32))
    return out


@pytest.mark.parametrize("op", list(BINARY))
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       seed=st.integers(0, 2 ** 16))
def test_binary_op_broadcasts_like_torch(op, shapes, seed):
    arrays = _arrays(shapes.input_shapes, seed, op in POSITIVE or op == "where")
    check_parity(BINARY[op], arrays, label=f"{op} {shapes.input_shapes}")


@st.composite
def shape_and_dims(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                         max_size=len(shape), unique_by=lambda d: d % len(shape)))
    return shape, tuple(dims), draw(st.booleans())


REDUCTIONS = {
    "sum": lambda T, a, d, k: a.sum(d, keepdim=k),
    "mean": lambda T, a, d, k: a.mean(d, keepdim=k),
    "var": lambda T, a, d, k: a.var(d, keepdim=k),
    "std": lambda T, a, d, k: a.std(d, keepdim=k),
    "amax": lambda T, a, d, k: a.amax(d, keepdim=k),
    "amin": lambda T, a, d, k: a.amin(d, keepdim=k),
    "logsumexp": lambda T, a, d, k: a.logsumexp(d, keepdim=k),
    "norm": lambda T, a, d, k: a.norm(2, dim=d, keepdim=k),
    "max_dim": lambda T, a, d, k: a.max(d[0], keepdim=k),
    "min_dim": lambda T, a, d, k: a.min(d[0], keepdim=k),
}


@pytest.mark.parametrize("op", list(REDUCTIONS))
@SETTINGS
@given(sd=shape_and_dims(), seed=st.integers(0, 2 ** 16))
def test_reduction_matches_torch(op, sd, seed):
    shape, dims, keep = sd
    if op in ("var", "std") and all(shape[d] == 1 for d in dims):
        return  # n - 1 == 0: both give nan/inf; covered by a dedicated test
    fn = REDUCTIONS[op]
    check_parity(lambda T, a: fn(T, a, dims, keep), _arrays([shape], seed, False),
                 rtol=2e-5, label=f"{op} {shape} dims={dims} keepdim={keep}")


@SETTINGS
@given(sd=shape_and_dims(), seed=st.integers(0, 2 ** 16))
def test_broadcast_gradient_is_reduced_to_input_shape(sd, seed):
    """A (1,..)-shaped operand's gradient sums over the broadcast dims (central reduction)."""
    shape, dims, _ = sd
    small = tuple(1 if (i in [d % len(shape) for d in dims]) else s for i, s in enumerate(shape))
    check_parity(lambda T, a, b: (a * b).exp(), _arrays([shape, small], seed, False),
                 label=f"{shape} * {small}")
