"""Elementwise functions of one tensor and their derivatives, side by side."""

from __future__ import annotations

import numpy as np

from ._core import Node, SavedTensor, link, make, needs_grad
from ..dtypes import get_default_dtype


def _float(arr):
    """Integer inputs of float functions compute in the default float dtype (PyTorch)."""
    return arr if arr.dtype.kind == "f" else arr.astype(get_default_dtype().np)


class _SelfNode(Node):
    __slots__ = ("self_",)
    _saved_names = ("self_",)


class _ResultNode(Node):
    __slots__ = ("result",)
    _saved_names = ("result",)


def _unary(cls, data, x, save="self"):
    r = make(data)
    if needs_grad(x):
        n = cls()
        if save == "self":
            n.self_ = SavedTensor(x)
        elif save == "result":
            n.result = SavedTensor(r, is_output=True)
        link(n, (x,), r)
    return r


class ExpBackward0(_ResultNode):
    def backward(self, g):
        return g * self.unpack(self.result)


def exp(input):
    return _unary(ExpBackward0, np.exp(_float(input._data)), input, "result")


class LogBackward0(_SelfNode):
    def backward(self, g):
        return g / self.unpack(self.self_)


def log(input):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(LogBackward0, np.log(_float(input._data)), input)


class Log1PBackward0(_SelfNode):
    def backward(self, g):
        return g / (self.unpack(self.self_) + 1)


def log1p(input):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(Log1PBackward0, np.log1p(_float(input._data)), input)


class Expm1Backward0(_ResultNode):
    def backward(self, g):
        return g * (self.unpack(self.result) + 1)


def expm1(input):
    return _unary(Expm1Backward0, np.expm1(_float(input._data)), input, "result")


class SqrtBackward0(_ResultNode):
    def backward(self, g):
        return g / (self.unpack(self.result) * 2)


def sqrt(input):
    with np.errstate(invalid="ignore"):
        return _unary(SqrtBackward0, np.sqrt(_float(input._data)), input, "result")


class RsqrtBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        return g * (r * r * r) * -0.5


def rsqrt(input):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(RsqrtBackward0, 1 / np.sqrt(_float(input._data)), input, "result")


class ReciprocalBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        return -g * (r * r)


def reciprocal(input):
    with np.errstate(divide="ignore"):
        return _unary(ReciprocalBackward0, np.reciprocal(_float(input._data)), input, "result")


class SinBackward0(_SelfNode):
    def backward(self, g):
        return g * cos(self.unpack(self.self_))


def sin(input):
    return _unary(SinBackward0, np.sin(_float(input._data)), input)


class CosBackward0(_SelfNode):
    def backward(self, g):
        return g * -sin(self.unpack(self.self_))


def cos(input):
    return _unary(CosBackward0, np.cos(_float(input._data)), input)


class TanhBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        return g * (1 - r * r)


def tanh(input):
    return _unary(TanhBackward0, np.tanh(_float(input._data)), input, "result")


class SigmoidBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        return g * (r * (1 - r))


def _sigmoid_array(a):
    # exp of a non-positive argument only: no overflow warnings for large |x|.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def sigmoid(input):
    return _unary(SigmoidBackward0, _sigmoid_array(_float(input._data)), input, "result")


class ReluBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        return g * (r._data > 0)


def relu(input):
    a = input._data
    return _unary(ReluBackward0, np.maximum(a, 0, dtype=a.dtype), input, "result")


class AbsBackward0(_SelfNode):
    def backward(self, g):
        return g * sign(self.unpack(self.self_))


def abs(input):
    return _unary(AbsBackward0, np.abs(input._data), input)


absolute = abs


class _ZeroGrad(Node):
    """Piecewise-constant functions: the gradient is zero everywhere."""
    __slots__ = ()

    def backward(self, g):
        return g * 0


class SignBackward0(_ZeroGrad):
    __slots__ = ()


class FloorBackward0(_ZeroGrad):
    __slots__ = ()


class CeilBackward0(_ZeroGrad):
    __slots__ = ()


class RoundBackward0(_ZeroGrad):
    __slots__ = ()


class TruncBackward0(_ZeroGrad):
    __slots__ = ()


def sign(input):
    return _unary(SignBackward0, np.sign(input._data), input, None)


def floor(input):
    return _unary(FloorBackward0, np.floor(input._data), input, None)


def ceil(input):
    return _unary(CeilBackward0, np.ceil(input._data), input, None)


def round(input, *, decimals=0):
    return _unary(RoundBackward0, np.round(input._data, decimals), input, None)


def trunc(input):
    return _unary(TruncBackward0, np.trunc(input._data), input, None)


class ClampBackward1(_SelfNode):
    __slots__ = ("min", "max")

    def backward(self, g):
        x = self.unpack(self.self_)._data
        mask = np.ones(x.shape, dtype=bool)
        if self.min is not None:
            mask &= x >= self.min
        if self.max is not None:
            mask &= x <= self.max
        return g * mask


class ClampMinBackward0(ClampBackward1):
    __slots__ = ()


class ClampMaxBackward0(ClampBackward1):
    __slots__ = ()


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    from ..tensor import Tensor
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .select import maximum, minimum
        r = input
        if min is not None:
            r = maximum(r, min)
        if max is not None:
            r = minimum(r, max)
        return r
    a = input._data
    data = np.clip(a, min, max)
    if data.dtype != a.dtype and a.dtype.kind == "f":
        data = data.astype(a.dtype)
    cls = ClampBackward1 if (min is not None and max is not None) else (
        ClampMinBackward0 if min is not None else ClampMaxBackward0)
    r = make(data)
    if needs_grad(input):
        n = cls()
        n.self_ = SavedTensor(input)
        n.min = min
        n.max = max
        link(n, (input,), r)
    return r


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def square(input):
    from .arithmetic import pow
    return pow(input, 2)
