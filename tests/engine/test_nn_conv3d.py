"""conv3d / conv_transpose3d and Conv3d / ConvTranspose3d against torch: values, input,
weight and bias gradients, ConvolutionBackward0 and its saved geometry, float32 and float64,
groups, stride, padding (ints, 'same', 'valid'), dilation, output_padding, unbatched input;
gradcheck in float64; error texts; double backward refused like the 2-D convolution's."""

import numpy as np
import pytest
import torch

import engine
from _fn_parity import fn_parity, gradcheck64, module_parity_dtype, raises_like_torch

rng = np.random.default_rng(0)
DTYPES = [np.float32, np.float64]


def F(T):
    return T.nn.functional


CONV = [
    ("plain", (2, 3, 4, 5, 4), (4, 3, 2, 3, 2), {}),
    ("stride_pad", (1, 2, 5, 6, 5), (3, 2, 3, 3, 3), dict(stride=2, padding=1)),
    ("dilation", (1, 2, 6, 5, 6), (2, 2, 2, 2, 2), dict(dilation=(2, 1, 2), padding=(1, 0, 1))),
    ("groups", (2, 4, 4, 4, 3), (6, 2, 2, 1, 2), dict(groups=2, stride=(1, 2, 1))),
    ("same_even", (1, 2, 4, 5, 3), (3, 2, 2, 3, 2), dict(padding="same")),
    ("valid", (1, 2, 4, 4, 4), (2, 2, 3, 3, 3), dict(padding="valid")),
    ("unbatched", (2, 3, 4, 3), (3, 2, 2, 2, 2), dict(padding=1)),
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CONV, ids=[c[0] for c in CONV])
def test_conv3d_parity(case, dtype, bias):
    _, xs, ws, kw = case
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if bias:
        arrays.append(rng.standard_normal(ws[0]))
    fn_parity(lambda T, *a: F(T).conv3d(*a, **kw), arrays, dtype)


TRANSPOSED = [
    ("plain", (2, 3, 3, 4, 2), (3, 4, 2, 3, 2), {}),
    ("stride_pad_outpad", (1, 2, 3, 3, 4), (2, 3, 3, 2, 3), dict(stride=2, padding=1,
                                                               output_padding=(1, 0, 1))),
    ("dilation", (1, 2, 3, 2, 3), (2, 2, 2, 2, 2), dict(dilation=(2, 1, 3))),
    ("groups", (2, 4, 2, 3, 2), (4, 3, 2, 2, 1), dict(groups=2, stride=(2, 1, 2))),
    ("unbatched", (2, 3, 2, 3), (2, 2, 2, 2, 2), dict(stride=2)),
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", TRANSPOSED, ids=[c[0] for c in TRANSPOSED])
def test_conv_transpose3d_parity(case, dtype, bias):
    _, xs, ws, kw = case
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if bias:
        groups = kw.get("groups", 1)
        arrays.append(rng.standard_normal(ws[1] * groups))
    fn_parity(lambda T, *a: F(T).conv_transpose3d(*a, **kw), arrays, dtype)


@pytest.mark.parametrize("case", CONV[1:4], ids=[c[0] for c in CONV[1:4]])
def test_conv3d_gradcheck(case):
    _, xs, ws, kw = case
    gradcheck64(lambda T, *a: F(T).conv3d(*a, **kw),
                [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])])


@pytest.mark.parametrize("case", TRANSPOSED[1:4], ids=[c[0] for c in TRANSPOSED[1:4]])
def test_conv_transpose3d_gradcheck(case):
    _, xs, ws, kw = case
    gradcheck64(lambda T, *a: F(T).conv_transpose3d(*a, **kw),
                [rng.standard_normal(xs), rng.standard_normal(ws),
                 rng.standard_normal(ws[1] * kw.get("groups", 1))])


def test_saved_geometry_like_torch():
    x, w = rng.standard_normal((1, 2, 4, 4, 4)), rng.standard_normal((2, 2, 3, 3, 3))
    for fn in (lambda T, x, w: F(T).conv3d(x, w, stride=(1, 2, 1), padding=1, dilation=(1, 1, 2)),
               lambda T, x, w: F(T).conv_transpose3d(x, w, stride=2, output_padding=1)):
        nodes = [fn(T, T.tensor(x, requires_grad=True), T.tensor(w)).grad_fn
                 for T in (engine, torch)]
        for attr in ("stride", "padding", "dilation", "transposed", "output_padding", "groups"):
            a, b = getattr(nodes[0], "_saved_" + attr), getattr(nodes[1], "_saved_" + attr)
            assert (tuple(a) if isinstance(a, (tuple, list)) else a) == \
                (tuple(b) if isinstance(b, (tuple, list)) else b), attr


def test_double_backward_refused():
    x = engine.randn(1, 1, 3, 3, 3, requires_grad=True)
    w = engine.randn(1, 1, 2, 2, 2)
    (y,) = [F(engine).conv3d(x, w)]
    with pytest.raises(RuntimeError, match="double backward"):
        engine.autograd.grad(y.sum(), x, create_graph=True)


MODULES = [
    ("Conv3d", lambda nn: nn.Conv3d(2, 4, 3, padding=1), (2, 2, 3, 4, 3)),
    ("Conv3d_args", lambda nn: nn.Conv3d(4, 2, (2, 1, 3), stride=(2, 1, 1), padding=(0, 1, 1),
                                         dilation=(1, 2, 1), groups=2, bias=False),
     (1, 4, 4, 3, 5)),
    ("Conv3d_reflect", lambda nn: nn.Conv3d(2, 2, 3, padding=1, padding_mode="reflect"),
     (1, 2, 3, 4, 4)),
    ("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(2, 3, (2, 3, 2), stride=2,
                                                      output_padding=1), (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_parity(case):
    _, build, shape = case
    module_parity_dtype(build, [rng.standard_normal(shape)], np.float32)


def test_conv_transpose3d_output_size():
    x = rng.standard_normal((1, 2, 2, 3, 2)).astype(np.float32)
    outs = []
    for T in (torch, engine):
        T.manual_seed(0)
        m = T.nn.ConvTranspose3d(2, 1, 3, stride=2, padding=1)
        if T is engine:
            m.load_state_dict({k: engine.tensor(v.detach().numpy()) for k, v in
                               tm.state_dict().items()})
        else:
            tm = m
        outs.append(m(T.tensor(x), output_size=(4, 6, 4)))
    assert tuple(outs[0].shape) == tuple(outs[1].shape) == (1, 1, 4, 6, 4)
    np.testing.assert_allclose(outs[0].detach().numpy(), outs[1].detach().numpy(), rtol=1e-5,
                               atol=1e-6)


ERRORS = [
    (lambda T: F(T).conv3d(T.randn(2, 3, 3), T.randn(2, 2, 2, 2, 2)), RuntimeError,
     r"Expected 4D \(unbatched\) or 5D \(batched\) input to conv3d, but got input of size: "
     r"\[2, 3, 3\]"),
    (lambda T: F(T).conv3d(T.randn(1, 3, 3, 3, 3), T.randn(2, 2, 2, 2, 2)), RuntimeError,
     r"Given groups=1, weight of size \[2, 2, 2, 2, 2\], expected input\[1, 3, 3, 3, 3\] to "
     r"have 2 channels, but got 3 channels instead"),
    (lambda T: F(T).conv3d(T.randn(1, 2, 2, 2, 2), T.randn(2, 2, 3, 3, 3)), RuntimeError,
     r"Calculated padded input size per channel: \(2 x 2 x 2\). Kernel size: \(3 x 3 x 3\). "
     r"Kernel size can't be greater than actual input size"),
    (lambda T: F(T).conv3d(T.randn(1, 2, 3, 3, 3), T.randn(2, 2, 2, 2, 2), T.randn(3)),
     RuntimeError, r"Given weight of size \[2, 2, 2, 2, 2\], expected bias to be 1-dimensional "
                   r"with 2 elements, but got bias of size \[3\] instead"),
    (lambda T: F(T).conv3d(T.randn(1, 2, 3, 3, 3), T.randn(2, 2, 2, 2, 2, dtype=T.float64)),
     RuntimeError, "expected scalar type Float but found Double"),
    (lambda T: F(T).conv3d(T.randn(1, 2, 4, 4, 4), T.randn(2, 2, 2, 2, 2), stride=2,
                           padding="same"),
     RuntimeError, "padding='same' is not supported for strided convolutions"),
    (lambda T: F(T).conv_transpose3d(T.randn(1, 3, 2, 2, 2), T.randn(2, 2, 2, 2, 2)),
     RuntimeError, r"Given transposed=1, weight of size \[2, 2, 2, 2, 2\], expected "
                   r"input\[1, 3, 2, 2, 2\] to have 2 channels, but got 3 channels instead"),
    (lambda T: F(T).conv_transpose3d(T.randn(1, 2, 2, 2, 2), T.randn(2, 2, 2, 2, 2),
                                     output_padding=2),
     RuntimeError, "output padding must be smaller than either stride or dilation"),
    (lambda T: F(T).conv_transpose3d(T.randn(1, 2, 1, 1, 1), T.randn(2, 2, 1, 1, 1),
                                     padding=1),
     RuntimeError, r"Output size is too small"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like_torch(*ERRORS[i])
