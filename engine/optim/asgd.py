"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky 1992), PyTorch's formulas:
a decaying step ``eta = lr / (1 + lambd * lr * t) ** alpha`` and, from step ``t0`` on, a
running average ``ax`` of the iterates. State: ``step``, ``eta``, ``mu``, ``ax``."""

from __future__ import annotations

from ._common import (advance, changed, check_lr, check_nonnegative, scalar, scalar_state,
                      weight_decay, with_grad, zeros_state)
from .optimizer import Optimizer, no_grad

__all__ = ["ASGD"]


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, lambd, alpha, t0 = scalar(g["lr"]), g["lambd"], g["alpha"], g["t0"]
            wd = g["weight_decay"]
            for p, x, d in with_grad(g):
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["eta"] = scalar_state(lr)
                    st["mu"] = scalar_state(1.0)
                    st["ax"] = zeros_state(x)
                step = advance(st)
                d = weight_decay(x, d, lr, wd)
                eta = float(st["eta"]._data)
                x *= 1 - lambd * eta
                x -= eta * d
                ax, mu = st["ax"]._data, float(st["mu"]._data)
                if mu != 1:
                    ax += (x - ax) * mu
                else:
                    ax[...] = x
                st["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                st["mu"]._data[...] = 1 / max(1, step - t0)
                changed(p, st, ("eta", "mu", "ax"))
        return loss
