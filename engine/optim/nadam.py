"""NAdam: Adam with Nesterov momentum and a momentum schedule (Dozat 2016), PyTorch's
formulas, with ``decoupled_weight_decay`` (NAdamW) and ``momentum_decay``.

Per-parameter state as PyTorch names it: ``step``, ``mu_product`` (the running product of
the momentum coefficients, a 0-d float32 tensor), ``exp_avg``, ``exp_avg_sq``.
"""

from __future__ import annotations

from ._common import (adam_moments, advance, changed, check_adam_family, check_nonnegative,
                      scalar, scalar_state, weight_decay, with_grad, zeros_state)
from .optimizer import Optimizer, no_grad

__all__ = ["NAdam"]


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_adam_family(lr, betas, eps, weight_decay)
        check_nonnegative("momentum_decay", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, (b1, b2), eps = scalar(g["lr"]), g["betas"], g["eps"]
            wd, psi = g["weight_decay"], g["momentum_decay"]
            for p, x, d in with_grad(g):
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["mu_product"] = scalar_state(1.0)
                    st["exp_avg"] = zeros_state(x)
                    st["exp_avg_sq"] = zeros_state(x)
                step = advance(st)
                d = weight_decay(x, d, lr, wd, g["decoupled_weight_decay"])
                mu = b1 * (1.0 - 0.5 * 0.96 ** (step * psi))
                mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
                st["mu_product"]._data *= mu
                mu_product = float(st["mu_product"]._data)
                m, v = adam_moments(st, d, b1, b2)
                denom = (v / (1 - b2 ** step)) ** 0.5
                denom += eps
                x += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (d / denom)
                x += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)
                changed(p, st, ("mu_product", "exp_avg", "exp_avg_sq"))
        return loss
