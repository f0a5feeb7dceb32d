"""PyTorch's legacy typed-tensor classes: ``torch.FloatTensor``, ``torch.LongTensor`` ...

Older tutorials still write ``torch.FloatTensor([1, 2])``, ``x.type(torch.LongTensor)``
and ``isinstance(x, torch.FloatTensor)``. Each class here builds an ``engine.Tensor`` of its
dtype (it is never instantiated itself) and answers ``isinstance`` by dtype and device, as
PyTorch's do.
"""

from __future__ import annotations

import numpy as np

from .dtypes import as_dtype
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


class _LegacyMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np and \
            obj.device.type == "cpu"

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


class _LegacyTensor(metaclass=_LegacyMeta):
    dtype = None

    def __new__(cls, *args, device=None):
        """``T(sizes...)`` (uninitialised, like ``torch.empty``), ``T(size)`` for a Size,
        ``T(data)`` from a list / array / tensor, or ``T()`` (empty)."""
        from .creation import empty, tensor
        if not args:
            return empty(0, dtype=cls.dtype, device=device)
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            return empty(*args, dtype=cls.dtype, device=device)
        if len(args) == 1:
            data = args[0]
            if isinstance(data, tuple) and type(data).__name__ == "Size":
                return empty(*data, dtype=cls.dtype, device=device)
            if isinstance(data, Tensor):
                return data.detach().to(cls.dtype)
            return tensor(data, dtype=cls.dtype, device=device)
        raise TypeError(f"{cls.__name__}(): expected sizes or one data argument, got {args!r}")


def _make(name, dt):
    return _LegacyMeta(name, (_LegacyTensor,), {"dtype": as_dtype(dt), "__slots__": ()})


FloatTensor = _make("FloatTensor", "float32")
DoubleTensor = _make("DoubleTensor", "float64")
HalfTensor = _make("HalfTensor", "float16")
LongTensor = _make("LongTensor", "int64")
IntTensor = _make("IntTensor", "int32")
ShortTensor = _make("ShortTensor", "int16")
CharTensor = _make("CharTensor", "int8")
ByteTensor = _make("ByteTensor", "uint8")
BoolTensor = _make("BoolTensor", "bool")
_BY_NAME = {c.__name__: c for c in (FloatTensor, DoubleTensor, HalfTensor, LongTensor,
                                     IntTensor, ShortTensor, CharTensor, ByteTensor,
                                     BoolTensor)}


def legacy_dtype(t):
    """The dtype named by a legacy class or its name ('torch.LongTensor'), else None."""
    if isinstance(t, _LegacyMeta):
        return t.dtype
    if isinstance(t, str):
        cls = _BY_NAME.get(t[6:] if t.startswith("torch.") else t)
        return None if cls is None else cls.dtype
    return None
