"""``MultivariateNormal(loc, covariance_matrix= | precision_matrix= | scale_tril=)``.

Everything goes through the lower Cholesky factor ``L`` of the covariance (``scale_tril``
as given, ``cholesky(covariance_matrix)``, or from the precision by the flip trick PyTorch
uses): ``rsample = loc + L eps``, ``log_prob`` from the Mahalanobis distance by a triangular
solve and ``log det = 2 sum log diag L``. The other two parametrisations are computed on
first use (``lazy_property``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import linalg
from ..creation import eye
from ..ops import matmul
from ..size import Size
from . import constraints, utils
from .distribution import Distribution
from .utils import _LocMean, lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat, bvec):
    return matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """``x^T (L L^T)^{-1} x`` over broadcast batches, by one triangular solve with the
    batch dims of ``x`` folded so that ``L``'s batch is solved once (PyTorch's layout)."""
    n = bx.size(-1)
    bx_batch_shape = tuple(bx.shape[:-1])
    bx_batch_dims = len(bx_batch_shape)
    bL_batch_dims = bL.dim() - 2
    outer = bx_batch_dims - bL_batch_dims
    old_batch_dims = outer + bL_batch_dims
    new_batch_dims = outer + 2 * bL_batch_dims
    new_shape = tuple(bx.shape[:outer])
    for sL, sx in zip(bL.shape[:-2], bx.shape[outer:-1]):
        new_shape += (sx // sL, sL)
    bx = bx.reshape(new_shape + (n,))
    perm = (list(range(outer)) + list(range(outer, new_batch_dims, 2))
            + list(range(outer + 1, new_batch_dims, 2)) + [new_batch_dims])
    bx = bx.permute(perm)
    flat_L = bL.reshape(-1, n, n)
    flat_x = bx.reshape(-1, flat_L.size(0), n)
    flat_x_swap = flat_x.permute(1, 2, 0)
    m_swap = linalg.solve_triangular(flat_L, flat_x_swap, upper=False).pow(2).sum(-2)
    m = m_swap.t().reshape(tuple(bx.shape[:-1]))
    inv = list(range(outer))
    for i in range(bL_batch_dims):
        inv += [outer + i, old_batch_dims + i]
    return m.permute(inv).reshape(bx_batch_shape)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of ``P^{-1}`` without inverting ``P``: the flipped
    Cholesky factor of the flipped ``P`` is an upper factor of ``P``, whose inverse
    transpose is the wanted lower factor."""
    Lf = linalg.cholesky(P.flip((-2, -1)))
    L_inv = Lf.flip((-2, -1)).transpose(-2, -1)
    Id = eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return linalg.solve_triangular(L_inv, Id, upper=False)


def _half_log_det(L):
    return L.diagonal(dim1=-2, dim2=-1).log().sum(-1)


class MultivariateNormal(_LocMean, Distribution):
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(n, m) for n, m in (("scale_tril", scale_tril),
                                     ("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix)) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, mat = given[0]
        if mat.dim() < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        batch_shape = Size(np.broadcast_shapes(tuple(mat.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, mat.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = mat
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = linalg.cholesky(mat)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(mat)

    def expand(self, batch_shape, _instance=None):
        k = tuple(self.event_shape)
        new = self._expand_params(MultivariateNormal, batch_shape,
                                  {"loc": k, "covariance_matrix": k + k,
                                   "scale_tril": k + k, "precision_matrix": k + k}, _instance)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return matmul(L, L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        Id = eye(L.shape[-1], dtype=L.dtype, device=L.device)
        L_inv = linalg.solve_triangular(L, Id, upper=False)
        return matmul(L_inv.mT, L_inv).expand(self._matrix_shape())

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = utils._standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return (-0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M)
                - _half_log_det(self._unbroadcasted_scale_tril))

    def entropy(self):
        H = (0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi))
             + _half_log_det(self._unbroadcasted_scale_tril))
        return H if len(self._batch_shape) == 0 else H.expand(self._batch_shape)
