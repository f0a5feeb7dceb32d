"""Dropout: multiply by a random keep-mask scaled by ``1/(1-p)`` (a ``MulBackward0`` whose
second input is the constant mask, as PyTorch's graph shows); identity in eval mode."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..ops._core import make
from ..random import rng

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _mask(shape, p, like, generator=None):
    keep = rng(generator).random(shape, dtype=np.float32) >= p
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    m = keep.astype(like.dtype) * like.dtype.type(scale)
    if backend.is_cuda_array(like):
        from ..device import as_device
        m = backend.to_device_array(m, as_device(str(backend.device_of_array(like))))
    return make(m)


def _apply(input, mask, inplace):
    return input.mul_(mask) if inplace else input * mask


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply(input, _mask(input._data.shape, p, input._data), inplace)


def _feature_dropout(input, p, training, inplace, nd, name):
    _check_p(p)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input, but received a "
                           f"{input.ndim}D input.")
    if not training or p == 0.0:
        return input
    shape = input._data.shape
    batched = input.ndim == nd + 2
    mshape = shape[:2] + (1,) * nd if batched else shape[:1] + (1,) * nd
    return _apply(input, _mask(mshape, p, input._data), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) / (C, L) inputs."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) / (C, H, W) inputs."""
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """SELU-preserving dropout: dropped units take the SELU saturation value, then an affine
    correction keeps mean and variance."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    alpha_p = -1.7580993408473766  # -selu_scale * selu_alpha
    keep = make((rng().random(input._data.shape, dtype=np.float32) >= p).astype(input._data.dtype))
    a = (1.0 / np.sqrt((alpha_p ** 2 * p + 1) * (1 - p))) if p < 1 else 0.0
    b = -a * alpha_p * p
    out = (input * keep + (1 - keep) * alpha_p) * float(a) + float(b)
    return input.copy_(out) if inplace else out
