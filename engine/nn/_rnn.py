"""Recurrent nets from ops, so the graph shows what PyTorch's CPU graph shows.

The cells are ATen's (``RNN.cpp``): the hidden term ``linear_hh(h)`` plus the input term,
``unsafe_chunk`` for the gates (``UnsafeSplitBackward0``), the nonlinearities and the
products, in ATen's order of operations. ``rnn`` runs whole layers the way ATen's CPU path
does (``FullLayer``, ``ReversedFullLayer``, ``PackedLayer``, ``ReversedPackedLayer``,
``apply_layer_stack``):

- the input-to-hidden projection of every time step is one GEMM per layer and direction
  (``linear`` over the whole sequence, then ``unbind(0)``; on packed data, ``narrow`` of
  the projected rows), so only the hidden-to-hidden GEMM runs per step;
- each direction's step outputs are stacked (``StackBackward0``), the two directions joined
  by ``cat`` on the last dimension, dropout (``MulBackward0`` with the mask) between layers
  in training, the final states of all layers and directions stacked;
- with ``batch_first`` the input is transposed in and the output back (``transpose_``,
  ``TransposeBackward1``, for RNN and GRU; ``transpose``, ``TransposeBackward0``, for LSTM).

PyTorch's graph has one fused node where this module has the decomposition: for a float32
LSTM on the CPU (not packed, no projections) PyTorch runs oneDNN and records one
``MkldnnRnnLayerBackward0`` per layer and direction. The engine builds that LSTM from the
same ops as everywhere else, which is exactly the graph PyTorch itself records for a float64
LSTM, a packed one, one with projections, or any LSTM with oneDNN disabled
(``torch.backends.mkldnn.flags(enabled=False)``). Numbers are the same either way.
"""

from __future__ import annotations

import numpy as np

from ..ops import cat, matmul, relu, sigmoid, stack, tanh
from ..ops._core import Node, link, make, needs_grad, wrap_dim
from ..ops.inplace import _inplace_view
from ._dropout import dropout as _dropout
from ._linear import linear

__all__ = ["unsafe_chunk", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn"]


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


class TransposeBackward1(Node):
    """``transpose_(0, 1)``: the gradient is transposed back."""
    __slots__ = ("shape",)

    def backward(self, g):
        return g.transpose(0, 1)


def _transpose01_(x):
    return _inplace_view(x, x._data.swapaxes(0, 1), TransposeBackward1)


def linear_nd(input, weight, bias=None):
    """ATen's ``linear`` for any input: ``addmm`` on a 2-D input or a contiguous one (viewed
    as 2-D and back); otherwise ``matmul`` with the transposed weight and the bias added
    (a batch-first input transposed to time-major is not contiguous)."""
    if bias is not None and (input.ndim == 2 or input.is_contiguous()):
        return linear(input, weight, bias)
    out = matmul(input, weight.t())
    return out if bias is None else out + bias


# ---------------------------------------------------------------- cells
# Each cell takes ``x``, the input term of this step: ``linear_ih(input)`` already computed
# for the whole sequence (``pre_compute_input`` in ATen), and ``p``, the layer's weights
# (w_ih, w_hh, b_ih, b_hh, w_hr).

def _tanh_step(x, h, p):
    return tanh(linear(h, p[1], p[3]) + x)


def _relu_step(x, h, p):
    return relu(linear(h, p[1], p[3]) + x)


def _lstm_gates(gates, cx, w_hr):
    i, f, g, o = unsafe_chunk(gates, 4, 1)
    i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    cy = f * cx + i * g
    hy = o * tanh(cy)
    return (hy if w_hr is None else matmul(hy, w_hr.t())), cy


def _lstm_step(x, hc, p):
    return _lstm_gates(linear(hc[0], p[1], p[3]) + x, hc[1], p[4])


def _gru_step(x, h, p):
    i_r, i_z, i_n = unsafe_chunk(x, 3, 1)
    h_r, h_z, h_n = unsafe_chunk(linear(h, p[1], p[3]), 3, 1)
    reset_gate = sigmoid(h_r + i_r)
    input_gate = sigmoid(h_z + i_z)
    new_gate = tanh(i_n + h_n * reset_gate)
    return (h - new_gate) * input_gate + new_gate


# The single-step cells of ``RNNCell`` / ``LSTMCell`` / ``GRUCell`` compute their input term
# themselves, after the hidden term (``linear_hh(hx).add_(linear_ih(input))``); the GRU
# computes its input gates first.

def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``tanh(linear_hh(hx) + linear_ih(input))``."""
    return tanh(linear(hx, w_hh, b_hh) + linear(input, w_ih, b_ih))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return relu(linear(hx, w_hh, b_hh) + linear(input, w_ih, b_ih))


def lstm_cell(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Returns (h', c'): i, f, g, o gates as in ATen's ``LSTMCell``."""
    return _lstm_gates(linear(hx, w_hh, b_hh) + linear(input, w_ih, b_ih), cx, None)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = (1 - z) * n + z * h with reset r, update z and new gate n, in ATen's order of
    operations (``GRUCell`` in RNN.cpp): r = sigmoid(h_r + i_r), z = sigmoid(h_z + i_z),
    n = tanh(i_n + h_n * r), h' = (h - n) * z + n."""
    return _gru_step(linear(input, w_ih, b_ih), hx, (w_ih, w_hh, b_ih, b_hh, None))


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step,
          "GRU": _gru_step}


# ---------------------------------------------------------------- hidden states
# A hidden state is a tensor, or for the LSTM an (h, c) pair; these treat both alike.

def _out(hidden):
    return hidden[0] if type(hidden) is tuple else hidden


def _slice(hidden, start, end):
    if type(hidden) is tuple:
        return hidden[0][start:end], hidden[1][start:end]
    return hidden[start:end]


def _concat(hiddens):
    if type(hiddens[0]) is tuple:
        return cat([h for h, _ in hiddens], 0), cat([c for _, c in hiddens], 0)
    return cat(hiddens, 0)


# ---------------------------------------------------------------- layers
def _full_layer(step, x, hidden, p, reverse):
    """One direction over a (T, B, *) sequence: ``FullLayer`` / ``ReversedFullLayer``."""
    xs = linear_nd(x, p[0], p[2]).unbind(0)
    outputs = []
    for t in (range(len(xs) - 1, -1, -1) if reverse else range(len(xs))):
        hidden = step(xs[t], hidden, p)
        outputs.append(_out(hidden))
    if reverse:
        outputs.reverse()
    return stack(outputs, 0), hidden


def _packed_layer(step, data, batch_sizes, hidden, p):
    """``PackedLayer``: step ``t`` reads ``batch_sizes[t]`` rows; when the batch shrinks,
    the finished sequences' hidden rows are kept aside for the final state."""
    xw = linear_nd(data, p[0], p[2])
    outputs, finished = [], []
    offset, last = 0, batch_sizes[0]
    for bs in batch_sizes:
        x = xw[offset:offset + bs]
        offset += bs
        if bs < last:
            finished.append(_slice(hidden, bs, last))
            hidden = _slice(hidden, 0, bs)
        last = bs
        hidden = step(x, hidden, p)
        outputs.append(_out(hidden))
    finished.append(hidden)
    finished.reverse()
    return cat(outputs, 0), _concat(finished)


def _reversed_packed_layer(step, data, batch_sizes, hidden0, p):
    """``ReversedPackedLayer``: from the last step back, starting with the rows of the
    sequences that are that long and taking in the others' initial states as they begin."""
    xw = linear_nd(data, p[0], p[2])
    outputs = []
    offset, last = data.shape[0], batch_sizes[-1]
    hidden = _slice(hidden0, 0, last)
    for bs in reversed(batch_sizes):
        if bs > last:
            hidden = _concat([hidden, _slice(hidden0, last, bs)])
        x = xw[offset - bs:offset]
        offset -= bs
        last = bs
        hidden = step(x, hidden, p)
        outputs.append(_out(hidden))
    outputs.reverse()
    return cat(outputs, 0), hidden


def _layer(step, x, batch_sizes, hidden, p, reverse):
    if batch_sizes is None:
        return _full_layer(step, x, hidden, p, reverse)
    if reverse:
        return _reversed_packed_layer(step, x, batch_sizes, hidden, p)
    return _packed_layer(step, x, batch_sizes, hidden, p)


def rnn(mode, input, hx, params, num_layers, dropout, train, bidirectional,
        batch_first=False, batch_sizes=None):
    """ATen's ``rnn_tanh`` / ``rnn_relu`` / ``gru`` / ``lstm`` on the CPU.

    ``input`` is (T, B, in) (or (B, T, in) with ``batch_first``) or, with ``batch_sizes``
    (a list of ints), the data of a packed sequence. ``hx`` is the (layers * directions, B, H)
    initial state (an (h0, c0) pair for ``'LSTM'``); ``params`` one (w_ih, w_hh, b_ih, b_hh,
    w_hr) tuple per layer and direction (None where absent). Returns (output, h_n) or, for
    the LSTM, (output, (h_n, c_n)).
    """
    step = _STEPS[mode]
    lstm = mode == "LSTM"
    if batch_sizes is None and batch_first:
        input = input.transpose(0, 1)
    if batch_sizes is None and input.shape[0] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    if lstm:
        hiddens = list(zip(hx[0].unbind(0), hx[1].unbind(0)))
    else:
        hiddens = list(hx.unbind(0))
    directions = 2 if bidirectional else 1
    finals = []
    x = input
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            out, final = _layer(step, x, batch_sizes, hiddens[k], params[k], d == 1)
            outs.append(out)
            finals.append(final)
        x = cat(outs, outs[0].ndim - 1) if bidirectional else outs[0]
        if dropout != 0 and train and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    if lstm:
        hidden = (stack([h for h, _ in finals], 0), stack([c for _, c in finals], 0))
    else:
        hidden = stack(finals, 0)
    if batch_sizes is None and batch_first:
        x = x.transpose(0, 1) if lstm else _transpose01_(x)
    return x, hidden
