"""Reductions over all or some dimensions, with ``keepdim``, and their backward."""

from __future__ import annotations

import builtins

import numpy as np

from ._core import Node, SavedTensor, link, make, needs_grad, wrap_dim, wrap_dims
from ..dtypes import as_dtype, get_default_dtype
from ..tensor import Tensor


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool"}


def _kshape(shape, axes):
    """``shape`` with the reduced ``axes`` kept as size 1."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_grad(g, shape, axes, keepdim):
    if not keepdim and axes:
        g = g.reshape(_kshape(shape, axes))
    return g.expand(shape)


def _float_arr(a):
    return a if a.dtype.kind == "f" else a.astype(get_default_dtype().np)


# ---------------------------------------------------------------- sum / mean
class SumBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return g.expand(self.shape)


class SumBackward1(Node):
    __slots__ = ("shape", "axes", "keepdim")

    def backward(self, g):
        return _expand_grad(g, self.shape, self.axes, self.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    a = input._data
    if dtype is not None:
        a = a.astype(as_dtype(dtype).np)
    elif a.dtype.kind in "bi" and a.dtype != np.int64:
        a = a.astype(np.int64)
    if dim is None:
        data = a.sum(keepdims=keepdim) if keepdim else np.asarray(a.sum(), dtype=a.dtype)
        r = make(data if isinstance(data, np.ndarray) else np.asarray(data))
        if needs_grad(input):
            n = SumBackward0()
            n.shape = a.shape
            link(n, (input,), r)
        return r
    axes = wrap_dims(dim, a.ndim)
    data = a.sum(axis=axes, keepdims=keepdim)
    r = make(np.asarray(data, dtype=a.dtype) if not isinstance(data, np.ndarray) else data)
    if needs_grad(input):
        n = SumBackward1()
        n.shape, n.axes, n.keepdim = a.shape, axes, keepdim
        link(n, (input,), r)
    return r


class MeanBackward0(Node):
    __slots__ = ("shape", "count")

    def backward(self, g):
        return (g / self.count).expand(self.shape)


class MeanBackward1(Node):
    __slots__ = ("shape", "axes", "keepdim", "count")

    def backward(self, g):
        return _expand_grad(g / self.count, self.shape, self.axes, self.keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    a = input._data
    if dtype is not None:
        a = a.astype(as_dtype(dtype).np)
    if a.dtype.kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_SCALAR_NAMES[str(input._data.dtype)]}")
    if dim is None:
        data = np.asarray(a.mean(keepdims=keepdim), dtype=a.dtype)
        r = make(data)
        if needs_grad(input):
            n = MeanBackward0()
            n.shape, n.count = a.shape, builtins.max(a.size, 1)
            link(n, (input,), r)
        return r
    axes = wrap_dims(dim, a.ndim)
    data = np.asarray(a.mean(axis=axes, keepdims=keepdim), dtype=a.dtype)
    r = make(data)
    if needs_grad(input):
        n = MeanBackward1()
        n.shape, n.axes, n.keepdim = a.shape, axes, keepdim
        n.count = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        link(n, (input,), r)
    return r


# ---------------------------------------------------------------- var / std
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


class VarBackward0(Node):
    __slots__ = ("self_", "axes", "keepdim", "correction")
    _saved_names = ("self_",)

    def backward(self, g):
        x = self.unpack(self.self_)
        n = int(np.prod([x.shape[i] for i in self.axes])) if self.axes else 1
        g = _expand_grad(g, x._data.shape, self.axes, self.keepdim)
        centred = x - x.mean(self.axes, keepdim=True)
        dof = n - self.correction
        # no degrees of freedom: the variance is nan and so is its gradient (PyTorch)
        return g * centred * (2.0 / dof if dof > 0 else float("nan"))


class StdBackward0(Node):
    __slots__ = ("self_", "axes", "keepdim", "correction", "result")
    _saved_names = ("self_", "result")

    def backward(self, g):
        x = self.unpack(self.self_)
        r = self.unpack(self.result)
        n = int(np.prod([x.shape[i] for i in self.axes])) if self.axes else 1
        shape = x._data.shape
        if not self.keepdim and self.axes:
            kshape = _kshape(shape, self.axes)
            r, g = r.reshape(kshape), g.reshape(kshape)
        # a zero std (constant input) has gradient 0 there, not 0/0 (PyTorch's masked_fill)
        g_over_r = (g / r).masked_fill(r == 0, 0.0)
        dof = n - self.correction
        centred = x - x.mean(self.axes, keepdim=True)
        return g_over_r.expand(shape) * centred * (1.0 / dof if dof > 0 else float("nan"))


def _var_args(dim, unbiased, keepdim, correction):
    # var(x, 0) / var(x, True) legacy positional forms
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return dim, _correction(unbiased, correction), keepdim


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, corr, keepdim = _var_args(dim, unbiased, keepdim, correction)
    a = _float_arr(input._data)
    axes = wrap_dims(dim, a.ndim)
    n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    with np.errstate(divide="ignore", invalid="ignore"):
        data = np.asarray(a.var(axis=axes, keepdims=keepdim, ddof=0) * (n / builtins.max(n - corr, 0))
                          if n - corr > 0 else np.full(
                              np.sum(a, axis=axes, keepdims=keepdim).shape, np.nan), dtype=a.dtype)
    r = make(data)
    if needs_grad(input):
        node = VarBackward0()
        node.self_, node.axes, node.keepdim, node.correction = SavedTensor(input), axes, keepdim, corr
        link(node, (input,), r)
    return r


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, corr, keepdim = _var_args(dim, unbiased, keepdim, correction)
    a = _float_arr(input._data)
    axes = wrap_dims(dim, a.ndim)
    n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    with np.errstate(divide="ignore", invalid="ignore"):
        v = a.var(axis=axes, keepdims=keepdim, ddof=0) * (n / builtins.max(n - corr, 0)) \
            if n - corr > 0 else np.full(np.sum(a, axis=axes, keepdims=keepdim).shape, np.nan)
    r = make(np.asarray(np.sqrt(v), dtype=a.dtype))
    if needs_grad(input):
        node = StdBackward0()
        node.self_, node.axes, node.keepdim, node.correction = SavedTensor(input), axes, keepdim, corr
        node.result = SavedTensor(r, is_output=True)
        link(node, (input,), r)
    return r


# ---------------------------------------------------------------- max / min
class _FullExtremumBackward(Node):
    """Full max/min: the gradient is shared evenly among the positions of the extremum."""
    __slots__ = ("self_", "result")
    _saved_names = ("self_", "result")

    def backward(self, g):
        x = self.unpack(self.self_)._data
        r = self.unpack(self.result)._data
        mask = (x == r)
        w = (mask / builtins.max(int(mask.sum()), 1)).astype(g._data.dtype)
        return g * w


class MaxBackward1(_FullExtremumBackward):
    __slots__ = ()


class MinBackward1(_FullExtremumBackward):
    __slots__ = ()


class AmaxBackward0(Node):
    __slots__ = ("self_", "result", "axes", "keepdim")
    _saved_names = ("self_", "result")

    def backward(self, g):
        x = self.unpack(self.self_)._data
        r = self.unpack(self.result)._data
        if not self.keepdim:
            r = r.reshape(_kshape(x.shape, self.axes))
        mask = (x == r)
        w = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(g._data.dtype)
        return _expand_grad(g, x.shape, self.axes, self.keepdim) * w


class AminBackward0(AmaxBackward0):
    __slots__ = ()


class _DimExtremumBackward(Node):
    """max/min along a dim: the gradient goes to the index each value came from."""
    __slots__ = ("indices", "shape", "dim", "keepdim")
    _saved_names = ()

    def backward(self, g, g_idx=None):
        from .indexing import scatter_into_zeros
        if not self.shape:  # 0-d input: its one element is the extremum
            return g
        idx = self.indices
        if not self.keepdim:
            idx = np.expand_dims(idx, self.dim)
            g = g.unsqueeze(self.dim)
        return scatter_into_zeros(g, self.shape, self.dim, idx)

    def apply(self, grads):
        return (self.backward(grads[0]),)


class MaxBackward0(_DimExtremumBackward):
    __slots__ = ()


class MinBackward0(_DimExtremumBackward):
    __slots__ = ()


class _ValuesIndices(tuple):
    """``torch.return_types.max``-like: a (values, indices) pair with names, printed as
    PyTorch prints it (``torch.return_types.max(\nvalues=...,\nindices=...)``)."""

    __slots__ = ()
    _op = "max"

    def __new__(cls, pair, op=None):
        if op is not None and op != cls._op:
            cls = _return_type(op)
        return tuple.__new__(cls, pair)

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return (f"torch.return_types.{self._op}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")


_return_types = {}


def _return_type(op):
    """The (values, indices) class of ``op`` ('min', 'sort', 'topk', ...), made once."""
    cls = _return_types.get(op)
    if cls is None:
        cls = _return_types[op] = type(op, (_ValuesIndices,), {"__slots__": (), "_op": op})
    return cls


def _extremum(input, dim, keepdim, is_max, other):
    if isinstance(dim, Tensor) or other is not None:
        from .select import maximum, minimum
        o = dim if isinstance(dim, Tensor) else other
        return maximum(input, o) if is_max else minimum(input, o)
    a = input._data
    if dim is None:
        if a.size == 0:
            raise RuntimeError(f"{'max' if is_max else 'min'}(): Expected reduction dim to be "
                               "specified for input.numel() == 0. Specify the reduction dim with "
                               "the 'dim' argument.")
        data = np.asarray(a.max() if is_max else a.min(), dtype=a.dtype)
        r = make(data)
        if needs_grad(input):
            n = MaxBackward1() if is_max else MinBackward1()
            n.self_ = SavedTensor(input)
            n.result = SavedTensor(r, is_output=True)
            link(n, (input,), r)
        return r
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:  # dim 0 / -1 of a 0-d tensor: the value itself at index 0
        idx = a.argmax()  # 0, on the array's own device
        vals = a.copy()
    else:
        idx = a.argmax(axis=d, keepdims=keepdim) if is_max else a.argmin(axis=d, keepdims=keepdim)
        vals = np.take_along_axis(a, idx if keepdim else np.expand_dims(idx, d), axis=d)
        if not keepdim:
            vals = vals.squeeze(d)
    r = make(vals)
    if needs_grad(input):
        n = MaxBackward0() if is_max else MinBackward0()
        n.indices, n.shape, n.dim, n.keepdim = idx, a.shape, d, keepdim
        link(n, (input,), r)
    return _ValuesIndices((r, make(idx.astype(np.int64))), "max" if is_max else "min")


def max(input, dim=None, keepdim=False, *, other=None):
    return _extremum(input, dim, keepdim, True, other)


def min(input, dim=None, keepdim=False, *, other=None):
    return _extremum(input, dim, keepdim, False, other)


def amax(input, dim=(), keepdim=False):
    return _am(input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False):
    return _am(input, dim, keepdim, False)


def _am(input, dim, keepdim, is_max):
    a = input._data
    axes = wrap_dims(None if dim == () or dim is None else dim, a.ndim)
    data = np.asarray(a.max(axis=axes, keepdims=keepdim) if is_max
                      else a.min(axis=axes, keepdims=keepdim), dtype=a.dtype)
    r = make(data)
    if needs_grad(input):
        n = AmaxBackward0() if is_max else AminBackward0()
        n.self_ = SavedTensor(input)
        n.result = SavedTensor(r, is_output=True)
        n.axes, n.keepdim = axes, keepdim
        link(n, (input,), r)
    return r


def argmax(input, dim=None, keepdim=False):
    a = input._data
    if dim is None:
        return make(np.asarray(a.argmax(), dtype=np.int64))
    return make(a.argmax(axis=wrap_dim(dim, a.ndim), keepdims=keepdim).astype(np.int64))


def argmin(input, dim=None, keepdim=False):
    a = input._data
    if dim is None:
        return make(np.asarray(a.argmin(), dtype=np.int64))
    return make(a.argmin(axis=wrap_dim(dim, a.ndim), keepdims=keepdim).astype(np.int64))


# ---------------------------------------------------------------- logsumexp / norm / prod
class LogsumexpBackward0(Node):
    __slots__ = ("self_", "result", "axes", "keepdim")
    _saved_names = ("self_", "result")

    def backward(self, g):
        from .unary import exp
        x = self.unpack(self.self_)
        r = self.unpack(self.result)
        if not self.keepdim:
            r = r.reshape(_kshape(x._data.shape, self.axes))
        return _expand_grad(g, x._data.shape, self.axes, self.keepdim) * exp(x - r)


def logsumexp(input, dim, keepdim=False):
    a = _float_arr(input._data)
    axes = wrap_dims(dim, a.ndim)
    m = a.max(axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        data = np.log(np.exp(a - m).sum(axis=axes, keepdims=True)) + m
    if not keepdim:
        data = data.squeeze(axes) if axes else data
    r = make(np.asarray(data, dtype=a.dtype))
    if needs_grad(input):
        n = LogsumexpBackward0()
        n.self_, n.result = SavedTensor(input), SavedTensor(r, is_output=True)
        n.axes, n.keepdim = axes, keepdim
        link(n, (input,), r)
    return r


class LinalgVectorNormBackward0(Node):
    __slots__ = ("self_", "result", "ord", "axes", "keepdim")
    _saved_names = ("self_", "result")

    def backward(self, g):
        x = self.unpack(self.self_)
        r = self.unpack(self.result)
        shape = x._data.shape
        if not self.keepdim:
            r = r.reshape(_kshape(shape, self.axes))
        g = _expand_grad(g, shape, self.axes, self.keepdim)
        p = self.ord
        xd, rd = x._data, r._data
        if p == 2:
            safe = make(np.where(rd == 0, np.ones_like(rd), rd)) if not r._requires_grad else r
            gx = g * x / safe
            return gx * make((rd != 0).astype(xd.dtype)) if (rd == 0).any() else gx
        if p == 1:
            from .unary import sign
            return g * sign(x)
        if p == float("inf") or p == -float("inf"):
            from .unary import sign
            mask = (np.abs(xd) == rd)
            w = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(xd.dtype)
            return g * sign(x) * w
        if p == 0:
            return g * 0
        from .unary import abs as abs_, sign
        return g * sign(x) * abs_(x) ** (p - 1) / r ** (p - 1)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector norm (``p`` = 2/'fro', 1, inf, or any float) over ``dim`` (all by default)."""
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    return vector_norm(input, p, dim, keepdim)


def vector_norm(input, ord=2, dim=None, keepdim=False):
    a = _float_arr(input._data)
    axes = wrap_dims(dim, a.ndim)
    absa = np.abs(a)
    if ord == float("inf"):
        data = absa.max(axis=axes, keepdims=keepdim)
    elif ord == -float("inf"):
        data = absa.min(axis=axes, keepdims=keepdim)
    elif ord == 0:
        data = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
    elif ord == 2:
        data = np.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
    elif ord == 1:
        data = absa.sum(axis=axes, keepdims=keepdim)
    else:
        data = (absa ** ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord)
    r = make(np.asarray(data, dtype=a.dtype))
    if needs_grad(input):
        n = LinalgVectorNormBackward0()
        n.self_, n.result = SavedTensor(input), SavedTensor(r, is_output=True)
        n.ord, n.axes, n.keepdim = ord, axes, keepdim
        link(n, (input,), r)
    return r


class ProdBackward0(Node):
    __slots__ = ("self_", "result")
    _saved_names = ("self_", "result")

    def backward(self, g):
        x = self.unpack(self.self_)
        xd = x._data
        if (xd == 0).any():
            # product of the others, computed directly where zeros make result/x undefined
            flat = xd.reshape(-1)
            others = np.array([np.prod(np.delete(flat, i)) for i in range(flat.size)],
                              dtype=xd.dtype).reshape(xd.shape)
            return g * make(others)
        return g * self.unpack(self.result) / x


class ProdBackward1(Node):
    __slots__ = ("self_", "result", "dim", "keepdim")
    _saved_names = ("self_", "result")

    def backward(self, g):
        x = self.unpack(self.self_)
        r = self.unpack(self.result)
        shape = x._data.shape
        if not self.keepdim:
            r = r.unsqueeze(self.dim)
            g = g.unsqueeze(self.dim)
        xd = x._data
        if (xd == 0).any():
            moved = np.moveaxis(xd, self.dim, -1)
            n = moved.shape[-1]
            others = np.stack([np.prod(np.delete(moved, i, axis=-1), axis=-1) for i in range(n)],
                              axis=-1)
            return g * make(np.moveaxis(others, -1, self.dim).astype(xd.dtype))
        return g.expand(shape) * r / x


def prod(input, dim=None, keepdim=False, *, dtype=None):
    a = input._data if dtype is None else input._data.astype(as_dtype(dtype).np)
    if dim is None:
        r = make(np.asarray(a.prod(), dtype=a.dtype))
        if needs_grad(input):
            n = ProdBackward0()
            n.self_, n.result = SavedTensor(input), SavedTensor(r, is_output=True)
            link(n, (input,), r)
        return r
    d = wrap_dim(dim, a.ndim)
    r = make(np.asarray(a.prod(axis=d, keepdims=keepdim), dtype=a.dtype))
    if needs_grad(input):
        n = ProdBackward1()
        n.self_, n.result = SavedTensor(input), SavedTensor(r, is_output=True)
        n.dim, n.keepdim = d, keepdim
        link(n, (input,), r)
    return r
