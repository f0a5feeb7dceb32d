"""gradcheck (float64 finite differences) for every differentiable op in the parity table,
and gradgradcheck (double backward through ``create_graph``) for a representative set."""

import numpy as np
import pytest

import engine
from engine.autograd import gradcheck, gradgradcheck

from _parity import rand_arrays
from test_ops_parity import CASES, INPLACE

# maximum_ties compares x with its own detached alias: a finite difference moves both.
NOT_DIFFERENTIABLE = {"compare", "logical", "argmax", "argmin", "maximum_ties"}


def _inputs(shapes, low, seed):
    return [engine.tensor(a, dtype=engine.float64, requires_grad=True)
            for a in rand_arrays(shapes, seed=seed, low=low, dtype=np.float64)]


def _check(fn, shapes, low, seed=5):
    xs = _inputs(shapes, low, seed)
    assert gradcheck(lambda *a: fn(engine, *a), xs, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("label", [k for k in CASES if k not in NOT_DIFFERENTIABLE])
def test_gradcheck(label):
    fn, shapes, low = CASES[label]
    if label == "to_double":
        fn = lambda T, a: a.float().double() * 2  # noqa: E731 - float64 round trip
        return _check_loose(fn, shapes)
    _check(fn, shapes, low)


def _check_loose(fn, shapes):
    xs = _inputs(shapes, None, 5)
    assert gradcheck(lambda *a: fn(engine, *a), xs, eps=1e-3, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("label", list(INPLACE))
def test_gradcheck_inplace(label):
    fn, shapes = INPLACE[label]
    _check(fn, shapes, None)


SECOND_ORDER = {
    "mul": (lambda a, b: a * b, [(2, 3), (3,)], None),
    "div": (lambda a, b: a / b, [(2, 3), (3,)], 0.5),
    "pow": (lambda a: a ** 3, [(4,)], None),
    "pow_tt": (lambda a, b: a ** b, [(3,), (3,)], 0.5),
    "exp_log": (lambda a: a.exp() * a.log(), [(4,)], 0.5),
    "tanh_sigmoid": (lambda a: a.tanh() + a.sigmoid(), [(4,)], None),
    "sin_cos": (lambda a: a.sin() * a.cos(), [(4,)], None),
    "sqrt": (lambda a: a.sqrt(), [(4,)], 0.5),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 2)], None),
    "batched_matmul": (lambda a, b: a @ b, [(2, 2, 3), (3, 2)], None),
    "mean_var": (lambda a: a.var(1) + a.mean(0).sum(), [(3, 4)], None),
    "std": (lambda a: a.std(0), [(3, 2)], None),
    "norm": (lambda a: a.norm(dim=1), [(2, 3)], None),
    "logsumexp": (lambda a: a.logsumexp(1), [(2, 3)], None),
    "where_max": (lambda a, b: engine.where(a > 0, a * b, b.exp()).max(), [(3,), (3,)], None),
    "indexing": (lambda a: a[1:, [0, 2]] ** 2, [(3, 3)], None),
    "shape_ops": (lambda a: a.t().reshape(-1).unsqueeze(0).expand(2, 6) ** 2, [(2, 3)], None),
    "cat_split": (lambda a, b: engine.cat([a, b]).split(2)[1] ** 2, [(2, 2), (2, 2)], None),
}


@pytest.mark.parametrize("label", list(SECOND_ORDER))
def test_gradgradcheck(label):
    fn, shapes, low = SECOND_ORDER[label]
    xs = _inputs(shapes, low, 7)
    assert gradgradcheck(fn, xs, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_gradcheck_detects_a_wrong_gradient():
    class Wrong(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 * x * g

    x = engine.tensor([1.0, 2.0], dtype=engine.float64, requires_grad=True)
    with pytest.raises(engine.autograd.GradcheckError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False
