"""Activation functions with PyTorch's backward nodes: ``LeakyReluBackward0``,
``EluBackward0``, ``GeluBackward0``, ``SiluBackward0``, ``SoftmaxBackward0``,
``LogSoftmaxBackward0``, ``SoftplusBackward0`` (relu, sigmoid and tanh are core ops).

Backward formulas use engine ops, so ``create_graph=True`` differentiates them again.
Softmax and log-softmax take a raw-numpy shortcut when no graph is being built (the
common case in training): fewer temporaries on the hot path, same numbers.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..autograd.grad_mode import _state
from ..ops import exp, sigmoid, tanh, where
from ..ops._core import Node, SavedTensor, link, make, needs_grad, wrap_dim
from ..ops.inplace import _inplace_unary

__all__ = ["hardtanh", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "gelu", "silu", "softmax",
           "log_softmax", "erf", "softmin", "softplus"]


def _float_input(x, op):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f'"{op}" not implemented for '
                           f"'{x.dtype.name.capitalize().replace('Int64', 'Long')}'")
    return x._data


# ---------------------------------------------------------------- erf (for exact GELU)
def _erf_array(a):
    """erf elementwise (numpy has no erf ufunc): float64 exact to the platform's libm
    (``math.erf`` per element, slow), narrower floats by :func:`_erf_float32` (fast)."""
    if backend.is_cuda_array(a):
        from cupyx.scipy.special import erf as cp_erf  # noqa: PLC0415 - GPU only
        return cp_erf(a)
    if a.dtype.itemsize <= 4:
        return _erf_float32(a.astype(np.float32, copy=False)).astype(a.dtype, copy=False)
    out = np.frompyfunc(math.erf, 1, 1)(a.astype(np.float64, copy=False))
    return np.asarray(out, dtype=np.float64).astype(a.dtype, copy=False)


_ERF_STEPS = 64       # table points per unit of |x|
_ERF_END = 4.0        # erf(4) = 1 - 1.5e-8 rounds to 1 in float32
_erf_cubics = None    # (c0, c1, c2, c3): per-interval cubic coefficients, built on first use


def _erf_table():
    """Cubic Hermite pieces of erf on [0, 4] from exact values and exact derivatives
    (2/sqrt(pi) exp(-x^2)) at steps of 1/64: interpolation error below 1e-10, far under
    float32's resolution; stored as float32 coefficients of t in [0, 1) per interval."""
    global _erf_cubics
    n = int(_ERF_END * _ERF_STEPS)
    h = 1.0 / _ERF_STEPS
    x = np.arange(n + 2) * h
    f = np.array([math.erf(v) for v in x])
    d = h * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)     # derivative in units of t
    f0, f1, d0, d1 = f[:-1], f[1:], d[:-1], d[1:]
    _erf_cubics = tuple(c.astype(np.float32) for c in
                        (f0, d0, 3 * (f1 - f0) - 2 * d0 - d1, 2 * (f0 - f1) + d0 + d1))
    return _erf_cubics


def _erf_float32(a):
    """erf of a float32 array within about one float32 ulp, in a few vectorised float32
    passes: ``|x|`` clamped to [0, 4] in table steps, split into interval and position,
    one cubic per element, the sign put back (NaN runs through as NaN)."""
    c0, c1, c2, c3 = _erf_cubics or _erf_table()
    s = np.abs(a)
    np.minimum(s, np.float32(_ERF_END), out=s)
    s *= np.float32(_ERF_STEPS)
    t, whole = np.modf(s)
    with np.errstate(invalid="ignore"):   # NaN has no interval: any one will do
        i = whole.astype(np.intp)
    out = c3.take(i, mode="clip")
    out *= t
    out += c2.take(i, mode="clip")
    out *= t
    out += c1.take(i, mode="clip")
    out *= t
    out += c0.take(i, mode="clip")
    return np.copysign(out, a, out=out)


class ErfBackward0(Node):
    __slots__ = ("self_",)
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        return g * (exp(x * x * -1.0) * (2.0 / math.sqrt(math.pi)))


def erf(input):
    """The error function, differentiable (``torch.erf``)."""
    r = make(_erf_array(_float_input(input, "erf")))
    if needs_grad(input):
        n = ErfBackward0()
        n.self_ = SavedTensor(input)
        link(n, (input,), r)
    return r


# ---------------------------------------------------------------- leaky relu / elu
class LeakyReluBackward0(Node):
    __slots__ = ("self_", "negative_slope")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)._data
        factor = np.where(x > 0, 1, self.negative_slope).astype(x.dtype, copy=False)
        return g * make(factor)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return leaky_relu_(input, negative_slope)
    a = _float_input(input, "leaky_relu")
    r = make(np.where(a > 0, a, a * negative_slope).astype(a.dtype, copy=False))
    if needs_grad(input):
        n = LeakyReluBackward0()
        n.self_, n.negative_slope = SavedTensor(input), negative_slope
        link(n, (input,), r)
    return r


class EluBackward0(Node):
    __slots__ = ("self_", "alpha", "scale", "input_scale")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        pos = make(x._data > 0)
        neg = exp(x * self.input_scale) * (self.alpha * self.scale * self.input_scale)
        return g * where(pos, self.scale, neg)


def elu(input, alpha=1.0, inplace=False, *, _scale=1.0, _input_scale=1.0):
    if inplace:
        return elu_(input, alpha)
    a = _float_input(input, "elu")
    with np.errstate(over="ignore"):
        neg = (np.expm1(np.minimum(a, 0) * _input_scale) * alpha)
    r = make((np.where(a > 0, a, neg) * _scale).astype(a.dtype, copy=False))
    if needs_grad(input):
        n = EluBackward0()
        n.self_, n.alpha, n.scale, n.input_scale = SavedTensor(input), alpha, _scale, _input_scale
        link(n, (input,), r)
    return r


class HardtanhBackward0(Node):
    __slots__ = ("self_", "min_val", "max_val")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)._data
        return g * make(((x > self.min_val) & (x < self.max_val)).astype(x.dtype))


def _hardtanh(input, min_val=-1.0, max_val=1.0):
    a = input._data
    r = make(np.clip(a, min_val, max_val).astype(a.dtype, copy=False))
    if needs_grad(input):
        n = HardtanhBackward0()
        n.self_, n.min_val, n.max_val = SavedTensor(input), min_val, max_val
        link(n, (input,), r)
    return r


_hardtanh_ = _inplace_unary(_hardtanh)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val] (``HardtanhBackward0``; the gradient is zero outside)."""
    if max_val < min_val:
        raise ValueError("max_val cannot be less than min_val")
    return _hardtanh_(input, min_val, max_val) if inplace else _hardtanh(input, min_val, max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


leaky_relu_ = _inplace_unary(leaky_relu)
elu_ = _inplace_unary(elu)


# ---------------------------------------------------------------- gelu / silu
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GeluBackward0(Node):
    """``cdf`` keeps the forward's Phi(x) (exact GELU): without a graph to build, the
    gradient ``g * (Phi(x) + x phi(x))`` then needs no second erf."""
    __slots__ = ("self_", "approximate", "cdf")
    _saved_names = ("self_",)

    def _release_saved(self):
        Node._release_saved(self)
        self.cdf = None

    def backward(self, g):
        x = self.unpack(self.self_)
        if not _state.enabled and self.cdf is not None:
            xd = x._data
            pdf = np.exp(xd * xd * -0.5)
            pdf *= _INV_SQRT_2PI
            pdf *= xd
            pdf += self.cdf
            pdf *= g._data
            return make(pdf)
        if self.approximate == "tanh":
            inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
            t = tanh(inner)
            d_inner = (x * x * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
            return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * d_inner)
        cdf = (erf(x * (1 / _SQRT_2)) + 1) * 0.5
        pdf = exp(x * x * -0.5) * _INV_SQRT_2PI
        return g * (cdf + x * pdf)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    a = _float_input(input, "GeluKernelImpl")
    if approximate == "tanh":
        out = 0.5 * a * (1 + np.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a * a * a)))
        cdf = None
    else:
        cdf = _erf_array(a * a.dtype.type(1 / _SQRT_2))
        cdf += 1
        cdf *= 0.5
        out = a * cdf
    r = make(out.astype(a.dtype, copy=False))
    if needs_grad(input):
        n = GeluBackward0()
        n.self_, n.approximate, n.cdf = SavedTensor(input), approximate, cdf
        link(n, (input,), r)
    return r


class SiluBackward0(Node):
    __slots__ = ("self_",)
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        s = sigmoid(x)
        return g * (s * (x * (1 - s) + 1))


def _silu(input):
    from ..ops.unary import _sigmoid_array
    a = _float_input(input, "silu")
    r = make(a * _sigmoid_array(a))
    if needs_grad(input):
        n = SiluBackward0()
        n.self_ = SavedTensor(input)
        link(n, (input,), r)
    return r


_silu_ = _inplace_unary(_silu)


def silu(input, inplace=False):
    return _silu_(input) if inplace else _silu(input)


# ---------------------------------------------------------------- softplus
class SoftplusBackward0(Node):
    """``sigmoid(beta x)`` below the threshold, 1 above it (0.5 at 0: the kinks of a
    composite ``log1p(exp(-|x|)) + relu(x)`` would give 0 there)."""
    __slots__ = ("self_", "beta", "threshold")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        bx = x * self.beta
        return where(bx > self.threshold, g, g * sigmoid(bx))


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold`` (as PyTorch)."""
    a = _float_input(input, "softplus")
    bx = a * beta
    soft = np.log1p(np.exp(-np.abs(bx))) + np.maximum(bx, 0)
    if beta != 1:
        soft = soft / beta
    r = make(np.where(bx > threshold, a, soft).astype(a.dtype, copy=False))
    if needs_grad(input):
        n = SoftplusBackward0()
        n.self_, n.beta, n.threshold = SavedTensor(input), beta, threshold
        link(n, (input,), r)
    return r


# ---------------------------------------------------------------- softmax / log_softmax
def _softmax_dim(name, ndim, stacklevel=3):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _prep(input, dim, dtype, name):
    if dtype is not None:
        input = input.to(dtype)
    a = _float_input(input, name)
    if dim is None:
        dim = _softmax_dim(name, a.ndim, 4)
    return input, a, (wrap_dim(dim, a.ndim) if a.ndim else 0)


class SoftmaxBackward0(Node):
    __slots__ = ("dim", "result")
    _saved_names = ("result",)

    def backward(self, g):
        d = self.dim
        y = self.unpack(self.result)
        if not _state.enabled:  # no graph to build: plain arrays
            yd = y._data
            gy = g._data * yd
            return make(gy - yd * gy.sum(axis=d, keepdims=True))
        gy = g * y
        return gy - y * gy.sum(d, keepdim=True)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, a, d = _prep(input, dim, dtype, "softmax")
    if a.ndim == 0:
        e = np.ones_like(a)
    else:
        e = np.exp(a - a.max(axis=d, keepdims=True))
        e /= e.sum(axis=d, keepdims=True)
    r = make(e)
    if needs_grad(input):
        n = SoftmaxBackward0()
        n.dim, n.result = d, SavedTensor(r, is_output=True)
        link(n, (input,), r)
    return r


class LogSoftmaxBackward0(Node):
    __slots__ = ("dim", "result")
    _saved_names = ("result",)

    def backward(self, g):
        d = self.dim
        y = self.unpack(self.result)
        if not _state.enabled:
            gd = g._data
            return make(gd - np.exp(y._data) * gd.sum(axis=d, keepdims=True))
        return g - exp(y) * g.sum(d, keepdim=True)


def _log_softmax_array(a, d):
    if a.ndim == 0:
        return np.zeros_like(a)
    m = a.max(axis=d, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0)
    s = a - m
    with np.errstate(divide="ignore"):
        s -= np.log(np.exp(s).sum(axis=d, keepdims=True))
    return s


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, a, d = _prep(input, dim, dtype, "log_softmax")
    r = make(_log_softmax_array(a, d))
    if needs_grad(input):
        n = LogSoftmaxBackward0()
        n.dim, n.result = d, SavedTensor(r, is_output=True)
        link(n, (input,), r)
    return r


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return softmax(-input, dim, dtype=dtype)
