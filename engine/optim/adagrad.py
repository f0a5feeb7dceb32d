"""Adagrad with lr decay, weight decay and an initial accumulator (torch's formulas)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _state_tensor, no_grad


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for g in self.param_groups:
            for p in g["params"]:
                st = self.state[p]
                st["step"] = _state_tensor(np.zeros((), np.float32))
                st["sum"] = _state_tensor(np.full_like(p._data, initial_accumulator_value))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, lr_decay, wd, eps = g["lr"], g["lr_decay"], g["weight_decay"], g["eps"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                x = p._data
                d = -p.grad._data if g["maximize"] else p.grad._data
                st = self.state[p]
                st["step"]._data += 1
                step = float(st["step"]._data)
                if wd != 0:
                    d = d + wd * x
                clr = lr / (1 + (step - 1) * lr_decay)
                acc = st["sum"]._data
                t = np.multiply(d, d, out=np.empty_like(acc))  # one scratch array, in place
                acc += t
                np.sqrt(acc, out=t)
                t += eps
                np.divide(d, t, out=t)
                t *= clr
                x -= t
                p._vc[0] += 1
        return loss
