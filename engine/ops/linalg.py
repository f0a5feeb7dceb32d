"""Matrix products: ``mm``, ``addmm``, ``bmm``, ``mv``, ``dot`` and ``matmul``, which
decomposes into them the way PyTorch does (so the graph shows the same nodes)."""

from __future__ import annotations

import numpy as np

from ._core import Node, SavedTensor, check_same_device, link, make, needs_grad
from ..tensor import Tensor


def _shape_str(s):
    return "x".join(str(d) for d in s)


def _check_mm(a, b, n1="mat1", n2="mat2"):
    if a.ndim != 2:
        raise RuntimeError(f"{n1} must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"{n2} must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"{n1} and {n2} shapes cannot be multiplied "
                           f"({_shape_str(a.shape)} and {_shape_str(b.shape)})")


def _check_dtypes(a, b, op):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_tn(a)} != {_tn(b)}")
    if type(a._data) is not type(b._data):
        check_same_device(a, b)


def _tn(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int"}.get(str(t._data.dtype), str(t._data.dtype))


class MmBackward0(Node):
    __slots__ = ("self_", "mat2")
    _saved_names = ("self_", "mat2")

    def backward(self, g):
        ga = mm(g, self.unpack(self.mat2).t()) if self.needs(0) else None
        gb = mm(self.unpack(self.self_).t(), g) if self.needs(1) else None
        return ga, gb


def mm(input, mat2):
    a, b = input._data, mat2._data
    _check_mm(a, b)
    _check_dtypes(input, mat2, "mm")
    r = make(a @ b)
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
    prod = a @ b
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


def bmm(input, mat2):
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


class UnsafeViewBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return g.reshape(self.shape)


def _unsafe_view(t, shape):
    r = make(t._data.reshape(shape))
    if needs_grad(t):
        n = UnsafeViewBackward0()
        n.shape = t._data.shape
        link(n, (t,), r)
    return r


def matmul(input, other):
    """``@`` with PyTorch's dispatch: dot, mv, mm, folded mm for N-d @ 2-d, bmm otherwise."""
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError("matmul(): argument 'other' must be Tensor")
    da, db = input._data.ndim, other._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        if input._data.shape[0] != other._data.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x"
                               f"{input._data.shape[0]} and {_shape_str(other._data.shape)})")
        return mm(input.unsqueeze(0), other).squeeze(0)
    if da == 2 and db == 2:
        return mm(input, other)
    if da >= 3 and db <= 2:
        # fold the batch into rows: (..., n, k) @ (k, m) -> view, mm, _unsafe_view
        lead = input._data.shape[:-1]
        k = input._data.shape[-1]
        if db == 1:
            folded = mm(input.reshape(-1, k), other.unsqueeze(1))
            return _unsafe_view(folded, lead)
        if k != other._data.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({_shape_str((int(np.prod(lead)), k))} and "
                               f"{_shape_str(other._data.shape)})")
        folded = mm(input.reshape(-1, k), other)
        return _unsafe_view(folded, lead + (other._data.shape[-1],))
    # batched: broadcast the batch dims, then bmm on 3-d views
    a = input.unsqueeze(0) if da == 1 else input
    b = other.unsqueeze(-1) if db == 1 else other
    ab, bb = a._data.shape[:-2], b._data.shape[:-2]
    try:
        batch = np.broadcast_shapes(ab, bb)
    except ValueError:
        raise RuntimeError(f"The size of tensor a must match the size of tensor b at "
                           f"non-singleton dimension: matmul of shapes {list(input.shape)} and "
                           f"{list(other.shape)}") from None
    n, k = a._data.shape[-2:]
    k2, m = b._data.shape[-2:]
    if k != k2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{int(np.prod(batch))}, {k}] but got: [{int(np.prod(batch))}, {k2}].")
    nb = int(np.prod(batch)) if batch else 1
    a3 = a.expand(batch + (n, k)).reshape(nb, n, k) if ab != batch or a._data.ndim != 3 else a
    b3 = b.expand(batch + (k, m)).reshape(nb, k, m) if bb != batch or b._data.ndim != 3 else b
    out = bmm(a3, b3)
    if out._data.shape != batch + (n, m):
        out = _unsafe_view(out, batch + (n, m))
    if da == 1:
        out = out.squeeze(-2)
    if db == 1:
        out = out.squeeze(-1)
    return out
