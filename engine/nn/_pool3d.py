"""3-D pooling (``max_pool3d``, ``avg_pool3d``, ``adaptive_avg_pool3d``) and adaptive max
pooling in 1-D, 2-D and 3-D, written once for any number of spatial dims.

- A max pool, given where each window's maximum is, is a gather from the input: a linear map
  (``_linear_map``), whose backward scatters the gradient to those positions (one
  ``bincount``) and whose double backward gathers again. The positions follow PyTorch's scan
  (the first maximum in window order, the last NaN, the first in-bounds element of an all
  -inf window) and are what ``return_indices`` gives (flat in each D*H*W plane).
- An average pool sums one strided view of the padded input per kernel offset and divides
  by PyTorch's divisor (the 2-D pool's per-axis rule, multiplied over axes).
- An adaptive average pool is one averaging matrix per axis (separable).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..backend import get_array_module
from ..ops import reduction as _reduction
from ..tensor import Tensor
from ._group_norm import type_word
from ._linear_map import linear_map
from ._pool import _adaptive_matrix, _avg_divisor, _pool_out
from ._upsample import _resampler

__all__ = ["max_pool3d", "max_pool3d_with_indices", "avg_pool3d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d"]


def _ntuple(value, n, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    t = tuple(int(v) for v in value)
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise RuntimeError(f"{name} must either be a single int, or a tuple of {n} ints")
    return t


def _lead_spatial(a, nd):
    lead = a.shape[:a.ndim - nd]
    return int(np.prod(lead, dtype=np.int64)), a.shape[a.ndim - nd:]


# ---------------------------------------------------------------- gathers at window maxima
def _flat_grid(per_axis, spatial):
    """Combine per-axis (out_i, k_i) index arrays into flat (prod out, prod k) indices."""
    nd = len(per_axis)
    flat = np.zeros((1,) * (2 * nd), dtype=np.int64)
    for i, (pos, n) in enumerate(zip(per_axis, spatial)):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = pos.shape
        flat = flat * n + pos.reshape(shape)
    outs = tuple(p.shape[0] for p in per_axis)
    return flat.reshape(int(np.prod(outs)), -1), outs


def _window_argmax(a, nd, positions, valids):
    """Flat indices (lead..., *outs) of each window's maximum, PyTorch's choice among ties,
    NaNs and all -inf windows; ``positions``/``valids`` are per-axis (out_i, k_i) arrays."""
    xp = get_array_module(a)
    L, spatial = _lead_spatial(a, nd)
    clipped = [np.clip(p, 0, n - 1) for p, n in zip(positions, spatial)]
    flat, outs = _flat_grid(clipped, spatial)
    valid = np.ones((1,) * (2 * nd), dtype=bool)
    for i, v in enumerate(valids):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = v.shape
        valid = valid & v.reshape(shape)
    valid = valid.reshape(flat.shape)
    fl, vd = (flat, valid) if xp is np else (xp.asarray(flat), xp.asarray(valid))
    vals = a.reshape(L, -1)[:, fl]                                 # (L, O, K)
    fill = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    vals = xp.where(vd, vals, xp.asarray(fill, dtype=a.dtype))
    arg = vals.argmax(axis=-1)
    if a.dtype.kind == "f":
        best = xp.take_along_axis(vals, arg[..., None], -1)[..., 0]
        nan = xp.isnan(vals)
        if nan.any():                                              # the last NaN wins
            last = nan.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
            arg = xp.where(nan.any(axis=-1), last, arg)
        first_valid = vd.argmax(axis=-1)
        arg = xp.where(xp.isneginf(best) & ~nan.any(axis=-1), first_valid, arg)
    idx = xp.take_along_axis(xp.broadcast_to(fl, (L,) + fl.shape), arg[..., None], -1)[..., 0]
    return idx.reshape(a.shape[:a.ndim - nd] + outs)


def _gather_map(a, nd, idx, name, info):
    """The max pool as a linear map of the input: gather at ``idx``, scatter back."""
    L, spatial = _lead_spatial(a._data, nd)
    size = int(np.prod(spatial, dtype=np.int64))
    out_shape = idx.shape
    flat_idx = idx.reshape(L, -1)

    def fwd(x):
        xp = get_array_module(x)
        return xp.take_along_axis(x.reshape(L, size), flat_idx, 1).reshape(out_shape)

    def adj(g):
        xp = get_array_module(g)
        where = (flat_idx + xp.arange(L)[:, None] * size).ravel()
        acc = xp.bincount(where, weights=g.reshape(-1).astype(np.float64), minlength=L * size)
        return acc.astype(g.dtype).reshape(a._data.shape)
    return linear_map(a, fwd, adj, name, info)


# ---------------------------------------------------------------- max_pool3d
def _pool_geometry(op, input, nd, kernel_size, stride, padding, dilation, ceil_mode):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    a = input._data
    if a.ndim not in (nd + 1, nd + 2) or 0 in a.shape[-(nd + 1):]:
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for "
                           "input")
    k = _ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _ntuple(stride, nd, "stride")
    p = _ntuple(padding, nd, "padding")
    d = _ntuple(dilation, nd, "dilation")
    if any(v <= 0 for v in k):
        raise RuntimeError("kernel size should be greater than zero, but got " +
                           " ".join(f"k{ax}: {v}" for ax, v in zip("THW", k)))
    if any(v <= 0 for v in s):
        raise RuntimeError("stride should be greater than zero, but got " +
                           " ".join(f"d{ax}: {v}" for ax, v in zip("THW", s)))
    if any(v <= 0 for v in d):
        raise RuntimeError("dilation should be greater than zero, but got " +
                           " ".join(f"dilation{ax}: {v}" for ax, v in zip("THW", d)))
    for pi, ki, di in zip(p, k, d):
        if pi < 0 or pi > ki // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    spatial = a.shape[-nd:]
    out = tuple(_pool_out(n, ki, pi, si, di, ceil_mode)
                for n, ki, pi, si, di in zip(spatial, k, p, s, d))
    return a, k, s, p, d, spatial, out


def _size_str(c, sizes):
    return "x".join(str(v) for v in (c,) + tuple(sizes))


def _max_poolnd(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    op = f"max_pool{nd}d"
    a, k, s, p, d, spatial, out = _pool_geometry(op, input, nd, kernel_size, stride, padding,
                                                 dilation, ceil_mode)
    if any(o < 1 for o in out):
        c = a.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({_size_str(c, spatial)}). Calculated output "
                           f"size: ({_size_str(c, out)}). Output size is too small")
    positions = [np.arange(o)[:, None] * si - pi + np.arange(ki)[None, :] * di
                 for o, ki, si, pi, di in zip(out, k, s, p, d)]
    valids = [(pos >= 0) & (pos < n) for pos, n in zip(positions, spatial)]
    idx = _window_argmax(a, nd, positions, valids)
    indices = Tensor._make(idx)
    info = {"kernel_size": k, "stride": s, "padding": p, "dilation": d,
            "ceil_mode": bool(ceil_mode), "result1": indices}
    r = _gather_map(input, nd, idx, f"MaxPool{nd}DWithIndicesBackward0", info)
    return (r, indices) if return_indices else r


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W), as
    ``torch.nn.functional.max_pool3d``."""
    return _max_poolnd(input, 3, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False):
    return _max_poolnd(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------- avg_pool3d
def _avg_poolnd(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    op = f"avg_pool{nd}d"
    a, k, s, p, _, spatial, out = _pool_geometry(op, input, nd, kernel_size, stride, padding,
                                                 1, ceil_mode)
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"{op}_out_frame" not implemented for '
                                  f"'{type_word(a.dtype)}'")
    if any(n + 2 * pi < ki for n, pi, ki in zip(spatial, p, k)):
        raise RuntimeError(f"input image (T: {spatial[0]} H: {spatial[1]} W: {spatial[2]}) "
                           f"smaller than kernel size (kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    if any(o < 1 for o in out):
        c = a.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({_size_str(c, spatial)}). Calculated output "
                           f"size: ({_size_str(c, out)}). Output size is too small")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    dt = a.dtype
    if divisor_override is not None:
        div = np.asarray(divisor_override, dtype=dt)
    else:
        div = np.ones((), dtype=np.int64)
        for n, o, ki, si, pi in zip(spatial, out, k, s, p):
            div = np.multiply.outer(div, _avg_divisor(n, o, ki, si, pi, count_include_pad))
        div = div.astype(dt)
    # the padded extent that holds every window (ceil_mode windows may run past the padding)
    ext = tuple(max(n + pi, (o - 1) * si + ki) + pi
                for n, o, ki, si, pi in zip(spatial, out, k, s, p))
    inner = tuple(slice(pi, pi + n) for pi, n in zip(p, spatial))
    offsets = list(itertools.product(*(range(ki) for ki in k)))

    def window(j, o, si):
        return slice(j, j + (o - 1) * si + 1, si)

    def fwd(x):
        xp = get_array_module(x)
        lead = x.shape[:x.ndim - nd]
        xpad = xp.zeros(lead + ext, dtype=x.dtype)
        xpad[(Ellipsis,) + inner] = x
        acc = xp.zeros(lead + out, dtype=x.dtype)
        for off in offsets:
            acc += xpad[(Ellipsis,) + tuple(window(j, o, si) for j, o, si in zip(off, out, s))]
        return acc / (div if xp is np else xp.asarray(div))

    def adj(g):
        xp = get_array_module(g)
        lead = g.shape[:g.ndim - nd]
        gd = g / (div if xp is np else xp.asarray(div))
        gpad = xp.zeros(lead + ext, dtype=g.dtype)
        for off in offsets:
            gpad[(Ellipsis,) + tuple(window(j, o, si) for j, o, si in zip(off, out, s))] += gd
        return xp.ascontiguousarray(gpad[(Ellipsis,) + inner])
    info = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": bool(ceil_mode),
            "count_include_pad": bool(count_include_pad), "divisor_override": divisor_override}
    return linear_map(input, fwd, adj, f"AvgPool{nd}DBackward0", info)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W), as
    ``torch.nn.functional.avg_pool3d``."""
    return _avg_poolnd(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


# ---------------------------------------------------------------- adaptive pools
def _adaptive_sizes(op, input, output_size, nd):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    a = input._data
    if a.ndim not in (nd + 1, nd + 2):
        sep = ": " if "max" in op else " "
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{sep}"
                           f"{list(a.shape)}")
    for i in range(1, a.ndim):
        if a.shape[i] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(a.shape)} with dimension "
                               f"{i} being empty")
    if isinstance(output_size, (int, np.integer)):
        osz = (int(output_size),) * nd
    else:
        osz = tuple(output_size)
        if len(osz) != nd:
            raise RuntimeError(f"{op}: output_size must be {nd}")
    spatial = a.shape[-nd:]
    return a, spatial, tuple(n if o is None else int(o) for n, o in zip(spatial, osz))


def adaptive_avg_pool3d(input, output_size):
    """Adaptive 3-D average pooling to ``output_size`` (a 1x1x1 output is a ``mean``)."""
    a, spatial, out = _adaptive_sizes("adaptive_avg_pool3d", input, output_size, 3)
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"adaptive_avg_pool3d" not implemented for '
                                  f"'{type_word(a.dtype)}'")
    if out == (1, 1, 1):
        return _reduction.mean(input, (-1, -2, -3), keepdim=True)
    mats = [_adaptive_matrix(np, a.dtype, n, o) for n, o in zip(spatial, out)]
    fwd, adj = _resampler(mats)
    return linear_map(input, fwd, adj, "AdaptiveAvgPool3DBackward0", {"output_size": out})


def _adaptive_max_poolnd(input, output_size, return_indices, nd):
    op = f"adaptive_max_pool{nd}d"
    a, spatial, out = _adaptive_sizes(op, input, output_size, nd)
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for \'{type_word(a.dtype)}\'')
    positions, valids = [], []
    for n, o in zip(spatial, out):
        start = (np.arange(o) * n) // o
        end = -((-(np.arange(o) + 1) * n) // o)
        kmax = int((end - start).max())
        pos = start[:, None] + np.arange(kmax)[None, :]
        positions.append(pos)
        valids.append(pos < end[:, None])
    idx = _window_argmax(a, nd, positions, valids)
    indices = Tensor._make(idx)
    r = _gather_map(input, nd, idx, f"AdaptiveMaxPool{nd}DBackward0", {"result1": indices})
    return (r, indices) if return_indices else r


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive 1-D max pooling over (N, C, L) or (C, L)."""
    if isinstance(output_size, (tuple, list)) and len(output_size) != 1:
        raise RuntimeError("adaptive_max_pool1d: output_size must be 1")
    a = input._data
    if a.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d() Expected 2D or 3D input tensor, but got "
                           f"{list(a.shape)}")
    from ..ops import shape as _shape
    osz = output_size if isinstance(output_size, (int, np.integer)) else output_size[0]
    res = adaptive_max_pool2d(_shape.unsqueeze(input, -2), (1, osz), return_indices)
    if return_indices:
        return _shape.squeeze(res[0], -2), _shape.squeeze(res[1], -2)
    return _shape.squeeze(res, -2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive 2-D max pooling over (N, C, H, W) or (C, H, W)."""
    return _adaptive_max_poolnd(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Adaptive 3-D max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _adaptive_max_poolnd(input, output_size, return_indices, 3)
