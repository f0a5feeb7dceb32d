"""The one place that decides numpy or CuPy (Chainer's ``get_array_module`` idea).

CuPy is imported lazily, only when a CUDA device is asked for, so ``import engine``
never pulls it in. Everything else in the engine asks this module which array library
an array belongs to and how to move an array between devices.
"""

from __future__ import annotations

import numpy as np

_cupy = None          # the module once imported
_cupy_error = None    # why it could not be imported


def cupy_module(required: bool = True):
    """Import CuPy on first use; raise a clear error naming what is missing."""
    global _cupy, _cupy_error
    if _cupy is not None:
        return _cupy
    if _cupy_error is None:
        try:
            import cupy  # noqa: PLC0415 - lazy on purpose
            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
            return cupy
        except ImportError as e:
            _cupy_error = ("CuPy is not installed: install the 'gpu' extra "
                           f"(pip install 'autograd-viz[gpu]') ({e})")
        except Exception as e:  # CUDA driver/runtime missing or no device
            _cupy_error = f"CuPy is installed but no usable CUDA GPU was found ({e})"
    if required:
        raise RuntimeError(f"CUDA is not available: {_cupy_error}")
    return None


def get_array_module(arr):
    """numpy for numpy arrays (and scalars), cupy for cupy arrays."""
    if isinstance(arr, np.ndarray) or _cupy is None:
        return np
    return _cupy.get_array_module(arr)


def is_cuda_array(arr) -> bool:
    return _cupy is not None and isinstance(arr, _cupy.ndarray)


def to_device_array(arr, dev):
    """Return ``arr`` on device ``dev`` (an engine.device); copies only if it moves."""
    if dev.type == "cpu":
        if is_cuda_array(arr):
            return arr.get()
        return arr
    cp = cupy_module()
    with cp.cuda.Device(dev.index or 0):
        if isinstance(arr, cp.ndarray) and arr.device.id == (dev.index or 0):
            return arr
        return cp.asarray(arr)


def device_of_array(arr):
    from .device import CPU, device
    if is_cuda_array(arr):
        return device("cuda", arr.device.id)
    return CPU
