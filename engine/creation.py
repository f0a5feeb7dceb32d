"""Tensor factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``rand`` ...

Floats default to float32 (numpy would pick float64), ints to int64, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .device import _default_device, as_device
from .dtypes import as_dtype, get_default_dtype
from .random import rng
from .tensor import Tensor


def _sizes(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _to_array(data, dtype):
    if isinstance(data, Tensor):
        return data._data.copy() if dtype is None else data._data.astype(dtype.np)
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _detensor(data)
    if backend.is_cuda_array(data):
        return data if dtype is None else data.astype(dtype.np)
    if dtype is not None:
        return np.array(data, dtype=dtype.np)
    arr = np.array(data)
    if arr.dtype == np.float64 and not isinstance(data, np.ndarray) and \
            not isinstance(data, np.floating):
        arr = arr.astype(get_default_dtype().np)
    elif arr.dtype.kind in "iu" and arr.dtype != np.int64 and not isinstance(data, np.ndarray):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "fiub":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return arr


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _detensor(data):
    if isinstance(data, Tensor):
        return data._data.item() if data._data.size == 1 and data._data.ndim == 0 else \
            backend.to_device_array(data._data, as_device("cpu"))
    if isinstance(data, (list, tuple)):
        return [_detensor(d) for d in data]
    return data


def _place(arr, device, requires_grad=False):
    dev = as_device(device if device is not None else _default_device[0])
    if dev.type != "cpu":
        arr = backend.to_device_array(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of ``data`` (lists, scalars, arrays, tensors)."""
    dt = None if dtype is None else as_dtype(dtype)
    arr = _to_array(data, dt)
    if isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    if device is None and isinstance(data, Tensor):
        device = data.device
    return _place(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and dtype is None and device is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr):
    """A tensor sharing memory with the numpy array ``arr``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    from .dtypes import from_numpy_dtype
    from_numpy_dtype(arr.dtype)
    return Tensor._make(arr)


def _dt(dtype, default=None):
    if dtype is None:
        return (default or get_default_dtype()).np
    return as_dtype(dtype).np


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    if out is not None:
        return _fill_out(out, size, 0)
    return _place(np.zeros(_sizes(size), dtype=_dt(dtype)), device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    if out is not None:
        return _fill_out(out, size, 1)
    return _place(np.ones(_sizes(size), dtype=_dt(dtype)), device, requires_grad)


def _fill_out(out, size, value):
    """``zeros(size, out=t)``: ``t`` resized to ``size`` and filled (its dtype kept)."""
    shape = _sizes(size)
    if tuple(out._data.shape) == shape:
        out._data[...] = value
    else:
        xp = backend.get_array_module(out._data)
        out._data = xp.full(shape, value, dtype=out._data.dtype)
    out._vc[0] += 1
    return out


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _place(np.empty(_sizes(size), dtype=_dt(dtype)), device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = "bool"
        elif isinstance(fill_value, int):
            dtype = "int64"
    return _place(np.full(_sizes((size,)), fill_value, dtype=_dt(dtype)), device, requires_grad)


def _like(t, dtype, device):
    return (t.dtype if dtype is None else as_dtype(dtype)).np, (t.device if device is None
                                                               else device)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _place(np.zeros(input._data.shape, dtype=dt), dev, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _place(np.ones(input._data.shape, dtype=dt), dev, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _place(np.empty(input._data.shape, dtype=dt), dev, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(input, dtype, device)
    return _place(np.full(input._data.shape, fill_value, dtype=dt), dev, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)
        dtype = "int64" if is_int else None
    return _place(np.arange(*vals, dtype=_dt(dtype)), device, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    return _place(np.linspace(start, end, int(steps), dtype=_dt(dtype)), device, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    return _place(np.logspace(start, end, int(steps), base=base, dtype=_dt(dtype)), device,
                  requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _place(np.eye(int(n), None if m is None else int(m), dtype=_dt(dtype)), device,
                  requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    dt = _dt(dtype)
    arr = rng(generator).random(_sizes(size), dtype=np.float64 if dt == np.float64 else
                                np.float32).astype(dt, copy=False)
    return _place(arr, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    dt = _dt(dtype)
    arr = rng(generator).standard_normal(_sizes(size), dtype=np.float64 if dt == np.float64
                                         else np.float32).astype(dt, copy=False)
    return _place(arr, device, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    arr = rng(generator).integers(low, high, size=_sizes((size,)), dtype=np.int64)
    return _place(arr.astype(_dt(dtype, as_dtype("int64")), copy=False), device, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    arr = rng(generator).permutation(int(n)).astype(_dt(dtype, as_dtype("int64")))
    return _place(arr, device, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    return rand(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    return randn(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        z = rng(generator).standard_normal(shape, dtype=np.float32)
        return _place((m + s * z).astype(np.float32), device)
    return randn(*_sizes((size,)), generator=generator, dtype=dtype, device=device) * std + mean


def bernoulli(input, p=None, *, generator=None):
    probs = input._data if p is None else np.full(input._data.shape, p)
    arr = (rng(generator).random(probs.shape) < probs).astype(input._data.dtype)
    return Tensor._make(arr)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    p = np.asarray(input._data, dtype=np.float64)
    rows = p.reshape(-1, p.shape[-1])
    out = []
    for row in rows:
        row = row / row.sum()
        out.append(rng(generator).choice(len(row), size=num_samples, replace=replacement, p=row))
    res = np.stack(out).astype(np.int64)
    return Tensor._make(res if p.ndim > 1 else res[0])
