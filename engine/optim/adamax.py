"""Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba 2014,
section 7), PyTorch's formulas. State: ``step``, ``exp_avg``, ``exp_inf``."""

from __future__ import annotations

from .. import backend
from ._common import (advance, changed, check_adam_family, scalar, scalar_state, weight_decay,
                      with_grad, zeros_state)
from .optimizer import Optimizer, no_grad

__all__ = ["Adamax"]


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_adam_family(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, (b1, b2), eps, wd = scalar(g["lr"]), g["betas"], g["eps"], g["weight_decay"]
            for p, x, d in with_grad(g):
                xp = backend.get_array_module(x)
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["exp_avg"] = zeros_state(x)
                    st["exp_inf"] = zeros_state(x)
                step = advance(st)
                d = weight_decay(x, d, lr, wd)
                m, u = st["exp_avg"]._data, st["exp_inf"]._data
                m += (d - m) * (1 - b1)
                u *= b2
                xp.maximum(u, xp.abs(d) + eps, out=u)
                x += (-lr / (1 - b1 ** step)) * (m / u)
                changed(p, st, ("exp_avg", "exp_inf"))
        return loss
