"""SparseAdam: Adam that updates only the moments and entries a gradient touches (PyTorch's
``SparseAdam``, meant for ``nn.Embedding(sparse=True)``).

The engine has no sparse tensors: every gradient is dense, ``Embedding(sparse=True)``
included. Where PyTorch would receive a sparse gradient holding the looked-up rows, this
optimizer takes a dense one and treats as touched every row (index along dim 0; every
element of a 1-d parameter) whose gradient is not all zero. Rows a batch did not look up
keep their moments and values, exactly as with PyTorch's sparse gradient. The one
difference: a row that was looked up but whose gradient summed to exactly zero is skipped
here, while PyTorch decays its moments. PyTorch's errors for dense gradients ("SparseAdam
does not support dense gradients, please consider Adam instead"), sparse parameters and
complex parameters cannot arise on the engine (no sparse layout, no complex dtype) and are
not raised; the argument errors are PyTorch's.
State: ``step`` (a Python int, as in PyTorch), ``exp_avg``, ``exp_avg_sq``.
"""

from __future__ import annotations

import math

from .. import backend
from ._common import (changed, check_betas, check_lr, check_nonnegative, scalar, with_grad,
                      zeros_state)
from .optimizer import Optimizer, no_grad

__all__ = ["SparseAdam"]


def _rows(a):
    """``a`` indexed by rows along dim 0 (a 0-d array as one row); a view, never a copy."""
    return a.reshape(1) if a.ndim == 0 else a


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        check_lr(lr, strict=True)
        check_nonnegative("epsilon", eps, strict=True)
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            lr, (b1, b2), eps = scalar(g["lr"]), g["betas"], g["eps"]
            for p, x, d in with_grad(g):
                xp = backend.get_array_module(x)
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["exp_avg"] = zeros_state(x)
                    st["exp_avg_sq"] = zeros_state(x)
                st["step"] += 1
                x1, d1 = _rows(x), _rows(d)
                m, v = _rows(st["exp_avg"]._data), _rows(st["exp_avg_sq"]._data)
                rows = xp.flatnonzero(d1.reshape(d1.shape[0], -1).any(axis=1))
                if rows.size == 0:
                    continue
                gv, mv, vv = d1[rows], m[rows], v[rows]
                mv += (gv - mv) * (1 - b1)
                vv += (gv * gv - vv) * (1 - b2)
                step = st["step"]
                size = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
                m[rows] = mv
                v[rows] = vv
                x1[rows] += -size * (mv / (vv ** 0.5 + eps))
                changed(p, st, ("exp_avg", "exp_avg_sq"))
        return loss
