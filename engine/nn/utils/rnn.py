"""Variable-length sequences for the recurrent layers, as ``torch.nn.utils.rnn``.

A :class:`PackedSequence` holds the time steps of a batch of sequences one after another,
longest sequences first within each step: ``data`` has ``sum(lengths)`` rows and
``batch_sizes[t]`` says how many sequences are still running at step ``t``. ``RNN``, ``LSTM``
and ``GRU`` take one and return one, each sequence's final state taken at its own last step.

The graphs are PyTorch's: packing is one ``PackPaddedSequenceBackward0`` (after an
``IndexSelectBackward0`` when ``enforce_sorted=False`` sorts the batch), padding is a chain of
``CopySlices`` (one per run of equal batch sizes, each over the ``ViewBackward0`` of a
``SliceBackward0`` of the data), ``pad_sequence`` one ``CopySlices`` per sequence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ...backend import get_array_module
from ...creation import full
from ...ops import cat, index_select
from ...ops._core import Node, link, make, needs_grad
from ...ops.sorting import sort
from ...tensor import Tensor
from .._rnn import _transpose01_

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class _PackedSequence(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequence):
    """``data`` (the packed steps), ``batch_sizes`` (an int64 CPU tensor: sequences running
    at each step), and the permutation that sorted the batch by length
    (``sorted_indices``) with its inverse (``unsorted_indices``), or None. Made by
    :func:`pack_padded_sequence` and :func:`pack_sequence`, not by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never "
                "be created manually. They should be instantiated by functions like "
                "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(...)``; the permutations follow the data's device. ``self`` when
        nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        from ...dtypes import float64
        return self.to(dtype=float64)

    def float(self):
        from ...dtypes import float32
        return self.to(dtype=float32)

    def half(self):
        from ...dtypes import float16
        return self.to(dtype=float16)

    def long(self):
        from ...dtypes import int64
        return self.to(dtype=int64)

    def int(self):
        from ...dtypes import int32
        return self.to(dtype=int32)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None for None)."""
    if permutation is None:
        return None
    p = permutation._data
    xp = get_array_module(p)
    out = xp.empty_like(p)
    out[p] = xp.arange(p.shape[0], dtype=p.dtype)
    return make(out)


def _int64(lengths):
    from ...dtypes import int64
    if isinstance(lengths, Tensor):
        return lengths.to(dtype=int64).cpu()
    return make(np.asarray(lengths).astype(np.int64))


# ---------------------------------------------------------------- packing
class PackPaddedSequenceBackward0(Node):
    """The packed rows' gradient goes back to their places in the padded input (zeros in
    the padding): an ``index_select`` over the rows with one zero row appended, so the
    formula is made of ops (double backward works)."""
    __slots__ = ("rows", "shape", "batch_first")

    def backward(self, g):
        n = g.shape[0]
        zero = g.new_zeros((1,) + tuple(g.shape[1:]))
        gi = index_select(cat([g, zero], 0), 0, self._where(g, n)).view(self.shape)
        return gi.transpose(0, 1) if self.batch_first else gi

    def _where(self, g, n):
        """For every (t, b) of the time-major input: its packed row, or ``n`` (the zero row)."""
        where = np.full(self.shape[0] * self.shape[1], n, dtype=np.int64)
        where[self.rows] = np.arange(n)
        return make(get_array_module(g._data).asarray(where))


def _pack_rows(batch_sizes, batch):
    """Rows (``t * batch + b``) of the time-major input that the packed data takes."""
    return np.concatenate([t * batch + np.arange(bs) for t, bs in enumerate(batch_sizes)])


def _pack_padded(input, lengths, batch_first):
    """ATen's ``_pack_padded_sequence``: (data, batch_sizes) with PyTorch's checks."""
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    x = input.transpose(0, 1) if batch_first else input
    batch = x.shape[1]
    lens = [int(v) for v in lengths.tolist()]
    if len(lens) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lens)} (batch_size={batch})")
    if lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if any(a < b for a, b in zip(lens, lens[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability.")
    if lens[0] > x.shape[0]:
        # PyTorch clamps here and returns batch_sizes that do not match its data
        raise RuntimeError(f"pack_padded_sequence: a sequence length ({lens[0]}) is larger "
                           f"than the padded input's {x.shape[0]} time steps")
    lens_arr = np.asarray(lens)
    batch_sizes = (lens_arr[None, :] > np.arange(lens[0])[:, None]).sum(1).astype(np.int64)
    rows = _pack_rows(batch_sizes, batch)
    a = x._data
    xp = get_array_module(a)
    flat = a.reshape((a.shape[0] * batch,) + a.shape[2:])
    data = make(flat[xp.asarray(rows)])
    if needs_grad(input):
        n = PackPaddedSequenceBackward0()
        n.rows, n.shape, n.batch_first = rows, a.shape, batch_first
        link(n, (input,), data)
    return data, make(batch_sizes)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch (``batch_first``: (B, T, *)) of sequences of the given
    lengths. With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is
    sorted here and the permutation kept in the result."""
    lengths = _int64(lengths)
    if enforce_sorted:
        sorted_indices = None
    else:
        lengths, sorted_indices = sort(lengths, descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack_padded(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) tensors: ``pack_padded_sequence(pad_sequence(sequences))``."""
    lengths = make(np.asarray([v.size(0) for v in sequences], dtype=np.int64))
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


# ---------------------------------------------------------------- padding
def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of packing: (padded (T, B, *) or (B, T, *) tensor, lengths), in the
    batch's original order; ``total_length`` pads to that many steps."""
    bs = [int(v) for v in sequence.batch_sizes.tolist()]
    max_len = len(bs)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_len}")
        max_len = total_length
    data = sequence.data
    rest = tuple(data.shape[1:])
    out = full((max_len, bs[0]) + rest, padding_value, dtype=data.dtype, device=data.device)
    # one copy per run of steps with the same batch size (ATen's loop)
    offset, start = 0, 0
    for t in range(1, len(bs) + 1):
        if t == len(bs) or bs[t] != bs[start]:
            n = bs[start] * (t - start)
            out[start:t, :bs[start]] = data[offset:offset + n].view((t - start, bs[start]) + rest)
            offset += n
            start = t
    lengths = np.array([sum(1 for b in bs if b > i) for i in range(bs[0])], dtype=np.int64)
    if batch_first:
        out = out.transpose(0, 1)
    lengths = make(lengths)
    if sequence.unsorted_indices is not None:
        perm = sequence.unsorted_indices
        return (out.index_select(0 if batch_first else 1, perm),
                make(lengths._data[np.asarray(perm.cpu()._data)]))
    return out, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack (L_i, *) tensors into one (max L, B, *) tensor (``batch_first``: (B, max L, *)),
    padding each at its end (``padding_side='left'``: at its start) with ``padding_value``."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    first = sequences[0]
    max_len = max(s.size(0) for s in sequences)
    n = len(sequences)
    lead = (n, max_len) if batch_first else (max_len, n)
    out = full(lead + tuple(first.shape[1:]), padding_value, dtype=first.dtype,
               device=first.device)
    for i, seq in enumerate(sequences):
        length = seq.size(0)
        start = max_len - length if padding_side == "left" else 0
        where = (i, slice(start, start + length)) if batch_first else \
            (slice(start, start + length), i)
        _check_copy(tuple(out.shape[2:]), tuple(seq.shape[1:]), length)
        out[where] = seq
    return out


def _check_copy(dst, src, length):
    """``copy_``'s broadcast check, with its message, for one sequence's trailing dims."""
    d, s = (length,) + dst, (length,) + src
    n = max(len(d), len(s))
    for i in range(1, n + 1):
        a = d[-i] if i <= len(d) else 1
        b = s[-i] if i <= len(s) else 1
        if a != b and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {n - i}")


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch. As in PyTorch, a time-major
    ``padded_sequences`` is transposed in place (it is batch-major afterwards)."""
    if not batch_first:
        _transpose01_(padded_sequences)
    max_len = padded_sequences.shape[1]
    lens = [int(v) for v in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    idx = np.arange(max_len)
    out = []
    for seq, length in zip(padded_sequences.unbind(0), lens, strict=True):
        out.append(seq[make(idx < length)])
    return out


def unpack_sequence(packed_sequences):
    """The list of sequences a :class:`PackedSequence` holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

