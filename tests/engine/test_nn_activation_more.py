"""PReLU, Mish, Softplus, Softsign, Hardswish, Hardsigmoid, SELU, CELU, GLU, LogSigmoid,
Tanhshrink, Softshrink, Hardshrink, Threshold against torch: values, gradients, grad_fn DAGs
(float32 and float64), gradcheck and second derivatives in float64, in-place forms, reprs
and error texts."""

import numpy as np
import pytest
import torch

import engine
from _fn_parity import (fn_parity, gradcheck64, gradgrad_parity, module_parity_dtype,
                        raises_like_torch)

rng = np.random.default_rng(0)
DTYPES = [np.float32, np.float64]


def F(T):
    return T.nn.functional


def spread(*shape):
    """Values over [-5, 5] kept away from the kinks at 0, +-0.5 and +-3."""
    x = rng.uniform(-5, 5, shape)
    for k in (0.0, 0.5, -0.5, 3.0, -3.0, 0.1):
        x = np.where(np.abs(x - k) < 0.05, x + 0.13, x)
    return x


FUNCS = [
    ("prelu_scalar", lambda T, x, w: F(T).prelu(x, w), [(2, 3, 4), (1,)]),
    ("prelu_channels", lambda T, x, w: F(T).prelu(x, w), [(2, 3, 4), (3,)]),
    ("prelu_1d", lambda T, x, w: F(T).prelu(x, w), [(5,), (1,)]),
    ("mish", lambda T, x: F(T).mish(x), [(3, 7)]),
    ("hardswish", lambda T, x: F(T).hardswish(x), [(3, 7)]),
    ("hardsigmoid", lambda T, x: F(T).hardsigmoid(x), [(3, 7)]),
    ("selu", lambda T, x: F(T).selu(x), [(3, 7)]),
    ("celu", lambda T, x: F(T).celu(x, 0.7), [(3, 7)]),
    ("glu", lambda T, x: F(T).glu(x), [(3, 6)]),
    ("glu_dim0", lambda T, x: F(T).glu(x, 0), [(4, 3)]),
    ("logsigmoid", lambda T, x: F(T).logsigmoid(x), [(3, 7)]),
    ("softsign", lambda T, x: F(T).softsign(x), [(3, 7)]),
    ("tanhshrink", lambda T, x: F(T).tanhshrink(x), [(3, 7)]),
    ("softshrink", lambda T, x: F(T).softshrink(x, 0.5), [(3, 7)]),
    ("hardshrink", lambda T, x: F(T).hardshrink(x, 0.5), [(3, 7)]),
    ("threshold", lambda T, x: F(T).threshold(x, 0.1, 20.0), [(3, 7)]),
    ("softplus_beta", lambda T, x: F(T).softplus(x, 2.0, 5.0), [(3, 7)]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", FUNCS, ids=[c[0] for c in FUNCS])
def test_function_parity(case, dtype):
    _, fn, shapes = case
    fn_parity(fn, [spread(*s) for s in shapes], dtype)


@pytest.mark.parametrize("case", FUNCS, ids=[c[0] for c in FUNCS])
def test_gradcheck(case):
    _, fn, shapes = case
    gradcheck64(fn, [spread(*s) for s in shapes])


@pytest.mark.parametrize("case", [c for c in FUNCS if c[0] in (
    "prelu_channels", "mish", "hardswish", "selu", "celu", "glu", "logsigmoid")],
    ids=lambda c: c[0])
def test_second_derivatives(case):
    _, fn, shapes = case
    gradgrad_parity(fn, [spread(*s) for s in shapes])


@pytest.mark.parametrize("name,kw", [("mish", {}), ("hardswish", {}), ("hardsigmoid", {}),
                                     ("selu", {}), ("celu", dict(alpha=0.5)),
                                     ("threshold", dict(threshold=0.2, value=-1.0))])
def test_inplace_forms(name, kw):
    x = spread(3, 4)
    outs = []
    for T in (engine, torch):
        leaf = T.tensor(x, requires_grad=True)
        y = leaf * 1.5
        z = getattr(F(T), name)(y, inplace=True, **kw)
        assert z is y
        z.sum().backward()
        outs.append((z.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-9)  # torch: from the result


MODULES = [
    ("PReLU", lambda nn: nn.PReLU(), (2, 3, 4)),
    ("PReLU3", lambda nn: nn.PReLU(3, init=0.1), (2, 3, 4)),
    ("Mish", lambda nn: nn.Mish(), (3, 5)),
    ("Softplus", lambda nn: nn.Softplus(beta=0.5, threshold=3.0), (3, 5)),
    ("Softsign", lambda nn: nn.Softsign(), (3, 5)),
    ("Hardswish", lambda nn: nn.Hardswish(), (3, 5)),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid(), (3, 5)),
    ("SELU", lambda nn: nn.SELU(), (3, 5)),
    ("CELU", lambda nn: nn.CELU(0.5), (3, 5)),
    ("GLU", lambda nn: nn.GLU(), (3, 6)),
    ("GLU0", lambda nn: nn.GLU(0), (4, 3)),
    ("LogSigmoid", lambda nn: nn.LogSigmoid(), (3, 5)),
    ("Tanhshrink", lambda nn: nn.Tanhshrink(), (3, 5)),
    ("Softshrink", lambda nn: nn.Softshrink(0.3), (3, 5)),
    ("Hardshrink", lambda nn: nn.Hardshrink(), (3, 5)),
    ("Threshold", lambda nn: nn.Threshold(0.1, 20.0), (3, 5)),
    ("Softmax2d", lambda nn: nn.Softmax2d(), (2, 3, 4, 2)),
    ("Softmax2d_unbatched", lambda nn: nn.Softmax2d(), (3, 4, 2)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_parity(case):
    _, build, shape = case
    module_parity_dtype(build, [spread(*shape)], np.float32)


def test_reprs_with_flags():
    for build in (lambda nn: nn.Mish(inplace=True), lambda nn: nn.SELU(inplace=True),
                  lambda nn: nn.Hardsigmoid(inplace=True), lambda nn: nn.CELU(2.0, True),
                  lambda nn: nn.Threshold(0.1, 20, inplace=True), lambda nn: nn.Softplus()):
        assert repr(build(engine.nn)) == repr(build(torch.nn))


def test_threshold_on_integers():
    x = np.arange(-3, 4)
    outs = [F(T).threshold(T.tensor(x), 0, 9).numpy() for T in (engine, torch)]
    np.testing.assert_array_equal(outs[0], outs[1])


ERRORS = [
    (lambda T: F(T).prelu(T.randn(2, 4), T.ones(3)), RuntimeError,
     "Mismatch of parameter numbers and input channel size. Found parameter numbers = 3 and "
     "channel size = 4."),
    (lambda T: F(T).prelu(T.randn(2, 4), T.ones(2, 2)), RuntimeError,
     "prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"),
    (lambda T: F(T).prelu(T.randn(2, 4), T.ones(4, dtype=T.float64)), RuntimeError,
     "prelu: Type promoting not supported. Got Float and Double"),
    (lambda T: F(T).glu(T.randn(2, 3)), RuntimeError,
     "Halving dimension must be even, but dimension 1 is size 3"),
    (lambda T: F(T).glu(T.tensor(1.0)), RuntimeError,
     "glu does not support scalars because halving size must be even"),
    (lambda T: F(T).softshrink(T.randn(2), -1.0), RuntimeError,
     r"lambda must be in range \[0, 3.40282e\+38\] for input dtype Float, but found -1"),
    (lambda T: F(T).celu(T.randn(2), alpha=0.0), RuntimeError,
     "ZeroDivisionError: alpha cannot be 0 for CELU"),
    (lambda T: F(T).mish(T.ones(2, dtype=T.int64)), NotImplementedError,
     "\"mish_cpu\" not implemented for 'Long'"),
    (lambda T: F(T).hardswish(T.ones(2, dtype=T.int64)), NotImplementedError,
     "\"hardswish_cpu\" not implemented for 'Long'"),
    (lambda T: F(T).glu(T.ones(2, 4, dtype=T.int64)), NotImplementedError,
     "\"glu_cpu\" not implemented for 'Long'"),
    (lambda T: F(T).logsigmoid(T.ones(2, dtype=T.int64)), NotImplementedError,
     "\"log_sigmoid_cpu\" not implemented for 'Long'"),
    (lambda T: F(T).selu(T.ones(2, dtype=T.int64)), NotImplementedError,
     "\"elu_cpu\" not implemented for 'Long'"),
    (lambda T: T.nn.Softmax2d()(T.randn(2, 3)), ValueError,
     "Softmax2d: expected input to be 3D or 4D, got 2D instead"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like_torch(*ERRORS[i])
