"""Attach the ops to ``Tensor`` as methods and operators (PyTorch's method forms)."""

from __future__ import annotations

from . import ops
from .ops import inplace as I
from .tensor import Tensor

_METHODS = [
    "add", "sub", "mul", "div", "true_divide", "neg", "negative", "pow", "exp", "log", "log1p",
    "expm1", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid", "relu", "abs",
    "absolute", "sign", "floor", "ceil", "round", "trunc", "clamp", "clip", "clamp_min",
    "clamp_max", "square", "maximum", "minimum", "masked_fill", "sum", "mean", "var", "std",
    "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp", "norm", "prod", "mm", "addmm",
    "bmm", "mv", "dot", "matmul", "view", "reshape", "flatten", "unflatten", "squeeze",
    "unsqueeze", "transpose", "swapaxes", "t", "permute", "movedim", "expand", "expand_as",
    "repeat", "split", "chunk", "unbind", "narrow", "select", "index_select", "gather",
    "take_along_dim", "masked_select", "nonzero", "clone", "contiguous", "eq", "ne", "lt", "le",
    "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "all", "any",
    "equal", "allclose", "isclose", "bitwise_not", "sort", "argsort", "topk",
]
for _name in _METHODS:
    setattr(Tensor, _name, getattr(ops, _name))

_INPLACE = ["add_", "sub_", "mul_", "div_", "pow_", "clamp_", "clip_", "relu_", "neg_", "exp_",
            "log_", "sqrt_", "abs_", "sigmoid_", "tanh_", "floor_", "round_", "fill_", "zero_",
            "copy_", "masked_fill_", "squeeze_", "unsqueeze_"]
for _name in _INPLACE:
    setattr(Tensor, _name, getattr(I, _name))


def _softmax(self, dim=None, dtype=None):
    from .nn._activation import softmax
    return softmax(self, dim, dtype=dtype)


def _log_softmax(self, dim=None, dtype=None):
    from .nn._activation import log_softmax
    return log_softmax(self, dim, dtype=dtype)


def _where(self, condition, other):
    return ops.where(condition, self, other)


def _reshape_as(self, other):
    return ops.reshape(self, tuple(other.shape))


def _view_as(self, other):
    return ops.view(self, tuple(other.shape))


def _new(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad, **kw)
    return method


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from .creation import tensor
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    from .creation import full
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def _random_fill(kind):
    def method(self, *args, generator=None):
        from .random import rng
        import numpy as np
        g = rng(generator)
        shape = self._data.shape
        if kind == "uniform":
            a, b = (args + (0.0, 1.0)[len(args):]) if len(args) < 2 else args[:2]
            vals = g.uniform(a, b, shape)
        elif kind == "normal":
            m, s = (args + (0.0, 1.0)[len(args):]) if len(args) < 2 else args[:2]
            vals = g.normal(m, s, shape)
        else:
            p = args[0] if args else 0.5
            vals = (g.random(shape) < p)
        with_grad_check(self)
        self._data[...] = np.asarray(vals).astype(self._data.dtype)
        self._vc[0] += 1
        return self
    method.__name__ = kind + "_"
    return method


def with_grad_check(t):
    from .ops.indexing import check_inplace
    check_inplace(t)


def _install():
    from . import creation as C
    T = Tensor
    T.__add__ = ops.add
    T.__radd__ = lambda self, other: ops.add(self, other)
    T.__iadd__ = I.add_
    T.__sub__ = ops.sub
    T.__rsub__ = ops.rsub
    T.__isub__ = I.sub_
    T.__mul__ = ops.mul
    T.__rmul__ = lambda self, other: ops.mul(self, other)
    T.__imul__ = I.mul_
    T.__truediv__ = ops.div
    T.__rtruediv__ = ops.rdiv
    T.__itruediv__ = I.div_
    T.__floordiv__ = lambda self, other: ops.div(self, other, rounding_mode="floor")
    T.__mod__ = lambda self, other: self - ops.div(self, other, rounding_mode="floor") * other
    T.__pow__ = ops.pow
    T.__rpow__ = lambda self, other: ops.pow(other, self)
    T.__ipow__ = I.pow_
    T.__matmul__ = ops.matmul
    T.__rmatmul__ = lambda self, other: ops.matmul(other, self)
    T.__neg__ = ops.neg
    T.__pos__ = lambda self: self
    T.__abs__ = ops.abs
    T.__invert__ = ops.bitwise_not
    T.__and__ = ops.bitwise_and
    T.__or__ = ops.bitwise_or
    T.__xor__ = ops.bitwise_xor
    T.__eq__ = ops.eq
    T.__ne__ = ops.ne
    T.__lt__ = ops.lt
    T.__le__ = ops.le
    T.__gt__ = ops.gt
    T.__ge__ = ops.ge
    T.__getitem__ = ops.getitem
    T.__setitem__ = ops.setitem
    T.where = _where
    T.softmax = _softmax
    T.log_softmax = _log_softmax
    T.reshape_as = _reshape_as
    T.view_as = _view_as
    T.new_zeros = _new(C.zeros)
    T.new_ones = _new(C.ones)
    T.new_empty = _new(C.empty)
    T.new_tensor = _new_tensor
    T.new_full = _new_full
    T.uniform_ = _random_fill("uniform")
    T.normal_ = _random_fill("normal")
    T.bernoulli_ = _random_fill("bernoulli")


_install()
