"""RMSprop with momentum and the centered variant (torch's formulas)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _state_tensor, no_grad


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, alpha, eps = g["lr"], g["alpha"], g["eps"]
            wd, mom, centered = g["weight_decay"], g["momentum"], g["centered"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                x = p._data
                d = -p.grad._data if g["maximize"] else p.grad._data
                st = self.state[p]
                if not st:
                    st["step"] = _state_tensor(np.zeros((), np.float32))
                    st["square_avg"] = _state_tensor(np.zeros_like(x))
                    if mom > 0:
                        st["momentum_buffer"] = _state_tensor(np.zeros_like(x))
                    if centered:
                        st["grad_avg"] = _state_tensor(np.zeros_like(x))
                st["step"]._data += 1
                if wd != 0:
                    d = d + wd * x
                sq = st["square_avg"]._data
                sq *= alpha
                t = np.multiply(d, d, out=np.empty_like(sq))   # one scratch array, in place
                t *= 1 - alpha
                sq += t
                if centered:
                    ga = st["grad_avg"]._data
                    np.subtract(d, ga, out=t)
                    t *= 1 - alpha
                    ga += t
                    np.multiply(ga, ga, out=t)
                    np.subtract(sq, t, out=t)
                    np.sqrt(t, out=t)
                else:
                    np.sqrt(sq, out=t)
                t += eps                                       # avg
                np.divide(d, t, out=t)
                if mom > 0:
                    buf = st["momentum_buffer"]._data
                    buf *= mom
                    buf += t
                    np.multiply(buf, lr, out=t)
                else:
                    t *= lr
                x -= t
                p._vc[0] += 1
        return loss
