"""Gradient clipping: ``clip_grad_norm_`` (returns the total norm) and ``clip_grad_value_``.

Both work on the ``.grad`` arrays in place, outside autograd, as PyTorch does under
``no_grad``; the total norm is a 0-d tensor in the gradients' dtype.
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...ops._core import make
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _params(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters):
    return [p.grad for p in _params(parameters) if p.grad is not None]


def _norm(arr, p):
    xp = backend.get_array_module(arr)
    a = xp.abs(arr)
    if p == math.inf:
        return a.max() if a.size else xp.asarray(0, dtype=arr.dtype)
    if p == -math.inf:
        return a.min()
    if p == 0:
        return (arr != 0).sum().astype(arr.dtype)
    if p == 2:
        return xp.sqrt((arr * arr).sum())
    if p == 1:
        return a.sum()
    return (a ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` taken together (the norm of their norms)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    p = float(norm_type)
    if not tensors:
        return make(np.asarray(0.0, dtype=np.float32))
    norms = [_norm(t._data, p) for t in tensors]
    xp = backend.get_array_module(tensors[0]._data)
    dtype = tensors[0]._data.dtype
    stacked = xp.asarray([xp.asarray(n).reshape(()) for n in norms] if xp is np else
                         xp.stack([xp.asarray(n).reshape(()) for n in norms]), dtype=dtype)
    total = xp.asarray(_norm(stacked, p), dtype=dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return make(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every ``.grad`` by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = _grads(parameters)
    if not grads:
        return
    coef = float(max_norm) / (float(total_norm.item()) + 1e-6)
    coef = min(coef, 1.0)
    for g in grads:
        g._data *= g._data.dtype.type(coef)
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescale the gradients so their total norm is at most ``max_norm``; returns the total
    norm before clipping (a 0-d tensor). ``foreach`` is accepted and ignored."""
    params = _params(parameters)
    total = get_total_norm(_grads(params), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    v = float(clip_value)
    for g in _grads(parameters):
        xp = backend.get_array_module(g._data)
        xp.clip(g._data, -v, v, out=g._data)
        g._vc[0] += 1
