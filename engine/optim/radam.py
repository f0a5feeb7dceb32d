"""RAdam: Adam with the variance of the adaptive learning rate rectified (Liu et al. 2019),
PyTorch's formulas, with ``decoupled_weight_decay``.

While the approximated SMA length ``rho_t`` is at most 5 the step is plain momentum SGD on
the bias-corrected first moment; after that the rectified adaptive step. State: ``step``,
``exp_avg``, ``exp_avg_sq``.
"""

from __future__ import annotations

from ._common import (adam_moments, advance, changed, check_adam_family, scalar, scalar_state,
                      weight_decay, with_grad, zeros_state)
from .optimizer import Optimizer, no_grad

__all__ = ["RAdam"]


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_adam_family(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, (b1, b2), eps, wd = scalar(g["lr"]), g["betas"], g["eps"], g["weight_decay"]
            rho_inf = 2 / (1 - b2) - 1
            for p, x, d in with_grad(g):
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["exp_avg"] = zeros_state(x)
                    st["exp_avg_sq"] = zeros_state(x)
                step = advance(st)
                d = weight_decay(x, d, lr, wd, g["decoupled_weight_decay"])
                m, v = adam_moments(st, d, b1, b2)
                bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
                m_hat = m / bc1
                rho_t = rho_inf - 2 * step * (b2 ** step) / bc2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = bc2 ** 0.5 / (v ** 0.5 + eps)
                    x -= m_hat * lr * adaptive * rect
                else:
                    x -= m_hat * lr
                changed(p, st, ("exp_avg", "exp_avg_sq"))
        return loss
