"""``pad``: constant (``ConstantPadNdBackward0``), reflect (``ReflectionPad{1,2,3}DBackward0``),
replicate (``ReplicationPad{1,2,3}DBackward0``) and circular padding.

Constant padding's backward is constant padding of the gradient with the pads negated
(negative pads crop), so it is differentiable to any order. The other modes gather along
an index map per padded dim; their backward multiplies by the map's one-hot matrix
(a ``matmul``, so it is differentiable too).
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..ops import matmul
from ..ops._core import Node, link, make, needs_grad

__all__ = ["pad"]


def _pairs(pad, ndim):
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           "dimension but got padding length " f"{len(pad)} and input of dimension "
                           f"{ndim}")
    # pad lists (left, right) from the last dim backwards
    return {ndim - 1 - i: (int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)}


class ConstantPadNdBackward0(Node):
    __slots__ = ("pad",)

    def backward(self, g):
        return _constant_pad(g, tuple(-p for p in self.pad), 0.0)


def _constant_pad(input, pad, value):
    a = input._data
    pairs = _pairs(pad, a.ndim)
    out_shape = list(a.shape)
    src, dst = [slice(None)] * a.ndim, [slice(None)] * a.ndim
    for d, (l, r) in pairs.items():
        n = a.shape[d]
        new = n + l + r
        if new < 0:
            raise RuntimeError(f"The input size {n}, plus negative padding {l} and {r} resulted "
                               f"in a negative output size, which is invalid. Check dimension {d} "
                               "of your input.")
        out_shape[d] = new
        s0, s1 = max(-l, 0), n - max(-r, 0)
        d0 = max(l, 0)
        src[d] = slice(s0, max(s1, s0))
        dst[d] = slice(d0, d0 + max(s1 - s0, 0))
    out = get_array_module(a).full(out_shape, value, dtype=a.dtype)
    out[tuple(dst)] = a[tuple(src)]
    r = make(out)
    if needs_grad(input):
        n = ConstantPadNdBackward0()
        n.pad = tuple(pad)
        link(n, (input,), r)
    return r


def _index_map(mode, n, l, r, d, shape):
    i = np.arange(-l, n + r)
    if mode == "reflect":
        if l >= n or r >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({l}, {r}) at dimension {d} of "
                               f"input {list(shape)}")
        j = np.abs(i)
        return np.where(j >= n, 2 * (n - 1) - j, j)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if l > n or r > n:
        raise RuntimeError("Padding value causes wrapping around more than once.")
    return np.mod(i, n)


class _GatherPadBackward(Node):
    __slots__ = ("maps", "sizes")

    def backward(self, g):
        for d, idx in self.maps:
            m = np.zeros((idx.size, self.sizes[d]), dtype=g._data.dtype)
            m[np.arange(idx.size), idx] = 1
            g = matmul(g.movedim(d, -1), make(m)).movedim(-1, d)
        return g


_NODE_CLASSES = {}


def _node_class(mode, k):
    name = {"reflect": "ReflectionPad", "replicate": "ReplicationPad",
            "circular": "CircularPad"}[mode] + f"{k}DBackward0"
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = _NODE_CLASSES[name] = type(name, (_GatherPadBackward,), {"__slots__": ()})
    return cls


def _gather_pad(input, pad, mode):
    a = input._data
    k = len(pad) // 2
    if mode != "circular" and (k > 3 or a.ndim not in (k + 1, k + 2)):
        raise NotImplementedError(f"Only 2D, 3D, 4D, 5D padding with non-constant padding are "
                                  f"supported for now (got {a.ndim}D input, pad of length "
                                  f"{len(pad)} in mode '{mode}')")
    pairs = _pairs(pad, a.ndim)
    maps = []
    out = a
    for d, (l, r) in sorted(pairs.items()):
        idx = _index_map(mode, a.shape[d], l, r, d, a.shape)
        out = np.take(out, idx, axis=d)
        maps.append((d, idx))
    res = make(np.ascontiguousarray(out))
    if needs_grad(input):
        n = _node_class(mode, k)()
        n.maps, n.sizes = maps, a.shape
        link(n, (input,), res)
    return res


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad)//2`` dims; ``pad = (left_last, right_last, left_prev, ...)``."""
    if mode == "constant":
        return _constant_pad(input, tuple(pad), 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    return _gather_pad(input, tuple(pad), mode)
