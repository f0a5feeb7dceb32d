"""Batch and layer normalisation: ``NativeBatchNormBackward0`` and
``NativeLayerNormBackward0`` (inputs: input, weight, bias), as PyTorch names them.

Forward works on arrays. Backward is written with engine ops and recomputes the batch
statistics from the saved input, so its result is a differentiable function of the input,
the weight and the incoming gradient (``create_graph`` gives exact second derivatives).
"""

from __future__ import annotations

import numpy as np

from ..ops._core import Node, SavedTensor, link, make, needs_grad
from ..size import Size

__all__ = ["batch_norm", "layer_norm"]


def _normalized_grads(node, g, x, axes, stats_shape, weight, training, eps, mean=None,
                      invstd=None, param_axes=None, param_shape=None):
    """Gradients of ``y = (x - mean) * invstd * weight + bias`` w.r.t. x, weight, bias,
    with mean/invstd over ``axes`` (training) or fixed (``mean``/``invstd`` arrays)."""
    if training:
        mu = x.mean(axes, keepdim=True)
        xc = x - mu
        inv = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        xc = x - make(mean)
        inv = make(invstd)
    xhat = xc * inv
    w = weight.reshape(stats_shape) if weight is not None else None
    gx = gw = gb = None
    if node.needs(0):
        gy = g * w if w is not None else g
        if training:
            gx = (gy - gy.mean(axes, keepdim=True) - xhat * (gy * xhat).mean(axes, keepdim=True)) \
                * inv
        else:
            gx = gy * inv
    if node.needs(1):
        gw = (g * xhat).sum(param_axes).reshape(param_shape)
    if node.needs(2):
        gb = g.sum(param_axes).reshape(param_shape)
    return gx, gw, gb


class NativeBatchNormBackward0(Node):
    __slots__ = ("self_", "weight", "training", "eps", "mean", "invstd", "axes", "stats_shape")
    _saved_names = ("self_", "weight")

    def backward(self, g):
        x = self.unpack(self.self_)
        w = self.unpack(self.weight) if self.weight is not None else None
        return _normalized_grads(self, g, x, self.axes, self.stats_shape, w, self.training,
                                 self.eps, self.mean, self.invstd, self.axes,
                                 (self.stats_shape[1],))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise over every dim but the channel dim 1; update running stats in training."""
    a = input._data
    if a.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {a.ndim}D input)")
    C = a.shape[1]
    axes = (0,) + tuple(range(2, a.ndim))
    stats_shape = (1, C) + (1,) * (a.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    if training:
        count = a.size // C
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {Size(a.shape)!r}")
        mean = a.mean(axis=axes, keepdims=True, dtype=a.dtype)
        xc = a - mean
        var = (xc * xc).mean(axis=axes, keepdims=True, dtype=a.dtype)
        invstd = 1 / np.sqrt(var + eps)
        if running_mean is not None:
            rm = running_mean._data
            rm *= 1 - momentum
            rm += momentum * mean.reshape(C).astype(rm.dtype, copy=False)
            running_mean._vc[0] += 1
        if running_var is not None:
            rv = running_var._data
            rv *= 1 - momentum
            rv += momentum * (var.reshape(C) * (count / (count - 1))).astype(rv.dtype, copy=False)
            running_var._vc[0] += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean = running_mean._data.reshape(stats_shape).astype(a.dtype, copy=False)
        invstd = (1 / np.sqrt(running_var._data.reshape(stats_shape) + eps)).astype(a.dtype,
                                                                                   copy=False)
        xc = a - mean
    out = xc * invstd
    if weight is not None:
        out = out * weight._data.reshape(stats_shape)
    if bias is not None:
        out = out + bias._data.reshape(stats_shape)
    r = make(out.astype(a.dtype, copy=False))
    if needs_grad(input, weight, bias):
        n = NativeBatchNormBackward0()
        n.self_ = SavedTensor(input)
        n.weight = SavedTensor(weight) if weight is not None else None
        n.training, n.eps, n.axes, n.stats_shape = training, eps, axes, stats_shape
        n.mean, n.invstd = (None, None) if training else (mean, invstd)
        link(n, (input, weight, bias), r)
    return r


class NativeLayerNormBackward0(Node):
    __slots__ = ("self_", "weight", "eps", "axes", "stats_shape")
    _saved_names = ("self_", "weight")

    def backward(self, g):
        x = self.unpack(self.self_)
        w = self.unpack(self.weight) if self.weight is not None else None
        lead = tuple(range(x.ndim - len(self.axes)))
        return _normalized_grads(self, g, x, self.axes, self.stats_shape, w, True, self.eps,
                                 param_axes=lead, param_shape=self.stats_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims of each sample."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    a = input._data
    k = len(ns)
    if a.ndim < k or a.shape[a.ndim - k:] != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in ns)}], but got input of size"
                           f"{list(a.shape)}")
    axes = tuple(range(a.ndim - k, a.ndim))
    mean = a.mean(axis=axes, keepdims=True, dtype=a.dtype)
    xc = a - mean
    var = (xc * xc).mean(axis=axes, keepdims=True, dtype=a.dtype)
    out = xc / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight._data
    if bias is not None:
        out = out + bias._data
    r = make(out.astype(a.dtype, copy=False))
    if needs_grad(input, weight, bias):
        n = NativeLayerNormBackward0()
        n.self_ = SavedTensor(input)
        n.weight = SavedTensor(weight) if weight is not None else None
        n.eps, n.axes, n.stats_shape = eps, axes, ns
        link(n, (input, weight, bias), r)
    return r
