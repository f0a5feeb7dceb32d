"""What every op shares: turning arguments into arrays, PyTorch's type promotion, and the
one check ``needs_grad`` that decides whether an op builds a graph node at all."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _state
from ..autograd.node import FREED, Node, SavedTensor, link  # noqa: F401 - re-exported
from ..dtypes import get_default_dtype
from ..tensor import Tensor

_ndarray = np.ndarray
_tensor_make = Tensor._make


def make(arr):
    """Wrap a result array as a tensor (numpy ufuncs turn 0-d results into scalars)."""
    if arr.__class__ is not _ndarray:
        arr = _as_array(arr)
    return _tensor_make(arr)


def _as_array(x):
    from ..backend import is_cuda_array
    if is_cuda_array(x):
        return x
    return np.asarray(x)
_PY_SCALARS = (int, float, bool)


def needs_grad(*ts) -> bool:
    """Grad mode is on and some tensor argument requires grad."""
    if not _state.enabled:
        return False
    for t in ts:
        if t is not None and t.__class__ is not float and t.__class__ is not int and \
                getattr(t, "_requires_grad", False):
            return True
    return False


def as_tensor_arg(x, like: Tensor | None = None) -> Tensor:
    """A tensor for ``x`` (scalars and arrays become constant tensors on ``like``'s device)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, _PY_SCALARS):
        dt = _scalar_dtype(x, like._data.dtype if like is not None else None)
        arr = np.asarray(x, dtype=dt)
    else:
        arr = np.asarray(x)
        if arr.dtype == np.float64 and not isinstance(x, np.ndarray):
            arr = arr.astype(get_default_dtype().np)
    if like is not None and type(like._data) is not np.ndarray:
        from ..backend import to_device_array
        arr = to_device_array(arr, like.device)
    return make(arr)


def _category(kind):
    return 0 if kind == "b" else (1 if kind in "iu" else 2)


def _scalar_dtype(x, tensor_dtype):
    """dtype a Python scalar takes next to a tensor of ``tensor_dtype`` (PyTorch's rule)."""
    cat = 0 if isinstance(x, bool) else (1 if isinstance(x, int) else 2)
    if tensor_dtype is not None and _category(tensor_dtype.kind) >= cat:
        return tensor_dtype
    return np.bool_ if cat == 0 else (np.int64 if cat == 1 else get_default_dtype().np)


def promote_types(ad, bd):
    """PyTorch's ``promote_types`` for two numpy dtypes: the higher category (bool < integer
    < floating) wins outright (int64 with float32 is float32, where numpy says float64);
    within a category, numpy's rule (uint8 with int8 is int16, float16 with float32 is
    float32) agrees with PyTorch's."""
    if ad == bd:
        return ad
    ca, cb = _category(ad.kind), _category(bd.kind)
    if ca != cb:
        return ad if ca > cb else bd
    return np.promote_types(ad, bd)


def tensors_dtype(tensors):
    """The common dtype of a list of tensors (``cat``, ``stack``)."""
    dt = tensors[0]._data.dtype
    for t in tensors[1:]:
        dt = promote_types(dt, t._data.dtype)
    return dt


def into_out(out, name, fn, *args, **kwargs):
    """``fn(*args, out=out)``: compute ``fn(*args)`` and write it into ``out`` (resized to the
    result's shape, as PyTorch does; cast to ``out``'s dtype when that is safe). Like
    PyTorch, an ``out=`` call does not differentiate: it refuses inputs that require grad
    while grad mode is on."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _state.enabled and any(getattr(t, "_requires_grad", False)
                              for a in args for t in (a if isinstance(a, (list, tuple)) else (a,))):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    r = fn(*args, **kwargs)._data
    od = out._data.dtype
    if od != r.dtype and _category(od.kind) < _category(r.dtype.kind):
        from ..dtypes import from_numpy_dtype
        raise RuntimeError(f"result type {from_numpy_dtype(r.dtype)} can't be cast to the "
                           f"desired output type {from_numpy_dtype(od)}")
    if out._data.shape == r.shape:
        out._data[...] = r
    else:
        out._data = r.astype(od, copy=True)
    out._vc[0] += 1
    return out


def result_dtype(a, b):
    """PyTorch's result dtype of a binary op on ``a`` (a Tensor) and ``b`` (Tensor or scalar)."""
    ad = a._data.dtype
    if isinstance(b, Tensor):
        bd = b._data.dtype
        if ad == bd:
            return ad
        a0, b0 = a._data.ndim == 0, b._data.ndim == 0
        if a0 != b0:  # a zero-dim tensor only matters if its category is higher
            dim_d, zero_d = (bd, ad) if a0 else (ad, bd)
            if _category(zero_d.kind) <= _category(dim_d.kind):
                return dim_d
            return zero_d
        return promote_types(ad, bd)
    return _scalar_dtype(b, ad)


def check_same_device(a, b):
    from ..backend import is_cuda_array
    if is_cuda_array(a._data) != is_cuda_array(b._data):
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {a.device} and {b.device}!")


def binary_arrays(a, b):
    """The arrays of ``a`` and ``b`` cast to their PyTorch result dtype (scalars stay scalars
    where numpy already gives the right dtype)."""
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        if ad.dtype == bd.dtype:
            if type(ad) is not type(bd):
                check_same_device(a, b)
            return ad, bd
        if type(ad) is not type(bd):
            check_same_device(a, b)
        rd = result_dtype(a, b)
        return (ad if ad.dtype == rd else ad.astype(rd)), (bd if bd.dtype == rd else bd.astype(rd))
    if b.__class__ is float:
        if ad.dtype.kind == "f":
            return ad, b
        return ad.astype(get_default_dtype().np), b
    if b.__class__ is int:
        if ad.dtype.kind in "fiu":
            return ad, b
        return ad.astype(np.int64), b
    if isinstance(b, _PY_SCALARS):
        rd = _scalar_dtype(b, ad.dtype)
        return (ad if ad.dtype == rd else ad.astype(rd)), b
    return binary_arrays(a, as_tensor_arg(b, a))


def shape_error(op, a, b):
    return RuntimeError(f"The size of tensor a ({_fmt(a)}) must match the size of tensor b "
                        f"({_fmt(b)}) at non-singleton dimension; {op}: shapes "
                        f"{list(np.shape(a))} and {list(np.shape(b))} cannot be broadcast")


def _fmt(x):
    return "x".join(str(s) for s in np.shape(x)) or "scalar"


def broadcast_check(op, a, b):
    """Raise PyTorch-style error naming both shapes if ``a`` and ``b`` can't broadcast."""
    sa, sb = np.shape(a), np.shape(b)
    for i in range(1, min(len(sa), len(sb)) + 1):
        x, y = sa[-i], sb[-i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {max(len(sa), len(sb)) - i}; {op} of shapes "
                f"{list(sa)} and {list(sb)}")


def wrap_dim(dim, ndim):
    n = max(ndim, 1)
    d = int(dim)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return d + n if d < 0 else d


def wrap_dims(dim, ndim):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    axes = tuple(sorted(wrap_dim(d, ndim) for d in dim))
    # a 0-d tensor accepts dim 0 / -1 (as PyTorch does) but has no axis to reduce
    return () if ndim == 0 else axes
