"""GroupNorm, InstanceNorm1d/2d/3d, RMSNorm and LocalResponseNorm against torch: values,
input and parameter gradients, running statistics, grad_fn DAGs, reprs and error texts, in
float32 and float64; gradcheck and second derivatives in float64."""

import numpy as np
import pytest
import torch

import engine
from _fn_parity import fn_parity, raises_like_torch, gradcheck64, gradgrad_parity, module_parity_dtype

rng = np.random.default_rng(0)
DTYPES = [np.float32, np.float64]


def randn(*shape):
    return rng.standard_normal(shape)


def _affine(nn_mod, n, seed=1):
    """Move a norm layer's ones/zeros parameters off their symmetric start."""
    r = np.random.default_rng(seed)
    for p in nn_mod.parameters():
        with torch.no_grad():
            p.add_(torch.tensor(r.standard_normal(tuple(p.shape)) * 0.3, dtype=p.dtype))
    return nn_mod


MODULES = [
    ("groupnorm", lambda nn: _affine(nn.GroupNorm(2, 4), 4) if nn is torch.nn
     else nn.GroupNorm(2, 4), (3, 4, 3, 5)),
    ("groupnorm_1d", lambda nn: nn.GroupNorm(3, 6), (2, 6, 7)),
    ("groupnorm_2d_input", lambda nn: nn.GroupNorm(1, 4), (5, 4)),
    ("groupnorm_noaffine", lambda nn: nn.GroupNorm(2, 4, affine=False), (2, 4, 3, 3)),
    ("groupnorm_nobias", lambda nn: nn.GroupNorm(4, 4, bias=False), (2, 4, 3)),
    ("instancenorm1d", lambda nn: nn.InstanceNorm1d(3), (2, 3, 6)),
    ("instancenorm1d_unbatched", lambda nn: nn.InstanceNorm1d(3), (3, 6)),
    ("instancenorm2d_affine", lambda nn: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
    ("instancenorm2d_stats", lambda nn: nn.InstanceNorm2d(3, affine=True,
                                                          track_running_stats=True),
     (2, 3, 4, 4)),
    ("instancenorm3d", lambda nn: nn.InstanceNorm3d(2, track_running_stats=True),
     (2, 2, 3, 2, 3)),
    ("rmsnorm", lambda nn: nn.RMSNorm(5), (3, 4, 5)),
    ("rmsnorm_2", lambda nn: nn.RMSNorm((4, 5), eps=1e-3), (3, 4, 5)),
    ("rmsnorm_noaffine", lambda nn: nn.RMSNorm(5, elementwise_affine=False), (3, 5)),
    ("lrn3d", lambda nn: nn.LocalResponseNorm(3), (2, 5, 4)),
    ("lrn4d", lambda nn: nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0), (2, 5, 3, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_parity(case, dtype):
    _, build, shape = case
    module_parity_dtype(build, [randn(*shape) * 2 + 0.5], dtype)


def test_groupnorm_params_moved_match():
    """Weight and bias away from ones/zeros (copied from torch) give torch's gradients."""
    def build(nn):
        m = nn.GroupNorm(2, 6)
        if nn is torch.nn:
            _affine(m, 6)
        return m
    module_parity_dtype(build, [randn(2, 6, 4)], np.float64)


def test_instancenorm_running_stats_over_steps_and_eval():
    tm = torch.nn.InstanceNorm2d(3, track_running_stats=True, momentum=None)
    em = engine.nn.InstanceNorm2d(3, track_running_stats=True, momentum=None)
    for i in range(3):
        x = randn(2, 3, 4, 4).astype(np.float32) * (i + 1) + i
        yt, ye = tm(torch.tensor(x)), em(engine.tensor(x))
        np.testing.assert_allclose(ye.numpy(), yt.numpy(), rtol=1e-4, atol=1e-5)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(em, name).numpy(), getattr(tm, name).numpy(),
                                   rtol=1e-5, atol=1e-6)
    tm.eval()
    em.eval()
    x = randn(2, 3, 4, 4).astype(np.float32)
    np.testing.assert_allclose(em(engine.tensor(x)).numpy(), tm(torch.tensor(x)).numpy(),
                               rtol=1e-4, atol=1e-5)
    assert list(em.state_dict()) == list(tm.state_dict())


FUNCTIONS = [
    ("group_norm", lambda T, x, w, b: T.nn.functional.group_norm(x, 3, w, b, 1e-3),
     [(2, 6, 5), (6,), (6,)]),
    ("group_norm_plain", lambda T, x: T.nn.functional.group_norm(x, 2), [(2, 4, 3, 3)]),
    ("instance_norm", lambda T, x, w, b: T.nn.functional.instance_norm(x, weight=w, bias=b),
     [(3, 2, 5), (2,), (2,)]),
    ("rms_norm", lambda T, x, w: T.nn.functional.rms_norm(x, (4,), w), [(3, 4), (4,)]),
    ("rms_norm_eps", lambda T, x: T.nn.functional.rms_norm(x, (2, 4), eps=0.1), [(3, 2, 4)]),
    ("lrn", lambda T, x: T.nn.functional.local_response_norm(x, 3, 0.3, 0.6, 1.5),
     [(2, 4, 3)]),
    ("lrn5d", lambda T, x: T.nn.functional.local_response_norm(x, 2), [(2, 3, 2, 2, 2)]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_function_parity(case, dtype):
    _, fn, shapes = case
    fn_parity(fn, [randn(*s) for s in shapes], dtype)


@pytest.mark.parametrize("case", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_function_gradcheck(case):
    _, fn, shapes = case
    gradcheck64(fn, [randn(*s) for s in shapes])


@pytest.mark.parametrize("case", FUNCTIONS[:4], ids=[c[0] for c in FUNCTIONS[:4]])
def test_second_derivatives_match_torch(case):
    _, fn, shapes = case
    gradgrad_parity(fn, [randn(*s) for s in shapes])


def test_instance_norm_eval_with_running_stats():
    x, rm, rv = randn(2, 3, 4), np.abs(randn(3)), np.abs(randn(3)) + 0.5
    fn_parity(lambda T, x, m, v: T.nn.functional.instance_norm(x, m, v, use_input_stats=False),
              [x, rm, rv], np.float64, grad=[0])


def test_rms_norm_default_eps_is_the_dtypes():
    x = np.full((1, 4), 1e-5)
    for dt in DTYPES:
        fn_parity(lambda T, x: T.nn.functional.rms_norm(x, (4,)), [x], dt)


ERRORS = [
    (lambda T: T.nn.functional.group_norm(T.randn(2, 4, 5), 3),
     RuntimeError, r"Expected number of channels in input to be divisible by num_groups, but "
                   r"got input of shape \[2, 4, 5\] and num_groups=3"),
    (lambda T: T.nn.functional.group_norm(T.randn(2, 4, 5), 2, T.ones(3)),
     RuntimeError, r"Expected weight to be a vector of size equal to the number of channels in "
                   r"input, but got weight of shape \[3\] and input of shape \[2, 4, 5\]"),
    (lambda T: T.nn.functional.group_norm(T.randn(4), 2),
     RuntimeError, "Expected at least 2 dimensions for input tensor but received 1"),
    (lambda T: T.nn.functional.group_norm(T.ones(2, 4, 5, dtype=T.int32), 2),
     NotImplementedError, "\"GroupNormKernelImpl\" not implemented for 'Int'"),
    (lambda T: T.nn.functional.group_norm(T.randn(2, 4, 5), 2, T.ones(4, dtype=T.float64)),
     RuntimeError, "mixed dtype \\(CPU\\): expect parameter to have scalar type of Float"),
    (lambda T: T.nn.GroupNorm(3, 4), ValueError,
     r"num_channels \(4\) must be divisible by num_groups \(3\)"),
    (lambda T: T.nn.functional.instance_norm(T.randn(2, 3, 1)), ValueError,
     r"Expected more than 1 spatial element when training, got input size "
     r"torch.Size\(\[2, 3, 1\]\)"),
    (lambda T: T.nn.InstanceNorm1d(4)(T.randn(2, 4, 4, 4)), ValueError,
     r"expected 2D or 3D input \(got 4D input\)"),
    (lambda T: T.nn.InstanceNorm2d(4, affine=True)(T.randn(2, 3, 4, 4)), ValueError,
     r"expected input's size at dim=1 to match num_features \(4\), but got: 3."),
    (lambda T: T.nn.functional.rms_norm(T.randn(2, 3), (4, 5)), RuntimeError,
     r"Given normalized_shape=\[4, 5\], expected input with shape \[\*4, 5\], but got input "
     r"of size\[2, 3\]"),
    (lambda T: T.nn.functional.rms_norm(T.randn(2, 3), (3,), T.ones(4)), RuntimeError,
     r"Expected weight to be of same shape as normalized_shape, but got weight of shape \[4\] "
     r"and normalized_shape = \[3\]"),
    (lambda T: T.nn.functional.local_response_norm(T.randn(2, 3), 2), ValueError,
     r"Expected 3D or higher dimensionality\s+input \(got 2 dimensions\)"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like_torch(*ERRORS[i])


def test_instancenorm_warns_when_channels_differ_without_affine():
    for T in (torch, engine):
        with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
            T.nn.InstanceNorm2d(4)(T.randn(2, 3, 4, 4))
