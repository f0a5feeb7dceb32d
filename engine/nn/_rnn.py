"""RNN cells from ops, so the graph shows what PyTorch's shows: two ``linear`` (addmm)
calls, their sum and the nonlinearity; the LSTM cell splits its gates with
``unsafe_chunk`` (``UnsafeSplitBackward0``)."""

from __future__ import annotations

import numpy as np

from ..ops import cat, relu, sigmoid, tanh
from ..ops._core import Node, link, make, needs_grad, wrap_dim
from ._linear import linear

__all__ = ["unsafe_chunk", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


class UnsafeSplitBackward0(Node):
    __slots__ = ("dim",)

    def apply(self, grads):
        return (cat(list(grads), self.dim),)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` whose pieces are views PyTorch does not track for in-place safety."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    size = -(-a.shape[d] // chunks)
    bounds = list(range(size, a.shape[d], size))
    pieces = tuple(make(p) for p in np.split(a, bounds, axis=d))
    if needs_grad(input):
        n = UnsafeSplitBackward0()
        n.dim = d
        link(n, (input,), pieces)
    return pieces


def _cell(input, hx, w_ih, w_hh, b_ih, b_hh):
    # ATen: linear_hh(hx).add_(linear_ih(input)) -- the hidden term comes first
    return linear(hx, w_hh, b_hh) + linear(input, w_ih, b_ih)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return tanh(_cell(input, hx, w_ih, w_hh, b_ih, b_hh))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return relu(_cell(input, hx, w_ih, w_hh, b_ih, b_hh))


def lstm_cell(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Returns (h', c'): i, f, g, o gates as in PyTorch's ``_thnn_fused_lstm_cell`` math."""
    gates = _cell(input, hx, w_ih, w_hh, b_ih, b_hh)
    i, f, g, o = unsafe_chunk(gates, 4, 1)
    i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    cy = f * cx + i * g
    hy = o * tanh(cy)
    return hy, cy


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = (1 - z) * n + z * h with reset r, update z and new gate n, in ATen's order of
    operations (``GRUCell`` in RNN.cpp): r = sigmoid(h_r + i_r), z = sigmoid(h_z + i_z),
    n = tanh(i_n + h_n * r), h' = (h - n) * z + n."""
    i_r, i_z, i_n = unsafe_chunk(linear(input, w_ih, b_ih), 3, 1)
    h_r, h_z, h_n = unsafe_chunk(linear(hx, w_hh, b_hh), 3, 1)
    reset_gate = sigmoid(h_r + i_r)
    input_gate = sigmoid(h_z + i_z)
    new_gate = tanh(i_n + h_n * reset_gate)
    return (hx - new_gate) * input_gate + new_gate
