"""Rprop: resilient backpropagation, a per-coordinate step size grown by ``etas[1]`` while
the gradient keeps its sign and cut by ``etas[0]`` when it flips (Riedmiller & Braun 1993),
PyTorch's variant: after a flip the gradient is taken as zero for that step, and step sizes
stay within ``step_sizes``. State: ``step``, ``prev``, ``step_size``."""

from __future__ import annotations

from .. import backend
from ._common import advance, changed, check_lr, scalar, scalar_state, with_grad, zeros_state
from .optimizer import Optimizer, no_grad

__all__ = ["Rprop"]


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            eta_minus, eta_plus = g["etas"]
            lo, hi = g["step_sizes"]
            for p, x, d in with_grad(g):
                xp = backend.get_array_module(x)
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["prev"] = zeros_state(x)
                    st["step_size"] = zeros_state(d, scalar(g["lr"]))
                advance(st)
                prev, size = st["prev"]._data, st["step_size"]._data
                s = xp.sign(d * prev)
                factor = xp.where(s > 0, eta_plus, xp.where(s < 0, eta_minus, 1.0))
                factor = factor.astype(size.dtype, copy=False)
                size *= factor
                xp.clip(size, lo, hi, out=size)
                d = xp.where(factor == size.dtype.type(eta_minus), 0, d).astype(d.dtype,
                                                                                 copy=False)
                x -= xp.sign(d) * size
                prev[...] = d
                changed(p, st, ("prev", "step_size"))
        return loss
