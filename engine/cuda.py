"""``engine.cuda``: is a CUDA GPU usable (CuPy installed and a device present)?"""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    return backend.cupy_module(required=False) is not None


def device_count() -> int:
    cp = backend.cupy_module(required=False)
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


def synchronize(device=None) -> None:
    cp = backend.cupy_module()
    cp.cuda.Device(0 if device is None else int(str(device).split(":")[-1] or 0)).synchronize()


def manual_seed(seed: int) -> None:
    cp = backend.cupy_module(required=False)
    if cp is not None:
        cp.random.seed(int(seed))


manual_seed_all = manual_seed


def current_device() -> int:
    cp = backend.cupy_module()
    return int(cp.cuda.runtime.getDevice())
