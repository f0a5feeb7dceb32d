"""Root-mean-square and local response normalisation, both composites of engine ops as in
PyTorch (so the graph shows the same nodes: ``rms_norm`` is ``x * rsqrt(mean(x^2) + eps)``
times the weight; ``local_response_norm`` divides by an average pool of ``x^2`` across
channels).
"""

from __future__ import annotations

import numpy as np

from ._scalar_nodes import add_scalar

__all__ = ["rms_norm", "local_response_norm"]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2 over the trailing normalized_shape dims) + eps) * weight``; ``eps``
    None means the machine epsilon of the input's dtype (``torch.nn.functional.rms_norm``)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    shape = tuple(input.shape)
    k = len(ns)
    if len(shape) < k or shape[len(shape) - k:] != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{', '.join(str(s) for s in ns)}], but got input of size"
                           f"{list(shape)}")
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError("Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{list(ns)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(len(shape) - k, len(shape)))
    out = input * add_scalar(input.pow(2).mean(dims, keepdim=True), eps).rsqrt()
    if weight is not None:
        out = out * weight
        if out.dtype != input.dtype:
            out = out.type_as(input)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each channel by ``(k + alpha * mean of x^2 over size neighbouring channels)
    ** beta`` (``torch.nn.functional.local_response_norm``)."""
    from ._pad import pad
    from . import functional as F
    dim = input.dim()
    if dim < 3:
        raise ValueError("Expected 3D or higher dimensionality                          "
                         f"input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input * input
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = F.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input.shape)
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = F.avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).view(*sizes)
    div = (div * alpha + k).pow(beta)
    return input / div
