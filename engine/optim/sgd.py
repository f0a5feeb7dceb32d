"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch's formulas)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _state_tensor, no_grad


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, mom, damp = g["lr"], g["momentum"], g["dampening"]
            wd, nesterov, maximize = g["weight_decay"], g["nesterov"], g["maximize"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                x = p._data
                d = p.grad._data
                if maximize:
                    d = -d
                if wd != 0:
                    d = d + wd * x
                if mom != 0:
                    st = self.state[p]
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        buf = st["momentum_buffer"] = _state_tensor(np.array(d, copy=True))
                    else:
                        b = buf._data
                        b *= mom
                        b += d if damp == 0 else (1 - damp) * d
                    d = d + mom * buf._data if nesterov else buf._data
                if lr == 1:
                    x -= d
                else:
                    x -= lr * d
                p._vc[0] += 1
        return loss
