"""Elementwise functions of one tensor and their derivatives, side by side."""

from __future__ import annotations

import numpy as np

from ._core import Node, SavedTensor, link, make, needs_grad
from ._parallel import apply as _par, run_blocks
from ..autograd.grad_mode import _state
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
    with np.errstate(over="ignore"):
        return _unary(ExpBackward0, _par(np.exp, _float(input._data)), input, "result")


class LogBackward0(_SelfNode):
    def backward(self, g):
        return g / self.unpack(self.self_)


def log(input):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(LogBackward0, _par(np.log, _float(input._data)), input)


class Log1PBackward0(_SelfNode):
    def backward(self, g):
        return g / (self.unpack(self.self_) + 1)


def log1p(input):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(Log1PBackward0, _par(np.log1p, _float(input._data)), input)


class Expm1Backward0(_ResultNode):
    def backward(self, g):
        return g * (self.unpack(self.result) + 1)


def expm1(input):
    return _unary(Expm1Backward0, _par(np.expm1, _float(input._data)), input, "result")


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
    return _unary(SinBackward0, _par(np.sin, _float(input._data)), input)


class CosBackward0(_SelfNode):
    def backward(self, g):
        return g * -sin(self.unpack(self.self_))


def cos(input):
    return _unary(CosBackward0, _par(np.cos, _float(input._data)), input)


class TanhBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        if not _state.enabled:          # no graph to build: one fused numpy expression
            t = r._data * r._data
            np.subtract(1, t, out=t)
            t *= g._data
            return make(t)
        return g * (1 - r * r)


def tanh(input):
    return _unary(TanhBackward0, _par(np.tanh, _float(input._data)), input, "result")


class SigmoidBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        if not _state.enabled:
            t = np.subtract(1, r._data)
            t *= r._data
            t *= g._data
            return make(t)
        return g * (r * (1 - r))


def _sigmoid_kernel(a, out):
    """1 / (1 + exp(-a)) in ``out``; exp overflows to inf for a < -88, giving 0."""
    np.negative(a, out=out)
    np.exp(out, out=out)
    out += 1
    np.divide(1, out, out=out)  # SIMD; np.reciprocal is not, for float32


def _sigmoid_array(a):
    with np.errstate(over="ignore"):
        return run_blocks(_sigmoid_kernel, a, out=np.empty_like(a))


def sigmoid(input):
    return _unary(SigmoidBackward0, _sigmoid_array(_float(input._data)), input, "result")


_SAME_SIZE_INT = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def _relu_grad_kernel(g, r, out):
    """PyTorch's threshold_backward: ``+0 where r <= 0, else g`` (a NaN result passes the
    gradient) as bit operations, SIMD all the way (``np.where`` with a random mask runs
    ~10x slower): the mask ``(r <= 0) - 1`` is all ones where g passes, zero elsewhere."""
    it = _SAME_SIZE_INT[out.dtype]
    mask = np.subtract(np.less_equal(r, 0), 1, dtype=it)
    np.bitwise_and(g.view(it), mask, out=out.view(it))


class ReluBackward0(_ResultNode):
    def backward(self, g):
        r = self.unpack(self.result)
        ga, ra = g._data, r._data
        if not needs_grad(g):  # plain backward: no graph, no dtype promotion
            if type(ga) is np.ndarray and ga.dtype == ra.dtype and ga.dtype in _SAME_SIZE_INT \
                    and ga.shape == ra.shape:
                return make(run_blocks(_relu_grad_kernel, ga, ra, out=np.empty_like(ra)))
            return make(np.where(ra <= 0, ga.dtype.type(0), ga))
        return g * make(np.logical_not(ra <= 0).astype(ga.dtype))


_ZEROS: dict = {}   # dtype -> read-only flat zeros, grown to the largest array seen


def _zeros_like(a):
    """Read-only zeros shaped like ``a``, cut from one shared buffer (calloc'd: its pages
    are the kernel's zero page until written, and it is never written). numpy 2.4 does not
    vectorise ``np.maximum(a, 0)`` against a scalar: against an array it runs 2.5x faster."""
    buf = _ZEROS.get(a.dtype)
    if buf is None or buf.size < a.size:
        buf = np.zeros(max(a.size, 1 << 16), a.dtype)
        buf.flags.writeable = False
        _ZEROS[a.dtype] = buf
    return buf[:a.size].reshape(a.shape)


def relu(input):
    a = input._data
    if type(a) is np.ndarray and a.dtype in _SAME_SIZE_INT:
        r = run_blocks(np.maximum, a, _zeros_like(a), out=np.empty(a.shape, a.dtype))
    else:
        r = np.maximum(a, 0, dtype=a.dtype)
    return _unary(ReluBackward0, r, input, "result")


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
    """``clamp(x, min, max)`` with scalar bounds: the gradient passes where min <= x <= max."""
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


class ClampBackward0(Node):
    """``clamp`` with tensor bounds; inputs (self, min, max), PyTorch's masks for each."""
    __slots__ = ("self_", "min", "max")
    _saved_names = ("self_", "min", "max")

    def backward(self, g):
        from .select import where
        x = self.unpack(self.self_)._data
        lo = None if self.min is None else self.unpack(self.min)._data
        hi = None if self.max is None else self.unpack(self.max)._data
        zero = g * 0
        keep = np.ones(x.shape, dtype=bool)
        if lo is not None:
            keep = keep & (x >= lo)
        if hi is not None:
            keep = keep & (x <= hi)
        gx = where(make(keep), g, zero) if self.needs(0) else None
        gmin = gmax = None
        if lo is not None and self.needs(1):
            m = (x < lo) if hi is None else ((x < lo) & (lo < hi))
            gmin = where(make(m), g, zero)
        if hi is not None and self.needs(2):
            m = (x > hi) if lo is None else ((x > hi) | (hi < lo))
            gmax = where(make(m), g, zero)
        return gx, gmin, gmax


class ClampMinBackward1(ClampBackward0):
    __slots__ = ()

    def backward(self, g):
        return super().backward(g)[:2]


class ClampMaxBackward1(ClampBackward0):
    __slots__ = ()

    def backward(self, g):
        gx, _, gmax = super().backward(g)
        return gx, gmax


def _clamp_tensor(input, min, max, cls):
    from ._core import as_tensor_arg, binary_arrays
    lo = None if min is None else as_tensor_arg(min, input)
    hi = None if max is None else as_tensor_arg(max, input)
    a = input._data
    if lo is not None:
        a, b = binary_arrays(make(a), lo)
        a = np.maximum(a, b)
    if hi is not None:
        a, b = binary_arrays(make(a), hi)
        a = np.minimum(a, b)
    r = make(a)
    if needs_grad(input, lo, hi):
        n = cls()
        n.self_ = SavedTensor(input)
        n.min = None if lo is None else SavedTensor(lo)
        n.max = None if hi is None else SavedTensor(hi)
        if cls is ClampBackward0:
            ins = (input, lo, hi)
        else:
            ins = (input, lo if cls is ClampMinBackward1 else hi)
        link(n, ins, r)
    return r


def _clamp_scalar(input, min, max, cls):
    a = input._data
    data = np.clip(a, min, max)
    if data.dtype != a.dtype and a.dtype.kind == "f":
        data = data.astype(a.dtype)
    r = make(data)
    if needs_grad(input):
        n = cls()
        n.self_ = SavedTensor(input)
        n.min = min
        n.max = max
        link(n, (input,), r)
    return r


def clamp(input, min=None, max=None):
    from ..tensor import Tensor
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max, ClampBackward0)
    return _clamp_scalar(input, min, max, ClampBackward1)


clip = clamp


def clamp_min(input, min):
    from ..tensor import Tensor
    if isinstance(min, Tensor):
        return _clamp_tensor(input, min, None, ClampMinBackward1)
    return _clamp_scalar(input, min, None, ClampMinBackward0)


def clamp_max(input, max):
    from ..tensor import Tensor
    if isinstance(max, Tensor):
        return _clamp_tensor(input, None, max, ClampMaxBackward1)
    return _clamp_scalar(input, None, max, ClampMaxBackward0)


def square(input):
    from .arithmetic import pow
    return pow(input, 2)
