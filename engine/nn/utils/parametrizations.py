"""``nn.utils.parametrizations``: ``orthogonal``, ``weight_norm`` and ``spectral_norm`` as
parametrizations (``parametrize.register_parametrization``), with PyTorch's state_dict
names: ``parametrizations.weight.original`` and the buffer ``...weight.0.base`` for
orthogonal; ``parametrizations.weight.original0`` (g) and ``original1`` (v) for weight
norm; ``parametrizations.weight.original`` and the power-iteration buffers
``parametrizations.weight.0._u`` / ``_v`` for spectral norm.

Weight norm over dim 0 or the last dim is one node, ``WeightNormInterfaceBackward0`` over
(v, g), as PyTorch's fused kernel shows it; over another dim or the whole tensor
(``dim=None``) it is decomposed into the ops PyTorch uses (``v * (g / norm)``). The
backward is written with engine ops, so it differentiates again.
"""

from __future__ import annotations

from ... import backend
from ...autograd.grad_mode import no_grad
from ...ops import cat, mv
from ...ops._core import Node, SavedTensor, link, make, needs_grad
from ...tensor import Tensor
from .. import functional as F
from ..modules.module import Module
from . import _orthogonal_maps as maps
from . import parametrize

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


# ------------------------------------------------------------------------ weight norm
def _norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim``, shaped to broadcast against ``v``
    (``dim == -1``: the norm of the whole tensor), as ``torch.norm_except_dim``."""
    if dim == -1:
        return v.norm(2)
    if dim == 0:
        shape = (v.shape[0],) + (1,) * (v.dim() - 1)
        return v.contiguous().view(v.shape[0], -1).norm(2, 1).view(shape)
    if dim == v.dim() - 1:
        shape = (1,) * (v.dim() - 1) + (v.shape[-1],)
        return v.contiguous().view(-1, v.shape[-1]).norm(2, 0).view(shape)
    return _norm_except_dim(v.transpose(0, dim), 0).transpose(0, dim)


class WeightNormInterfaceBackward0(Node):
    """``w = v * g / ||v||`` (norm over all dims but ``dim``): gradients for (v, g)."""

    __slots__ = ("v", "g", "dim")
    _saved_names = ("v", "g")

    def backward(self, gw):
        v, g = self.unpack(self.v), self.unpack(self.g)
        norm = _norm_except_dim(v, self.dim)
        axes = tuple(i for i in range(v.dim()) if i != self.dim)
        s = (gw * v).sum(axes, keepdim=True)            # <grad_w, v> per slice
        grad_g = s / norm if self.needs(1) else None
        grad_v = (g / norm) * (gw - v * (s / (norm * norm))) if self.needs(0) else None
        return grad_v, grad_g


def _weight_norm(v, g, dim=0):
    """``torch._weight_norm(v, g, dim)``: ``v * (g / norm_except_dim(v, 2, dim))``."""
    if dim not in (0, v.dim() - 1):
        return v * (g / _norm_except_dim(v, dim))
    xp = backend.get_array_module(v._data)
    axes = tuple(i for i in range(v._data.ndim) if i != dim)
    norm = xp.sqrt((v._data * v._data).sum(axis=axes, keepdims=True))
    r = make((v._data * (g._data / norm)).astype(v._data.dtype, copy=False))
    if needs_grad(v, g):
        n = WeightNormInterfaceBackward0()
        n.v, n.g, n.dim = SavedTensor(v), SavedTensor(g), dim
        link(n, (v, g), r)
    return r


class _WeightNorm(Module):
    """``forward(g, v)``: the weight; ``right_inverse(w)``: ``(||w||, w)``."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (Salimans & Kingma 2016): the
    magnitude ``g`` (``original0``) and direction ``v`` (``original1``) are learned
    separately; ``dim`` is the dim kept by the norm (None: the whole tensor).
    State dicts saved with the old ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``)
    load too."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                     unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_compat_hook)
    return module


# ---------------------------------------------------------------------- spectral norm
class _SpectralNorm(Module):
    """``W / sigma`` with ``sigma`` the largest singular value of ``W`` (as a matrix over
    ``dim``), estimated by power iteration on the buffers ``_u`` and ``_v``; in training
    mode each forward advances ``n_power_iterations`` steps (outside autograd)."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        with no_grad():
            w = weight_mat.detach()
            for _ in range(n_power_iterations):
                _assign(self._u, F.normalize(mv(w, self._v), dim=0, eps=self.eps))
                _assign(self._v, F.normalize(mv(w.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def _assign(buf, value):
    """``buf`` overwritten in place (as PyTorch's ``normalize(..., out=buf)``)."""
    buf._data[...] = value._data
    buf._vc[0] += 1


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (Miyato et al. 2018). ``dim`` defaults
    to 1 for transposed convolutions, else 0."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations,
                                                                      dim, eps))
    return module


# ------------------------------------------------------------------------- orthogonal
_MAPS = ("matrix_exp", "cayley", "householder")


class _Orthogonal(Module):
    """An orthogonal matrix (or batch) from a free one: ``exp(A - A^T)`` of its lower
    triangle (``matrix_exp``) or a product of Householder reflectors (``householder``);
    with ``use_trivialization`` times the buffer ``base`` that ``right_inverse`` sets, so
    the original starts at a fixed point of the map. Wide matrices are handled
    transposed."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map == "matrix_exp":
            X = maps.tril(X)
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], -1)
            Q = maps.matrix_exp(X - X.mT)
            if n != k:
                Q = Q[..., :k]
        else:
            A = maps.tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = maps.householder_product(A, tau)
            diag = X._data.diagonal(axis1=-2, axis2=-1).astype("int64").astype(X._data.dtype)
            Q = Q * make(diag).unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        """An original that maps to ``Q`` (``Q`` made orthogonal first if it is not)."""
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        with no_grad():
            q = Q._data
            n, k = q.shape[-2], q.shape[-1]
            transpose = n < k
            if transpose:
                q = q.swapaxes(-1, -2)
                n, k = k, n
            xp = backend.get_array_module(q)
            if "base" not in self._buffers:
                if self.orthogonal_map in ("cayley", "matrix_exp"):
                    raise NotImplementedError("It is not possible to assign to the matrix "
                                              "exponential or the Cayley parametrizations "
                                              "when use_trivialization=False.")
                a, tau = maps.geqrf(q)
                d = xp.sign(a.diagonal(axis1=-2, axis2=-1))
                d = xp.where(tau == 0.0, -d, d)
                a = a.copy()
                idx = xp.arange(k)
                a[..., idx, idx] = d
                return make(a.swapaxes(-1, -2) if transpose else a)
            if n == k:
                q = q.copy() if maps.is_orthogonal(q) else maps.make_orthogonal(q)
            else:
                noise = Q.new_empty(*(tuple(q.shape[:-2]) + (n, n - k))).normal_()._data
                q = maps.make_orthogonal(xp.concatenate([q, noise], -1))
            self.base = make(xp.ascontiguousarray(q))
            neg_id = xp.zeros(tuple(Q.shape), Q._data.dtype)
            idx = xp.arange(min(Q.shape[-2], Q.shape[-1]))
            neg_id[..., idx, idx] = -1.0
            return make(neg_id)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain ``module.<name>`` to orthogonal (or semi-orthogonal) matrices. The
    default map is ``matrix_exp`` for square matrices, ``householder`` otherwise.
    ``cayley`` needs ``linalg.solve``, which the engine does not have yet: it raises."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    if orthogonal_map == "cayley":
        raise NotImplementedError("orthogonal_map='cayley' needs linalg.solve, which the "
                                  "engine does not provide yet; use 'matrix_exp' or "
                                  "'householder'")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
