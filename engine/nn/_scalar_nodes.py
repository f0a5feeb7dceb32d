"""Tensor-with-a-scalar ops as ATen's C++ composites build them: ``AddBackward1``,
``SubBackward1``, ``MulBackward1``, ``DivBackward1`` (one input edge, no edge for the
scalar), as opposed to Python's ``x + 1.0`` which PyTorch records as ``AddBackward0`` with a
``(None, 0)`` edge for the wrapped number.

Composite functions written in C++ inside PyTorch (``rms_norm``, ``pairwise_distance``,
``cosine_embedding_loss`` ...) call the Scalar overloads; using these keeps our graphs node for
node equal to theirs. The results keep the tensor's dtype, as PyTorch's do.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..ops._core import Node, link, make, needs_grad
from ._loss import DivBackward1, MulBackward1, _div_scalar as div_scalar  # noqa: F401
from ._loss import _mul_scalar as mul_scalar  # noqa: F401

__all__ = ["add_scalar", "sub_scalar", "mul_scalar", "div_scalar", "AddBackward1",
           "SubBackward1"]


class AddBackward1(Node):
    __slots__ = ()

    def backward(self, g):
        return g


class SubBackward1(Node):
    __slots__ = ()

    def backward(self, g):
        return g


def _scalar_op(t, value, cls):
    a = t._data
    r = make(get_array_module(a).asarray(a + value, dtype=a.dtype))
    if needs_grad(t):
        link(cls(), (t,), r)
    return r


def add_scalar(t, s):
    """``t.add(s)`` with a Python scalar ``s`` (``AddBackward1``)."""
    return _scalar_op(t, s, AddBackward1)


def sub_scalar(t, s):
    """``t.sub(s)`` with a Python scalar ``s`` (``SubBackward1``)."""
    return _scalar_op(t, -s, SubBackward1)
