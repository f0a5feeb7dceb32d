"""``+ - * / **`` and negation, with broadcasting. Each op's forward sits right above its
backward; backward formulas use engine ops so ``create_graph`` gets their graph too."""

from __future__ import annotations

import numpy as np

from ._core import (SavedTensor, Node, as_tensor_arg, binary_arrays, broadcast_check, into_out,
                    link, make, needs_grad)
from ..tensor import Tensor


def _binary(op_name, fn, a, b):
    ad, bd = binary_arrays(a, b)
    try:
        return fn(ad, bd)
    except ValueError:
        broadcast_check(op_name, ad, bd)
        raise


def _scaled(b, alpha):
    return make(b._data * alpha) if isinstance(b, Tensor) else b * alpha


def _other(b):
    return b if isinstance(b, Tensor) else None


# ---------------------------------------------------------------- add / sub
class AddBackward0(Node):
    __slots__ = ("alpha",)

    def backward(self, g):
        if not self.needs(1):
            return g, None
        return g, (g if self.alpha == 1 else g * self.alpha)


def add(input, other, *, alpha=1, out=None):
    if out is not None:
        return into_out(out, "add", add, input, other, alpha=alpha)
    a, b = _lhs(input, other)
    data = _binary("add", np.add, a, b if alpha == 1 else _scaled(b, alpha))
    r = make(data)
    if needs_grad(a, b):
        n = AddBackward0()
        n.alpha = alpha
        link(n, (a, _other(b)), r)
    return r


class SubBackward0(Node):
    __slots__ = ("alpha",)

    def backward(self, g):
        if not self.needs(1):
            return g, None
        return g, (-g if self.alpha == 1 else g * -self.alpha)


def sub(input, other, *, alpha=1, out=None):
    if out is not None:
        return into_out(out, "sub", sub, input, other, alpha=alpha)
    a, b = _lhs(input, other)
    if a._data.dtype == np.bool_ and (not isinstance(b, Tensor) or b._data.dtype == np.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    data = _binary("sub", np.subtract, a, b if alpha == 1 else _scaled(b, alpha))
    r = make(data)
    if needs_grad(a, b):
        n = SubBackward0()
        n.alpha = alpha
        link(n, (a, _other(b)), r)
    return r


class RsubBackward1(Node):
    __slots__ = ()

    def backward(self, g):
        return -g


def rsub(input, other):
    """``other - input`` for a scalar ``other`` (PyTorch's ``RsubBackward1``)."""
    if isinstance(other, Tensor):
        return sub(other, input)
    a = input
    ad, s = binary_arrays(a, other)
    r = make(s - ad)
    if needs_grad(a):
        link(RsubBackward1(), (a,), r)
    return r


# ---------------------------------------------------------------- mul / div
class MulBackward0(Node):
    __slots__ = ("self_", "other")
    _saved_names = ("self_", "other")

    def backward(self, g):
        ga = gb = None
        if self.needs(0):
            ga = g * self.unpack_or_value(self.other)
        if self.needs(1):
            gb = g * self.unpack(self.self_)
        return ga, gb


def mul(input, other, *, out=None):
    if out is not None:
        return into_out(out, "mul", mul, input, other)
    a, b = _lhs(input, other)
    r = make(_binary("mul", np.multiply, a, b))
    bt = _other(b)
    if needs_grad(a, bt):
        n = MulBackward0()
        n.self_ = SavedTensor(a) if bt is not None and bt._requires_grad else None
        n.other = SavedTensor(bt) if bt is not None else b
        link(n, (a, bt), r)
    return r


class DivBackward0(Node):
    __slots__ = ("self_", "other")
    _saved_names = ("self_", "other")

    def backward(self, g):
        other = self.unpack_or_value(self.other)
        ga = g / other if self.needs(0) else None
        gb = None
        if self.needs(1):
            gb = -g * self.unpack(self.self_) / (other * other)
        return ga, gb


def div(input, other, *, rounding_mode=None, out=None):
    if out is not None:
        return into_out(out, "div", div, input, other, rounding_mode=rounding_mode)
    a, b = _lhs(input, other)
    if rounding_mode is not None:
        ad, bd = binary_arrays(a, b)
        fn = np.floor_divide if rounding_mode == "floor" else (lambda x, y: np.trunc(x / y))
        res = fn(ad, bd)
        return make(res if res.dtype == ad.dtype else res.astype(ad.dtype))
    ad, bd = binary_arrays(a, b)
    if ad.dtype.kind in "iub" and (not hasattr(bd, "dtype") or bd.dtype.kind in "iub") \
            and not isinstance(bd, float):
        ad = ad.astype(np.float32)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):   # x / 0 -> inf, as in PyTorch
            data = np.true_divide(ad, bd)
    except ValueError:
        broadcast_check("div", ad, bd)
        raise
    if data.dtype == np.float64 and ad.dtype != np.float64 and \
            getattr(bd, "dtype", None) != np.float64:
        data = data.astype(np.float32)
    r = make(data)
    bt = _other(b)
    if needs_grad(a, bt):
        n = DivBackward0()
        n.self_ = SavedTensor(a) if bt is not None and bt._requires_grad else None
        n.other = SavedTensor(bt) if bt is not None else b
        link(n, (a, bt), r)
    return r


true_divide = div


def rdiv(input, other):
    """``other / input`` for a scalar ``other``: PyTorch builds reciprocal then mul."""
    from .unary import reciprocal
    if isinstance(other, Tensor):
        return div(other, input)
    return mul(reciprocal(input), other)


# ---------------------------------------------------------------- neg / pow
class NegBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return -g


def neg(input):
    a = input
    if a._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    r = make(np.negative(a._data))
    if needs_grad(a):
        link(NegBackward0(), (a,), r)
    return r


negative = neg


class PowBackward0(Node):
    """``x ** c`` for a scalar exponent."""
    __slots__ = ("self_", "exponent")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        e = self.exponent
        if e == 0:
            return g * 0
        if e == 2:
            return g * (x * 2)
        return g * (x ** (e - 1) * e)


class PowBackward1(Node):
    """``x ** y`` for two tensors."""
    __slots__ = ("self_", "exponent", "result")
    _saved_names = ("self_", "exponent", "result")

    def backward(self, g):
        from .select import where
        from .unary import log
        x = self.unpack(self.self_)
        y = self.unpack(self.exponent)
        ga = gb = None
        if self.needs(0):
            ga = g * y * x ** (y - 1)
            ga = where(y == 0, ga * 0, ga)
        if self.needs(1):
            res = self.unpack(self.result)
            gb = g * res * log(x)
            gb = where((x == 0) & (y >= 0), gb * 0, gb)
        return ga, gb


class PowBackward2(Node):
    """``c ** y`` for a scalar base."""
    __slots__ = ("base", "result")
    _saved_names = ("result",)

    def backward(self, g):
        return g * self.unpack(self.result) * float(np.log(self.base))


def pow(input, exponent, *, out=None):
    if out is not None:
        return into_out(out, "pow", pow, input, exponent)
    if not isinstance(input, Tensor):
        return _rpow(exponent, input)
    a = input
    if isinstance(exponent, Tensor):
        ad, bd = binary_arrays(a, exponent)
        try:
            data = np.power(ad, bd)
        except ValueError:
            broadcast_check("pow", ad, bd)
            raise
        r = make(data)
        if needs_grad(a, exponent):
            n = PowBackward1()
            n.self_ = SavedTensor(a)
            n.exponent = SavedTensor(exponent)
            n.result = SavedTensor(r, is_output=True)
            link(n, (a, exponent), r)
        return r
    ad, e = binary_arrays(a, exponent)
    if ad.dtype.kind in "iu" and isinstance(e, int) and e < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if e == 2:
        data = ad * ad
    elif e == 0.5:
        data = np.sqrt(ad)
    else:
        data = np.power(ad, e)
    r = make(data)
    if needs_grad(a):
        n = PowBackward0()
        n.self_ = SavedTensor(a)
        n.exponent = e
        link(n, (a,), r)
    return r


def _rpow(exponent: Tensor, base):
    """``base ** exponent`` for a scalar ``base``."""
    ed, b = binary_arrays(exponent, base)
    data = np.power(b, ed)
    if data.dtype == np.float64 and ed.dtype != np.float64:
        data = data.astype(np.float32)
    r = make(data)
    if needs_grad(exponent):
        n = PowBackward2()
        n.base = base
        n.result = SavedTensor(r, is_output=True)
        link(n, (exponent,), r)
    return r


_FAST_OTHER = (Tensor, float, int)


def _lhs(input, other):
    """Make sure the left operand is a tensor (``engine.add(2, t)`` style calls)."""
    if input.__class__ is Tensor and other.__class__ in _FAST_OTHER:
        return input, other
    if not isinstance(input, Tensor):
        input = as_tensor_arg(input, other if isinstance(other, Tensor) else None)
    if other.__class__ is not float and other.__class__ is not int and \
            not isinstance(other, (Tensor, bool)):
        other = as_tensor_arg(other, input)
    return input, other
