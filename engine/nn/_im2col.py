"""GEMM-ready im2col / col2im shared by the convolutions (array level, no autograd).

Layout: channel-major, batch-last. An input ``x`` (N, C, H, W) is first copied once into
``xt`` (C, Hp, Wp, N), zero-padded; the columns are then

    cols[(c, i, j), (oh, ow, n)] = xt[c, oh*sh + i*dh, ow*sw + j*dw, n]

a (C*kh*kw, OH*OW*N) matrix, so a convolution is one BLAS GEMM
``W.reshape(C_out, C*kh*kw) @ cols`` (per group: the rows are grouped by input channel, so a
group's block is a contiguous slice), and the weight gradient one GEMM ``g @ cols.T`` (BLAS
reads the transpose in place). Putting the batch last makes every copy move long contiguous
runs (OW*N elements at stride 1): ``im2col`` is one ``as_strided`` view plus one copy, and
``col2im`` adds kh*kw slices with the same long runs (never ``np.add.at``). The price is one
transposing copy of the input and of the output, both far smaller than the columns.

Large scratch arrays (columns, GEMM results, accumulators) come from a small free list
(``scratch`` / ``release``): reusing them avoids page-faulting tens of MB of fresh memory on
every training step. Only arrays that never escape to the caller are released.

Everything takes the array module from the arrays (numpy or CuPy) and keeps the input's
dtype (float32 stays float32).
"""

from __future__ import annotations

import threading

import numpy as np

from ..backend import get_array_module

__all__ = ["conv_out_size", "to_batch_last", "from_batch_last", "im2col", "col2im",
           "grouped_mm", "scratch", "release"]


# ---------------------------------------------------------------- scratch buffers
_POOL_BYTES_MAX = 512 << 20      # drop everything pooled beyond this (varying shapes)
_POOL_PER_KEY = 4
_MIN_POOLED = 1 << 16            # small arrays: numpy's own allocator is fast enough
_pool: dict = {}
_pool_bytes = [0]
_pool_lock = threading.Lock()


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
    return xp.empty(shape, dtype=dtype)


def release(*arrays):
    """Give scratch arrays back (the caller must hold no other reference to them)."""
    for arr in arrays:
        if arr is None or type(arr) is not np.ndarray or arr.nbytes < _MIN_POOLED:
            continue
        base = arr
        while base.base is not None and isinstance(base.base, np.ndarray):
            base = base.base
        if not base.flags.c_contiguous or not base.flags.owndata:
            continue
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


# ---------------------------------------------------------------- layout changes
def conv_out_size(size, k, s, pad_total, d):
    """Output length of a convolution over ``size`` padded by ``pad_total`` in all."""
    return (size + pad_total - d * (k - 1) - 1) // s + 1


def to_batch_last(x, pt=0, pb=0, pl=0, pr=0):
    """(N, C, H, W) -> scratch (C, H+pt+pb, W+pl+pr, N), zero-padded: one copy."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    hp, wp = h + pt + pb, w + pl + pr
    out = scratch((c, hp, wp, n), x.dtype, xp)
    if pt:
        out[:, :pt] = 0
    if pb:
        out[:, h + pt:] = 0
    if pl:
        out[:, pt:h + pt, :pl] = 0
    if pr:
        out[:, pt:h + pt, w + pl:] = 0
    out[:, pt:pt + h, pl:pl + w, :] = x.transpose(1, 2, 3, 0)
    return out


def from_batch_last(y, bias=None, crop=None):
    """(C, H, W, N) -> a new contiguous (N, C, h, w) array, with the per-channel bias added
    in the same pass; ``crop`` = (top, left, h, w) cuts a window out of the (H, W) plane."""
    xp = get_array_module(y)
    if crop is not None:
        t, left, h, w = crop
        y = y[:, t:t + h, left:left + w, :]
    v = y.transpose(3, 0, 1, 2)
    out = xp.empty(v.shape, dtype=v.dtype)
    if bias is None:
        out[...] = v
    else:
        xp.add(v, bias.reshape(1, -1, 1, 1), out=out)
    return out


# ---------------------------------------------------------------- im2col / col2im
def im2col(xt, kh, kw, sh, sw, dh, dw, oh, ow):
    """Columns (C*kh*kw, oh*ow*N) of a batch-last padded (C, Hp, Wp, N) array: one copy
    into a scratch array."""
    xp = get_array_module(xt)
    c, _, _, n = xt.shape
    s_c, s_h, s_w, s_n = xt.strides
    view = xp.lib.stride_tricks.as_strided(
        xt, (c, kh, kw, oh, ow, n), (s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w, s_n))
    cols = scratch((c, kh, kw, oh, ow, n), xt.dtype, xp)
    cols[...] = view
    return cols.reshape(c * kh * kw, oh * ow * n)


def col2im(cols, c, hp, wp, kh, kw, sh, sw, dh, dw, oh, ow):
    """The adjoint of ``im2col``: sum columns (C*kh*kw, oh*ow*N) back into a scratch
    (C, hp, wp, N) array, one strided slice-add per kernel offset."""
    xp = get_array_module(cols)
    n = cols.shape[1] // (oh * ow) if oh * ow else 0
    c6 = cols.reshape(c, kh, kw, oh, ow, n)
    out = scratch((c, hp, wp, n), cols.dtype, xp)
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
            dst = out[:, r0:r0 + h_span:sh, c0:c0 + w_span:sw]
            if disjoint:
                dst[...] = c6[:, i, j]
            else:
                dst += c6[:, i, j]
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
        if out is not None:
            return xp.matmul(aa, bb, out=out)
        return aa @ bb
    a3 = a.reshape(groups, a.shape[0] // groups, a.shape[1])
    b3 = b.reshape(groups, b.shape[0] // groups, b.shape[1])
    if trans_a:
        a3 = a3.transpose(0, 2, 1)
    if trans_b:
        b3 = b3.transpose(0, 2, 1)
    r = xp.matmul(a3, b3)
    return r.reshape(groups * r.shape[1], r.shape[2])
