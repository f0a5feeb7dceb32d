"""Train one recipe (``samples.models``) on the engine and on PyTorch from the same
``state_dict`` and batches, and compare every loss and, at the end, every parameter."""

from __future__ import annotations

import numpy as np
import torch

import engine
from samples.models import copy_state


def _np(t):
    return np.asarray(t.detach().cpu().numpy())


def assert_close(ours, ref, what, rtol, atol):
    a, b = _np(ours), _np(ref)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != torch's {b.dtype}"
    scale = float(np.max(np.abs(b), initial=1.0))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=what)


def train_both(recipe_fn, steps=5, *, rtol=1e-4, atol=1e-5, **config):
    """Build ``recipe_fn`` on both libraries, copy torch's initial weights into the engine's
    model, run ``steps`` training steps on each and compare.

    Returns ``(engine_losses, torch_losses)`` as floats. Tolerances are relative to float32
    after a few optimizer steps: each step's rounding differences feed the next.
    """
    torch.manual_seed(0)
    engine.manual_seed(0)
    ref = recipe_fn(torch, **config)
    ours = recipe_fn(engine, **config)
    copy_state(ours.model, ref.model, engine)
    ours_losses, ref_losses = [], []
    for i in range(steps):
        lr_ = ref.step(i)
        lo = ours.step(i)
        assert_close(lo, lr_, f"loss at step {i}", rtol, atol)
        ours_losses.append(float(lo.detach()))
        ref_losses.append(float(lr_.detach()))
    theirs = dict(ref.model.named_parameters())
    mine = dict(ours.model.named_parameters())
    assert sorted(mine) == sorted(theirs), "parameter names differ from torch's"
    for name, p in theirs.items():
        assert_close(mine[name], p, f"parameter {name} after {steps} steps", rtol, atol)
    return ours_losses, ref_losses
