"""Storage for new parameters and buffers in the requested dtype (float32 by default)."""

from __future__ import annotations

import numpy as np

from ...dtypes import as_dtype, get_default_dtype
from ...tensor import Tensor


def _np_dtype(dtype):
    return (get_default_dtype() if dtype is None else as_dtype(dtype)).np


def empty_param(shape, dtype=None) -> Tensor:
    """An uninitialised tensor (layers fill it in ``reset_parameters``)."""
    return Tensor._make(np.empty(shape, dtype=_np_dtype(dtype)))


def filled(shape, value, dtype=None) -> Tensor:
    return Tensor._make(np.full(shape, value, dtype=_np_dtype(dtype)))
