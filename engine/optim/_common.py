"""What the optimizers of ``nadam.py``, ``radam.py``, ``adamax.py``, ``adadelta.py``,
``rprop.py``, ``asgd.py`` and ``sparse_adam.py`` share: argument checks with PyTorch's
error texts, per-parameter state tensors, and the walk over the parameters that have a
gradient.

The updates work on the parameters' arrays in place (outside autograd, as PyTorch's do under
``no_grad``) and bump the version counters of what they change, so a stale saved tensor is
still caught by autograd.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..dtypes import float64, get_default_dtype
from ..tensor import Tensor
from .optimizer import _state_tensor


def scalar(value):
    """A Python number from a float or a 1-element tensor (PyTorch accepts a Tensor ``lr``)."""
    return float(value.item()) if isinstance(value, Tensor) else value


def check_lr(lr, strict=False):
    """``lr`` must be >= 0 (> 0 when ``strict``), a 1-element tensor when a tensor."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    v = scalar(lr)
    if not (0.0 < v if strict else 0.0 <= v):
        raise ValueError(f"Invalid learning rate: {lr}")


def check_nonnegative(what, value, strict=False):
    """``Invalid <what> value: <value>`` unless ``value`` >= 0 (> 0 when ``strict``)."""
    if not (0.0 < value if strict else 0.0 <= value):
        raise ValueError(f"Invalid {what} value: {value}")


def check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def check_adam_family(lr, betas, eps, weight_decay):
    """The checks NAdam, RAdam and Adamax make, in PyTorch's order."""
    check_lr(lr)
    check_nonnegative("epsilon", eps)
    check_betas(betas)
    check_nonnegative("weight_decay", weight_decay)


def scalar_dtype():
    """PyTorch keeps scalar state (``step``, ``mu_product``, ``eta``...) in float32, or in
    float64 when that is the default dtype."""
    return np.float64 if get_default_dtype() is float64 else np.float32


def scalar_state(value):
    """A 0-d state tensor on the host, as PyTorch keeps ``step`` when not capturable."""
    return _state_tensor(np.asarray(value, dtype=scalar_dtype()))


def zeros_state(x, fill=0):
    """A state tensor shaped, typed and placed like the parameter array ``x``."""
    xp = backend.get_array_module(x)
    return _state_tensor(xp.full_like(x, fill))


def advance(st):
    """``state['step'] += 1``; returns the new step as a Python float."""
    s = st["step"]
    s._data += 1
    s._vc[0] += 1
    return float(s._data)


def with_grad(group):
    """``(p, x, d)`` for each parameter of ``group`` that has a gradient: ``x`` is the
    parameter's array (to update in place), ``d`` the gradient's array, negated when the
    group maximizes."""
    maximize = group.get("maximize", False)
    for p in group["params"]:
        if p.grad is None:
            continue
        d = p.grad._data
        yield p, p._data, (-d if maximize else d)


def changed(p, st, names):
    """Bump the versions of the parameter and of the state tensors ``names``."""
    p._vc[0] += 1
    for k in names:
        st[k]._vc[0] += 1


def weight_decay(x, d, lr, wd, decoupled=False):
    """The gradient with L2 decay ``wd * x`` added, or (``decoupled``, as AdamW) ``x``
    shrunk in place by ``1 - lr * wd`` and the gradient unchanged."""
    if wd == 0:
        return d
    if decoupled:
        x *= 1 - lr * wd
        return d
    return d + wd * x


def adam_moments(st, d, b1, b2):
    """Adam's running moments, in place: ``exp_avg`` lerped toward the gradient by
    ``1 - b1``, ``exp_avg_sq`` toward its square by ``1 - b2``; returns both arrays."""
    m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
    m += (d - m) * (1 - b1)
    v *= b2
    v += (1 - b2) * d * d
    return m, v
