"""``interpolate``: resampling of (N, C, *spatial) input to a size or by a scale factor, in
PyTorch's modes -- nearest, nearest-exact, linear (1-D), bilinear (2-D), bicubic (2-D),
trilinear (3-D) -- and 'area' (an adaptive average pool, as PyTorch does it).

Every mode is separable: along each spatial axis the output is a fixed (out, in) matrix times
the input, built from PyTorch's source-index arithmetic (``area_pixel_compute_source_index``,
``nearest_idx``, the cubic convolution with A = -0.75 and clamped taps), computed in the
input's dtype as PyTorch's CPU kernels do. The op is then a linear map: its backward is the
transposed matrices, with exact double backward (``_linear_map``). Nodes are named as PyTorch
names them (``UpsampleBilinear2DBackward0`` ...) and carry ``_saved_output_size``,
``_saved_scales_h`` ..., ``_saved_align_corners``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..backend import get_array_module
from ._group_norm import type_word
from ._linear_map import linear_map

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_NEEDS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_NODE = {"nearest": "UpsampleNearest{}DBackward0", "nearest-exact": "UpsampleNearestExact{}DBackward0",
         "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
         "bicubic": "UpsampleBicubic2DBackward0", "trilinear": "UpsampleTrilinear3DBackward0"}
_AXES = ("D", "H", "W")
_CUBIC_A = -0.75


# ---------------------------------------------------------------- per-axis matrices
def _scale(in_size, out_size, align_corners, scale, dt):
    """PyTorch's ``area_pixel_compute_scale`` in dtype ``dt``."""
    if align_corners:
        return dt(in_size - 1) / dt(out_size - 1) if out_size > 1 else dt(0)
    if scale is not None and scale > 0:
        return dt(1.0 / scale)
    return dt(in_size) / dt(out_size)


def _source(scale, out_size, align_corners, cubic, dt):
    dst = np.arange(out_size).astype(dt)
    if align_corners:
        return scale * dst
    src = scale * (dst + dt(0.5)) - dt(0.5)
    return src if cubic else np.maximum(src, dt(0))


def _nearest_index(in_size, out_size, scale, exact):
    """PyTorch's ``nearest_idx`` / ``nearest_neighbor_exact_compute_source_index`` (float
    arithmetic, the sizes-equal and exact-doubling cases without it)."""
    dst = np.arange(out_size)
    if not exact and out_size == in_size:
        return dst
    if not exact and out_size == 2 * in_size:
        return dst >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
        np.float32(in_size) / np.float32(out_size)
    pos = dst.astype(np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(pos * s).astype(np.int64), in_size - 1)


def _cubic_weights(t, dt):
    """Weights of the taps at -1, 0, 1, 2 for fractional offset ``t`` (PyTorch's
    ``get_cubic_upsample_coefficients``)."""
    a = dt(_CUBIC_A)

    def conv1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def conv2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return (conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t))


def _axis_matrix(mode, in_size, out_size, align_corners, scale, dt):
    """The (out, in) interpolation matrix of one axis."""
    m = np.zeros((out_size, in_size), dtype=dt)
    rows = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        m[rows, _nearest_index(in_size, out_size, scale, mode == "nearest-exact")] = 1
        return m
    s = _scale(in_size, out_size, align_corners, scale, dt)
    src = _source(s, out_size, align_corners, mode == "bicubic", dt)
    if mode == "bicubic":
        base = np.floor(src)
        t = (src - base).astype(dt)
        base = base.astype(np.int64)
        for k, w in enumerate(_cubic_weights(t, dt)):
            np.add.at(m, (rows, np.clip(base - 1 + k, 0, in_size - 1)), w)
        return m
    idx = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam1 = np.clip(src - idx.astype(dt), 0, 1).astype(dt)
    nxt = np.where(idx < in_size - 1, idx + 1, idx)
    m[rows, idx] += 1 - lam1
    m[rows, nxt] += lam1
    return m


# ---------------------------------------------------------------- applying them
def _apply_along(a, mat, axis):
    """``mat`` (out, in) applied along ``axis`` of ``a``."""
    lead, n = a.shape[:axis], a.shape[axis]
    rest = a.shape[axis + 1:]
    xp = get_array_module(a)
    mat = mat if xp is np else xp.asarray(mat)
    r = xp.matmul(mat, a.reshape((-1, n, int(np.prod(rest, dtype=np.int64)))))
    return r.reshape(lead + (mat.shape[0],) + rest)


def _resampler(mats, nearest_idx=None):
    """(fwd, adj) array maps applying per-axis matrices to the trailing ``len(mats)`` axes;
    nearest modes gather with their indices going forward (a copy, exact for every value)."""
    nd = len(mats)

    def fwd(a):
        base = a.ndim - nd
        for k, m in enumerate(mats):
            if nearest_idx is not None:
                xp = get_array_module(a)
                idx = nearest_idx[k] if xp is np else xp.asarray(nearest_idx[k])
                a = xp.take(a, idx, axis=base + k)
            else:
                a = _apply_along(a, m, base + k)
        return a

    def adj(g):
        base = g.ndim - nd
        for k, m in enumerate(mats):
            g = _apply_along(g, m.T, base + k)
        return g
    return fwd, adj


# ---------------------------------------------------------------- arguments
def _is_integer(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _sizes(input, size, scale_factor, dim):
    """(output_size, scale_factors): exactly one is a list, as PyTorch's frontend leaves them."""
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    "and output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                "or Tuple[int, int, int], but got size with types "
                                f"{[type(x) for x in size]}")
            return [int(s) for s in size], None
        return [int(size)] * dim, None
    if scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            return None, [float(s) for s in scale_factor]
        return None, [float(scale_factor)] * dim
    raise ValueError("either size or scale_factor should be defined")


def _check_sizes(in_sizes, out_sizes):
    if all(s > 0 for s in in_sizes) and all(s > 0 for s in out_sizes):
        return
    axes = _AXES[-len(in_sizes):]
    ins = ", ".join(f"{a}: {s}" for a, s in zip(axes, in_sizes))
    outs = ", ".join(f"{a}: {s}" for a, s in zip(axes, out_sizes))
    joiner = " and output" if len(in_sizes) == 1 else " output"
    raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                       f"({ins}){joiner} ({outs})")


def _kernel_name(mode, nd):
    if nd == 2 and mode in ("nearest", "nearest-exact", "bilinear"):
        return f"upsample_{'bilinear' if mode == 'bilinear' else 'nearest'}2d_channels_last"
    if mode in ("nearest", "nearest-exact"):
        return "compute_indices_weights_nearest"
    return "compute_indices_weights_cubic" if mode == "bicubic" else \
        "compute_indices_weights_linear"


def _upsample(input, mode, output_size, scales, align_corners):
    a = input._data
    nd = a.ndim - 2
    in_sizes = a.shape[2:]
    if output_size is None:
        output_size = [int(math.floor(s * f)) for s, f in zip(in_sizes, scales)]
    scales = scales if scales is not None else [None] * nd
    _check_sizes(in_sizes, output_size)
    if a.dtype == np.uint8 and mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"interpolate of uint8 input in mode '{mode}' is not "
                                  "supported by engine (PyTorch's fixed-point uint8 kernel "
                                  "rounds its own way); convert to float first")
    if a.dtype.kind != "f" and a.dtype != np.uint8:
        raise NotImplementedError(f'"{_kernel_name(mode, nd)}" not implemented for '
                                  f"'{type_word(a.dtype)}'")
    dt = a.dtype.type
    mats = [_axis_matrix(mode, i, o, align_corners, s, dt)
            for i, o, s in zip(in_sizes, output_size, scales)]
    nearest = None
    if mode in ("nearest", "nearest-exact"):
        nearest = [m.argmax(axis=1) for m in mats]
    fwd, adj = _resampler(mats, nearest)
    info = {"output_size": tuple(output_size), "self_sym_sizes": tuple(a.shape)}
    if mode not in ("nearest", "nearest-exact"):
        info["align_corners"] = bool(align_corners)
    if nd == 1:
        info["scales"] = scales[0]
    else:
        for axis, s in zip(_AXES[-nd:], scales):
            info[f"scales_{axis.lower()}"] = s
    return linear_map(input, fwd, adj, _NODE[mode].format(nd), info)


def _area(input, output_size):
    from . import functional as F
    nd = input.dim() - 2
    if input._data.dtype.kind != "f":
        name = "adaptive_avg_pool2d" if nd < 3 else "adaptive_avg_pool3d"
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{type_word(input._data.dtype)}'")
    pool = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[nd - 1]
    return pool(input, output_size if nd > 1 else output_size[0])


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """``torch.nn.functional.interpolate`` over 3-D, 4-D and 5-D input (no antialias)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    output_size, scales = _sizes(input, size, scale_factor, dim)
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [int(input.shape[i + 2] * scales[i]) for i in range(dim)]
        scales = None
    if antialias:
        if not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        raise NotImplementedError("interpolate(antialias=True) is not supported by engine")
    nd = input.dim()
    if nd in (3, 4, 5):
        if mode == "area":
            return _area(input, output_size)
        if mode in ("nearest", "nearest-exact") or _NEEDS.get(mode) == nd:
            return _upsample(input, mode, output_size, scales, align_corners)
        if mode in _NEEDS:
            raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs "
                                      f"{_NEEDS[mode]}D input")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              f"{nd}D) for the modes: {_MODES} (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (warns as PyTorch does)."""
    import warnings
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    import warnings
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    import warnings
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
