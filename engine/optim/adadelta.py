"""Adadelta: a per-coordinate step from running averages of squared gradients and of
squared updates (Zeiler 2012), PyTorch's formulas. State: ``step``, ``square_avg``,
``acc_delta``."""

from __future__ import annotations

from ._common import (advance, changed, check_lr, check_nonnegative, scalar, scalar_state,
                      weight_decay, with_grad, zeros_state)
from .optimizer import Optimizer, no_grad

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonnegative("epsilon", eps)
        check_nonnegative("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, rho, eps, wd = scalar(g["lr"]), g["rho"], g["eps"], g["weight_decay"]
            for p, x, d in with_grad(g):
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["square_avg"] = zeros_state(x)
                    st["acc_delta"] = zeros_state(x)
                advance(st)
                d = weight_decay(x, d, lr, wd)
                sq, acc = st["square_avg"]._data, st["acc_delta"]._data
                sq *= rho
                sq += (1 - rho) * d * d
                delta = (acc + eps) ** 0.5 / (sq + eps) ** 0.5 * d
                acc *= rho
                acc += (1 - rho) * delta * delta
                x -= lr * delta
                changed(p, st, ("square_avg", "acc_delta"))
        return loss
