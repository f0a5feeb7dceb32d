"""``unfold`` (im2col: every sliding block of a batched image as a column) and ``fold``
(col2im: columns summed back into an image), each the other's adjoint -- so one pair of array
routines gives both ops, their backward nodes (``Im2ColBackward0``, ``Col2ImBackward0``) and
exact double backward (``_linear_map``).

Layout as PyTorch's: unfold of (N, C, H, W) is (N, C*kh*kw, L), the row index
``c*kh*kw + i*kw + j`` for kernel offset (i, j), the column index the block's position in
row-major order over the (bh, bw) grid of blocks.
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ._group_norm import type_word
from ._linear_map import linear_map

__all__ = ["unfold", "fold"]


def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(x) for x in v)


def _check_args(k, d, p, s):
    for name, (a, b), short in (("kernel size", k, "kernel"), ("dilation", d, "dilation"),
                                ("stride", s, "stride")):
        if a <= 0 or b <= 0:
            raise RuntimeError(f"{name} should be greater than zero, but got {short}_height: {a} "
                               f"{short}_width: {b}")
    if p[0] < 0 or p[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} "
                           f"pad_width: {p[1]}")


def _blocks(spatial, k, d, p, s):
    bh = (spatial[0] + 2 * p[0] - (d[0] * (k[0] - 1) + 1)) // s[0] + 1
    bw = (spatial[1] + 2 * p[1] - (d[1] * (k[1] - 1) + 1)) // s[1] + 1
    if bh < 1 or bw < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(spatial)}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding "
                           f"blocks as ({bh}, {bw}), but its components must be at least one.")
    return bh, bw


def _offsets(k, d, s, blocks):
    """(i, j, row slice, column slice) of each kernel offset into the padded image."""
    for i in range(k[0]):
        for j in range(k[1]):
            yield (i, j, slice(i * d[0], i * d[0] + (blocks[0] - 1) * s[0] + 1, s[0]),
                   slice(j * d[1], j * d[1] + (blocks[1] - 1) * s[1] + 1, s[1]))


def _im2col(a, spatial, k, d, p, s, blocks):
    """(*, C, H, W) -> (*, C*kh*kw, L)."""
    xp = get_array_module(a)
    lead, c = a.shape[:-3], a.shape[-3]
    h, w = spatial
    xpad = a
    if p[0] or p[1]:
        xpad = xp.zeros(lead + (c, h + 2 * p[0], w + 2 * p[1]), dtype=a.dtype)
        xpad[..., p[0]:p[0] + h, p[1]:p[1] + w] = a
    cols = xp.empty(lead + (c, k[0], k[1]) + blocks, dtype=a.dtype)
    for i, j, rs, cs in _offsets(k, d, s, blocks):
        cols[..., i, j, :, :] = xpad[..., rs, cs]
    return cols.reshape(lead + (c * k[0] * k[1], blocks[0] * blocks[1]))


def _col2im(cols, spatial, k, d, p, s, blocks):
    """(*, C*kh*kw, L) -> (*, C, H, W), overlapping blocks summed."""
    xp = get_array_module(cols)
    lead = cols.shape[:-2]
    c = cols.shape[-2] // (k[0] * k[1])
    h, w = spatial
    cv = cols.reshape(lead + (c, k[0], k[1]) + blocks)
    out = xp.zeros(lead + (c, h + 2 * p[0], w + 2 * p[1]), dtype=cols.dtype)
    for i, j, rs, cs in _offsets(k, d, s, blocks):
        out[..., rs, cs] += cv[..., i, j, :, :]
    if p[0] or p[1]:
        out = xp.ascontiguousarray(out[..., p[0]:p[0] + h, p[1]:p[1] + w])
    return out


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of (N, C, H, W) or (C, H, W) input as columns, as
    ``torch.nn.functional.unfold``."""
    a = input._data
    if a.ndim not in (3, 4) or 0 in a.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: {list(a.shape)}")
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    _check_args(k, d, p, s)
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"im2col_out_cpu\" not implemented for '{type_word(a.dtype)}'")
    spatial = a.shape[-2:]
    blocks = _blocks(spatial, k, d, p, s)
    info = {"kernel_size": k, "dilation": d, "padding": p, "stride": s}
    return linear_map(input, lambda x: _im2col(x, spatial, k, d, p, s, blocks),
                      lambda g: _col2im(g, spatial, k, d, p, s, blocks), "Im2ColBackward0",
                      info, twin="Col2ImBackward0")


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns (N, C*kh*kw, L) or (C*kh*kw, L) summed back into an image of ``output_size``,
    as ``torch.nn.functional.fold``."""
    a = input._data
    if a.ndim not in (2, 3) or 0 in a.shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(a.shape)}")
    out = _pair(output_size)
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    _check_args(k, d, p, s)
    if a.shape[-2] % (k[0] * k[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={a.shape[-2]} and "
                           f"kernel_size={k}.")
    blocks = _blocks(out, k, d, p, s)
    if a.shape[-1] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={out}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {blocks[0] * blocks[1]}, but got "
                           f"input.size(2)={a.shape[-1]}.")
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"col2im_out_cpu\" not implemented for '{type_word(a.dtype)}'")
    info = {"kernel_size": k, "dilation": d, "padding": p, "stride": s}
    return linear_map(input, lambda x: _col2im(x, out, k, d, p, s, blocks),
                      lambda g: _im2col(g, out, k, d, p, s, blocks), "Col2ImBackward0", info,
                      twin="Im2ColBackward0")
