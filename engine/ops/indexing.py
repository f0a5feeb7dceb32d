"""Indexing: ``t[...]`` (basic, integer-array and boolean) and ``t[...] = v``, plus
``index_select`` and ``gather``.

Basic indices are applied one dimension at a time, as PyTorch does, so ``x[1:, 0]`` builds
``SliceBackward0`` then ``SelectBackward0`` and the debugger shows PyTorch's graph.
"""

from __future__ import annotations

import numpy as np

from ._core import Node, link, make, needs_grad, wrap_dim
from ..autograd.grad_mode import _state, no_grad
from ..tensor import Tensor


def _scatter_add(shape, index, g_arr):
    """zeros(shape) with ``g_arr`` added at ``index`` (repeated indices accumulate)."""
    out = np.zeros(shape, dtype=g_arr.dtype)
    if _is_basic(index):
        out[index] = g_arr
    else:
        np.add.at(out, index, g_arr)
    return out


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in items)


class _IndexGradNode(Node):
    """Backward of the op below: gathers ``g[index]`` (double backward of indexing)."""
    __slots__ = ("index",)

    def backward(self, g):
        return _take(g, self.index, IndexBackward0)


class IndexBackwardBackward0(_IndexGradNode):
    __slots__ = ()


def index_grad(g, shape, index):
    """Differentiable: zeros of ``shape`` with ``g`` placed (added) at ``index``."""
    r = make(_scatter_add(shape, index, g._data))
    if needs_grad(g):
        n = IndexBackwardBackward0()
        n.index = index
        link(n, (g,), r)
    return r


class _TakeNode(Node):
    __slots__ = ("index", "shape")

    def backward(self, g):
        return index_grad(g, self.shape, self.index)


class SelectBackward0(_TakeNode):
    __slots__ = ()


class SliceBackward0(_TakeNode):
    __slots__ = ()


class IndexBackward0(_TakeNode):
    __slots__ = ()


def _take(x, index, cls):
    a = x._data
    try:
        data = a[index]
    except IndexError as e:
        raise IndexError(_index_error(e, a.shape, index)) from None
    r = make(data)
    if cls is not IndexBackward0:
        r._vc = x._vc  # basic indexing gives a view
        r._base = (x, _indexer(index))
    if needs_grad(x):
        n = cls()
        n.index, n.shape = index, a.shape
        link(n, (x,), r)
    return r


def _indexer(index):
    return lambda t: t[index]


def _index_error(e, shape, index):
    msg = str(e)
    if "out of bounds" in msg:
        import re
        m = re.search(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", msg)
        if m:
            return (f"index {m.group(1)} is out of bounds for dimension {m.group(2)} with size "
                    f"{m.group(3)}")
    if "too many indices" in msg:
        return f"too many indices for tensor of dimension {len(shape)}"
    return msg


def _convert_index(index):
    """Tensors inside an index become arrays (bool masks stay bool)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(_convert_index(i) for i in index)
    if isinstance(index, list):
        arr = np.asarray([i._data if isinstance(i, Tensor) else i for i in index])
        return arr
    if isinstance(index, range):
        # x[range(n), target]: PyTorch reads a range as a sequence of integers
        return np.arange(index.start, index.stop, index.step, dtype=np.int64)
    return index


def _is_advanced(i):
    return isinstance(i, (np.ndarray, list)) or (isinstance(i, bool))


def getitem(x, index):
    """``x[index]`` as PyTorch applies it: basic items (ints, slices, None, ...) one
    dimension at a time (full slices skipped inside a tuple), then one advanced index on
    what remains; a tuple that changes nothing gives an alias."""
    index = _convert_index(index)
    if not needs_grad(x):
        return _getitem_untracked(x, index)
    if type(index) is not tuple:
        if isinstance(index, slice):
            return _take(x, (index,), SliceBackward0)
        if index is Ellipsis:
            from .shape import alias
            return alias(x)
        index = (index,)
    items = index
    n_real = 0
    for i in items:
        if i is None or i is Ellipsis:
            continue
        n_real += i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1
    if n_real > x._data.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x._data.ndim}")
    if any(i is Ellipsis for i in items):
        k = next(j for j, i in enumerate(items) if i is Ellipsis)
        fill = x._data.ndim - n_real
        items = items[:k] + (slice(None),) * fill + items[k + 1:]
    out = x
    dim = 0
    adv = []            # the index still to apply to ``out`` (advanced part)
    has_adv = False
    for it in items:
        if it is None:
            out = out.unsqueeze(dim)
            adv.append(slice(None))
            dim += 1
        elif isinstance(it, slice):
            size = out._data.shape[dim]
            if it.indices(size) != (0, size, 1):
                out = _take(out, (slice(None),) * dim + (it,), SliceBackward0)
            adv.append(slice(None))
            dim += 1
        elif isinstance(it, np.ndarray):
            has_adv = True
            adv.append(it)
            dim += it.ndim if it.dtype == np.bool_ else 1
        else:
            it = int(it)
            size = out._data.shape[dim]
            if not -size <= it < size:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size "
                                 f"{size}")
            out = _take(out, (slice(None),) * dim + (it,), SelectBackward0)
    if has_adv:
        while adv and isinstance(adv[-1], slice):
            adv.pop()
        return _take(out, tuple(adv), IndexBackward0)
    if out is x:
        from .shape import alias
        return alias(x)
    return out


def _getitem_untracked(x, index):
    """No graph to build: one numpy indexing (ints before arrays, as PyTorch orders dims)."""
    if type(index) is tuple and _mixes_int_and_array(index):
        return _int_then_array(x, index)
    try:
        data = x._data[index]
    except IndexError as e:
        raise IndexError(_index_error(e, x._data.shape, index)) from None
    r = make(data)
    if _is_basic(index):
        r._vc = x._vc
        r._base = (x, _indexer(index))
    return r


def _mixes_int_and_array(index):
    has_int = any(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in index)
    return has_int and any(isinstance(i, np.ndarray) for i in index)


def _int_then_array(x, index):
    """Apply the ints of ``index`` first (numpy would treat them as advanced indices)."""
    basic, rest = [], []
    for i in index:
        if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            basic.append(int(i))
        elif i is None or i is Ellipsis or isinstance(i, slice):
            basic.append(slice(None) if isinstance(i, slice) else i)
            rest.append(i if isinstance(i, slice) else slice(None))
        else:
            basic.append(slice(None))
            rest.append(i)
    if any(i is Ellipsis for i in basic):
        return make(x._data[index])  # rare; numpy's order
    return make(x._data[tuple(basic)][tuple(rest)])


# ---------------------------------------------------------------- setitem
class CopySlices(Node):
    """``x[index] = v`` (``index`` set) or an in-place change of a view of ``x``
    (``view_fn`` re-applies the view): x's old values get the gradient outside the written
    region, the written value gets the region's gradient."""
    __slots__ = ("index", "value_shape", "view_fn")

    def backward(self, g):
        gx = gv = None
        fn = self.view_fn
        if self.needs(0):
            mask = np.ones(g._data.shape, dtype=g._data.dtype)
            if fn is None:
                mask[self.index] = 0
            else:
                with no_grad():
                    fn(make(mask))._data[...] = 0
            gx = g * mask
        if self.needs(1):
            gv = g[self.index] if fn is None else fn(g)
        return gx, gv


def check_inplace(x, op="in-place operation"):
    """PyTorch refuses in-place changes to a leaf that requires grad, or to a view of one,
    while grad mode is on (the leaf's value would change under its own gradient)."""
    if not _state.enabled:
        return
    if x._requires_grad and x.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    b = getattr(x, "_base", None)
    if b is not None and x._requires_grad and getattr(b[1], "multi_output", None):
        nr, name = b[1].multi_output
        raise RuntimeError(f"Output {nr} of {name} is a view and is being modified inplace. This "
                           "view is the output of a function that returns multiple views. Such "
                           "functions do not allow the output views to be modified inplace. You "
                           "should replace the inplace operation by an out-of-place one.")
    while b is not None:
        base = b[0]
        if base._requires_grad and base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        b = getattr(base, "_base", None)


def rebase_bases(x):
    """``x``, a view made by basic indexing, was changed in place and has a new history: its
    base (and the base's own bases) take a ``CopySlices`` node over their old history and
    ``x``'s new one, so gradients that flow through the base see the change, as PyTorch
    rebases the base of a modified view."""
    b = getattr(x, "_base", None)
    while b is not None:
        base, fn = b
        old = make(base._data)
        old.grad_fn, old._output_nr, old._requires_grad = (base.grad_fn, base._output_nr,
                                                           base._requires_grad)
        n = CopySlices()
        n.index = None
        n.view_fn = fn
        n.value_shape = x._data.shape
        link(n, (old, x), base)
        base._output_nr = 0
        x, b = base, getattr(base, "_base", None)


def setitem(x, index, value):
    if _state.enabled and x._requires_grad and x.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    check_inplace(x)
    index = _convert_index(index)
    v = value if isinstance(value, Tensor) else None
    varr = v._data if v is not None else value
    try:
        x._data[index] = varr
    except ValueError as e:
        vshape = list(np.shape(varr))
        raise RuntimeError(f"shape mismatch: value tensor of shape {vshape} cannot be broadcast "
                           f"to indexing result of shape {list(np.shape(x._data[index]))} ({e})"
                           ) from None
    except IndexError as e:
        raise IndexError(_index_error(e, x._data.shape, index)) from None
    x._vc[0] += 1
    if needs_grad(x, v):
        n = CopySlices()
        n.index = index
        n.view_fn = None
        n.value_shape = np.shape(varr)
        link(n, (x, v), x)
        x._output_nr = 0
        rebase_bases(x)


# ---------------------------------------------------------------- index_select / gather
class IndexSelectBackward0(Node):
    __slots__ = ("dim", "index", "shape")

    def backward(self, g):
        idx = (slice(None),) * self.dim + (self.index,)
        return index_grad(g, self.shape, idx)


def index_select(input, dim, index):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    r = make(np.take(a, idx, axis=d))
    if needs_grad(input):
        n = IndexSelectBackward0()
        n.dim, n.index, n.shape = d, idx, a.shape
        link(n, (input,), r)
    return r


class GatherBackward0(Node):
    __slots__ = ("dim", "index", "shape")

    def backward(self, g):
        return scatter_into_zeros(g, self.shape, self.dim, self.index)


def gather(input, dim, index, *, sparse_grad=False):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.ndim != a.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    r = make(np.take_along_axis(a, idx, axis=d))
    if needs_grad(input):
        n = GatherBackward0()
        n.dim, n.index, n.shape = d, idx, a.shape
        link(n, (input,), r)
    return r


class ScatterAddBackward(Node):
    """Backward of ``scatter_into_zeros``: gather the gradient back."""
    __slots__ = ("dim", "index")

    def backward(self, g):
        return gather(g, self.dim, make(self.index))


def scatter_into_zeros(g, shape, dim, index):
    """zeros(shape) with ``g`` added along ``dim`` at ``index`` (differentiable in ``g``)."""
    out = np.zeros(shape, dtype=g._data.dtype)
    idx_full = list(np.indices(index.shape, sparse=True))
    idx_full[dim] = index
    np.add.at(out, tuple(idx_full), g._data)
    r = make(out)
    if needs_grad(g):
        n = ScatterAddBackward()
        n.dim, n.index = dim, index
        link(n, (g,), r)
    return r


def take_along_dim(input, indices, dim):
    return gather(input, dim, indices)


def masked_select(input, mask):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    return getitem(input, np.broadcast_to(m, input._data.shape))


def nonzero(input, *, as_tuple=False):
    idx = np.nonzero(input._data)
    if as_tuple:
        return tuple(make(i.astype(np.int64)) for i in idx)
    return make(np.stack(idx, axis=1).astype(np.int64))
