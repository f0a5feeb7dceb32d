"""``linear``: ``x @ W.T + b`` with ATen's graph shape.

A 2-D input with a bias is one ``addmm`` (``AddmmBackward0`` over bias, input and
``TBackward0`` of the weight); any other contiguous input is viewed as 2-D, multiplied
with ``addmm``, and viewed back; a non-contiguous one is ``matmul(input, W.t())`` with the
bias added in place (``AddBackward0``); without a bias it is ``matmul`` alone.
"""

from __future__ import annotations

import numpy as np

from ..ops import addmm, matmul
from ..ops._core import Node, SavedTensor, link, make, needs_grad

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    wt = weight.t()
    if bias is None:
        return matmul(input, wt)
    if input.ndim == 2:
        return addmm(bias, input, wt)
    shape = input.shape
    if input.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D "
                           f"and {weight.ndim}D")
    if input._data.flags.c_contiguous:
        out = addmm(bias, input.reshape(-1, shape[-1]), wt)
        return out.view(tuple(shape[:-1]) + (weight.shape[0],))
    # ATen: a non-contiguous input is matmul, then the bias added in place
    return matmul(input, wt).add_(bias)


class TrilinearBackward0(Node):
    """``out[b, o] = sum_ij x1[b, i] W[o, i, j] x2[b, j]``; gradients as matmuls (engine ops)."""
    __slots__ = ("i1", "w", "i2")
    _saved_names = ("i1", "w", "i2")

    def backward(self, g):
        x1, w, x2 = self.unpack(self.i1), self.unpack(self.w), self.unpack(self.i2)
        o, i, j = w.shape
        b = x1.shape[0]
        g1 = g2 = gw = None
        if self.needs(0) or self.needs(2):
            gw_x = (g @ w.reshape(o, i * j)).reshape(b, i, j)
            if self.needs(0):
                g1 = (gw_x @ x2.unsqueeze(-1)).squeeze(-1)
            if self.needs(2):
                g2 = (gw_x * x1.unsqueeze(-1)).sum(1)
        if self.needs(1):
            outer = (x1.unsqueeze(2) * x2.unsqueeze(1)).reshape(b, i * j)
            gw = (g.t() @ outer).reshape(o, i, j)
        return g1, gw, g2


def _trilinear(x1, w, x2):
    r = make(np.einsum("bi,oij,bj->bo", x1._data, w._data, x2._data, optimize=True))
    if needs_grad(x1, w, x2):
        n = TrilinearBackward0()
        n.i1, n.w, n.i2 = SavedTensor(x1), SavedTensor(w), SavedTensor(x2)
        link(n, (x1, w, x2), r)
    return r


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1 W_k x2 + b_k`` for weight (out, in1, in2): views, ``_trilinear``, view,
    add (the nodes PyTorch builds)."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    lead = tuple(input1.shape[:-1])
    out = _trilinear(input1.reshape(-1, input1.shape[-1]), weight,
                     input2.reshape(-1, input2.shape[-1]))
    out = out.view(lead + (weight.shape[0],))
    return out + bias if bias is not None else out
