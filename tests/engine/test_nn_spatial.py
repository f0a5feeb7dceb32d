"""pixel_shuffle / pixel_unshuffle / channel_shuffle, unfold / fold, grid_sample (bilinear,
nearest, bicubic) and
affine_grid (functions and layers) against torch: values, gradients, grad_fn DAGs, float32
and float64, gradcheck, double backward (the node names of the gradient's graph too), reprs
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


CASES = [
    ("pixel_shuffle", lambda T, x: F(T).pixel_shuffle(x, 2), [(2, 8, 3, 4)]),
    ("pixel_shuffle_5d", lambda T, x: F(T).pixel_shuffle(x, 3), [(2, 1, 9, 2, 2)]),
    ("pixel_shuffle_3d", lambda T, x: F(T).pixel_shuffle(x, 2), [(4, 2, 3)]),
    ("pixel_unshuffle", lambda T, x: F(T).pixel_unshuffle(x, 2), [(2, 3, 4, 6)]),
    ("channel_shuffle", lambda T, x: F(T).channel_shuffle(x, 3), [(2, 6, 2, 3)]),
    ("channel_shuffle_3d", lambda T, x: F(T).channel_shuffle(x, 2), [(2, 4, 5)]),
    ("unfold", lambda T, x: F(T).unfold(x, 2), [(2, 3, 4, 5)]),
    ("unfold_args", lambda T, x: F(T).unfold(x, (2, 3), dilation=(2, 1), padding=1,
                                             stride=(1, 2)), [(1, 2, 5, 6)]),
    ("unfold_unbatched", lambda T, x: F(T).unfold(x, 3, padding=1), [(2, 4, 4)]),
    ("fold", lambda T, x: F(T).fold(x, (4, 5), 2), [(2, 12, 12)]),
    ("fold_args", lambda T, x: F(T).fold(x, (5, 6), (2, 3), dilation=(2, 1), padding=1,
                                         stride=(1, 2)), [(1, 12, 15)]),
    ("fold_unbatched", lambda T, x: F(T).fold(x, (3, 3), 2), [(8, 4)]),
    ("affine_grid", lambda T, t: F(T).affine_grid(t, (2, 3, 4, 5), align_corners=False),
     [(2, 2, 3)]),
    ("affine_grid_align", lambda T, t: F(T).affine_grid(t, [1, 1, 3, 2], align_corners=True),
     [(1, 2, 3)]),
    ("affine_grid_3d", lambda T, t: F(T).affine_grid(t, (2, 1, 2, 3, 4), align_corners=False),
     [(2, 3, 4)]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_parity(case, dtype):
    _, fn, shapes = case
    fn_parity(fn, [rng.standard_normal(s) for s in shapes], dtype)


@pytest.mark.parametrize("case", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_gradcheck(case):
    _, fn, shapes = case
    gradcheck64(fn, [rng.standard_normal(s) for s in shapes])


@pytest.mark.parametrize("name,fn,shape", [
    ("pixel_shuffle", lambda T, x: F(T).pixel_shuffle(x, 2), (1, 4, 2, 2)),
    ("pixel_unshuffle", lambda T, x: F(T).pixel_unshuffle(x, 2), (1, 1, 4, 2)),
    ("unfold", lambda T, x: F(T).unfold(x, 2), (1, 2, 3, 3)),
    ("fold", lambda T, x: F(T).fold(x, (3, 3), 2), (1, 8, 4)),
    ("channel_shuffle", lambda T, x: F(T).channel_shuffle(x, 2), (1, 4, 2, 2))])
def test_double_backward_graph_names(name, fn, shape):
    """The gradient of a linear op is the adjoint op: its own node names, as torch's."""
    x = rng.standard_normal(shape)
    names = []
    for T in (engine, torch):
        t = T.tensor(x, requires_grad=True)
        y = fn(T, t)
        v = T.tensor(np.ones(tuple(y.shape)), requires_grad=True)
        (g,) = T.autograd.grad((y * v).sum(), t, create_graph=True)
        names.append(type(g.grad_fn).__name__)
    assert names[0] == names[1]


GRID = [(mode, pm, ac) for mode in ("bilinear", "nearest")
        for pm in ("zeros", "border", "reflection") for ac in (False, True)]
BICUBIC = [("bicubic", pm, ac) for pm in ("zeros", "border", "reflection") for ac in (False, True)]


def _grid_fn(mode, pm, ac):
    return lambda T, x, g: F(T).grid_sample(x, g, mode=mode, padding_mode=pm, align_corners=ac)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("mode,pm,ac", GRID + BICUBIC)
def test_grid_sample_2d_parity(mode, pm, ac, dtype):
    x, g = rng.standard_normal((2, 3, 4, 5)), rng.uniform(-1.6, 1.6, (2, 3, 2, 2))
    fn_parity(_grid_fn(mode, pm, ac), [x, g], dtype)


@pytest.mark.parametrize("mode,pm,ac", GRID[::3])
def test_grid_sample_3d_parity(mode, pm, ac):
    x, g = rng.standard_normal((1, 2, 3, 4, 3)), rng.uniform(-1.4, 1.4, (1, 2, 3, 2, 3))
    fn_parity(_grid_fn(mode, pm, ac), [x, g], np.float64)


@pytest.mark.parametrize("mode,pm,ac", GRID[::2] + BICUBIC[::2])
def test_grid_sample_gradcheck(mode, pm, ac):
    x, g = rng.standard_normal((1, 2, 3, 4)), rng.uniform(-1.4, 1.4, (1, 2, 3, 2))
    gradcheck64(_grid_fn(mode, pm, ac), [x, g])


@pytest.mark.parametrize("mode,pm", [("bilinear", "zeros"), ("bilinear", "reflection"),
                                     ("bicubic", "border")])
def test_grid_sample_second_derivatives(mode, pm):
    x, g = rng.standard_normal((1, 2, 3, 4)), rng.uniform(-1.2, 1.2, (1, 2, 2, 2))
    gradgrad_parity(_grid_fn(mode, pm, False), [x, g])


def test_affine_grid_then_grid_sample_rotates_like_torch():
    angle = 0.3
    theta = np.array([[[np.cos(angle), -np.sin(angle), 0.1], [np.sin(angle), np.cos(angle),
                                                              -0.2]]])
    x = rng.standard_normal((1, 2, 6, 7))

    def fn(T, th, x):
        grid = F(T).affine_grid(th, tuple(x.shape), align_corners=False)
        return F(T).grid_sample(x, grid, align_corners=False)
    fn_parity(fn, [theta, x], np.float64)


def test_default_align_corners_warns():
    for T in (torch, engine):
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
            F(T).affine_grid(T.zeros(1, 2, 3), (1, 1, 2, 2))


MODULES = [
    ("PixelShuffle", lambda nn: nn.PixelShuffle(2), (2, 8, 2, 3)),
    ("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(3), (1, 2, 3, 6)),
    ("ChannelShuffle", lambda nn: nn.ChannelShuffle(2), (2, 4, 3, 3)),
    ("Unfold", lambda nn: nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)),
     (1, 2, 5, 6)),
    ("Fold", lambda nn: nn.Fold((4, 5), 2), (2, 8, 12)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_parity(case):
    _, build, shape = case
    module_parity_dtype(build, [rng.standard_normal(shape)], np.float32)


ERRORS = [
    (lambda T: F(T).pixel_shuffle(T.randn(1, 3, 2, 2), 2), RuntimeError,
     r"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
     r"upscale_factor, but input.size\(-3\)=3 is not divisible by 4"),
    (lambda T: F(T).pixel_shuffle(T.randn(3, 2), 2), RuntimeError,
     r"pixel_shuffle expects input to have at least 3 dimensions, but got input with 2 "
     r"dimension\(s\)"),
    (lambda T: F(T).pixel_unshuffle(T.randn(1, 1, 3, 2), 2), RuntimeError,
     r"pixel_unshuffle expects height to be divisible by downscale_factor, but "
     r"input.size\(-2\)=3 is not divisible by 2"),
    (lambda T: F(T).pixel_unshuffle(T.randn(1, 1, 4, 3), 2), RuntimeError,
     r"pixel_unshuffle expects width to be divisible by downscale_factor"),
    (lambda T: F(T).pixel_shuffle(T.randn(1, 4, 2, 2), 0), RuntimeError,
     "pixel_shuffle expects a positive upscale_factor, but got 0"),
    (lambda T: F(T).channel_shuffle(T.randn(1, 3, 2, 2), 2), RuntimeError,
     "Number of channels must be divisible by groups. Got 3 channels and 2 groups."),
    (lambda T: F(T).channel_shuffle(T.randn(3), 1), RuntimeError,
     r"channel_shuffle expects input with > 2 dims, but got input with sizes \[3\]"),
    (lambda T: F(T).channel_shuffle(T.randn(1, 4, 2, 2), 0), RuntimeError,
     "Number of groups to divide channels in must be positive. Value of groups:0"),
    (lambda T: F(T).unfold(T.randn(1, 2, 3, 3), 4), RuntimeError,
     r"Given input with spatial size \(3, 3\), kernel_size=\(4, 4\), dilation=\(1, 1\), "
     r"padding=\(0, 0\), calculated shape of the array of sliding blocks as \(0, 0\), but its "
     r"components must be at least one."),
    (lambda T: F(T).unfold(T.randn(1, 2, 3, 3), 2, stride=0), RuntimeError,
     "stride should be greater than zero, but got stride_height: 0 stride_width: 0"),
    (lambda T: F(T).unfold(T.randn(1, 2, 3, 3), 2, padding=-1), RuntimeError,
     "padding should be non-negative, but got pad_height: -1 pad_width: -1"),
    (lambda T: F(T).unfold(T.randn(1, 2, 3, 3, 3), 2), RuntimeError,
     r"Expected 3D or 4D \(batch mode\) tensor with possibly 0 batch size and other non-zero "
     r"dimensions for input, but got: \[1, 2, 3, 3, 3\]"),
    (lambda T: F(T).unfold(T.ones(1, 2, 3, 3, dtype=T.int32), 2), NotImplementedError,
     "\"im2col_out_cpu\" not implemented for 'Int'"),
    (lambda T: F(T).fold(T.randn(1, 7, 4), (3, 3), 2), RuntimeError,
     r"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
     r"got input.size\(1\)=7 and kernel_size=\(2, 2\)."),
    (lambda T: F(T).fold(T.randn(1, 8, 5), (3, 3), 2), RuntimeError,
     r"expected size of input's dimension 2 to match the calculated number of sliding blocks "
     r"2 \* 2 = 4, but got input.size\(2\)=5."),
    (lambda T: F(T).fold(T.randn(8), (3, 3), 2), RuntimeError,
     r"Expected 2D or 3D \(batch mode\) tensor for input with possibly 0 batch size and "
     r"non-zero dimensions for input, but got: \[8\]"),
    (lambda T: F(T).grid_sample(T.randn(1, 2, 3, 3), T.rand(1, 2, 2, 3), align_corners=False),
     RuntimeError, r"grid_sampler\(\): expected grid to have size 2 in last dimension, but got "
                   r"grid with sizes \[1, 2, 2, 3\]"),
    (lambda T: F(T).grid_sample(T.randn(1, 2, 3, 3), T.rand(2, 2, 2, 2), align_corners=False),
     RuntimeError, r"grid_sampler\(\): expected grid and input to have same batch size"),
    (lambda T: F(T).grid_sample(T.randn(1, 2, 3, 3), T.rand(1, 2, 2), align_corners=False),
     RuntimeError, r"grid_sampler\(\): expected 4D input and grid with same number of "
                   r"dimensions, but got input with sizes \[1, 2, 3, 3\] and grid with sizes "
                   r"\[1, 2, 2\]"),
    (lambda T: F(T).grid_sample(T.randn(1, 2, 3, 3), T.rand(1, 2, 2, 2, dtype=T.float64),
                                align_corners=False),
     RuntimeError, "expected scalar type Float but found Double"),
    (lambda T: F(T).grid_sample(T.randn(1, 2, 3, 3), T.rand(1, 2, 2, 2), mode="x",
                                align_corners=False),
     ValueError, "expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'x'"),
    (lambda T: F(T).grid_sample(T.randn(1, 2, 3, 3), T.rand(1, 2, 2, 2), padding_mode="x",
                                align_corners=False),
     ValueError, "expected padding_mode to be 'zeros', 'border', or 'reflection', but got: 'x'"),
    (lambda T: F(T).grid_sample(T.randn(1, 2, 3, 3, 3), T.rand(1, 2, 2, 2, 3), mode="bicubic",
                                align_corners=False),
     RuntimeError, "bicubic interpolation only supports 4D input"),
    (lambda T: F(T).affine_grid(T.randn(2, 3, 3), (2, 4, 5, 5), align_corners=False),
     ValueError, r"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                 r"\(2, 4, 5, 5\). Got torch.Size\(\[2, 3, 3\]\)."),
    (lambda T: F(T).affine_grid(T.ones(2, 2, 3, dtype=T.int32), (2, 4, 5, 5),
                                align_corners=False),
     ValueError, "Expected theta to have floating point type, but got torch.int32"),
    (lambda T: F(T).affine_grid(T.randn(2, 2, 3), (2, 4, 5), align_corners=False),
     NotImplementedError, r"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                          r"transforms, respectively. Got size \(2, 4, 5\)."),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like_torch(*ERRORS[i])
