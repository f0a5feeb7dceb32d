"""F.interpolate and the Upsample layers against torch: every mode in 1-D, 2-D and 3-D, by
size and by scale factor, align_corners, recompute_scale_factor; values, gradients, grad_fn
names and saved attributes in float32 and float64; gradcheck and double backward; errors."""

import numpy as np
import pytest
import torch

import engine
from _fn_parity import fn_parity, gradcheck64, module_parity_dtype

rng = np.random.default_rng(0)
DTYPES = [np.float32, np.float64]


def interp(**kw):
    return lambda T, x: T.nn.functional.interpolate(x, **kw)


CASES = [
    ("nearest2d_x2", (2, 3, 4, 5), dict(scale_factor=2)),
    ("nearest2d_size", (1, 2, 5, 7), dict(size=(3, 11))),
    ("nearest2d_frac", (1, 2, 5, 7), dict(scale_factor=(1.7, 0.6))),
    ("nearest1d", (2, 3, 7), dict(size=10)),
    ("nearest3d", (1, 2, 3, 4, 2), dict(scale_factor=(2, 1.5, 3))),
    ("nearest_exact2d", (1, 2, 5, 7), dict(size=(8, 4), mode="nearest-exact")),
    ("nearest_exact1d", (1, 2, 5), dict(scale_factor=1.6, mode="nearest-exact")),
    ("nearest_exact3d", (1, 1, 3, 3, 2), dict(size=(5, 2, 3), mode="nearest-exact")),
    ("bilinear_x2", (2, 3, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ("bilinear_align", (2, 3, 4, 5), dict(size=(7, 9), mode="bilinear", align_corners=True)),
    ("bilinear_down", (1, 2, 9, 8), dict(size=(4, 3), mode="bilinear")),
    ("bilinear_frac", (1, 2, 5, 6), dict(scale_factor=(1.3, 2.7), mode="bilinear")),
    ("bilinear_recompute", (1, 2, 5, 6), dict(scale_factor=1.3, mode="bilinear",
                                               recompute_scale_factor=True)),
    ("bilinear_to_one", (1, 2, 5, 6), dict(size=(1, 1), mode="bilinear", align_corners=True)),
    ("linear1d", (2, 3, 6), dict(size=13, mode="linear")),
    ("linear1d_align", (2, 3, 6), dict(scale_factor=0.5, mode="linear", align_corners=True)),
    ("bicubic", (1, 2, 4, 5), dict(scale_factor=2, mode="bicubic")),
    ("bicubic_align", (1, 2, 5, 4), dict(size=(7, 3), mode="bicubic", align_corners=True)),
    ("trilinear", (1, 2, 3, 4, 2), dict(scale_factor=2, mode="trilinear")),
    ("trilinear_align", (1, 1, 3, 2, 4), dict(size=(4, 5, 3), mode="trilinear",
                                               align_corners=True)),
    ("area2d", (2, 2, 6, 7), dict(size=(3, 4), mode="area")),
    ("area2d_scale", (1, 2, 6, 7), dict(scale_factor=0.5, mode="area")),
    ("area1d", (2, 2, 9), dict(size=4, mode="area")),
    ("area3d", (1, 2, 4, 5, 6), dict(size=(2, 3, 4), mode="area")),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_interpolate_parity(case, dtype):
    _, shape, kw = case
    fn_parity(interp(**kw), [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("case", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_interpolate_gradcheck(case):
    _, shape, kw = case
    gradcheck64(interp(**kw), [rng.standard_normal(shape)])


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_interpolate_double_backward(mode):
    """The gradient of the gradient with respect to the upstream gradient (the op is linear,
    so this is the op itself again): torch's numbers through create_graph."""
    x = rng.standard_normal((1, 2, 3, 4))
    w = rng.standard_normal((1, 2, 6, 8))
    res = []
    for T in (engine, torch):
        t = T.tensor(x, requires_grad=True)
        y = T.nn.functional.interpolate(t, scale_factor=2, mode=mode)
        v = T.tensor(w, requires_grad=True)
        (g,) = T.autograd.grad((y * v).sum(), t, create_graph=True)
        (gv,) = T.autograd.grad((g * g).sum(), v)
        res.append((gv.detach().numpy(), type(g.grad_fn).__name__))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10)
    assert res[0][1] == res[1][1]


def test_saved_attributes_match_torch():
    x = rng.standard_normal((1, 2, 3, 4))
    for kw in (dict(scale_factor=2.0, mode="bilinear"), dict(size=(5, 6), mode="nearest"),
               dict(scale_factor=(1.5, 2.5), mode="bicubic", align_corners=True)):
        nodes = [T.nn.functional.interpolate(T.tensor(x, requires_grad=True), **kw).grad_fn
                 for T in (engine, torch)]
        for attr in ("output_size", "scales_h", "scales_w", "align_corners"):
            if hasattr(nodes[1], "_saved_" + attr):
                assert getattr(nodes[0], "_saved_" + attr) == getattr(nodes[1], "_saved_" + attr)


def test_nearest_matches_torch_on_awkward_scales():
    """Float-rounding cases of nearest's source index (scales that are not exact binary)."""
    for in_size, scale in [(10, 1 / 3), (7, 2.2), (9, 0.7), (3, 3.3), (13, 0.1 * 3)]:
        x = np.arange(in_size, dtype=np.float32)[None, None]
        fn_parity(interp(scale_factor=scale), [x], np.float32)
        fn_parity(interp(scale_factor=scale, mode="nearest-exact"), [x], np.float32)


MODULES = [
    ("upsample", lambda nn: nn.Upsample(scale_factor=2), (1, 2, 3, 3)),
    ("upsample_bilinear", lambda nn: nn.Upsample(size=(5, 4), mode="bilinear",
                                                 align_corners=False), (1, 2, 3, 3)),
    ("upsample_tuple", lambda nn: nn.Upsample(scale_factor=(2, 3), mode="bicubic"),
     (1, 1, 2, 3)),
    ("upsampling_nearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=3), (1, 2, 2, 3)),
    ("upsampling_bilinear2d", lambda nn: nn.UpsamplingBilinear2d(size=5), (1, 2, 2, 3)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_parity(case):
    _, build, shape = case
    module_parity_dtype(build, [rng.standard_normal(shape)], np.float32)


def test_upsample_unbatched_error_and_deprecated_aliases():
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    for name, kw in (("upsample", dict(scale_factor=2)),
                     ("upsample_bilinear", dict(size=5)), ("upsample_nearest", dict(size=4))):
        outs = []
        for T in (engine, torch):
            with pytest.warns(UserWarning, match="deprecated"):
                outs.append(getattr(T.nn.functional, name)(T.tensor(x), **kw).numpy())
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)


ERRORS = [
    (dict(scale_factor=0.1), (1, 1, 2, 2), RuntimeError,
     r"Input and output sizes should be greater than 0, but got input \(H: 2, W: 2\) output "
     r"\(H: 0, W: 0\)"),
    (dict(scale_factor=0.1), (1, 1, 2), RuntimeError,
     r"but got input \(W: 2\) and output \(W: 0\)"),
    (dict(scale_factor=2), (1, 2), NotImplementedError,
     r"Input Error: Only 3D, 4D and 5D input Tensors supported \(got 2D\) for the modes: "
     r"nearest \| linear \| bilinear \| bicubic \| trilinear \| lanczos \| area \| "
     r"nearest-exact \(got nearest\)"),
    (dict(size=(3,), mode="bilinear"), (1, 1, 2, 2), ValueError,
     r"Input and output must have the same number of spatial dimensions, but got input with "
     r"spatial dimensions of \[2, 2\] and output size of \(3,\)"),
    (dict(scale_factor=2, align_corners=True), (1, 1, 2, 2), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (dict(), (1, 1, 2, 2), ValueError, "either size or scale_factor should be defined"),
    (dict(size=3, scale_factor=2), (1, 1, 2, 2), ValueError,
     "only one of size or scale_factor should be defined"),
    (dict(size=3, mode="linear"), (1, 1, 2, 2), NotImplementedError,
     "Got 4D input, but linear mode needs 3D input"),
    (dict(size=3, mode="trilinear"), (1, 1, 2), NotImplementedError,
     "Got 3D input, but trilinear mode needs 5D input"),
    (dict(size=3, mode="bilinear", recompute_scale_factor=True), (1, 1, 2, 2), ValueError,
     "recompute_scale_factor is not meaningful with an explicit size."),
    (dict(scale_factor=2, antialias=True), (1, 1, 2, 2), ValueError,
     "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes"),
    (dict(scale_factor=(2, 2, 2)), (1, 1, 2, 2), ValueError,
     "Input and scale_factor must have the same number of spatial dimensions"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    kw, shape, exc, pattern = ERRORS[i]
    for T in (torch, engine):
        with pytest.raises(exc, match=pattern):
            T.nn.functional.interpolate(T.randn(*shape), **kw)


@pytest.mark.parametrize("mode,shape,name", [
    ("bilinear", (1, 1, 2, 2), "upsample_bilinear2d_channels_last"),
    ("linear", (1, 1, 2), "compute_indices_weights_linear"),
    ("nearest", (1, 1, 2, 2), "upsample_nearest2d_channels_last"),
    ("nearest", (1, 1, 2), "compute_indices_weights_nearest"),
    ("bicubic", (1, 1, 2, 2), "compute_indices_weights_cubic"),
    ("area", (1, 1, 2, 2), "adaptive_avg_pool2d")])
def test_integer_input_errors(mode, shape, name):
    for T in (torch, engine):
        x = T.ones(*shape, dtype=T.int32)
        with pytest.raises(NotImplementedError, match=f"\"{name}\" not implemented for 'Int'"):
            T.nn.functional.interpolate(x, size=3 if len(shape) == 3 else (3, 3), mode=mode)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("shape", [(1, 2, 7), (1, 2, 5, 6), (1, 1, 3, 2, 4)])
def test_uint8_images_in_nearest_modes(mode, shape):
    x = rng.integers(0, 256, shape).astype(np.uint8)
    size = tuple(int(s * 1.7) for s in shape[2:])
    outs = [F.interpolate(T.tensor(x), size=size, mode=mode).numpy()
            for T, F in ((engine, engine.nn.functional), (torch, torch.nn.functional))]
    assert outs[0].dtype == np.uint8
    np.testing.assert_array_equal(outs[0], outs[1])


def test_uint8_linear_modes_refused_plainly():
    with pytest.raises(NotImplementedError, match="uint8 input in mode 'bilinear'"):
        engine.nn.functional.interpolate(engine.ones(1, 1, 2, 2, dtype=engine.uint8),
                                         scale_factor=2, mode="bilinear")
