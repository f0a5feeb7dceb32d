"""``engine.accelerator``: the device-agnostic accelerator API of recent PyTorch tutorials
(``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else
"cpu"``). Our only accelerator is a CUDA GPU through CuPy."""

from __future__ import annotations

from . import cuda
from .device import device


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` when a GPU is usable, else None."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count() if cuda.is_available() else 0


def current_device_index() -> int:
    return cuda.current_device() if cuda.is_available() else -1


def synchronize(device=None) -> None:
    if cuda.is_available():
        cuda.synchronize(device)
