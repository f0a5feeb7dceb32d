"""Pooling: ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d`` (+ 1-D forms) and their nodes.

Kernels work on strided views of the (padded) input, one view per kernel offset, so every
pass is a vectorised numpy op over the output-sized array:

- max pool keeps the running max and the offset (a small integer code) of the first maximum
  in PyTorch's scan order (ties keep the earlier element; a NaN wins, the last NaN as in
  PyTorch; an all -inf window keeps its first in-bounds element). The common 2x2/stride-2
  pool runs as a two-round tournament over the four strided views, on chunks of the batch
  spread over the engine's pool. Backward turns the codes into flat indices (a cached
  per-window base plus a table lookup) and scatters the gradient with one fancy assignment
  per chunk, or one ``bincount`` where windows overlap. The flat
  indices PyTorch returns (``return_indices``, ``result1``) come from the same codes.
- avg pool sums the offset views and divides by PyTorch's divisor (``count_include_pad``,
  ``ceil_mode`` windows that run past the padding, ``divisor_override``).
- adaptive avg pool is two small matrix products with averaging matrices (rows
  ``floor(i*H/OH) .. ceil((i+1)*H/OH)``), separable in height and width.

Double backward is not supported for these nodes (their gradients are array kernels);
``create_graph=True`` through one raises a clear error.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _state
from ..autograd.node import Node, SavedTensor, link
from ..backend import get_array_module
from ..ops._core import make, needs_grad
from ..ops._parallel import batch_bounds, parallel_for
from ..ops import shape as _shape
from ..ops import reduction as _reduction
from ..tensor import Tensor

__all__ = ["max_pool2d", "max_pool1d", "avg_pool2d", "avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool1d", "max_pool2d_with_indices", "MaxPool2DWithIndicesBackward0",
           "AvgPool2DBackward0", "AdaptiveAvgPool2DBackward0"]

_DOUBLE_BACKWARD = ("{op}: double backward (create_graph=True through a pooling op) is not "
                    "supported by engine: its gradient is computed by array kernels")


# ---------------------------------------------------------------- arguments and shapes
def _pair(value, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value), int(value))
    t = tuple(int(v) for v in value)
    if len(t) == 1:
        return t * 2
    if len(t) != 2:
        raise RuntimeError(f"{name} must either be a single int, or a tuple of two ints")
    return t


def _pool_out(size, k, p, s, d, ceil_mode):
    """PyTorch's ``pooling_output_shape``."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Validate a 2-D pooling call; the 4-D array and (k, s, p, d, out) per axis."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    a = input._data
    if a.ndim not in (3, 4) or 0 in a.shape[-3:]:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _pair(stride, "stride")
    p = _pair(padding, "padding")
    d = _pair(dilation, "dilation")
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} "
                           f"kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        if s[0] == 0 or s[1] == 0:
            raise RuntimeError("stride should not be zero")
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    if p != (0, 0):
        for pi, ki, di in zip(p, k, d):
            if pi < 0 or pi > ki // 2:
                raise RuntimeError(f"pad should be at most half of effective kernel size, but "
                                   f"got pad={pi}, kernel_size={ki} and dilation={di}")
    h, w = a.shape[-2:]
    oh = _pool_out(h, k[0], p[0], s[0], d[0], ceil_mode)
    ow = _pool_out(w, k[1], p[1], s[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        c = a.shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{oh}x{ow}). Output size is too small")
    x4 = a if a.ndim == 4 else a[None]
    return x4, k, s, p, d, (oh, ow)


def pad2d(x, pt, pb, pl, pr, value=0.0):
    """``x`` (N, C, H, W) padded on each side with ``value`` (a new array), or ``x`` itself
    when there is nothing to pad."""
    if not (pt or pb or pl or pr):
        return x
    xp = get_array_module(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, h + pt + pb, w + pl + pr), value, dtype=x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def _padded_for_windows(x4, k, s, p, d, out, value):
    """``x4`` padded so that every window of the output fits (ceil_mode windows may run
    past the right/bottom padding); returns the array and its (top, left) padding."""
    h, w = x4.shape[2:]
    need_h = (out[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (out[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1
    pb = max(0, need_h - h - p[0])
    pr = max(0, need_w - w - p[1])
    return pad2d(x4, p[0], pb, p[1], pr, value)


def _offset_views(xp_arr, k, s, d, out):
    """The (N, C, OH, OW) strided view of the input seen by each kernel offset, in PyTorch's
    scan order (row by row)."""
    hs = (out[0] - 1) * s[0] + 1
    ws = (out[1] - 1) * s[1] + 1
    for i in range(k[0]):
        r = i * d[0]
        for j in range(k[1]):
            c = j * d[1]
            yield xp_arr[:, :, r:r + hs:s[0], c:c + ws:s[1]]


def _disjoint(k, s, d):
    """Kernel offsets never touch the same input element twice (windows don't overlap)."""
    return s[0] >= d[0] * (k[0] - 1) + 1 and s[1] >= d[1] * (k[1] - 1) + 1


def _unbatch(arr, ndim):
    return arr if ndim == 4 else arr[0]


# ---------------------------------------------------------------- max pool
#: Input bytes per task of the 2x2 pool and of the max-pool scatter (cache-sized).
POOL_CHUNK_BYTES = 256 << 10


def _max_forward(x4, k, s, p, d, out):
    """Max over each window and the offset code of the (PyTorch-chosen) maximum."""
    xp = get_array_module(x4)
    if k == (2, 2) and s == (2, 2) and p == (0, 0) and d == (1, 1) and \
            2 * out[0] <= x4.shape[2] and 2 * out[1] <= x4.shape[3]:
        res, code = _max_forward_2x2(x4, out)
        xpad = x4
    else:
        xpad = _padded_for_windows(x4, k, s, p, d, out, -np.inf)
        views = _offset_views(xpad, k, s, d, out)
        first = next(views)
        res = xp.empty(first.shape, dtype=x4.dtype)
        res[...] = first
        code = xp.zeros(first.shape, dtype=np.uint8 if k[0] * k[1] <= 256 else np.int32)
        m = xp.empty(first.shape, dtype=bool)
        for kk, v in enumerate(views, 1):
            xp.greater(v, res, out=m)               # strict: ties keep the earlier offset
            xp.maximum(res, v, out=res)             # NaN propagates, as in PyTorch
            xp.copyto(code, kk, where=m)
    if xp.isnan(res.sum()):                         # a NaN somewhere (or inf - inf)
        nan = xp.isnan(res)                         # PyTorch points at the last NaN
        for kk, v in enumerate(_offset_views(xpad, k, s, d, out)):
            xp.copyto(code, kk, where=nan & xp.isnan(v))
    if xpad is not x4:
        lost = xp.isneginf(res)
        if lost.any():                  # all -inf: PyTorch keeps the first in-bounds element
            _first_in_bounds(code, lost, x4.shape[2:], k, s, p, d, out)
    return res, code


def _first_in_bounds(code, where, in_hw, k, s, p, d, out):
    xp = get_array_module(code)
    rows = xp.arange(out[0])[:, None] * s[0] - p[0]
    cols = xp.arange(out[1])[None, :] * s[1] - p[1]
    for kk in range(k[0] * k[1] - 1, -1, -1):       # backwards: the first valid one wins
        r = rows + (kk // k[1]) * d[0]
        c = cols + (kk % k[1]) * d[1]
        ok = (r >= 0) & (r < in_hw[0]) & (c >= 0) & (c < in_hw[1])
        xp.copyto(code, kk, where=where & ok)


def _max_forward_2x2(x4, out):
    """The common 2x2, stride-2 pool: ``_tournament`` over chunks of the batch, as tasks on
    the engine's pool (each chunk's temporaries stay in the cache)."""
    xp = get_array_module(x4)
    n, c = x4.shape[:2]
    res = xp.empty((n, c) + tuple(out), dtype=x4.dtype)
    code = xp.empty((n, c) + tuple(out), dtype=np.uint8)
    bounds = batch_bounds(n, x4[:1].nbytes, POOL_CHUNK_BYTES) if xp is np else [0, n]

    def task(i):
        lo, hi = bounds[i], bounds[i + 1]
        _tournament(x4[lo:hi], out, res[lo:hi], code[lo:hi])

    parallel_for(task, len(bounds) - 1)
    return res, code


def _tournament(x4, out, res, code):
    """Max of each 2x2 window into ``res`` and its offset (2*row + col) into ``code``: the
    first maximum of each row pair, then of the two winners (ties keep the earlier one, as
    PyTorch's scan does). Comparisons and the code are bitwise ops on boolean arrays (a
    ``where`` over a random mask runs several times slower)."""
    xp = get_array_module(x4)
    hs, ws = 2 * out[0], 2 * out[1]
    a, b = x4[:, :, 0:hs:2, 0:ws:2], x4[:, :, 0:hs:2, 1:ws:2]
    c, d = x4[:, :, 1:hs:2, 0:ws:2], x4[:, :, 1:hs:2, 1:ws:2]
    top_right = xp.greater(b, a, out=code.view(np.bool_))
    xp.maximum(a, b, out=res)                       # the top row's winner
    bottom_right = xp.greater(d, c)
    bottom = xp.maximum(c, d)
    lower = xp.greater(bottom, res)
    xp.maximum(res, bottom, out=res)
    # the winning row's column: top_right ^ (lower & (top_right ^ bottom_right))
    xp.bitwise_xor(top_right, bottom_right, out=bottom_right)
    xp.bitwise_and(bottom_right, lower, out=bottom_right)
    xp.bitwise_xor(top_right, bottom_right, out=top_right)
    row = lower.view(np.uint8)
    xp.left_shift(row, 1, out=row)
    xp.bitwise_or(code, row, out=code)


def _code_to_indices(code, in_hw, k, s, p, d):
    """PyTorch's flat (row * W + col) indices into the unpadded input plane."""
    xp = get_array_module(code)
    oh, ow = code.shape[-2:]
    kw = k[1]
    c64 = code.astype(np.int64)
    rows = (xp.arange(oh, dtype=np.int64) * s[0] - p[0])[:, None] + (c64 // kw) * d[0]
    cols = (xp.arange(ow, dtype=np.int64) * s[1] - p[1])[None, :] + (c64 % kw) * d[1]
    return rows * in_hw[1] + cols


_BASE_CACHE: dict = {}


def _scatter_base(xp, planes, oh, ow, hp, wp, k, s, d):
    """Flat offsets for the backward scatter: ``table[code]`` is a maximum's offset inside
    its window, ``base`` each window's origin in the flattened (planes, hp, wp) input. The
    same shapes come back every training step, so the last few are cached."""
    key = (xp.__name__, planes, oh, ow, hp, wp, k, s, d)
    hit = _BASE_CACHE.get(key)
    if hit is not None:
        return hit
    table = (xp.arange(k[0], dtype=np.intp)[:, None] * (d[0] * wp)
             + xp.arange(k[1], dtype=np.intp)[None, :] * d[1]).ravel()
    base = ((xp.arange(planes, dtype=np.intp) * (hp * wp))[:, None, None]
            + (xp.arange(oh, dtype=np.intp) * (s[0] * wp))[:, None]
            + xp.arange(ow, dtype=np.intp) * s[1])
    if len(_BASE_CACHE) >= 16:
        _BASE_CACHE.clear()
    _BASE_CACHE[key] = (table, base)
    return table, base


def _max_backward(g4, code, in_shape, k, s, p, d):
    """Scatter each output gradient to its window's maximum: flat indices into the
    (padded) input built from the offset codes, then one fancy assignment (one
    ``bincount`` when windows overlap and an element may collect several gradients)."""
    xp = get_array_module(g4)
    n, c, h, w = in_shape
    oh, ow = code.shape[-2:]
    hp = max(h + p[0], (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1)
    wp = max(w + p[1], (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1)
    size = n * c * hp * wp
    if _disjoint(k, s, d):
        gi = xp.empty(size, dtype=g4.dtype)
        bounds = batch_bounds(n, c * hp * wp * g4.itemsize, POOL_CHUNK_BYTES) \
            if xp is np else [0, n]
        plane = c * hp * wp

        def task(i):                   # a chunk of the batch: its planes, its gradients
            lo, hi = bounds[i], bounds[i + 1]
            table, base = _scatter_base(xp, (hi - lo) * c, oh, ow, hp, wp, k, s, d)
            idx = table[code[lo:hi].reshape((hi - lo) * c, oh, ow)]  # fast for uint8 codes
            idx += base
            part = gi[lo * plane:hi * plane]
            part.fill(0)
            part[idx.ravel()] = g4[lo:hi].ravel()

        parallel_for(task, len(bounds) - 1)
    else:
        table, base = _scatter_base(xp, n * c, oh, ow, hp, wp, k, s, d)
        idx = table[code.reshape(n * c, oh, ow)]
        idx += base
        gi = xp.bincount(idx.ravel(), weights=g4.ravel(), minlength=size).astype(g4.dtype)
    gi = gi.reshape(n, c, hp, wp)
    if hp != h or wp != w:
        gi = xp.ascontiguousarray(gi[:, :, p[0]:p[0] + h, p[1]:p[1] + w])
    return gi


class MaxPool2DWithIndicesBackward0(Node):
    """Backward of ``max_pool2d``: the gradient goes to the first maximum of each window.

    Saves ``self`` (the input, as PyTorch) and the argmax offsets; ``result1`` (PyTorch's
    flat indices) is derived from them when inspected. No double backward.
    """

    __slots__ = ("self_", "code", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                 "in_shape")
    _saved_names = ("self_",)

    def _saved_items(self):
        items = Node._saved_items(self)
        if self.code is not None:
            k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
            idx = _code_to_indices(self.code, self.in_shape[-2:], k, s, p, d)
            items.append(("result1", make(_unbatch(idx, len(self.in_shape)))))
        return items

    def _release_saved(self):
        Node._release_saved(self)
        self.code = None

    def backward(self, g):
        if _state.enabled:
            raise RuntimeError(_DOUBLE_BACKWARD.format(op=self.name()))
        self.unpack(self.self_)                     # version check / freed-graph error
        ga = g._data
        shape4 = self.in_shape if len(self.in_shape) == 4 else (1,) + tuple(self.in_shape)
        gi = _max_backward(ga if ga.ndim == 4 else ga[None], self.code, shape4,
                           self.kernel_size, self.stride, self.padding, self.dilation)
        return make(_unbatch(gi, len(self.in_shape)))


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x4, k, s, p, d, out = _geometry("max_pool2d", input, kernel_size, stride, padding,
                                    dilation, ceil_mode)
    res, code = _max_forward(x4, k, s, p, d, out)
    nd = input._data.ndim
    r = make(_unbatch(res, nd))
    if needs_grad(input):
        n = MaxPool2DWithIndicesBackward0()
        n.self_ = SavedTensor(input)
        n.code = code
        n.kernel_size, n.stride, n.padding, n.dilation = k, s, p, d
        n.ceil_mode = bool(ceil_mode)
        n.in_shape = input._data.shape
        link(n, (input,), r)
    if not return_indices:
        return r
    return r, make(_unbatch(_code_to_indices(code, x4.shape[2:], k, s, p, d), nd))


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False):
    """(output, indices) of a 2-D max pool; indices are flat positions in each H*W plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.max_pool2d``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _check_1d(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{op}() Expected 2D or 3D input tensor, but got "
                           f"{list(input.shape)}")


def _one(v, name):
    if v is None:
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    t = tuple(v)
    if len(t) != 1:
        raise RuntimeError(f"{name} must be a single int, or a tuple of one int, got {v}")
    return int(t[0])


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L): a 2-D pool over a height of one, as PyTorch
    builds it (``SqueezeBackward1`` over ``MaxPool2DWithIndicesBackward0``)."""
    _check_1d("max_pool1d", input)
    k = _one(kernel_size, "kernel_size")
    s = _one(stride, "stride")
    s = k if s is None else s
    x = _shape.unsqueeze(input, -2)
    res = max_pool2d(x, (1, k), (1, s), (0, _one(padding, "padding")),
                     (1, _one(dilation, "dilation")), ceil_mode, return_indices)
    if return_indices:
        return _shape.squeeze(res[0], -2), _shape.squeeze(res[1], -2)
    return _shape.squeeze(res, -2)


# ---------------------------------------------------------------- avg pool
def _avg_divisor(size, out, k, s, p, count_include_pad):
    """Per-output divisor along one axis, as PyTorch computes it (window clipped to the
    padded input, then to the input unless padding counts)."""
    starts = np.arange(out) * s - p
    ends = np.minimum(starts + k, size + p)
    pool = ends - starts
    if count_include_pad:
        return pool
    return np.minimum(ends, size) - np.maximum(starts, 0)


def _avg_factors(xp, dtype, in_hw, out, k, s, p, count_include_pad, divisor_override):
    if divisor_override is not None:
        return None, float(divisor_override)
    dh = _avg_divisor(in_hw[0], out[0], k[0], s[0], p[0], count_include_pad)
    dw = _avg_divisor(in_hw[1], out[1], k[1], s[1], p[1], count_include_pad)
    div = (dh[:, None] * dw[None, :]).astype(dtype)
    if xp is not np:
        div = xp.asarray(div)
    return div, None


class AvgPool2DBackward0(Node):
    """Backward of ``avg_pool2d``: each window's gradient, divided by its divisor, spread
    back over the window. No double backward."""

    __slots__ = ("self_", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                 "divisor_override", "in_shape", "out_hw")
    _saved_names = ("self_",)

    def backward(self, g):
        if _state.enabled:
            raise RuntimeError(_DOUBLE_BACKWARD.format(op=self.name()))
        self.unpack(self.self_)
        ga = g._data
        xp = get_array_module(ga)
        nd = len(self.in_shape)
        g4 = ga if ga.ndim == 4 else ga[None]
        n, c = g4.shape[:2]
        h, w = self.in_shape[-2:]
        k, s, p, out = self.kernel_size, self.stride, self.padding, self.out_hw
        div, scalar = _avg_factors(xp, ga.dtype, (h, w), out, k, s, p, self.count_include_pad,
                                   self.divisor_override)
        gd = g4 / (div if div is not None else ga.dtype.type(scalar))
        hp = max(h + p[0], (out[0] - 1) * s[0] + k[0]) + p[0]
        wp = max(w + p[1], (out[1] - 1) * s[1] + k[1]) + p[1]
        gi = xp.zeros((n, c, hp, wp), dtype=ga.dtype)
        disjoint = _disjoint(k, s, (1, 1))
        for view in _offset_views(gi, k, s, (1, 1), out):
            if disjoint:
                view[...] = gd
            else:
                view += gd
        if hp != h or wp != w:
            gi = xp.ascontiguousarray(gi[:, :, p[0]:p[0] + h, p[1]:p[1] + w])
        return make(_unbatch(gi, nd))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.avg_pool2d``."""
    x4, k, s, p, d, out = _geometry("avg_pool2d", input, kernel_size, stride, padding, 1,
                                    ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    xp = get_array_module(x4)
    xpad = _padded_for_windows(x4, k, s, p, d, out, 0.0)
    views = _offset_views(xpad, k, s, d, out)
    first = next(views)
    acc = xp.empty(first.shape, dtype=x4.dtype)
    acc[...] = first
    for v in views:
        acc += v
    div, scalar = _avg_factors(xp, x4.dtype, x4.shape[2:], out, k, s, p, count_include_pad,
                               divisor_override)
    if div is not None:
        acc /= div
    else:
        acc /= x4.dtype.type(scalar)
    r = make(_unbatch(acc, input._data.ndim))
    if needs_grad(input):
        n = AvgPool2DBackward0()
        n.self_ = SavedTensor(input)
        n.kernel_size, n.stride, n.padding = k, s, p
        n.ceil_mode, n.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        n.divisor_override = divisor_override
        n.in_shape, n.out_hw = input._data.shape, out
        link(n, (input,), r)
    return r


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L), built on the 2-D pool as PyTorch does."""
    _check_1d("avg_pool1d", input)
    k = _one(kernel_size, "kernel_size")
    s = _one(stride, "stride")
    s = k if s is None else s
    x = _shape.unsqueeze(input, -2)
    res = avg_pool2d(x, (1, k), (1, s), (0, _one(padding, "padding")), ceil_mode,
                     count_include_pad)
    return _shape.squeeze(res, -2)


# ---------------------------------------------------------------- adaptive avg pool
def _adaptive_matrix(xp, dtype, size, out):
    """(out, size) averaging matrix: row i averages input[floor(i*size/out) :
    ceil((i+1)*size/out)]."""
    m = np.zeros((out, size), dtype=np.float64)
    for i in range(out):
        a = (i * size) // out
        b = -((-(i + 1) * size) // out)
        m[i, a:b] = 1.0 / (b - a)
    m = m.astype(dtype)
    return m if xp is np else xp.asarray(m)


class AdaptiveAvgPool2DBackward0(Node):
    """Backward of ``adaptive_avg_pool2d``: the transposed averaging matrices applied to
    the gradient. No double backward."""

    __slots__ = ("self_", "in_shape")
    _saved_names = ("self_",)

    def backward(self, g):
        if _state.enabled:
            raise RuntimeError(_DOUBLE_BACKWARD.format(op=self.name()))
        self.unpack(self.self_)
        ga = g._data
        xp = get_array_module(ga)
        h, w = self.in_shape[-2:]
        oh, ow = ga.shape[-2:]
        ph = _adaptive_matrix(xp, ga.dtype, h, oh)
        pw = _adaptive_matrix(xp, ga.dtype, w, ow)
        lead = ga.shape[:-2]
        t = xp.matmul(ph.T, ga.reshape((-1, oh, ow)))            # (B, H, OW)
        gi = t.reshape(-1, ow) @ pw                               # (B*H, W)
        return make(gi.reshape(lead + (h, w)))


def adaptive_avg_pool2d(input, output_size):
    """Adaptive 2-D average pooling to ``output_size`` (int, pair, None keeps a size), as
    ``torch.nn.functional.adaptive_avg_pool2d`` (a 1x1 output is a ``mean``, as PyTorch)."""
    if not isinstance(input, Tensor):
        raise TypeError("adaptive_avg_pool2d(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    a = input._data
    if a.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(a.shape)}")
    for i in range(1, a.ndim):
        if a.shape[i] == 0:
            raise RuntimeError(f"adaptive_avg_pool2d(): Expected input to have non-zero size "
                               f"for non-batch dimensions, but input has sizes {list(a.shape)} "
                               f"with dimension {i} being empty")
    if isinstance(output_size, (int, np.integer)):
        osz = (int(output_size), int(output_size))
    else:
        osz = tuple(output_size)
        if len(osz) != 2:
            raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    h, w = a.shape[-2:]
    oh = h if osz[0] is None else int(osz[0])
    ow = w if osz[1] is None else int(osz[1])
    if oh < 0 or ow < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{oh}, {ow}}}")
    if oh == 1 and ow == 1:
        return _reduction.mean(input, (-1, -2), keepdim=True)
    xp = get_array_module(a)
    ph = _adaptive_matrix(xp, a.dtype, h, oh)
    pw = _adaptive_matrix(xp, a.dtype, w, ow)
    lead = a.shape[:-2]
    t = a.reshape(-1, w) @ pw.T                                   # (B*H, OW)
    res = xp.matmul(ph, t.reshape(-1, h, ow))                     # (B, OH, OW)
    r = make(res.reshape(lead + (oh, ow)))
    if needs_grad(input):
        n = AdaptiveAvgPool2DBackward0()
        n.self_ = SavedTensor(input)
        n.in_shape = a.shape
        link(n, (input,), r)
    return r


def adaptive_avg_pool1d(input, output_size):
    """Adaptive 1-D average pooling over (N, C, L) or (C, L), via the 2-D pool."""
    _check_1d("adaptive_avg_pool1d", input)
    o = _one(output_size, "output_size")
    x = _shape.unsqueeze(input, -2)
    return _shape.squeeze(adaptive_avg_pool2d(x, (1, o)), -2)

