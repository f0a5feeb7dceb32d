"""Comparisons and logical ops: results are bool tensors outside autograd."""

from __future__ import annotations

import numpy as np

from ._core import binary_arrays, broadcast_check, make
from ..tensor import Tensor


def _cmp(fn, name):
    def op(input, other):
        ad, bd = binary_arrays(input, other)
        try:
            return make(np.asarray(fn(ad, bd)))
        except ValueError:
            broadcast_check(name, ad, bd)
            raise
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}``; a bool tensor, never part of the graph."
    return op


eq = _cmp(np.equal, "eq")
ne = _cmp(np.not_equal, "ne")
lt = _cmp(np.less, "lt")
le = _cmp(np.less_equal, "le")
gt = _cmp(np.greater, "gt")
ge = _cmp(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(fn, name):
    def op(input, other):
        a = input._data if isinstance(input, Tensor) else np.asarray(input)
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        return make(np.asarray(fn(a, b)))
    op.__name__ = name
    return op


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")
bitwise_and = _logical(np.bitwise_and, "bitwise_and")
bitwise_or = _logical(np.bitwise_or, "bitwise_or")
bitwise_xor = _logical(np.bitwise_xor, "bitwise_xor")


def logical_not(input):
    return make(np.logical_not(input._data))


def bitwise_not(input):
    a = input._data
    return make(np.logical_not(a) if a.dtype == np.bool_ else np.invert(a))


def isnan(input):
    return make(np.isnan(input._data))


def isinf(input):
    return make(np.isinf(input._data))


def isfinite(input):
    return make(np.isfinite(input._data))


def all(input, dim=None, keepdim=False):
    a = input._data
    return make(np.asarray(a.all() if dim is None else a.all(axis=dim, keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    a = input._data
    return make(np.asarray(a.any() if dim is None else a.any(axis=dim, keepdims=keepdim)))


def equal(input, other) -> bool:
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    b = other._data if isinstance(other, Tensor) else other
    return make(np.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
