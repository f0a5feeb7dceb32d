"""dtype/device conversion (``to``) and ``clone``: copies that keep the graph."""

from __future__ import annotations


from ._core import Node, link, make, needs_grad
from .. import backend


class ToCopyBackward0(Node):
    __slots__ = ("src_dtype", "src_device")

    def backward(self, g):
        return g.to(self.src_device, self.src_dtype)


def to_copy(x, dtype=None, device=None, copy=False):
    a = x._data
    same_dtype = dtype is None or a.dtype == dtype.np
    same_device = device is None or device == x.device
    if same_dtype and same_device and not copy:
        return x
    arr = a
    if not same_device:
        arr = backend.to_device_array(arr, device)
    if not same_dtype:
        arr = arr.astype(dtype.np)
    elif copy and arr is a:
        arr = arr.copy()
    r = make(arr)
    if needs_grad(x) and r._data.dtype.kind == "f":
        n = ToCopyBackward0()
        n.src_dtype, n.src_device = x.dtype, x.device
        link(n, (x,), r)
    return r


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return g


def clone(x, *, memory_format=None):
    r = make(x._data.copy())
    if needs_grad(x):
        link(CloneBackward0(), (x,), r)
    return r


def contiguous(x, memory_format=None):
    if x._data.flags["C_CONTIGUOUS"]:
        return x
    return clone(x)


