"""``Gamma(concentration, rate)``, with ``rsample`` reparameterised through
``_standard_gamma`` (its implicit pathwise gradient in the concentration)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..size import Size
from . import constraints
from ._special import digamma, lgamma, xlogy
from ._standard_gamma import _standard_gamma
from .exp_family import ExponentialFamily
from .utils import _is_number, broadcast_all

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch = Size() if _is_number(concentration) and _is_number(rate) \
            else self.concentration.size()
        super().__init__(batch, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, batch_shape, {"concentration": (), "rate": ()},
                                   _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        xp = backend.get_array_module(value._data)              # clamped outside the graph,
        xp.maximum(value._data, np.finfo(value._data.dtype).tiny, out=value._data)  # as PyTorch
        return value

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()
