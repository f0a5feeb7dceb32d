"""Group normalisation: ``group_norm`` and its ``NativeGroupNormBackward0`` (inputs: input,
weight, bias), as PyTorch names it.

The channels of each sample are split into ``num_groups`` groups; each group is normalised
over its channels and all spatial positions, then every channel gets its own scale and shift.
Forward works on arrays; backward is written with engine ops and recomputes the group
statistics from the saved input, so ``create_graph=True`` gives exact second derivatives.
"""

from __future__ import annotations

import numpy as np

from ..ops._core import Node, SavedTensor, link, make, needs_grad

__all__ = ["group_norm"]

_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "int32": "Int",
         "int64": "Long", "bool": "Bool", "int16": "Short", "int8": "Char", "uint8": "Byte"}


def type_word(dt) -> str:
    """PyTorch's short name of a numpy dtype in kernel messages ('Float', 'Long')."""
    return _TYPE.get(str(dt), str(dt))


class NativeGroupNormBackward0(Node):
    __slots__ = ("input", "weight", "group", "eps", "N", "C", "HxW")
    _saved_names = ("input", "weight")

    def backward(self, g):
        x = self.unpack(self.input)
        w = self.unpack(self.weight) if self.weight is not None else None
        n, groups = x.shape[0], self.group
        per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        xr = x.reshape(n, groups, -1)
        mu = xr.mean(2, keepdim=True)
        xc = xr - mu
        inv = ((xc * xc).mean(2, keepdim=True) + self.eps).rsqrt()
        xhat = xc * inv                                        # (N, G, C/G * HxW)
        others = (0,) + tuple(range(2, x.ndim))
        gx = gw = gb = None
        if self.needs(0):
            gy = g * w.reshape(per_channel) if w is not None else g
            gyr = gy.reshape(n, groups, -1)
            gx = ((gyr - gyr.mean(2, keepdim=True)
                   - xhat * (gyr * xhat).mean(2, keepdim=True)) * inv).reshape(x.shape)
        if self.needs(1):
            gw = (g * xhat.reshape(x.shape)).sum(others)
        if self.needs(2):
            gb = g.sum(others)
        return gx, gw, gb


def _check(input, num_groups, weight, bias):
    a = input._data
    if a.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {a.ndim}")
    C = a.shape[1]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(a.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or t._data.shape[0] != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{list(t._data.shape)} and input of shape {list(a.shape)}")
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"GroupNormKernelImpl" not implemented for '
                                  f"'{type_word(a.dtype)}'")
    for t in (weight, bias):
        if t is not None and t._data.dtype != a.dtype:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{type_word(a.dtype)}")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) input over groups of ``C // num_groups`` channels (and all
    spatial positions), then scale and shift each channel: ``torch.nn.functional.group_norm``."""
    num_groups = int(num_groups)
    _check(input, num_groups, weight, bias)
    a = input._data
    n, c = a.shape[0], a.shape[1]
    ar = a.reshape(n, num_groups, -1)
    mean = ar.mean(axis=2, keepdims=True, dtype=a.dtype)
    xc = ar - mean
    var = (xc * xc).mean(axis=2, keepdims=True, dtype=a.dtype)
    out = (xc * (1 / np.sqrt(var + eps)).astype(a.dtype, copy=False)).reshape(a.shape)
    per_channel = (1, c) + (1,) * (a.ndim - 2)
    if weight is not None:
        out = out * weight._data.reshape(per_channel)
    if bias is not None:
        out = out + bias._data.reshape(per_channel)
    r = make(out.astype(a.dtype, copy=False))
    if needs_grad(input, weight, bias):
        node = NativeGroupNormBackward0()
        node.input = SavedTensor(input)
        node.weight = SavedTensor(weight) if weight is not None else None
        node.group, node.eps = num_groups, eps
        node.N, node.C, node.HxW = n, c, int(np.prod(a.shape[2:], dtype=np.int64))
        link(node, (input, weight, bias), r)
    return r
