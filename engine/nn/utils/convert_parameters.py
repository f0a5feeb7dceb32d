"""``parameters_to_vector`` (one flat tensor, differentiable) and ``vector_to_parameters``
(writes slices of a vector back into the parameters' storage)."""

from __future__ import annotations

from ...ops import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(param, old):
    dev = param.device
    if old is not None and dev != old:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return dev


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated, in order."""
    device = None
    vec = []
    for p in parameters:
        device = _check_same_device(p, device)
        vec.append(p.view(-1))
    return cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into ``parameters`` (as ``param.data = ...``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for p in parameters:
        device = _check_same_device(p, device)
        n = p.numel()
        p._data = vec._data[pointer:pointer + n].reshape(p._data.shape).astype(
            p._data.dtype, copy=False)
        pointer += n
