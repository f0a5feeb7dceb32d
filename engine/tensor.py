"""``engine.Tensor``: an n-d array (numpy or CuPy) with reverse-mode autograd.

The class holds state and conversions; the differentiable ops live in ``engine/ops``
(each op's forward beside its backward) and are attached as methods by
``engine/_tensor_methods.py``, as PyTorch does with ``torch/_tensor.py``.
"""

from __future__ import annotations

import weakref

import numpy as np

from . import backend
from .autograd.grad_mode import _state
from .autograd.node import AccumulateGrad, RemovableHandle
from .device import CPU, as_device
from .dtypes import as_dtype, from_numpy_dtype
from .size import Size

__all__ = ["Tensor"]


class Tensor:
    """A tensor. ``_data`` is the backend array; ``_vc`` the version counter shared by
    views of the same storage (a one-element list)."""

    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_output_nr", "_vc",
                 "_acc", "_hooks", "_post_acc_hooks", "_retains_grad", "_base",
                 "__weakref__", "__dict__")

    # ------------------------------------------------------------------ construction
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, data=None, *, requires_grad=False):
        """``Tensor(data)`` or ``Tensor(*sizes)``-style legacy calls: prefer engine.tensor."""
        from .creation import _to_array
        if data is None:
            arr = np.zeros((0,), np.float32)
        elif isinstance(data, int) and not isinstance(data, bool):
            arr = np.empty((data,), np.float32)
        else:
            arr = _to_array(data, None)
            if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
                arr = arr.astype(np.float32)
        _init(self, arr)
        self._requires_grad = bool(requires_grad)

    @classmethod
    def _make(cls, arr):
        t = object.__new__(cls)
        t._data = arr
        t._requires_grad = False
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._vc = [0]
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self):
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        if type(self._data) is np.ndarray:
            return CPU
        return backend.device_of_array(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags["C_CONTIGUOUS"])

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        if type(self._data) is np.ndarray:
            return self._data.__array_interface__["data"][0]
        return int(self._data.data.ptr)

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def data(self):
        """A tensor sharing this storage, outside autograd (its changes are not tracked)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def T(self):
        from .ops import shape as S
        return S.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def _grad_accumulator(self):
        ref = getattr(self, "_acc", None)
        acc = ref() if ref is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._acc = weakref.ref(acc)
        return acc

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd.functional import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        if self.grad_fn is None:
            return  # leaves keep .grad anyway
        if getattr(self, "_retains_grad", False):
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def _retain(grad):
            t = ref()
            if t is None:
                return None
            if t.grad is None:
                t.grad = grad.detach().clone() if not _state.enabled else grad
            else:
                t.grad = t.grad + grad
            return None
        self.grad_fn._register_tensor_hook(self._output_nr, _retain)

    @property
    def retains_grad(self) -> bool:
        return bool(getattr(self, "_retains_grad", False))

    def register_hook(self, hook):
        """``hook(grad)`` when this tensor's gradient is computed; may return a new grad."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._register_tensor_hook(self._output_nr, hook)
        hooks = getattr(self, "_hooks", None)
        if hooks is None:
            hooks = self._hooks = []
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` after ``.grad`` of this leaf was accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        hooks = getattr(self, "_post_acc_hooks", None)
        if hooks is None:
            hooks = self._post_acc_hooks = []
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    # ------------------------------------------------------------------ conversions
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return _host(self._data).tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if backend.is_cuda_array(self._data):
            if not force:
                raise TypeError("can't convert cuda:0 device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return self._data.get()
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = _host(self._data)
        return a if dtype is None else a.astype(dtype)

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; differentiable."""
        dev = kwargs.pop("device", None)
        dt = kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a.device, a.dtype
            elif a is None:
                continue
            elif isinstance(a, str) or type(a).__name__ == "device" or isinstance(a, int):
                dev = a
            else:
                dt = a
        from .ops.convert import to_copy
        return to_copy(self, None if dt is None else as_dtype(dt),
                       None if dev is None else as_device(dev), copy)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else as_device(device if not isinstance(device, int)
                                                                 else f"cuda:{device}"))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type(self, dtype=None):
        """``x.type()`` -> 'torch.FloatTensor'; ``x.type(torch.float64)``,
        ``x.type(torch.LongTensor)`` or ``x.type('torch.LongTensor')`` -> a cast copy."""
        if dtype is None:
            from .autograd.node import _type_name
            return _type_name(self._data.dtype)
        from ._legacy_types import legacy_dtype
        return self.to(legacy_dtype(dtype) or as_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    # ------------------------------------------------------------------ python protocol
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __repr__(self):
        from ._formatting import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        # as torch: a 0-d tensor formats as its Python number (f"{loss}" prints 0.25)
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, proto):
        raise TypeError("engine tensors are not picklable; use engine.save(obj, path)")

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        t = type(self)._make(self._data.copy())
        if type(self) is not Tensor:
            t.__dict__.update({k: v for k, v in self.__dict__.items()})
        t._requires_grad = self._requires_grad
        if self.grad is not None:
            t.grad = self.grad.detach().clone()
        memo[id(self)] = t
        return t


def _init(t, arr):
    t._data = arr
    t._requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._vc = [0]


def _host(arr):
    return arr.get() if backend.is_cuda_array(arr) else arr


def _wrap_dim(dim, ndim):
    d = int(dim)
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return d + n if d < 0 else d
