"""GEMM-ready im2col / col2im shared by the convolutions (array level, no autograd).

The columns are channel-major: for an input ``x`` (N, C, H, W), zero-padded,

    cols[(c, i, j), pixel] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

a (C*kh*kw, N*OH*OW) matrix, so a convolution is one BLAS GEMM
``W.reshape(C_out, C*kh*kw) @ cols`` (per group: the rows are grouped by input channel, so a
group's block is a contiguous slice), and the weight gradient one GEMM ``g @ cols.T`` (BLAS
reads the transpose in place). ``im2col`` is one ``as_strided`` view plus one copy; ``col2im``
adds kh*kw strided slices (never ``np.add.at``).

Two pixel orders ("layouts"), chosen per call by ``batch_last_for``:

- batch first, pixel = (n, oh, ow): the input needs no transposing copy and the GEMM result
  (C_out, N, OH*OW) becomes NCHW with a cheap copy, but im2col/col2im move runs of only OW
  elements, which numpy handles slowly when the image is narrow;
- batch last, pixel = (oh, ow, n): the input is first copied into (C, Hp, Wp, N) and results
  are transposed back, but every im2col/col2im run is OW*N elements long.

Measured on LeNet: batch first wins for conv1 (28 wide: the transposes would cost more than
the short runs), batch last for conv2 (10 wide: im2col 3x and col2im 3x faster).

Large scratch arrays (columns, GEMM results, accumulators) come from a small free list
(``scratch`` / ``release``): reusing them avoids page-faulting tens of MB of fresh memory on
every training step. ``release`` only ever takes back arrays that ``scratch`` handed out.

Everything takes the array module from the arrays (numpy or CuPy) and keeps the input's
dtype (float32 stays float32).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from ..backend import get_array_module
from ..ops._parallel import matmul as parallel_matmul

__all__ = ["conv_out_size", "batch_last_for", "to_layout", "from_layout", "im2col", "col2im",
           "grouped_mm", "scratch", "release"]


# ---------------------------------------------------------------- scratch buffers
_POOL_BYTES_MAX = 512 << 20      # drop everything pooled beyond this (varying shapes)
_POOL_PER_KEY = 4
_MIN_POOLED = 1 << 16            # small arrays: numpy's own allocator is fast enough
_pool: dict = {}
_pool_bytes = [0]
_pool_lock = threading.Lock()
_issued: dict = {}               # id -> weakref of every buffer scratch() created


def _forget(ref, key):
    if _issued.get(key) is ref:
        del _issued[key]


def scratch(shape, dtype, xp=np):
    """An uninitialised array, reused from the free list when one of that shape is there."""
    if xp is np:
        key = (tuple(shape), np.dtype(dtype).str)
        with _pool_lock:
            free = _pool.get(key)
            if free:
                arr = free.pop()
                _pool_bytes[0] -= arr.nbytes
                return arr
        arr = np.empty(shape, dtype=dtype)
        if arr.nbytes >= _MIN_POOLED:
            key = id(arr)
            _issued[key] = weakref.ref(arr, lambda r, k=key: _forget(r, k))
        return arr
    return xp.empty(shape, dtype=dtype)


def release(*arrays):
    """Give scratch arrays back (the caller must hold no other reference to them)."""
    for arr in arrays:
        if arr is None or type(arr) is not np.ndarray or arr.nbytes < _MIN_POOLED:
            continue
        base = arr
        while base.base is not None and isinstance(base.base, np.ndarray):
            base = base.base
        ref = _issued.get(id(base))
        if ref is None or ref() is not base:
            continue                    # not ours (e.g. a view of a caller's array)
        key = (base.shape, base.dtype.str)
        with _pool_lock:
            free = _pool.setdefault(key, [])
            if len(free) >= _POOL_PER_KEY or any(f is base for f in free):
                continue
            if _pool_bytes[0] + base.nbytes > _POOL_BYTES_MAX:
                _pool.clear()
                _pool_bytes[0] = 0
                free = _pool.setdefault(key, [])
            free.append(base)
            _pool_bytes[0] += base.nbytes


# ---------------------------------------------------------------- layouts
def conv_out_size(size, k, s, pad_total, d):
    """Output length of a convolution over ``size`` padded by ``pad_total`` in all."""
    return (size + pad_total - d * (k - 1) - 1) // s + 1


def batch_last_for(n, ow):
    """The pixel order for a conv whose im2col rows are ``ow`` wide (see the module doc)."""
    return n > 1 and ow < 20


def to_layout(x, batch_last, pt=0, pb=0, pl=0, pr=0):
    """(N, C, H, W) -> (C, Hp, Wp, N) [batch last] or (C, N, Hp, Wp), zero-padded.

    Returns (array, owned): a batch-first layout without padding is a view of ``x`` (not
    owned: never release it); everything else is one copy into a scratch array."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    if not batch_last and not (pt or pb or pl or pr):
        return x.transpose(1, 0, 2, 3), False
    hp, wp = h + pt + pb, w + pl + pr
    if batch_last:
        out = scratch((c, hp, wp, n), x.dtype, xp)
        plane = out.transpose(0, 3, 1, 2)           # (C, N, Hp, Wp) view for the borders
        src = x.transpose(1, 2, 3, 0)
        inner = out[:, pt:pt + h, pl:pl + w, :]
    else:
        out = scratch((c, n, hp, wp), x.dtype, xp)
        plane = out
        src = x.transpose(1, 0, 2, 3)
        inner = out[:, :, pt:pt + h, pl:pl + w]
    if pt:
        plane[:, :, :pt] = 0
    if pb:
        plane[:, :, h + pt:] = 0
    if pl:
        plane[:, :, pt:h + pt, :pl] = 0
    if pr:
        plane[:, :, pt:h + pt, w + pl:] = 0
    inner[...] = src
    return out, True


def from_layout(y, batch_last, bias=None, crop=None, out=None):
    """(C, H, W, N) [batch last] or (C, N, H, W) -> a contiguous (N, C, h, w) array (new,
    or ``out``), with the per-channel bias added in the same pass; ``crop`` = (top, left,
    h, w) cuts a window out of the (H, W) plane."""
    xp = get_array_module(y)
    v = y.transpose(3, 0, 1, 2) if batch_last else y.transpose(1, 0, 2, 3)
    if crop is not None:
        t, left, h, w = crop
        v = v[:, :, t:t + h, left:left + w]
    if out is None:
        out = xp.empty(v.shape, dtype=v.dtype)
    if bias is None:
        out[...] = v
    else:
        xp.add(v, bias.reshape(1, -1, 1, 1), out=out)
    return out


def _axes(a, batch_last):
    """Strides of the (c, n, h, w) axes of a layout array."""
    if batch_last:
        s_c, s_h, s_w, s_n = a.strides
    else:
        s_c, s_n, s_h, s_w = a.strides
    return s_c, s_n, s_h, s_w


# ---------------------------------------------------------------- im2col / col2im
def im2col(xt, batch_last, kh, kw, sh, sw, dh, dw, oh, ow):
    """Columns (C*kh*kw, pixels) of a padded layout array: one copy into a scratch array."""
    xp = get_array_module(xt)
    c = xt.shape[0]
    n = xt.shape[3] if batch_last else xt.shape[1]
    s_c, s_n, s_h, s_w = _axes(xt, batch_last)
    if batch_last:
        shape = (c, kh, kw, oh, ow, n)
        strides = (s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w, s_n)
    else:
        shape = (c, kh, kw, n, oh, ow)
        strides = (s_c, dh * s_h, dw * s_w, s_n, sh * s_h, sw * s_w)
    view = _strided_view(xp, xt, shape, strides)
    cols = scratch(shape, xt.dtype, xp)
    cols[...] = view
    return cols.reshape(c * kh * kw, n * oh * ow)


def _strided_view(xp, a, shape, strides):
    """``as_strided`` without its Python overhead (~15 us, which matters at batch 1): a
    read-only ndarray over the memory of ``a``'s contiguous base, when there is one."""
    if xp is np:
        base = a
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base.flags.c_contiguous:
            offset = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
            view = np.ndarray(shape, a.dtype, buffer=base, offset=offset, strides=strides)
            view.flags.writeable = False
            return view
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def col2im(cols, batch_last, c, hp, wp, kh, kw, sh, sw, dh, dw, oh, ow):
    """The adjoint of ``im2col``: sum columns (C*kh*kw, pixels) back into a scratch layout
    array (C, hp, wp, N) [batch last] or (C, N, hp, wp), one strided slice-add per kernel
    offset."""
    xp = get_array_module(cols)
    n = cols.shape[1] // (oh * ow)
    if batch_last:
        c6 = cols.reshape(c, kh, kw, oh, ow, n)
        out = scratch((c, hp, wp, n), cols.dtype, xp)
        plane = out.transpose(0, 3, 1, 2)
    else:
        c6 = cols.reshape(c, kh, kw, n, oh, ow)
        out = scratch((c, n, hp, wp), cols.dtype, xp)
        plane = out
    h_span = sh * (oh - 1) + 1
    w_span = sw * (ow - 1) + 1
    # offsets write disjoint slices when the stride outruns the dilated kernel: assign
    disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
    if not (disjoint and _covers(kh, sh, dh, oh, hp) and _covers(kw, sw, dw, ow, wp)):
        out.fill(0)                     # accumulating, or some positions get nothing
    for i in range(kh):
        r0 = i * dh
        for j in range(kw):
            c0 = j * dw
            # batch last: (C, oh, ow, N) slices, runs of N contiguous elements on both
            # sides (through the (C, N, ...) transposes numpy would add element by element)
            if batch_last:
                dst = out[:, r0:r0 + h_span:sh, c0:c0 + w_span:sw, :]
            else:
                dst = plane[:, :, r0:r0 + h_span:sh, c0:c0 + w_span:sw]
            src = c6[:, i, j]
            if disjoint:
                dst[...] = src
            else:
                dst += src
    return out


def _covers(k, s, d, o, size):
    """Do the o windows (kernel k, stride s, dilation d) tile ``size`` exactly?"""
    return (k == 1 or d == 1) and s == k and o * k == size


def grouped_mm(a, b, groups, trans_a=False, trans_b=False, out=None):
    """Per-group matrix product of ``a`` (G*m, k) and ``b`` (G*k, n) (either read
    transposed), the group being the outer block of rows; the result is (G*rows, cols).
    One GEMM when groups == 1 (into ``out`` if given), a batched matmul otherwise."""
    xp = get_array_module(a)
    if groups == 1:
        aa = a.T if trans_a else a
        bb = b.T if trans_b else b
        return parallel_matmul(aa, bb, out=out)     # large ones over the engine's threads
    a3 = a.reshape(groups, a.shape[0] // groups, a.shape[1])
    b3 = b.reshape(groups, b.shape[0] // groups, b.shape[1])
    if trans_a:
        a3 = a3.transpose(0, 2, 1)
    if trans_b:
        b3 = b3.transpose(0, 2, 1)
    r = xp.matmul(a3, b3)
    return r.reshape(groups * r.shape[1], r.shape[2])
