"""``grid_sample`` (sample an image at the points of a grid, 4-D and 5-D, bilinear/trilinear
and nearest, padding zeros / border / reflection, ``align_corners``) with its
``GridSampler2DBackward0`` / ``GridSampler3DBackward0`` (and bicubic in 2-D), and
``affine_grid``
(``AffineGridGeneratorBackward0``).

Coordinates follow PyTorch's ``grid_sampler_compute_source_index``: unnormalise
(``(g + 1) * size / 2 - 0.5``, or ``(g + 1) * (size - 1) / 2`` with ``align_corners``), then
clip (border) or reflect and clip (reflection). Each final coordinate is, locally, an affine
function ``mult * g + const`` of the grid value (``mult`` is the unnormalising scale times
0 where clipped, or -1 where reflected an odd number of times), which is all the backward
needs. Backward is written with engine ops -- the corner values gathered from the input,
the gradient scattered back to them, the weights as differentiable functions of the grid --
so ``create_graph=True`` gives second derivatives through both input and grid. Bicubic
sampling (cubic convolution, A = -0.75, over a 4x4 neighbourhood) pads each tap's position
rather than the sample point, as PyTorch does.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from ..backend import get_array_module
from ..ops import indexing as _indexing
from ..ops import shape as _shape
from ..ops._core import Node, SavedTensor, link, make, needs_grad
from ._group_norm import type_word
from ._linear_map import linear_map

__all__ = ["grid_sample", "affine_grid"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")


# ---------------------------------------------------------------- source coordinates
def _reflect(x, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates_set_grad``: the reflected coordinate and its slope."""
    if twice_low == twice_high:
        return np.zeros_like(x), np.zeros_like(x)
    lo = x.dtype.type(twice_low / 2)
    span = x.dtype.type((twice_high - twice_low) / 2)
    x = x - lo
    sign = np.where(x < 0, -1, 1).astype(x.dtype)
    x = np.abs(x)
    extra = np.fmod(x, span)
    even = np.floor(x / span).astype(np.int64) % 2 == 0
    return np.where(even, extra + lo, span - extra + lo), np.where(even, sign, -sign)


def _clip(x, size):
    """``clip_coordinates_set_grad``: clamp to [0, size-1], slope 0 where clamped."""
    inside = (x > 0) & (x < size - 1)
    return np.clip(x, 0, size - 1).astype(x.dtype), inside.astype(x.dtype)


def _unnormalize(g, size, align_corners):
    """(coordinate, slope): ``[-1, 1]`` grid values to pixel coordinates."""
    dt = g.dtype.type
    scale = dt((size - 1) / 2) if align_corners else dt(size / 2)
    x = (g + 1) * scale if align_corners else (g + 1) * scale - dt(0.5)
    return x, np.full_like(g, scale)


def _pad_coordinates(x, size, padding_mode, align_corners):
    """``compute_coordinates``: clip (border) or reflect and clip (reflection); (coordinate,
    its slope)."""
    mult = np.ones_like(x)
    if padding_mode == "border":
        x, mult = _clip(x, size)
    elif padding_mode == "reflection":
        x, mult = (_reflect(x, 0, 2 * (size - 1)) if align_corners
                   else _reflect(x, -1, 2 * size - 1))
        x, m = _clip(x.astype(mult.dtype), size)
        mult = mult * m
    return x, mult


def _source(g, size, padding_mode, align_corners):
    """(coordinate, d coordinate / d g) for grid values ``g`` along an axis of ``size``."""
    x, scale = _unnormalize(g, size, align_corners)
    x, mult = _pad_coordinates(x, size, padding_mode, align_corners)
    return x.astype(g.dtype), (scale * mult).astype(g.dtype)


# ---------------------------------------------------------------- per-axis weights
_A = -0.75          # the cubic convolution's A, as in PyTorch


def _conv1(x):
    return ((_A + 2) * x - (_A + 3)) * x * x + 1


def _conv2(x):
    return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A


def _dconv1(x):
    return (3 * (_A + 2) * x - 2 * (_A + 3)) * x


def _dconv2(x):
    return (3 * _A * x - 10 * _A) * x + 8 * _A


def _weight(mode, o, t):
    """Weight of tap ``o`` at fractional offset ``t`` (arrays or tensors alike): linear
    taps 0, 1; cubic taps -1, 0, 1, 2 (indices 0..3, ``get_cubic_upsample_coefficients``)."""
    if mode == "bilinear":
        return t if o else 1 - t
    return (_conv2(t + 1), _conv1(t), _conv1(1 - t), _conv2(2 - t))[o]


def _dweight(mode, o, t):
    """d weight / d t."""
    if mode == "bilinear":
        return 1.0 if o else -1.0
    return (_dconv2(t + 1), _dconv1(t), -_dconv1(1 - t), -_dconv2(2 - t))[o]


def _weights(mode, frac, offs, skip=None):
    """Product over axes of the taps' weights (``skip``: an axis left out)."""
    w = None
    for axis, (t, o) in enumerate(zip(frac, offs)):
        if axis != skip:
            f = _weight(mode, o, t)
            w = f if w is None else w * f
    return w


class _Plan:
    """Where each output point reads the input: per tap, the flat index into a spatial
    plane, the in-bounds mask and the tap's offset per axis; per axis the fractional
    offsets and the slopes of the coordinates."""

    def __init__(self, grid, spatial, mode, padding_mode, align_corners):
        nd = len(spatial)
        n = grid.shape[0]
        coords, self.mult, self.frac = [], [], []
        for k in range(nd):                      # grid[..., 0] is x (the last spatial axis)
            axis = nd - 1 - k
            g = grid[..., k].reshape(n, -1)
            if mode == "bicubic":                # padding applies to each tap instead
                x, m = _unnormalize(g, spatial[axis], align_corners)
            else:
                x, m = _source(g, spatial[axis], padding_mode, align_corners)
            coords.append((axis, x))
            self.mult.append(m.astype(g.dtype))
        coords.sort()
        self.corners = []                        # (flat index, mask, tap index per axis)
        if mode == "nearest":
            idx = [np.rint(x).astype(np.int64) for _, x in coords]
            self.corners.append(self._corner(idx, spatial, None))
            return
        base = [np.floor(x) for _, x in coords]
        self.frac = [(x - b).astype(x.dtype) for (_, x), b in zip(coords, base)]
        steps = (0, 1) if mode == "bilinear" else (-1, 0, 1, 2)
        taps = []                                # per axis, per step: the tap positions
        for (axis, _), b in zip(coords, base):
            row = []
            for st in steps:
                pos = b + st
                if mode == "bicubic":
                    pos = _pad_coordinates(pos, spatial[axis], padding_mode, align_corners)[0]
                row.append(pos.astype(np.int64))
            taps.append(row)
        for offs in itertools.product(range(len(steps)), repeat=nd):
            self.corners.append(self._corner([taps[a][o] for a, o in enumerate(offs)],
                                             spatial, offs))

    @staticmethod
    def _corner(idx, spatial, offs):
        xp = get_array_module(idx[0])
        ok = xp.ones(idx[0].shape, dtype=bool)
        flat = xp.zeros(idx[0].shape, dtype=np.int64)
        for i, size in zip(idx, spatial):
            ok &= (i >= 0) & (i < size)
            flat = flat * size + np.clip(i, 0, size - 1)
        return flat, ok, offs


# ---------------------------------------------------------------- the node
class _GridSamplerBackward(Node):
    __slots__ = ("input", "grid", "interpolation_mode", "padding_mode", "align_corners",
                 "output_mask")
    _saved_names = ("input", "grid")

    def backward(self, g):
        x = self.unpack(self.input)
        grid = self.unpack(self.grid)
        n, c = x.shape[:2]
        spatial = tuple(x.shape[2:])
        nd = len(spatial)
        mode = _MODE_NAMES[self.interpolation_mode]
        plan = _Plan(grid._data, spatial, mode, _PADDING[self.padding_mode],
                     self.align_corners)
        plane = int(np.prod(spatial))
        gf = g.reshape(n, c, -1)
        xf = x.reshape(n, c, plane)

        xp = get_array_module(g._data)

        def expand(a):
            return make(xp.ascontiguousarray(xp.broadcast_to(a[:, None, :], (n, c, a.shape[1]))))
        # the fractional offsets as differentiable functions of the grid (value: plan.frac)
        frac = []
        for axis in range(nd):
            if mode == "nearest":
                break
            k = nd - 1 - axis
            gk = _indexing.getitem(grid, (Ellipsis, k)).reshape(n, 1, -1)
            frac.append((gk - make(grid._data[..., k].reshape(n, 1, -1))) *
                        make(plan.mult[k][:, None, :]) + make(plan.frac[axis][:, None, :]))
        gx = ggrid = None
        if self.needs(0):
            for flat, ok, offs in plan.corners:
                contrib = gf * make(ok[:, None, :].astype(g._data.dtype))
                if offs is not None:
                    contrib = contrib * _weights(mode, frac, offs)
                part = _indexing.scatter_into_zeros(contrib, (n, c, plane), 2, expand(flat))
                gx = part if gx is None else gx + part
            gx = gx.reshape(x.shape)
        if self.needs(1):
            if mode == "nearest":
                ggrid = make(get_array_module(grid._data).zeros(grid._data.shape,
                                                                dtype=grid._data.dtype))
            else:
                comps = []
                for k in range(nd):
                    axis = nd - 1 - k
                    d = None
                    for flat, ok, offs in plan.corners:
                        v = _indexing.gather(xf, 2, expand(flat)) * \
                            make(ok[:, None, :].astype(x._data.dtype))
                        w = _weights(mode, frac, offs, skip=axis)
                        term = v * _dweight(mode, offs[axis], frac[axis])
                        term = term if w is None else term * w
                        d = term if d is None else d + term
                    comps.append((gf * d).sum(1) * make(plan.mult[k]))
                ggrid = _shape.stack(comps, -1).reshape(grid.shape)
        return gx, ggrid


class GridSampler2DBackward0(_GridSamplerBackward):
    __slots__ = ()


class GridSampler3DBackward0(_GridSamplerBackward):
    __slots__ = ()


_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_MODE_NAMES = {v: k for k, v in _MODES.items()}
_PADDING_CODES = {"zeros": 0, "border": 1, "reflection": 2}
_PADDING = {v: k for k, v in _PADDING_CODES.items()}


def _check(input, grid, mode, padding_mode):
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDING_CODES:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    a, gr = input._data, grid._data
    sizes = f"input with sizes {list(a.shape)} and grid with sizes {list(gr.shape)}"
    if a.ndim not in (4, 5) or gr.ndim != a.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got {sizes}" if a.ndim not in (4, 5) else
                           f"grid_sampler(): expected {a.ndim}D input and grid with same number "
                           f"of dimensions, but got {sizes}")
    if a.shape[0] != gr.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if gr.shape[-1] != a.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {a.ndim - 2} in last "
                           f"dimension, but got grid with sizes {list(gr.shape)}")
    if a.dtype != gr.dtype:
        raise RuntimeError(f"expected scalar type {type_word(a.dtype)} but found "
                           f"{type_word(gr.dtype)}")
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"grid_sampler_{a.ndim - 2}d_cpu_kernel_impl\" not "
                                  f"implemented for '{type_word(a.dtype)}'")
    if mode == "bicubic" and a.ndim == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample (N, C, H, W) input at the (x, y) points of grid (N, Ho, Wo, 2) in [-1, 1]
    (or (N, C, D, H, W) at (N, Do, Ho, Wo, 3)), as ``torch.nn.functional.grid_sample``."""
    _check(input, grid, mode, padding_mode)
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    a = input._data
    n, c = a.shape[:2]
    spatial = a.shape[2:]
    plan = _Plan(grid._data, spatial, mode, padding_mode, align_corners)
    xf = a.reshape(n, c, -1)
    out = None
    for flat, ok, offs in plan.corners:
        v = np.take_along_axis(xf, flat[:, None, :], 2) * ok[:, None, :]
        if offs is not None:
            v = v * _weights(mode, plan.frac, offs)[:, None, :]
        out = v if out is None else out + v
    r = make(out.astype(a.dtype, copy=False).reshape((n, c) + grid._data.shape[1:-1]))
    if needs_grad(input, grid):
        node = (GridSampler2DBackward0 if a.ndim == 4 else GridSampler3DBackward0)()
        node.input, node.grid = SavedTensor(input), SavedTensor(grid)
        node.interpolation_mode, node.padding_mode = _MODES[mode], _PADDING_CODES[padding_mode]
        node.align_corners = bool(align_corners)
        node.output_mask = (input.requires_grad, grid.requires_grad)
        link(node, (input, grid), r)
    return r


# ---------------------------------------------------------------- affine_grid
def _base_coords(n, align_corners, dt):
    x = np.linspace(-1, 1, n, dtype=np.float64) if n > 1 else np.zeros(1)
    if not align_corners:
        x = x * (n - 1) / n
    return x.astype(dt)


def _base_grid(spatial, align_corners, dt):
    """(*spatial, nd + 1): the normalised (x, y[, z], 1) of every output point."""
    nd = len(spatial)
    axes = [_base_coords(s, align_corners, dt) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    comps = [mesh[nd - 1 - k] for k in range(nd)] + [np.ones(spatial, dtype=dt)]
    return np.stack(comps, -1)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of affine maps ``theta``
    (N, 2, 3) (or (N, 3, 4)) for an output of ``size``, as
    ``torch.nn.functional.affine_grid``; linear in ``theta``."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    size = tuple(int(s) for s in size)
    if theta._data.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) not in (4, 5):
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    nd = len(size) - 2
    th = theta._data
    if th.ndim != 3 or th.shape[1:] != (nd, nd + 1):
        raise ValueError(f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} "
                         f"for size {size}. Got {theta.shape!r}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    n = size[0]
    if th.shape[0] != n:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {nd + 1}] but got: [{th.shape[0]}, {nd + 1}].")
    base = _base_grid(size[2:], align_corners, th.dtype).reshape(-1, nd + 1)   # (P, nd+1)
    xp = get_array_module(th)
    if xp is not np:
        base = xp.asarray(base)
    out_shape = (n,) + size[2:] + (nd,)
    return linear_map(theta,
                      lambda t: xp.matmul(base, t.swapaxes(1, 2)).reshape(out_shape),
                      lambda g: xp.matmul(g.reshape(n, -1, nd).swapaxes(1, 2), base),
                      "AffineGridGeneratorBackward0",
                      {"size": list(size), "align_corners": bool(align_corners)})
