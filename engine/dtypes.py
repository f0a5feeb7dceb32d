"""Tensor dtypes with PyTorch's names (``engine.float32`` prints as ``torch.float32``).

A dtype wraps one numpy dtype. Promotion follows PyTorch's rules for the cases that
matter: floats beat ints, a Python float combined with an integer tensor gives the
default float dtype (float32), never numpy's float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dtype", "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16",
           "int8", "uint8", "bool_", "get_default_dtype", "set_default_dtype", "as_dtype",
           "from_numpy_dtype"]


class dtype:
    """A tensor element type; compare with ``==`` or ``is`` (instances are unique)."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, np_dtype, is_floating_point, is_signed=True):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):  # copy/deepcopy keep the singleton
        return (as_dtype, (self.name,))


float32 = dtype("float32", np.float32, True)
float64 = dtype("float64", np.float64, True)
float16 = dtype("float16", np.float16, True)
int64 = dtype("int64", np.int64, False)
int32 = dtype("int32", np.int32, False)
int16 = dtype("int16", np.int16, False)
int8 = dtype("int8", np.int8, False)
uint8 = dtype("uint8", np.uint8, False, is_signed=False)
bool_ = dtype("bool", np.bool_, False, is_signed=False)
# numpy has no bfloat16; keep the name so code that mentions it fails clearly on use.
bfloat16 = None

_BY_NP = {d.np: d for d in (float32, float64, float16, int64, int32, int16, int8, uint8, bool_)}
_BY_NAME = {d.name: d for d in _BY_NP.values()}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64,
                 "int": int32, "short": int16, "bool_": bool_})

_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def from_numpy_dtype(npd) -> dtype:
    try:
        return _BY_NP[np.dtype(npd)]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(npd)}. The only supported "
                        "types are: float64, float32, float16, int64, int32, int16, int8, uint8, "
                        "and bool.") from None


def as_dtype(d) -> dtype:
    """Accept an engine dtype, a numpy dtype/type, a Python type or a name."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default[0]
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        key = d[6:] if d.startswith("torch.") else d
        if key in _BY_NAME:
            return _BY_NAME[key]
        raise TypeError(f"unknown dtype {d!r}")
    return from_numpy_dtype(d)
