"""Adam and AdamW (decoupled weight decay), with amsgrad and maximize (torch's formulas)."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, _state_tensor, no_grad


def _check(lr, eps, betas, weight_decay):
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check(lr, eps, betas, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay
                                      or self._decoupled))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, (b1, b2), eps = g["lr"], g["betas"], g["eps"]
            wd, amsgrad, maximize = g["weight_decay"], g["amsgrad"], g["maximize"]
            decoupled = g["decoupled_weight_decay"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                x = p._data
                d = p.grad._data
                if maximize:
                    d = -d
                st = self.state[p]
                if not st:
                    st["step"] = _state_tensor(np.zeros((), np.float32))
                    st["exp_avg"] = _state_tensor(np.zeros_like(x))
                    st["exp_avg_sq"] = _state_tensor(np.zeros_like(x))
                    if amsgrad:
                        st["max_exp_avg_sq"] = _state_tensor(np.zeros_like(x))
                st["step"]._data += 1
                step = float(st["step"]._data)
                if wd != 0:
                    if decoupled:
                        x *= 1 - lr * wd
                    else:
                        d = d + wd * x
                m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
                # in place through one scratch array (the same operations, in the same
                # order, as the textbook expressions: the same bits, a third of the traffic)
                t = np.subtract(d, m, out=np.empty_like(m))
                t *= 1 - b1
                m += t                           # lerp_(grad, 1 - beta1)
                v *= b2
                np.multiply(d, d, out=t)
                t *= 1 - b2
                v += t
                bc1 = 1 - b1 ** step
                bc2_sqrt = math.sqrt(1 - b2 ** step)
                if amsgrad:
                    vmax = st["max_exp_avg_sq"]._data
                    np.maximum(vmax, v, out=vmax)
                    np.sqrt(vmax, out=t)
                else:
                    np.sqrt(v, out=t)
                t /= bc2_sqrt
                t += eps                         # denom
                np.divide(m, t, out=t)
                t *= lr / bc1
                x -= t
                p._vc[0] += 1
                for k in ("exp_avg", "exp_avg_sq", "step"):
                    st[k]._vc[0] += 1
        return loss


class AdamW(Adam):
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
