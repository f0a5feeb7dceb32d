"""Matrix products: ``mm``, ``addmm``, ``bmm``, ``mv``, ``dot`` and ``matmul``, which
decomposes into them the way PyTorch does (so the graph shows the same nodes)."""

from __future__ import annotations

import numpy as np

from ._core import Node, SavedTensor, check_same_device, into_out, link, make, needs_grad
from ._parallel import matmul as _parallel_matmul
from ..tensor import Tensor


def _shape_str(s):
    return "x".join(str(d) for d in s)


def _check_mm(a, b, op="addmm"):
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix" if op == "mm" else
                           f"mat1 must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix" if op == "mm" else
                           f"mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({_shape_str(a.shape)} and {_shape_str(b.shape)})")


def _check_dtypes(a, b, op):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_tn(a)} != {_tn(b)}")
    if type(a._data) is not type(b._data):
        check_same_device(a, b)


def _tn(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}.get(str(t._data.dtype), str(t._data.dtype))


class MmBackward0(Node):
    __slots__ = ("self_", "mat2")
    _saved_names = ("self_", "mat2")

    def backward(self, g):
        ga = mm(g, self.unpack(self.mat2).t()) if self.needs(0) else None
        gb = mm(self.unpack(self.self_).t(), g) if self.needs(1) else None
        return ga, gb


def _mm_array(a, b):
    """``a @ b`` for 2-D arrays. An inner size of 1 (the weight gradient at batch 1) is an
    outer product: numpy's matmul takes 18x longer over it than ``multiply`` (54 vs 3 us
    for 400x1 @ 1x120), with the same bits (one product per element)."""
    if a.shape[1] == 1 and a.shape[0] > 1 and b.shape[1] > 1 and a.dtype == b.dtype:
        return a * b
    return _parallel_matmul(a, b)       # large products spread over the engine's threads


def mm(input, mat2, *, out=None):
    if out is not None:
        return into_out(out, "mm", mm, input, mat2)
    a, b = input._data, mat2._data
    _check_mm(a, b, "mm")
    _check_dtypes(input, mat2, "mm")
    r = make(_mm_array(a, b))
    if needs_grad(input, mat2):
        n = MmBackward0()
        n.self_ = SavedTensor(input) if mat2._requires_grad else None
        n.mat2 = SavedTensor(mat2) if input._requires_grad else None
        link(n, (input, mat2), r)
    return r


class AddmmBackward0(Node):
    __slots__ = ("mat1", "mat2", "alpha", "beta")
    _saved_names = ("mat1", "mat2")

    def backward(self, g):
        gs = (g if self.beta == 1 else g * self.beta) if self.needs(0) else None
        ga = gb = None
        if self.needs(1):
            ga = mm(g, self.unpack(self.mat2).t())
            if self.alpha != 1:
                ga = ga * self.alpha
        if self.needs(2):
            gb = mm(self.unpack(self.mat1).t(), g)
            if self.alpha != 1:
                gb = gb * self.alpha
        return gs, ga, gb


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    a, b = mat1._data, mat2._data
    _check_mm(a, b)
    _check_dtypes(mat1, mat2, "addmm")
    prod = _mm_array(a, b)
    if alpha != 1:
        prod *= alpha
    bias = input._data if beta == 1 else input._data * beta
    try:
        prod += bias
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({prod.shape[-1]}) must match the "
                           f"existing size ({input._data.shape[-1]}) at non-singleton dimension "
                           f"1.  Target sizes: {list(prod.shape)}.  Tensor sizes: "
                           f"{list(input._data.shape)}") from None
    r = make(prod)
    if needs_grad(input, mat1, mat2):
        n = AddmmBackward0()
        n.mat1 = SavedTensor(mat1) if mat2._requires_grad else None
        n.mat2 = SavedTensor(mat2) if mat1._requires_grad else None
        n.alpha, n.beta = alpha, beta
        link(n, (input, mat1, mat2), r)
    return r


class BmmBackward0(Node):
    __slots__ = ("self_", "mat2")
    _saved_names = ("self_", "mat2")

    def backward(self, g):
        ga = bmm(g, self.unpack(self.mat2).transpose(1, 2)) if self.needs(0) else None
        gb = bmm(self.unpack(self.self_).transpose(1, 2), g) if self.needs(1) else None
        return ga, gb


def bmm(input, mat2, *, out=None):
    if out is not None:
        return into_out(out, "bmm", bmm, input, mat2)
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor; got {a.ndim}-D and {b.ndim}-D")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _check_dtypes(input, mat2, "bmm")
    r = make(np.matmul(a, b))
    if needs_grad(input, mat2):
        n = BmmBackward0()
        n.self_ = SavedTensor(input) if mat2._requires_grad else None
        n.mat2 = SavedTensor(mat2) if input._requires_grad else None
        link(n, (input, mat2), r)
    return r


class MvBackward0(Node):
    __slots__ = ("self_", "vec")
    _saved_names = ("self_", "vec")

    def backward(self, g):
        ga = g.unsqueeze(1) * self.unpack(self.vec).unsqueeze(0) if self.needs(0) else None
        gb = mv(self.unpack(self.self_).t(), g) if self.needs(1) else None
        return ga, gb


def mv(input, vec):
    a, b = input._data, vec._data
    if a.ndim != 2 or b.ndim != 1 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({_shape_str(a.shape)}),"
                           f" vec ({_shape_str(b.shape)})")
    r = make(a @ b)
    if needs_grad(input, vec):
        n = MvBackward0()
        n.self_ = SavedTensor(input) if vec._requires_grad else None
        n.vec = SavedTensor(vec) if input._requires_grad else None
        link(n, (input, vec), r)
    return r


class DotBackward0(Node):
    __slots__ = ("self_", "tensor")
    _saved_names = ("self_", "tensor")

    def backward(self, g):
        ga = g * self.unpack(self.tensor) if self.needs(0) else None
        gb = g * self.unpack(self.self_) if self.needs(1) else None
        return ga, gb


def dot(input, other):
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    r = make(np.asarray(a @ b, dtype=a.dtype))
    if needs_grad(input, other):
        n = DotBackward0()
        n.self_ = SavedTensor(input) if other._requires_grad else None
        n.tensor = SavedTensor(other) if input._requires_grad else None
        link(n, (input, other), r)
    return r


def _should_fold(t1, t2):
    """PyTorch's ``should_fold``: fold the batch of the larger (>= 3-d) operand into mm/mv
    rows when the smaller one requires grad, or when the fold needs no copy."""
    d1, d2 = t1._data.ndim, t2._data.ndim
    larger_first = d1 >= d2
    big = t1._data if larger_first else np.swapaxes(t2._data, -1, -2)
    small_nd = d2 if larger_first else d1
    if not (big.ndim >= 3 and small_nd <= 2):
        return False
    if (t2 if larger_first else t1)._requires_grad:
        return True
    if d1 == 2:
        return False
    if big.size == 0:
        return True
    st = [s // big.itemsize for s in big.strides]
    return all(st[i] == st[i + 1] * big.shape[i + 1] for i in range(big.ndim - 2))


def _batch_shape(a, b, ta, tb):
    """Broadcast two batch shapes, naming the mismatch as PyTorch's ``infer_size`` does."""
    n = max(len(a), len(b))
    out = []
    for i in range(n):
        x = a[i - n + len(a)] if i - n + len(a) >= 0 else 1
        y = b[i - n + len(b)] if i - n + len(b) >= 0 else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def matmul(input, other, *, out=None):
    """``@`` with PyTorch's dispatch (``_matmul_impl``): dot, mv, mm, a folded mm/mv for
    N-d @ 1/2-d, expand + bmm otherwise, so the graph shows PyTorch's nodes."""
    if out is not None:
        return into_out(out, "matmul", matmul, input, other)
    from .inplace import squeeze_
    from .shape import _unsafe_view
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(other).__name__ if isinstance(input, Tensor) else type(input).__name__}")
    da, db = input._data.ndim, other._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return squeeze_(mm(input.unsqueeze(0), other), 0)
    if da == 2 and db == 2:
        return mm(input, other)
    if _should_fold(input, other):
        transpose = db > da
        t1 = other.mT if transpose else input
        t2 = (input.t() if da == 2 else input) if transpose else other
        sizes1 = t1._data.shape
        out_shape = sizes1[:-1]
        folded = t1.reshape(int(np.prod(out_shape)), sizes1[-1])
        if t2._data.ndim == 2:
            out = _unsafe_view(mm(folded, t2), out_shape + (t2._data.shape[1],))
            return out.mT.contiguous() if transpose else out
        return _unsafe_view(mv(folded, t2), out_shape)
    a_shape, b_shape = input._data.shape, other._data.shape
    n = a_shape[-2] if da > 1 else 1
    m1 = a_shape[-1]
    m2 = b_shape[-2] if db > 1 else b_shape[0]
    p = b_shape[-1] if db > 1 else 1
    batch = _batch_shape(a_shape[:max(da - 2, 0)], b_shape[:max(db - 2, 0)], input, other)
    nb = int(np.prod(batch)) if batch else 1
    a3 = input.expand(batch + (n, m1)).reshape(nb, n, m1)
    if db == 1:
        b3 = other.expand(batch + (m2,)).reshape(nb, m2).unsqueeze(2)
    else:
        b3 = other.expand(batch + (m2, p)).reshape(nb, m2, p)
    out_shape = batch + ((n,) if da > 1 else ()) + ((p,) if db > 1 else ())
    out = bmm(a3, b3)
    if db == 1:
        out = out.squeeze(-1)
    return _unsafe_view(out, out_shape)
