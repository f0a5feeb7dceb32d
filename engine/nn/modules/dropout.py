"""Dropout layers: random zeroing in training mode, identity in eval mode."""

from __future__ import annotations

from .. import _dropout as D
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutNd(Module):
    _fn = None

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    _fn = staticmethod(D.dropout)


class Dropout1d(_DropoutNd):
    _fn = staticmethod(D.dropout1d)


class Dropout2d(_DropoutNd):
    _fn = staticmethod(D.dropout2d)


class Dropout3d(_DropoutNd):
    _fn = staticmethod(D.dropout3d)


class AlphaDropout(_DropoutNd):
    _fn = staticmethod(D.alpha_dropout)
