"""Edge cases a user meets at the boundary of an op's domain, each compared with torch:
kinks (softplus at 0), no degrees of freedom (var of one element), 0-d tensors reduced
over dim 0, every target ignored, integer targets. Each case was wrong once."""

from __future__ import annotations

import numpy as np
import pytest

from _parity import assert_same_graph, check_parity

F32 = np.float32

CASES = {
    # the composite log1p(exp(-|x|)) + relu(x) had gradient 0 at x == 0 instead of 0.5
    "softplus at 0": (lambda T, x: T.nn.functional.softplus(x),
                      [np.array([-30, -1, 0, 1, 30], F32)]),
    "softplus beta threshold": (lambda T, x: T.nn.functional.softplus(x, beta=2.0, threshold=5),
                                [np.array([-3, 0, 2, 2.5, 3], F32)]),
    "logsigmoid at 0": (lambda T, x: T.nn.functional.logsigmoid(x),
                        [np.array([-30, 0, 30], F32)]),
    # ZeroDivisionError in VarBackward0
    "var of one element": (lambda T, x: x.var(), [np.array([1.5], F32)]),
    "var dim of size 1": (lambda T, x: x.var(1), [np.ones((3, 1), F32)]),
    # numpy AxisError: a 0-d tensor accepts dim 0 / -1
    "sum 0-d dim 0": (lambda T, x: x.sum(0), [np.array(2.0, F32)]),
    "mean 0-d keepdim": (lambda T, x: x.mean(-1, keepdim=True), [np.array(2.0, F32)]),
    "amax 0-d": (lambda T, x: x.amax(0), [np.array(2.0, F32)]),
    "std 0-d dim": (lambda T, x: x.std(0, correction=0), [np.array(2.0, F32)]),
    "max 0-d dim": (lambda T, x: x.max(0), [np.array(2.0, F32)]),
    "min 0-d keepdim": (lambda T, x: x.min(-1, keepdim=True), [np.array(2.0, F32)]),
    # nan gradients where torch gives zeros
    "cross_entropy, every target ignored": (
        lambda T, x: T.nn.functional.cross_entropy(x, T.tensor([-100, -100])),
        [np.arange(6, dtype=F32).reshape(2, 3)]),
    "nll_loss weighted, every target ignored": (
        lambda T, x: T.nn.functional.nll_loss(x, T.tensor([1, 1]), weight=T.tensor([1., 2., 3.]),
                                              ignore_index=1),
        [np.arange(6, dtype=F32).reshape(2, 3)]),
    # float64 result (numpy's float32 - int64 promotion) where torch keeps float32
    "mse_loss, integer target": (lambda T, x: T.nn.functional.mse_loss(x, T.tensor([1, 2, 3])),
                                 [np.array([0.5, 1.0, 4.0], F32)]),
    "smooth_l1_loss, integer target": (
        lambda T, x: T.nn.functional.smooth_l1_loss(x, T.tensor([1, 2, 3])),
        [np.array([0.5, 1.0, 4.0], F32)]),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(CASES))
def test_edge_case_matches_torch(name):
    fn, arrays = CASES[name]
    check_parity(fn, arrays, label=name)


def test_softplus_is_one_node_named_as_torch():
    assert_same_graph(lambda T, x: T.nn.functional.softplus(x, beta=0.5), [(4,)], "softplus")


@pytest.mark.parametrize("shape,kw", [((3,), {}), ((2, 3), {"dim": 1}),
                                      ((2, 3), {"dim": 0, "keepdim": True}),
                                      ((1,), {"correction": 0})])
def test_std_of_a_constant_has_zero_gradient(shape, kw):
    """std == 0 (constant input): torch masks the 0/0 to a zero gradient; it was nan."""
    check_parity(lambda T, x: x.std(**kw), [np.full(shape, 2.0, F32)], label=f"std {kw}")


def test_std_double_backward_matches_torch():
    check_parity(lambda T, x: T.autograd.grad(x.std(1).sum(), x, create_graph=True)[0] * x,
                 [np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]], F32)], label="std grad-of-grad")
