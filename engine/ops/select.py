"""Elementwise choices: ``maximum``, ``minimum``, ``where``, ``masked_fill``."""

from __future__ import annotations

import numpy as np

from ._core import (Node, SavedTensor, as_tensor_arg, binary_arrays, broadcast_check, link, make,
                    needs_grad)
from ..tensor import Tensor


class _MaxMinBackward(Node):
    __slots__ = ("self_", "other")
    _saved_names = ("self_", "other")
    _pick = None

    def backward(self, g):
        a = self.unpack(self.self_)._data
        b = self.unpack(self.other)._data
        # ties split the gradient in half, as PyTorch does
        win_a = type(self)._pick(a, b)
        tie = a == b
        wa = np.where(tie, 0.5, win_a.astype(np.float32)).astype(g._data.dtype)
        return g * wa, g * (1 - wa)


class MaximumBackward0(_MaxMinBackward):
    __slots__ = ()
    _pick = staticmethod(np.greater)


class MinimumBackward0(_MaxMinBackward):
    __slots__ = ()
    _pick = staticmethod(np.less)


def _maxmin(cls, fn, name, input, other):
    a = input
    b = as_tensor_arg(other, a)
    ad, bd = binary_arrays(a, b)
    try:
        data = fn(ad, bd)
    except ValueError:
        broadcast_check(name, ad, bd)
        raise
    r = make(data)
    if needs_grad(a, b):
        n = cls()
        n.self_ = SavedTensor(a)
        n.other = SavedTensor(b)
        link(n, (a, b), r)
    return r


def maximum(input, other):
    return _maxmin(MaximumBackward0, np.maximum, "maximum", input, other)


def minimum(input, other):
    return _maxmin(MinimumBackward0, np.minimum, "minimum", input, other)


class WhereBackward0(Node):
    __slots__ = ("condition",)

    def backward(self, g):
        c = self.condition
        zero = g * 0
        return (where(make(c), g, zero) if self.needs(0) else None,
                where(make(c), zero, g) if self.needs(1) else None)


def where(condition, input=None, other=None):
    """``where(cond, x, y)``; ``where(cond)`` alone returns the indices (nonzero)."""
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(make(i) for i in np.nonzero(c))
    like = input if isinstance(input, Tensor) else (other if isinstance(other, Tensor) else None)
    x = as_tensor_arg(input, like)
    y = as_tensor_arg(other, like)
    xd, yd = binary_arrays(x, y)
    try:
        data = np.where(c.astype(bool, copy=False), xd, yd)
    except ValueError:
        broadcast_check("where", xd, yd)
        raise
    r = make(data)
    if needs_grad(x, y):
        n = WhereBackward0()
        n.condition = np.broadcast_to(c.astype(bool, copy=False), data.shape)
        link(n, (x, y), r)
    return r


class MaskedFillBackward0(Node):
    __slots__ = ("mask",)

    def backward(self, g):
        return where(make(self.mask), g * 0, g)


def masked_fill(input, mask, value):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        from .linalg import _tn
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_tn(make(m))}")
    v = value.item() if isinstance(value, Tensor) else value
    data = np.where(m, np.asarray(v, dtype=input._data.dtype), input._data)
    r = make(data)
    if needs_grad(input):
        n = MaskedFillBackward0()
        n.mask = m
        link(n, (input,), r)
    return r
