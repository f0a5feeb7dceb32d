"""In-place ops (``add_``, ``mul_``, ``zero_``, ``copy_``, ``x += y`` ...).

Without a graph to build (``no_grad``, or nothing requires grad) they write straight into
the storage and bump the version counter. Otherwise the out-of-place op runs on an alias
that carries the tensor's old history, the result is written into the storage, and the
tensor takes the new node as its ``grad_fn`` (PyTorch's "rebase history"). Nodes that
saved the old value see the bumped version and raise PyTorch's in-place error if used.
"""

from __future__ import annotations

import numpy as np

from . import arithmetic as A
from . import unary as U
from ._core import Node, as_tensor_arg, broadcast_check, link, make, needs_grad
from .indexing import check_inplace, rebase_bases
from ..tensor import Tensor


def _alias(x, copy):
    """A tensor with ``x``'s history (grad_fn, leaf edge) and, if ``copy``, its old values."""
    a = make(x._data.copy() if copy else x._data)
    a.grad_fn = x.grad_fn
    a._output_nr = x._output_nr
    a._requires_grad = x._requires_grad
    return a


def _cast_error(x_dtype, r_dtype):
    from .reduction import _SCALAR_NAMES as names
    return RuntimeError(f"result type {names.get(str(r_dtype), r_dtype)} can't be cast to the "
                        f"desired output type {names.get(str(x_dtype), x_dtype)}")


def _write(x, r):
    """Store the out-of-place result ``r`` into ``x`` and move ``x``'s history onto it."""
    rd = r._data
    if rd.dtype != x._data.dtype:
        if np.can_cast(rd.dtype, x._data.dtype, "same_kind") or x._data.dtype.kind == "f":
            rd = rd.astype(x._data.dtype)
        else:
            raise _cast_error(x._data.dtype, rd.dtype)
    if rd.shape != x._data.shape:
        try:
            rd = np.broadcast_to(rd, x._data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the "
                               f"broadcast shape {list(rd.shape)}") from None
    if not x._data.flags.writeable:
        raise _overlap_error()
    x._data[...] = rd
    x._vc[0] += 1
    if r.grad_fn is not None:
        x.grad_fn = r.grad_fn
        x._output_nr = 0
        x._requires_grad = True
        rebase_bases(x)
    return x


def _overlap_error():
    return RuntimeError("unsupported operation: more than one element of the written-to tensor "
                        "refers to a single memory location. Please clone() the tensor before "
                        "performing the operation.")


def _promoted(x, other):
    from ._core import result_dtype
    return result_dtype(x, other)


def _inplace_binary(x, other, op, ufunc, saves_self, **kw):
    check_inplace(x)
    if not needs_grad(x, other):
        b = other._data if isinstance(other, Tensor) else other
        alpha = kw.get("alpha", 1)
        if alpha != 1:
            b = b * alpha
        try:
            ufunc(x._data, b, out=x._data)
        except TypeError as e:  # numpy's casting error for e.g. int_tensor += 0.5
            if "cast" in str(e):
                raise _cast_error(x._data.dtype, _promoted(x, other)) from None
            raise
        except ValueError:
            broadcast_check(op.__name__ + "_", x._data, b)  # shapes that never broadcast
            raise RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the "
                               f"broadcast shape {list(np.broadcast_shapes(x._data.shape, np.shape(b)))}"
                               ) from None
        x._vc[0] += 1
        return x
    r = op(_alias(x, saves_self), other, **kw)
    return _write(x, r)


def add_(x, other, *, alpha=1):
    return _inplace_binary(x, other, A.add, np.add, False, alpha=alpha)


def sub_(x, other, *, alpha=1):
    return _inplace_binary(x, other, A.sub, np.subtract, False, alpha=alpha)


def mul_(x, other):
    return _inplace_binary(x, other, A.mul, np.multiply, True)


def div_(x, other, *, rounding_mode=None):
    if rounding_mode is not None:
        return _write(x, A.div(x, other, rounding_mode=rounding_mode))
    return _inplace_binary(x, other, A.div, np.true_divide, True)


def pow_(x, exponent):
    return _inplace_binary(x, exponent, A.pow, np.power, True)


def _inplace_unary(fn, saves_self=True):
    def op(x, *args, **kwargs):
        check_inplace(x)
        if not needs_grad(x):
            r = fn(make(x._data), *args, **kwargs)
            x._data[...] = r._data
            x._vc[0] += 1
            return x
        return _write(x, fn(_alias(x, saves_self), *args, **kwargs))
    op.__name__ = fn.__name__ + "_"
    op.__doc__ = f"In-place ``{fn.__name__}``."
    return op


clamp_ = _inplace_unary(U.clamp)
clip_ = clamp_
relu_ = _inplace_unary(U.relu, saves_self=False)
neg_ = _inplace_unary(A.neg, saves_self=False)
exp_ = _inplace_unary(U.exp, saves_self=False)
log_ = _inplace_unary(U.log)
sqrt_ = _inplace_unary(U.sqrt, saves_self=False)
abs_ = _inplace_unary(U.abs)
sigmoid_ = _inplace_unary(U.sigmoid, saves_self=False)
tanh_ = _inplace_unary(U.tanh, saves_self=False)
floor_ = _inplace_unary(U.floor, saves_self=False)
round_ = _inplace_unary(U.round, saves_self=False)


class ZeroBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return g * 0


class FillBackward2(ZeroBackward0):
    """``fill_(scalar)``: the old values get no gradient."""
    __slots__ = ()


class FillBackward3(Node):
    """``fill_(0-d tensor)``: the value receives the sum of the gradient."""
    __slots__ = ()

    def backward(self, g):
        return (g * 0 if self.needs(0) else None), (g.sum() if self.needs(1) else None)


def fill_(x, value):
    check_inplace(x)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        x._data[...] = value._data
        x._vc[0] += 1
        if needs_grad(x, value):
            link(FillBackward3(), (_alias(x, False), value), x)
            rebase_bases(x)
        return x
    x._data[...] = value
    x._vc[0] += 1
    if needs_grad(x):
        link(FillBackward2(), (_alias(x, False),), x)
        rebase_bases(x)
    return x


def zero_(x):
    check_inplace(x)
    x._data[...] = 0
    x._vc[0] += 1
    if needs_grad(x):
        link(ZeroBackward0(), (_alias(x, False),), x)
        rebase_bases(x)
    return x


class SqueezeBackward3(Node):
    """``squeeze_()``; 4: ``squeeze_(dim)``; 5: ``squeeze_(dims)``."""
    __slots__ = ("shape",)

    def backward(self, g):
        return g.reshape(self.shape)


class SqueezeBackward4(SqueezeBackward3):
    __slots__ = ()


class SqueezeBackward5(SqueezeBackward3):
    __slots__ = ()


class UnsqueezeBackward1(SqueezeBackward3):
    """``unsqueeze_(dim)``."""
    __slots__ = ()


def _inplace_view(x, new_arr, cls):
    """Change ``x``'s shape in place; with a graph, ``x`` takes ``cls`` as its grad_fn."""
    check_inplace(x)
    old = _alias(x, False) if needs_grad(x) else None
    x._data = new_arr
    if old is not None:
        n = cls()
        n.shape = old._data.shape
        link(n, (old,), x)
    return x


def squeeze_(x, dim=None):
    from .shape import _squeeze_axes
    a = x._data
    if dim is None:
        return _inplace_view(x, a.squeeze(), SqueezeBackward3)
    axes = _squeeze_axes(a, dim)
    cls = SqueezeBackward4 if isinstance(dim, (int, np.integer)) else SqueezeBackward5
    return _inplace_view(x, a.squeeze(axes) if axes else a.view(), cls)


def unsqueeze_(x, dim):
    from ._core import wrap_dim
    a = x._data
    return _inplace_view(x, np.expand_dims(a, wrap_dim(dim, a.ndim + 1)), UnsqueezeBackward1)


class CopyBackwards(Node):
    __slots__ = ()

    def backward(self, g):
        return (g * 0 if self.needs(0) else None), (g if self.needs(1) else None)


def copy_(x, src, non_blocking=False):
    check_inplace(x)
    s = src if isinstance(src, Tensor) else as_tensor_arg(src, x)
    sd = s._data
    if type(sd) is not type(x._data):
        from .. import backend
        sd = backend.to_device_array(sd, x.device)
    try:
        x._data[...] = sd
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({x._data.shape[-1] if x._data.ndim else 1}) "
                           f"must match the size of tensor b ({sd.shape[-1] if sd.ndim else 1}) "
                           f"at non-singleton dimension; copy_ from {list(sd.shape)} into "
                           f"{list(x._data.shape)}") from None
    x._vc[0] += 1
    if needs_grad(x, s):
        link(CopyBackwards(), (_alias(x, False), s), x)
        rebase_bases(x)
    return x


def masked_fill_(x, mask, value):
    from .select import masked_fill
    check_inplace(x)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if not needs_grad(x):
        x._data[np.broadcast_to(m, x._data.shape)] = value.item() if isinstance(value, Tensor) \
            else value
        x._vc[0] += 1
        return x
    return _write(x, masked_fill(_alias(x, False), mask, value))
