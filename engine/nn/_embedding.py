"""Index-to-vector ops: ``embedding`` (``EmbeddingBackward0`` over the weight only) and
``one_hot``."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend import get_array_module
from ..ops._core import Node, link, make, needs_grad
from ..tensor import Tensor

__all__ = ["embedding", "one_hot"]


def _check_indices(input, op):
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        tn = type(input).__name__ if not isinstance(input, Tensor) else \
            {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
             "bool": "torch.BoolTensor"}.get(str(input._data.dtype), str(input._data.dtype))
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {tn} instead (while "
                           f"checking arguments for {op})")
    return input._data


class EmbeddingDenseBackwardBackward0(Node):
    """The embedding backward is linear in its gradient: its own backward gathers rows."""
    __slots__ = ("indices",)

    def backward(self, gg):
        return _gather_rows(gg, self.indices)


class EmbeddingBackward0(Node):
    __slots__ = ("indices", "num_weights", "padding_idx", "scale_grad_by_freq")

    def backward(self, g):
        idx = self.indices
        flat = idx.reshape(-1)
        dim = g._data.shape[-1]
        rows = g._data.reshape(-1, dim)
        if self.scale_grad_by_freq:
            counts = np.bincount(flat, minlength=self.num_weights)
            rows = rows / counts[flat][:, None].astype(rows.dtype)
        if self.padding_idx is not None:
            keep = flat != self.padding_idx
            flat, rows = flat[keep], rows[keep]
        xp = get_array_module(rows)
        out = xp.zeros((self.num_weights, dim), dtype=g._data.dtype)
        if xp is np:
            np.add.at(out, flat, rows)
        else:
            import cupyx  # noqa: PLC0415 - GPU only
            cupyx.scatter_add(out, flat, rows)
        r = make(out)
        if needs_grad(g):
            n = EmbeddingDenseBackwardBackward0()
            n.indices = idx
            link(n, (g,), r)
        return r


def _gather_rows(weight, idx):
    return embedding(make(idx), weight)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``; any shape of indices."""
    idx = _check_indices(input, "embedding")
    num = weight._data.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx + num if padding_idx < 0 else padding_idx
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    r = make(weight._data[idx])
    if needs_grad(weight):
        n = EmbeddingBackward0()
        n.indices, n.num_weights = idx, num
        n.padding_idx, n.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        link(n, (weight,), r)
    return r


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Rescale (in place, outside autograd) the looked-up rows whose norm exceeds max_norm."""
    with no_grad():
        rows = np.unique(idx.reshape(-1))
        w = weight._data
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] *= scale[:, None].astype(w.dtype)
        weight._vc[0] += 1


def one_hot(tensor, num_classes=-1):
    """int64 one-hot vectors along a new last dim."""
    a = tensor._data if isinstance(tensor, Tensor) else None
    if a is None or a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
        if not a.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    elif a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(a.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, a[..., None], 1, axis=-1)
    return make(out)
