"""More activations with PyTorch's backward nodes: ``prelu`` (``PreluKernelBackward0``),
``mish``, ``hardswish``, ``hardsigmoid``, ``selu`` (``EluBackward0``), ``celu``, ``glu``,
``logsigmoid``, ``softshrink``, ``hardshrink``, ``threshold``; and the composites ``softsign``
(``x / (|x| + 1)``) and ``tanhshrink`` (``x - tanh x``) built from engine ops as PyTorch
builds them.

Each backward formula uses engine ops (masks of the saved input enter as constants), so
``create_graph=True`` differentiates them again. ``inplace=True`` writes into the input
through ``ops.inplace`` and keeps the out-of-place node, as the engine's other in-place
activations do (PyTorch names some of those ``EluBackward1`` / ``ThresholdBackward1``).
"""

from __future__ import annotations

import numpy as np

from ..ops import cat, sigmoid, tanh, where
from ..ops._core import Node, SavedTensor, link, make, needs_grad, wrap_dim
from ..ops.inplace import _inplace_unary
from ._activation import EluBackward0, elu, softplus
from ._group_norm import type_word

__all__ = ["prelu", "mish", "hardswish", "hardsigmoid", "selu", "celu", "glu", "logsigmoid",
           "softshrink", "hardshrink", "threshold", "softsign", "tanhshrink"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _kernel_input(x, kernel):
    """The input's array, refusing non-float dtypes with PyTorch's kernel message."""
    a = x._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_word(a.dtype)}\'')
    return a


def _unary(x, out, cls, **attrs):
    """Wrap ``out`` with a node of ``cls`` saving ``x`` as ``self_`` plus ``attrs``."""
    r = make(out.astype(x._data.dtype, copy=False))
    if needs_grad(x):
        n = cls()
        n.self_ = SavedTensor(x)
        for k, v in attrs.items():
            setattr(n, k, v)
        link(n, (x,), r)
    return r


def _mask(x, cond):
    return make(cond.astype(x._data.dtype))


# ---------------------------------------------------------------- prelu
class PreluKernelBackward0(Node):
    __slots__ = ("self_", "weight")
    _saved_names = ("self_", "weight")

    def backward(self, g):
        x = self.unpack(self.self_)
        w = self.unpack(self.weight)
        pos = make(x._data > 0)
        gx = where(pos, g, g * w) if self.needs(0) else None
        gw = where(pos, 0.0, g * x) if self.needs(1) else None
        return gx, gw


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)``, ``weight`` one value or one per channel (dim 1)."""
    if weight.dim() > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    a, w = input._data, weight._data
    if a.dtype != w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {type_word(a.dtype)} and "
                           f"{type_word(w.dtype)}")
    channels = a.shape[1] if a.ndim >= 2 else 1
    if w.size != 1 and w.size != channels:
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {w.size} and channel size = {channels}.")
    if a.ndim > 1:
        shape = [1] * a.ndim
        if w.size != 1:
            shape[1] = w.size
        weight = weight.reshape(*shape)
    wd = weight._data
    r = make(np.where(a > 0, a, a * wd).astype(a.dtype, copy=False))
    if needs_grad(input, weight):
        n = PreluKernelBackward0()
        n.self_, n.weight = SavedTensor(input), SavedTensor(weight)
        link(n, (input, weight), r)
    return r


# ---------------------------------------------------------------- mish, hardswish, hardsigmoid
class MishBackward0(Node):
    """``tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2)`` with ``sp = softplus(x)``."""
    __slots__ = ("self_",)
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        t = tanh(softplus(x))
        return g * (t + x * sigmoid(x) * (1 - t * t))


def _mish(input):
    a = _kernel_input(input, "mish_cpu")
    with np.errstate(over="ignore"):
        sp = np.where(a > 20, a, np.log1p(np.exp(np.minimum(a, 20))))
    return _unary(input, a * np.tanh(sp), MishBackward0)


class HardswishBackward0(Node):
    __slots__ = ("self_",)
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        a = x._data
        mid = _mask(x, (a >= -3) & (a <= 3))
        return g * (mid * (x / 3 + 0.5) + _mask(x, a > 3))


def _hardswish(input):
    a = _kernel_input(input, "hardswish_cpu")
    return _unary(input, a * np.clip(a + 3, 0, 6) / 6, HardswishBackward0)


# PyTorch's hardsigmoid backward multiplies by the float literal 1.0f / 6.0f (also in double)
_ONE_SIXTH_F = float(np.float32(1.0 / 6.0))


class HardsigmoidBackward0(Node):
    __slots__ = ("self_",)
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        return g * (_mask(x, (x._data > -3) & (x._data < 3)) * _ONE_SIXTH_F)


def _hardsigmoid(input):
    a = _kernel_input(input, "hardsigmoid_cpu")
    return _unary(input, np.clip(a + 3, 0, 6) / 6, HardsigmoidBackward0)


# ---------------------------------------------------------------- selu, celu
def _selu(input):
    _kernel_input(input, "elu_cpu")
    return elu(input, _SELU_ALPHA, _scale=_SELU_SCALE)


class CeluBackward0(EluBackward0):
    __slots__ = ()


def _celu(input, alpha=1.0):
    a = _kernel_input(input, "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    with np.errstate(over="ignore"):
        neg = np.expm1(np.minimum(a, 0) / alpha) * alpha
    # PyTorch's celu backward uses 1 / alpha.toFloat(): alpha rounded to float32 first
    return _unary(input, np.where(a > 0, a, neg), CeluBackward0, alpha=alpha, scale=1.0,
                  input_scale=1.0 / float(np.float32(alpha)))


# ---------------------------------------------------------------- glu
class GluBackward0(Node):
    __slots__ = ("self_", "dim")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        a, b = x.chunk(2, self.dim)
        s = sigmoid(b)
        return cat([g * s, g * a * s * (1 - s)], self.dim)


def glu(input, dim=-1):
    """``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    a = _kernel_input(input, "glu_cpu")
    d = wrap_dim(dim, a.ndim)
    if a.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{a.shape[d]}")
    first, second = np.split(a, 2, axis=d)
    from ..ops.unary import _sigmoid_array
    return _unary(input, first * _sigmoid_array(second), GluBackward0, dim=d)


# ---------------------------------------------------------------- log-sigmoid
class LogSigmoidBackward0(Node):
    __slots__ = ("self_",)
    _saved_names = ("self_",)

    def backward(self, g):
        return g * sigmoid(-self.unpack(self.self_))


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    a = _kernel_input(input, "log_sigmoid_cpu")
    return _unary(input, np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a))), LogSigmoidBackward0)


# ---------------------------------------------------------------- shrinks and threshold
def _check_lambd(a, lambd):
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, 3.40282e+38] for input dtype "
                           f"{type_word(a.dtype)}, but found {lambd:g}")


class SoftshrinkBackward0(Node):
    __slots__ = ("self_", "lambd")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        return g * _mask(x, np.abs(x._data) > self.lambd)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    a = _kernel_input(input, "softshrink_check")
    _check_lambd(a, lambd)
    out = np.where(a > lambd, a - lambd, np.where(a < -lambd, a + lambd, 0))
    return _unary(input, out, SoftshrinkBackward0, lambd=lambd)


class HardshrinkBackward0(SoftshrinkBackward0):
    __slots__ = ()


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    a = _kernel_input(input, "hardshrink_cpu")
    return _unary(input, np.where(np.abs(a) > lambd, a, 0), HardshrinkBackward0, lambd=lambd)


class ThresholdBackward0(Node):
    __slots__ = ("self_", "threshold")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        return g * _mask(x, x._data > self.threshold)


def _threshold(input, threshold, value):
    a = input._data
    out = np.where(a > threshold, a, a.dtype.type(value))
    return _unary(input, out, ThresholdBackward0, threshold=threshold)


# ---------------------------------------------------------------- composites
def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


# ---------------------------------------------------------------- the public forms
_mish_ = _inplace_unary(_mish)
_hardswish_ = _inplace_unary(_hardswish)
_hardsigmoid_ = _inplace_unary(_hardsigmoid)
_selu_ = _inplace_unary(_selu)
_celu_ = _inplace_unary(_celu)
_threshold_ = _inplace_unary(_threshold)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _mish_(input) if inplace else _mish(input)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _hardswish_(input) if inplace else _hardswish(input)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    return _hardsigmoid_(input) if inplace else _hardsigmoid(input)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants (``EluBackward0``)."""
    return _selu_(input) if inplace else _selu(input)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _celu_(input, alpha) if inplace else _celu(input, alpha)


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``."""
    return _threshold_(input, threshold, value) if inplace else \
        _threshold(input, threshold, value)


selu_ = _selu_
celu_ = _celu_
threshold_ = _threshold_
