"""3-D pools, adaptive max pools and LP pools against torch: values, indices, gradients,
grad_fn DAGs, reprs and errors (float32 and float64), gradcheck and double backward."""

import numpy as np
import pytest
import torch

import engine
from _fn_parity import fn_parity, raises_like_torch, gradcheck64, module_parity_dtype

rng = np.random.default_rng(0)
DTYPES = [np.float32, np.float64]


def F(T):
    return T.nn.functional


CASES = [
    ("max3d", lambda T, x: F(T).max_pool3d(x, 2), (2, 3, 4, 4, 5)),
    ("max3d_pad_stride", lambda T, x: F(T).max_pool3d(x, 3, stride=(1, 2, 2), padding=1),
     (1, 2, 4, 5, 5)),
    ("max3d_dilation_ceil", lambda T, x: F(T).max_pool3d(x, 2, stride=2, dilation=(1, 2, 1),
                                                         ceil_mode=True), (1, 2, 5, 6, 5)),
    ("max3d_unbatched", lambda T, x: F(T).max_pool3d(x, (1, 2, 2)), (2, 3, 4, 4)),
    ("max3d_indices", lambda T, x: F(T).max_pool3d(x, 2, return_indices=True),
     (1, 2, 4, 4, 4)),
    ("avg3d", lambda T, x: F(T).avg_pool3d(x, 2), (2, 3, 4, 4, 5)),
    ("avg3d_pad", lambda T, x: F(T).avg_pool3d(x, 3, stride=2, padding=1), (1, 2, 5, 5, 4)),
    ("avg3d_nopadcount_ceil", lambda T, x: F(T).avg_pool3d(
        x, 2, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 4, 5, 3)),
    ("avg3d_divisor", lambda T, x: F(T).avg_pool3d(x, 2, divisor_override=3), (1, 1, 4, 4, 4)),
    ("adaptive_avg3d", lambda T, x: F(T).adaptive_avg_pool3d(x, (2, 3, 2)), (2, 2, 5, 7, 4)),
    ("adaptive_avg3d_none", lambda T, x: F(T).adaptive_avg_pool3d(x, (None, 2, 1)),
     (1, 2, 3, 5, 4)),
    ("adaptive_avg3d_one", lambda T, x: F(T).adaptive_avg_pool3d(x, 1), (2, 2, 3, 3, 3)),
    ("adaptive_max2d", lambda T, x: F(T).adaptive_max_pool2d(x, (3, 2)), (2, 3, 7, 5)),
    ("adaptive_max2d_idx", lambda T, x: F(T).adaptive_max_pool2d(x, 4, return_indices=True),
     (1, 2, 6, 9)),
    ("adaptive_max2d_unbatched", lambda T, x: F(T).adaptive_max_pool2d(x, 2), (3, 5, 5)),
    ("adaptive_max1d", lambda T, x: F(T).adaptive_max_pool1d(x, 3), (2, 3, 8)),
    ("adaptive_max3d", lambda T, x: F(T).adaptive_max_pool3d(x, (2, 1, 3)), (1, 2, 4, 3, 7)),
    ("lp2d", lambda T, x: F(T).lp_pool2d(x, 2, 2), (2, 2, 4, 6)),
    ("lp2d_p3_stride", lambda T, x: F(T).lp_pool2d(x, 3, (2, 3), stride=1), (1, 2, 4, 5)),
    ("lp1d", lambda T, x: F(T).lp_pool1d(x, 2, 3, stride=2), (2, 2, 9)),
    ("lp3d", lambda T, x: F(T).lp_pool3d(x, 2, 2), (1, 2, 4, 4, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pool_parity(case, dtype):
    _, fn, shape = case
    x = rng.standard_normal(shape)
    if case[0].startswith("lp"):
        x = np.abs(x) + 0.1        # torch's lp pool is non-differentiable at 0
    fn_parity(fn, [x], dtype)


@pytest.mark.parametrize("case", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_pool_gradcheck(case):
    _, fn, shape = case
    x = rng.standard_normal(shape)
    if case[0].startswith("lp"):
        x = np.abs(x) + 0.5

    def first(T, x):
        r = fn(T, x)
        return r[0] if isinstance(r, tuple) else r
    gradcheck64(first, [x])


def test_max_pool3d_ties_nan_and_neg_inf_like_torch():
    x = np.zeros((1, 1, 4, 4, 4), dtype=np.float32)
    x[0, 0, 0, 0, 1] = np.nan
    x[0, 0, 0, 1, 1] = np.nan
    x[0, 0, 2:, 2:, 2:] = -np.inf
    for T_fn in (lambda T, x: F(T).max_pool3d(x, 2, return_indices=True),
                 lambda T, x: F(T).max_pool3d(x, 3, stride=1, padding=1, return_indices=True),
                 lambda T, x: F(T).adaptive_max_pool3d(x, 3, return_indices=True)):
        outs = [T_fn(T, T.tensor(x)) for T in (engine, torch)]
        np.testing.assert_array_equal(outs[0][1].numpy(), outs[1][1].numpy())
        np.testing.assert_array_equal(outs[0][0].numpy(), outs[1][0].numpy())


def test_max_pool3d_double_backward_and_saved_indices():
    x = rng.standard_normal((1, 2, 4, 4, 4))
    w = rng.standard_normal((1, 2, 2, 2, 2))
    res = []
    for T in (engine, torch):
        t = T.tensor(x, requires_grad=True)
        y = F(T).max_pool3d(t, 2)
        v = T.tensor(w, requires_grad=True)
        (g,) = T.autograd.grad((y * v).sum(), t, create_graph=True)
        (gv,) = T.autograd.grad((g * g * 3).sum(), v)
        res.append((gv.numpy(), type(g.grad_fn).__name__, y.grad_fn._saved_result1.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0])
    assert res[0][1] == res[1][1] == "MaxPool3DWithIndicesBackwardBackward0"
    np.testing.assert_array_equal(res[0][2], res[1][2])


def test_integer_max_pool3d():
    x = rng.integers(-5, 5, (1, 2, 4, 4, 4)).astype(np.int32)
    outs = [F(T).max_pool3d(T.tensor(x), 3, stride=1, padding=1) for T in (engine, torch)]
    np.testing.assert_array_equal(outs[0].numpy(), outs[1].numpy())


MODULES = [
    ("MaxPool3d", lambda nn: nn.MaxPool3d(2, stride=1, padding=1, dilation=2, ceil_mode=True),
     (1, 2, 5, 5, 5)),
    ("AvgPool3d", lambda nn: nn.AvgPool3d(2, stride=1, padding=1, count_include_pad=False),
     (1, 2, 3, 3, 3)),
    ("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d((2, None, 3)), (1, 2, 4, 3, 5)),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(3), (2, 2, 7)),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d((2, 3)), (2, 2, 5, 7)),
    ("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d(2), (1, 2, 3, 5, 4)),
    ("LPPool1d", lambda nn: nn.LPPool1d(2, 3), (2, 2, 7)),
    ("LPPool2d", lambda nn: nn.LPPool2d(1.5, (2, 2), stride=(1, 2)), (2, 2, 5, 6)),
    ("LPPool3d", lambda nn: nn.LPPool3d(2, 2), (1, 2, 4, 4, 4)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_parity(case):
    _, build, shape = case
    x = np.abs(rng.standard_normal(shape)) + 0.1
    module_parity_dtype(build, [x], np.float32)


def test_module_reprs():
    for build in (lambda nn: nn.AdaptiveMaxPool1d(3, return_indices=True),
                  lambda nn: nn.AvgPool3d(2, stride=1, padding=1, ceil_mode=True,
                                          count_include_pad=False, divisor_override=3),
                  lambda nn: nn.MaxPool3d(2, return_indices=True)):
        assert repr(build(engine.nn)) == repr(build(torch.nn))


ERRORS = [
    (lambda T: F(T).max_pool3d(T.randn(2, 3, 4), 2), RuntimeError,
     r"non-empty 4D or 5D \(batch mode\) tensor expected for input"),
    (lambda T: F(T).avg_pool3d(T.randn(2, 3, 4), 2), RuntimeError,
     r"non-empty 4D or 5D \(batch mode\) tensor expected for input"),
    (lambda T: F(T).max_pool3d(T.randn(1, 2, 2, 2, 2), 3), RuntimeError,
     r"Given input size: \(2x2x2x2\). Calculated output size: \(2x0x0x0\). Output size is "
     r"too small"),
    (lambda T: F(T).avg_pool3d(T.randn(1, 2, 2, 2, 2), 3), RuntimeError,
     r"input image \(T: 2 H: 2 W: 2\) smaller than kernel size \(kT: 3 kH: 3 kW: 3\)"),
    (lambda T: F(T).max_pool3d(T.randn(1, 2, 4, 4, 4), 2, padding=2), RuntimeError,
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and "
     "dilation=1"),
    (lambda T: F(T).adaptive_avg_pool3d(T.randn(2, 3), 2), RuntimeError,
     r"adaptive_avg_pool3d\(\): Expected 4D or 5D tensor, but got \[2, 3\]"),
    (lambda T: F(T).adaptive_max_pool2d(T.randn(2), 2), RuntimeError,
     r"adaptive_max_pool2d\(\): Expected 3D or 4D tensor, but got: \[2\]"),
    (lambda T: F(T).adaptive_avg_pool3d(T.randn(1, 2, 4, 4, 4), (2, 2)), RuntimeError,
     "adaptive_avg_pool3d: output_size must be 3"),
    (lambda T: F(T).avg_pool3d(T.randn(1, 2, 4, 4, 4), 2, divisor_override=0), RuntimeError,
     "divisor must be not zero"),
    (lambda T: F(T).adaptive_max_pool2d(T.ones(1, 2, 3, 3, dtype=T.int32), 2),
     NotImplementedError, "\"adaptive_max_pool2d\" not implemented for 'Int'"),
    (lambda T: F(T).avg_pool3d(T.ones(1, 2, 4, 4, 4, dtype=T.int32), 2),
     NotImplementedError, "\"avg_pool3d_out_frame\" not implemented for 'Int'"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like_torch(*ERRORS[i])
