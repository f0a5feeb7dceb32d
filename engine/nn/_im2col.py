"""GEMM-ready im2col / col2im shared by the convolutions (array level, no autograd).

Layout: channel-major columns. For an input ``x`` of shape (N, C, H, W) padded to
(N, C, Hp, Wp), ``cols`` has shape (C*kh*kw, N*OH*OW) with

    cols[(c, i, j), (n, oh, ow)] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

so a convolution is one BLAS GEMM ``W.reshape(C_out, C*kh*kw) @ cols`` (per group: the
rows of ``cols`` are grouped by input channel, so a group's block is a contiguous slice)
and the weight gradient is one GEMM ``g (C_out, N*OH*OW) @ cols.T`` (BLAS reads the
transpose in place). ``im2col`` is a single strided copy (``as_strided`` view, then one
``copyto``); ``col2im`` adds kh*kw strided slices, never ``np.add.at``.

Everything takes the array module from the arrays (numpy or CuPy) and keeps the input's
dtype (float32 stays float32).
"""

from __future__ import annotations

from ..backend import get_array_module


def conv_out_size(size, k, s, pad_total, d):
    """Output length of a convolution over ``size`` padded by ``pad_total`` in all."""
    return (size + pad_total - d * (k - 1) - 1) // s + 1


def pad2d(x, pt, pb, pl, pr, value=0.0):
    """``x`` (N, C, H, W) padded by the given amounts on each side (a new array), or ``x``
    itself when there is nothing to pad."""
    if not (pt or pb or pl or pr):
        return x
    xp = get_array_module(x)
    n, c, h, w = x.shape
    out = xp.empty((n, c, h + pt + pb, w + pl + pr), dtype=x.dtype)
    if value == 0.0:
        # zero only the borders; the middle is overwritten just below
        if pt:
            out[:, :, :pt] = 0
        if pb:
            out[:, :, h + pt:] = 0
        if pl:
            out[:, :, pt:h + pt, :pl] = 0
        if pr:
            out[:, :, pt:h + pt, w + pl:] = 0
    else:
        out.fill(value)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def _strided(x):
    xp = get_array_module(x)
    return xp.lib.stride_tricks.as_strided


def im2col(xpad, kh, kw, sh, sw, dh, dw, oh, ow):
    """Columns (C*kh*kw, N*oh*ow) of an already padded (N, C, Hp, Wp) array: one copy."""
    xp = get_array_module(xpad)
    n, c = xpad.shape[:2]
    s_n, s_c, s_h, s_w = xpad.strides
    view = _strided(xpad)(xpad, (c, kh, kw, n, oh, ow),
                          (s_c, dh * s_h, dw * s_w, s_n, sh * s_h, sw * s_w))
    cols = xp.empty((c, kh, kw, n, oh, ow), dtype=xpad.dtype)
    cols[...] = view
    return cols.reshape(c * kh * kw, n * oh * ow)


def col2im(cols, n, c, hp, wp, kh, kw, sh, sw, dh, dw, oh, ow):
    """The adjoint of ``im2col``: sum columns (C*kh*kw, N*oh*ow) back into an
    (N, C, hp, wp) array, one strided slice-add per kernel offset."""
    xp = get_array_module(cols)
    c6 = cols.reshape(c, kh, kw, n, oh, ow)
    # accumulate channel-major (matches the columns' order), return an NCHW view
    out = xp.zeros((c, n, hp, wp), dtype=cols.dtype)
    h_span = sh * (oh - 1) + 1
    w_span = sw * (ow - 1) + 1
    # offsets write disjoint slices when the stride outruns the dilated kernel: assign
    disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
    for i in range(kh):
        r0 = i * dh
        for j in range(kw):
            c0 = j * dw
            dst = out[:, :, r0:r0 + h_span:sh, c0:c0 + w_span:sw]
            if disjoint:
                dst[...] = c6[:, i, j]
            else:
                dst += c6[:, i, j]
    return out.transpose(1, 0, 2, 3)


def to_channel_major(g):
    """(N, C, H, W) -> contiguous (C, N*H*W): the GEMM layout of an output gradient."""
    xp = get_array_module(g)
    n, c, h, w = g.shape
    out = xp.empty((c, n, h, w), dtype=g.dtype)
    out[...] = g.transpose(1, 0, 2, 3)
    return out.reshape(c, n * h * w)


def from_channel_major(y, n, c, h, w, bias=None, crop=None):
    """(C, N*H*W) GEMM result -> contiguous (N, C, h', w') with the bias added in the same
    pass; ``crop`` = (top, left, out_h, out_w) cuts a window out of the (h, w) plane."""
    xp = get_array_module(y)
    v = y.reshape(c, n, h, w).transpose(1, 0, 2, 3)
    return nchw_copy(v, bias, crop, xp)


def nchw_copy(v, bias=None, crop=None, xp=None):
    """A contiguous copy of the (N, C, H, W) view ``v`` (cropped, plus a per-channel bias)."""
    if xp is None:
        xp = get_array_module(v)
    if crop is not None:
        t, left, oh, ow = crop
        v = v[:, :, t:t + oh, left:left + ow]
    out = xp.empty(v.shape, dtype=v.dtype)
    if bias is None:
        out[...] = v
    else:
        xp.add(v, bias.reshape(1, -1, 1, 1), out=out)
    return out


def grouped_mm(a, b, groups, trans_a=False, trans_b=False):
    """Per-group matrix product of a (G*m, k) [or its transpose] and b (G*k, n) [or ...].

    ``a`` and ``b`` are 2-D with the group as the outer block of rows; the result is
    (G*rows, cols). One GEMM when groups == 1, a batched matmul otherwise.
    """
    if groups == 1:
        return (a.T if trans_a else a) @ (b.T if trans_b else b)
    xp = get_array_module(a)
    a3 = a.reshape(groups, a.shape[0] // groups, a.shape[1])
    b3 = b.reshape(groups, b.shape[0] // groups, b.shape[1])
    if trans_a:
        a3 = a3.transpose(0, 2, 1)
    if trans_b:
        b3 = b3.transpose(0, 2, 1)
    r = xp.matmul(a3, b3)
    return r.reshape(groups * r.shape[1], r.shape[2])


__all__ = ["conv_out_size", "pad2d", "im2col", "col2im", "to_channel_major",
           "from_channel_major", "nchw_copy", "grouped_mm"]
