"""``ExponentialFamily``: distributions with density ``exp(<t(x), theta> - F(theta) + k(x))``.

Subclasses give ``_natural_params`` (theta) and ``_log_normalizer`` (F); the entropy and the
KL divergence between two members of one family then follow from F by autograd (Bregman
divergence), as in PyTorch. Most subclasses override ``entropy`` with a closed form.
"""

from __future__ import annotations

from ..autograd.functional import grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """``F(theta) - <theta, grad F(theta)> - E[k(x)]``."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        grads = grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, grads):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
