"""Helpers the distributions share: broadcasting parameters, probabilities <-> logits,
``lazy_property``, and the random draws.

Every random number a distribution uses comes from one of three functions here:
``_standard_normal`` (Normal, MultivariateNormal...), ``_uniform`` (Uniform, Bernoulli,
Exponential, Laplace) and ``_multinomial`` (Categorical, OneHotCategorical; with
replacement, by inverse CDF). They draw from the engine's generator on the host and place
the result on the parameters' device. They are the seams a test patches to feed both
libraries the same numbers (PyTorch's counterparts: ``_standard_normal`` in
``torch.distributions.normal`` / ``multivariate_normal``, ``torch.rand``,
``torch.multinomial``).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from .. import creation
from ..autograd.grad_mode import enable_grad
from ..dtypes import get_default_dtype
from ..random import rng
from ..tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
           "lazy_property", "euler_constant"]

euler_constant = 0.57721566490153286060


def _is_number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def broadcast_all(*values):
    """Tensors of one broadcast shape from tensors and numbers (numbers take the dtype and
    device of the first tensor, else the default dtype). A tensor already of that shape is
    returned as it is; others are expanded (differentiably)."""
    if not all(isinstance(v, Tensor) or _is_number(v) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    opts = (dict(dtype=like.dtype, device=like.device) if like is not None
            else dict(dtype=get_default_dtype()))
    tensors = [v if isinstance(v, Tensor) else creation.tensor(v, **opts) for v in values]
    shape = tuple(np.broadcast_shapes(*(tuple(t.shape) for t in tensors)))
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)


def _sum_rightmost(value, dim):
    """Sum over the rightmost ``dim`` dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def _finfo(dtype):
    return np.finfo(dtype.np if hasattr(dtype, "np") else dtype)


def clamp_probs(probs):
    """Probabilities kept within ``[eps, 1 - eps]`` of their dtype."""
    eps = float(_finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    p = clamp_probs(probs)
    if is_binary:
        return p.log() - (-p).log1p()
    return p.log()


class lazy_property:
    """A property computed (with grad enabled) on first use and then cached in the
    instance's ``__dict__``; whether a value is there says which parametrisation a
    distribution was built from."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


# ------------------------------------------------------------------------- random draws
def _standard_normal(shape, dtype, device):
    """N(0, 1) draws of ``shape``."""
    return creation.randn(*tuple(shape), dtype=dtype, device=device)


def _uniform(shape, dtype, device):
    """U[0, 1) draws of ``shape``."""
    return creation.rand(*tuple(shape), dtype=dtype, device=device)


def _multinomial(probs_2d, num_samples):
    """``(rows, num_samples)`` int64 category indices, drawn with replacement from each row
    of ``probs_2d`` (rows need not be normalised), as ``torch.multinomial(probs, n, True)``.
    """
    p = probs_2d.detach().cpu().numpy().astype(np.float64)
    cdf = np.cumsum(p, axis=-1)
    cdf /= cdf[:, -1:]
    u = rng().random((p.shape[0], num_samples))
    idx = (u[:, :, None] >= cdf[:, None, :]).sum(-1)
    idx = np.minimum(idx, p.shape[-1] - 1).astype(np.int64)
    return creation.tensor(idx, device=probs_2d.device)


class _LocMean:
    """Mixin for distributions whose mean and mode are ``loc`` (Normal, Laplace,
    MultivariateNormal)."""

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


class _LocScale(_LocMean):
    """Mixin for location-scale families (Normal, Laplace): ``loc`` and ``scale`` broadcast
    together."""

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        batch = () if _is_number(loc) and _is_number(scale) else self.loc.size()
        super().__init__(batch, validate_args=validate_args)
