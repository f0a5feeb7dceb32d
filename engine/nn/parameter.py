"""``nn.Parameter``: a tensor that a ``Module`` registers as one of its parameters.

A ``Parameter`` is an ordinary engine ``Tensor`` (same storage, same ops) whose class tells
``Module.__setattr__`` to register it; it requires grad unless told otherwise. Results of
ops on a parameter are plain tensors, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["Parameter", "Buffer", "is_lazy"]


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True)``: shares ``data``'s storage."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            arr = np.empty((0,), np.float32)
            vc = [0]
        elif isinstance(data, Tensor):
            arr, vc = data._data, data._vc
        else:
            raise TypeError(f"Parameter expects a Tensor as data, got {type(data).__name__}")
        p = cls._make(arr)
        p._vc = vc
        if requires_grad and arr.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        p._requires_grad = bool(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):  # all work happens in __new__
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)``: assigning one to a module attribute registers
    it as a buffer. Like PyTorch, the module stores a plain tensor, not the marker."""

    __slots__ = ()

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.empty((0,), np.float32))
        b = cls._make(data._data)
        b._vc = data._vc
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass


def is_lazy(param) -> bool:
    """The engine has no lazy (uninitialised) parameters."""
    return False
