"""Ordering along a dimension: ``sort``, ``argsort``, ``topk`` and their backward.

The values come back with the indices they were taken from; the backward scatters the
gradient of the values to those indices (``scatter_into_zeros``), as PyTorch's
``SortBackward0`` / ``TopkBackward0`` do. Order is stable (ties keep their original order,
also when descending) and NaN sorts as the largest value, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ._core import Node, link, make, needs_grad, wrap_dim
from .reduction import _ValuesIndices
from ..backend import get_array_module


class _GatherGradBackward(Node):
    """The gradient of values gathered along ``dim`` at ``indices`` goes back there."""
    __slots__ = ("indices", "shape", "dim")

    def backward(self, g, g_idx=None):
        from .indexing import scatter_into_zeros
        return scatter_into_zeros(g, self.shape, self.dim, self.indices)

    def apply(self, grads):
        return (self.backward(grads[0]),)


class SortBackward0(_GatherGradBackward):
    __slots__ = ()


class TopkBackward0(_GatherGradBackward):
    __slots__ = ()


def _order(a, d, descending):
    """Stable argsort of ``a`` along ``d``; descending keeps ties in their original order
    and puts NaN first (ascending puts it last)."""
    xp = get_array_module(a)
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    rev = xp.flip(a, axis=d)
    idx = xp.flip(xp.argsort(rev, axis=d, kind="stable"), axis=d)
    return (n - 1) - idx


def _gathered(input, idx, d, cls, op):
    a = input._data
    xp = get_array_module(a)
    r = make(xp.take_along_axis(a, idx, axis=d))
    if needs_grad(input):
        n = cls()
        n.indices, n.shape, n.dim = idx, a.shape, d
        link(n, (input,), r)
    return _ValuesIndices((r, make(idx.astype(np.int64, copy=False))), op)


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``."""
    a = input._data
    if a.ndim == 0:
        return _ValuesIndices((input.clone(), make(np.zeros((), np.int64))), "sort")
    d = wrap_dim(dim, a.ndim)
    return _gathered(input, _order(a, d, descending), d, SortBackward0, "sort")


def argsort(input, dim=-1, descending=False, stable=False):
    a = input._data
    if a.ndim == 0:
        return make(np.zeros((), np.int64))
    return make(_order(a, wrap_dim(dim, a.ndim), descending).astype(np.int64, copy=False))


def topk(input, k, dim=None, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` (the last by default), with
    their indices, largest first."""
    a = input._data
    if a.ndim == 0:
        if k not in (0, 1):
            raise RuntimeError("selected index k out of range")
        return _ValuesIndices((input.clone(), make(np.zeros((), np.int64))), "topk")
    d = wrap_dim(-1 if dim is None else dim, a.ndim)
    k = int(k)
    if not 0 <= k <= a.shape[d]:
        raise RuntimeError("selected index k out of range")
    idx = _order(a, d, largest)
    idx = idx[(slice(None),) * d + (slice(0, k),)]
    return _gathered(input, idx, d, TopkBackward0, "topk")
