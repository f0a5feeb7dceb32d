"""``engine.linalg``: the norms PyTorch's ``torch.linalg`` offers that the engine supports.

``vector_norm`` is the op behind ``Tensor.norm`` (``LinalgVectorNormBackward0``); the
Frobenius norm of a matrix is the vector 2-norm of its entries, as in PyTorch.
"""

from __future__ import annotations

from .ops.reduction import vector_norm as _vector_norm

__all__ = ["vector_norm", "norm", "matrix_norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return _vector_norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if ord != "fro":
        raise NotImplementedError(f"linalg.matrix_norm: only ord='fro' is supported, got {ord!r}")
    return vector_norm(A, 2, dim, keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector norm for 1-d input or an int ``dim``; Frobenius for matrices (``ord`` None)."""
    if ord is None or ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None and A.dim() != 1:
        raise NotImplementedError("linalg.norm: matrix norms other than 'fro' are not supported")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)
