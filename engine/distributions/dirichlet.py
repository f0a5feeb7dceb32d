"""``Dirichlet(concentration)`` on the simplex of the last dimension.

``rsample`` normalises independent ``_standard_gamma`` draws (``x = g / sum g``): a valid
reparameterisation whose gradient flows through each gamma's implicit derivative.
PyTorch draws the same distribution but differentiates with its own ``_dirichlet_grad``
(one fused ``_DirichletBackward`` node); the per-sample gradients are different estimators
of the same expected gradient.
"""

from __future__ import annotations

from ..nn.functional import one_hot
from ..size import Size
from . import constraints
from ._special import digamma, lgamma, xlogy
from ._standard_gamma import _standard_gamma
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Dirichlet, batch_shape,
                                   {"concentration": tuple(self.event_shape)}, _instance)

    def rsample(self, sample_shape=Size()):
        g = _standard_gamma(self.concentration.expand(tuple(self._extended_shape(sample_shape))))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        if bool(mask.any()):
            mode[mask] = one_hot(mode[mask].argmax(dim=-1), cm1.shape[-1]).to(mode.dtype)
        return mode

    @property
    def variance(self):
        c0 = self.concentration.sum(-1, True)
        return self.concentration * (c0 - self.concentration) / (c0.pow(2) * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.size(-1)
        a0 = c.sum(-1)
        return (lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((c - 1.0) * digamma(c)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
