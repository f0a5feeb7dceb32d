"""The maps ``parametrizations.orthogonal`` turns a free matrix into an orthogonal one with:
the matrix exponential of a skew-symmetric matrix and a product of Householder reflectors,
both differentiable; and the host-side QR helpers its ``right_inverse`` uses.

``matrix_exp`` is one node, ``LinalgMatrixExpBackward0`` as in PyTorch: the forward is
scaling and squaring of a degree-18 Taylor polynomial (the error is below the float64
rounding for the scaled norm <= 1/2); the backward is the upper-right block of the
exponential of ``[[A^T, G], [0, A^T]]``, computed by the same op, so it differentiates
again. ``householder_product`` is written with engine ops (one rank-1 update per
reflector), so its graph shows those ops where PyTorch shows its fused
``LinalgHouseholderProductBackward0``; ``tril`` is a mask product (``MulBackward0``, where
PyTorch shows ``TrilBackward0``).
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...ops import cat
from ...ops._core import Node, SavedTensor, link, make, needs_grad

__all__ = ["matrix_exp", "householder_product", "tril", "make_orthogonal", "is_orthogonal",
           "geqrf"]


def _const(like, arr):
    """A constant tensor from a host array, on ``like``'s device and in its dtype."""
    arr = np.asarray(arr, dtype=like._data.dtype)
    if backend.is_cuda_array(like._data):
        arr = backend.to_device_array(arr, like.device)
    return make(arr)


def _expm_array(a):
    xp = backend.get_array_module(a)
    norm = float(xp.abs(a).sum(-2).max()) if a.size else 0.0      # the 1-norm, bounded
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    b = a / (2.0 ** s)
    eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    e = eye
    for k in range(18, 0, -1):                  # Horner: I + b (I + b/2 (I + b/3 (...)))
        e = eye + (b @ e) / k
    for _ in range(s):
        e = e @ e
    return xp.ascontiguousarray(e)


class LinalgMatrixExpBackward0(Node):
    __slots__ = ("self_",)
    _saved_names = ("self_",)

    def backward(self, g):
        a = self.unpack(self.self_)
        n = a.shape[-1]
        at = a.mT
        zero = _const(a, np.zeros(tuple(a.shape)))
        block = cat([cat([at, g], -1), cat([zero, at], -1)], -2)
        return matrix_exp(block)[..., :n, n:]


def matrix_exp(a):
    """``torch.linalg.matrix_exp`` for square (batches of) matrices."""
    if a.dim() < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices, but they "
                           f"are {a.shape[-2]} by {a.shape[-1]} matrices")
    r = make(_expm_array(a._data))
    if needs_grad(a):
        n = LinalgMatrixExpBackward0()
        n.self_ = SavedTensor(a)
        link(n, (a,), r)
    return r


def tril(x, diagonal=0):
    """The lower triangle of the last two dims (the rest zeroed), differentiably."""
    n, k = x.shape[-2], x.shape[-1]
    return x * _const(x, np.tri(n, k, diagonal))


def householder_product(a, tau):
    """``H_1 H_2 ... H_k`` (first k columns), ``H_i = I - tau_i v_i v_i^T`` with ``v_i`` the
    i-th column of ``a`` below the diagonal and 1 on it (``a`` is (..., n, k), n >= k)."""
    n, k = a.shape[-2], a.shape[-1]
    below = tril(a, -1)
    q = _const(a, np.broadcast_to(np.eye(n, k), tuple(a.shape)))
    for i in range(k - 1, -1, -1):           # from the right: q = H_i q
        e = np.zeros(n)
        e[i] = 1.0
        v = below[..., :, i] + _const(a, e)                                   # (..., n)
        vq = (v.unsqueeze(-2) @ q)                                            # (..., 1, k)
        q = q - (tau[..., i].unsqueeze(-1).unsqueeze(-1) * v.unsqueeze(-1)) @ vq
    return q


def geqrf(q):
    """LAPACK's QR (``torch.geqrf``) of a host or device array: ``(a, tau)``, reflectors
    below the diagonal of ``a`` and R on and above it."""
    xp = backend.get_array_module(q)
    h, tau = xp.linalg.qr(q, mode="raw")
    return xp.swapaxes(h, -1, -2), tau


def make_orthogonal(a):
    """The Q of ``a``'s QR with R's diagonal made positive (arrays, no autograd)."""
    xp = backend.get_array_module(a)
    q, r = xp.linalg.qr(a)
    d = xp.sign(xp.diagonal(r, axis1=-2, axis2=-1))
    return q * d[..., None, :]


def is_orthogonal(q):
    """``Q^T Q`` equals I within ``10 n eps`` (PyTorch's test)."""
    xp = backend.get_array_module(q)
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * float(np.finfo(q.dtype).eps)
    return bool(xp.allclose(xp.swapaxes(q, -1, -2) @ q, xp.eye(k, dtype=q.dtype), atol=eps))

