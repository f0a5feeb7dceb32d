"""Shape ops: views (reshape, view, squeeze, unsqueeze, transpose, permute, t, expand),
and copies (repeat, cat, stack, split, chunk). Views share the version counter of their
base, so an in-place change through either is seen by the saved-tensor checks."""

from __future__ import annotations

import numpy as np

from ._core import Node, into_out, link, make, needs_grad, tensors_dtype, wrap_dim
from ..tensor import Tensor


def _view_of(base, arr, fn=None):
    """A tensor on ``arr`` (a view of ``base``'s storage) sharing its version counter.

    ``fn(t)`` re-applies the view to any tensor shaped like ``base``; it lets an in-place
    change of the view rebase ``base``'s history (``indexing.rebase_bases``)."""
    r = make(arr)
    r._vc = base._vc
    if fn is not None:
        r._base = (base, fn)
    return r


def _infer_shape(shape, numel, op="view"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# ---------------------------------------------------------------- view / reshape
class ViewBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return g.reshape(self.shape)


def view(input, *shape):
    a = input._data
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and \
            not isinstance(shape[0], np.integer):
        return input.to(shape[0])  # view(dtype) is not a reshape; treat as a cast
    shape = _infer_shape(shape, a.size)
    try:
        data = np.reshape(a, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    r = _view_of(input, data, _reshaper(shape))
    if needs_grad(input):
        n = ViewBackward0()
        n.shape = a.shape
        link(n, (input,), r)
    return r


def _reshaper(shape):
    return lambda t: t.reshape(shape)


class ReshapeAliasBackward0(ViewBackward0):
    """A reshape that is a view of a non-contiguous tensor (PyTorch's ``_reshape_alias``)."""
    __slots__ = ()


def reshape(input, *shape):
    """A view when the strides allow one (``ViewBackward0`` of a contiguous tensor,
    ``ReshapeAliasBackward0`` of a non-contiguous one), else a contiguous copy
    (``CloneBackward0`` then ``UnsafeViewBackward0``), as PyTorch's ``reshape`` does."""
    a = input._data
    shape = _infer_shape(shape, a.size, "reshape")
    try:
        data = np.reshape(a, shape, copy=False)
    except ValueError:
        from .convert import clone
        return _unsafe_view(clone(input), shape)
    r = _view_of(input, data, _reshaper(shape))
    if needs_grad(input):
        n = ViewBackward0() if a.flags.c_contiguous else ReshapeAliasBackward0()
        n.shape = a.shape
        link(n, (input,), r)
    return r


class UnsafeViewBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return g.reshape(self.shape)


def _unsafe_view(t, shape):
    """Reshape a fresh (contiguous) result; PyTorch's ``_unsafe_view`` in matmul/reshape."""
    r = make(t._data.reshape(shape))
    if needs_grad(t):
        n = UnsafeViewBackward0()
        n.shape = t._data.shape
        link(n, (t,), r)
    return r


def _identity(t):
    return t


class AliasBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return g


def alias(input):
    """A new tensor sharing ``input``'s storage (``x[...]``)."""
    r = _view_of(input, input._data.view(), _identity)
    if needs_grad(input):
        link(AliasBackward0(), (input,), r)
    return r


def flatten(input, start_dim=0, end_dim=-1):
    a = input._data
    if a.ndim == 0:
        return reshape(input, 1)
    s = wrap_dim(start_dim, a.ndim)
    e = wrap_dim(end_dim, a.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = a.shape[:s] + (int(np.prod(a.shape[s:e + 1])),) + a.shape[e + 1:]
    return reshape(input, shape)


def unflatten(input, dim, sizes):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    sizes = _infer_shape(tuple(sizes), a.shape[d])
    return reshape(input, a.shape[:d] + sizes + a.shape[d + 1:])


# ---------------------------------------------------------------- squeeze / unsqueeze
class SqueezeBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return g.reshape(self.shape)


class SqueezeBackward1(SqueezeBackward0):
    __slots__ = ()


class SqueezeBackward2(SqueezeBackward0):
    __slots__ = ()


def _squeeze_axes(a, dim):
    """The axes among ``dim`` (an int or a sequence) that have size 1."""
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return tuple(sorted({d for d in (wrap_dim(x, a.ndim) for x in dims)
                         if a.ndim and a.shape[d] == 1}))


def squeeze(input, dim=None):
    a = input._data
    if dim is None:
        data, cls = a.squeeze(), SqueezeBackward0
    else:
        axes = _squeeze_axes(a, dim)
        data = a.squeeze(axes) if axes else a
        cls = SqueezeBackward1 if isinstance(dim, (int, np.integer)) else SqueezeBackward2
    r = _view_of(input, data, _reshaper(data.shape))
    if needs_grad(input):
        n = cls()
        n.shape = a.shape
        link(n, (input,), r)
    return r


class UnsqueezeBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g):
        return g.squeeze(self.dim)


def unsqueeze(input, dim):
    a = input._data
    d = wrap_dim(dim, a.ndim + 1)
    r = _view_of(input, np.expand_dims(a, d), lambda t: t.unsqueeze(d))
    if needs_grad(input):
        n = UnsqueezeBackward0()
        n.dim = d
        link(n, (input,), r)
    return r


# ---------------------------------------------------------------- transpose / permute
class TransposeBackward0(Node):
    __slots__ = ("dim0", "dim1")

    def backward(self, g):
        return g.transpose(self.dim0, self.dim1)


def transpose(input, dim0, dim1):
    a = input._data
    d0, d1 = wrap_dim(dim0, a.ndim), wrap_dim(dim1, a.ndim)
    r = _view_of(input, np.swapaxes(a, d0, d1), lambda t: t.transpose(d0, d1))
    if needs_grad(input):
        n = TransposeBackward0()
        n.dim0, n.dim1 = d0, d1
        link(n, (input,), r)
    return r


swapaxes = transpose


class TBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return t(g)


def t(input):
    a = input._data
    if a.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
    r = _view_of(input, a.T, t)
    if needs_grad(input):
        link(TBackward0(), (input,), r)
    return r


class PermuteBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g):
        return g.permute(tuple(np.argsort(self.dims)))


def permute(input, *dims):
    a = input._data
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if len(dims) != a.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {a.ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, a.ndim) for d in dims)
    r = _view_of(input, np.transpose(a, dims), lambda x: x.permute(dims))
    if needs_grad(input):
        n = PermuteBackward0()
        n.dims = dims
        link(n, (input,), r)
    return r


def movedim(input, source, destination):
    a = input._data
    order = list(range(a.ndim))
    src = [wrap_dim(s, a.ndim) for s in (source if isinstance(source, (tuple, list)) else [source])]
    dst = [wrap_dim(d, a.ndim) for d in
           (destination if isinstance(destination, (tuple, list)) else [destination])]
    rest = [i for i in order if i not in src]
    out = [None] * a.ndim
    for s, d in zip(src, dst):
        out[d] = s
    it = iter(rest)
    out = [x if x is not None else next(it) for x in out]
    return permute(input, tuple(out))


# ---------------------------------------------------------------- expand / repeat
class ExpandBackward0(Node):
    """The engine's central reduction sums the gradient back to the input's shape."""
    __slots__ = ()

    def backward(self, g):
        return g


def expand(input, *sizes):
    a = input._data
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < a.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(a.shape)}}}, size={list(sizes)}): "
                           "the number of sizes provided (" f"{len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({a.ndim})")
    lead = len(sizes) - a.ndim
    target = tuple(a.shape[i - lead] if (s == -1 and i >= lead) else s
                   for i, s in enumerate(sizes))
    if target == a.shape:
        return input if not needs_grad(input) else _expand_node(input, a)
    try:
        data = np.broadcast_to(a, target)
    except ValueError:
        bad = next(i for i in range(a.ndim) if a.shape[i] != 1 and a.shape[i] != target[i + lead])
        raise RuntimeError(f"The expanded size of the tensor ({target[bad + lead]}) must match the "
                           f"existing size ({a.shape[bad]}) at non-singleton dimension "
                           f"{bad + lead}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                           f"{list(a.shape)}") from None
    r = _view_of(input, data)
    if needs_grad(input):
        link(ExpandBackward0(), (input,), r)
    return r


def _expand_node(input, a):
    r = _view_of(input, a)
    link(ExpandBackward0(), (input,), r)
    return r


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


class RepeatBackward0(Node):
    __slots__ = ("repeats", "shape")

    def backward(self, g):
        shape = self.shape
        reps = self.repeats
        lead = len(reps) - len(shape)
        full = (1,) * lead + tuple(shape)
        # split every dim d into (reps[d], full[d]) and sum over the repeat axes
        inter = []
        for r_, s in zip(reps, full):
            inter += [r_, s]
        gg = g.reshape(tuple(inter)).sum(tuple(range(0, 2 * len(reps), 2)))
        return gg.reshape(shape)


def repeat(input, *repeats):
    a = input._data
    if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
        repeats = tuple(repeats[0])
    if len(repeats) < a.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    r = make(np.tile(a, repeats))
    if needs_grad(input):
        n = RepeatBackward0()
        n.repeats, n.shape = tuple(repeats), a.shape
        link(n, (input,), r)
    return r


# ---------------------------------------------------------------- cat / stack / split
class CatBackward0(Node):
    __slots__ = ("dim", "sizes")

    def backward(self, g):
        out = []
        start = 0
        for s in self.sizes:
            out.append(g.narrow(self.dim, start, s) if s else None)
            start += s
        return tuple(out)


def cat(tensors, dim=0, *, out=None):
    if out is not None:
        return into_out(out, "cat", cat, tensors, dim)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t_).__name__}")
    ref = next((t_ for t_ in tensors if t_._data.ndim > 0), tensors[0])
    d = wrap_dim(dim, ref._data.ndim)
    parts = [t_ for t_ in tensors if not (t_._data.ndim == 1 and t_._data.shape[0] == 0)]
    for i, t_ in enumerate(parts):
        if t_._data.ndim != ref._data.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{ref._data.ndim} and {t_._data.ndim}")
        for k in range(ref._data.ndim):
            if k != d and t_._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._data.shape[k]} but got size "
                                   f"{t_._data.shape[k]} for tensor number {i} in the list.")
    dt = tensors_dtype(parts)
    r = make(np.concatenate([t_._data.astype(dt, copy=False) for t_ in parts], axis=d))
    if needs_grad(*tensors):
        n = CatBackward0()
        n.dim = d
        n.sizes = [t_._data.shape[d] if t_._data.ndim else 0 for t_ in tensors]
        link(n, tuple(tensors), r)
    return r


concat = concatenate = cat


class StackBackward0(Node):
    __slots__ = ("dim", "count")

    def backward(self, g):
        return tuple(g.select(self.dim, i) for i in range(self.count))


def stack(tensors, dim=0, *, out=None):
    if out is not None:
        return into_out(out, "stack", stack, tensors, dim)
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape0 = tensors[0]._data.shape
    for i, t_ in enumerate(tensors):
        if t_._data.shape != shape0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape0)} at entry 0 and {list(t_._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shape0) + 1)
    dt = tensors_dtype(tensors)
    r = make(np.stack([t_._data.astype(dt, copy=False) for t_ in tensors], axis=d))
    if needs_grad(*tensors):
        n = StackBackward0()
        n.dim, n.count = d, len(tensors)
        link(n, tuple(tensors), r)
    return r


def hstack(tensors):
    return cat(tensors, 1 if tensors[0].dim() > 1 else 0)


def vstack(tensors):
    return cat([t_ if t_.dim() > 1 else t_.unsqueeze(0) for t_ in tensors], 0)


class SplitBackward0(Node):
    __slots__ = ("dim",)

    def apply(self, grads):
        return (cat(grads, self.dim),)


class SplitWithSizesBackward0(SplitBackward0):
    __slots__ = ()


class UnbindBackward0(Node):
    __slots__ = ("dim",)

    def apply(self, grads):
        return (stack(grads, self.dim),)


def _split_at(input, d, sizes, cls):
    a = input._data
    bounds = np.cumsum(sizes)[:-1]
    arrays = np.split(a, bounds, axis=d)
    starts = [0] + [int(b) for b in bounds]
    outs = tuple(_view_of(input, x, _narrower(d, st, x.shape[d], (i, "Split")))
                 for i, (x, st) in enumerate(zip(arrays, starts)))
    if needs_grad(input):
        n = cls()
        n.dim = d
        link(n, (input,), outs)
    return outs


def _narrower(d, start, length, multi_output=None):
    fn = lambda t: t.narrow(d, start, length)  # noqa: E731
    fn.multi_output = multi_output  # (output nr, op) for the in-place refusal
    return fn


def _selector(d, i, multi_output=None):
    fn = lambda t: t.select(d, i)  # noqa: E731
    fn.multi_output = multi_output
    return fn


def split(input, split_size_or_sections, dim=0):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    length = a.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and length:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {length}")
        sizes = [s] * (length // s) + ([length % s] if length % s else [])
        return _split_at(input, d, sizes or [0], SplitBackward0)
    sizes = list(split_size_or_sections)
    if sum(sizes) != length:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} "
                           f"(input tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split_at(input, d, sizes, SplitWithSizesBackward0)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " f"{chunks}")
    a = input._data
    d = wrap_dim(dim, a.ndim)
    size = -(-a.shape[d] // chunks)
    return split(input, max(size, 1), d)


def unbind(input, dim=0):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    outs = tuple(_view_of(input, a[(slice(None),) * d + (i,)], _selector(d, i, (i, "Unbind")))
                 for i in range(a.shape[d]))
    if needs_grad(input):
        n = UnbindBackward0()
        n.dim = d
        link(n, (input,), outs)
    return outs


# ---------------------------------------------------------------- narrow / select
def narrow(input, dim, start, length):
    d = wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * d + (slice(int(start), int(start) + int(length)),)
    return input[idx]


def select(input, dim, index):
    d = wrap_dim(dim, input._data.ndim)
    return input[(slice(None),) * d + (int(index),)]
