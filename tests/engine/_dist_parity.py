"""Helpers for the distribution tests: parameters built the same on engine and torch, and
a comparison of values and gradients. ``same_draws`` (both libraries fed the same random
numbers) lives with the model harness, which needs it too."""

from __future__ import annotations

import numpy as np

from tests.models._same_draws import same_draws  # noqa: F401


def as_lib(T, a, grad=False):
    return T.tensor(np.array(a), requires_grad=grad)


def np_of(t):
    return np.asarray(t.detach().cpu().numpy())


def close(ours, ref, what, rtol=1e-5, atol=1e-6):
    a, b = np_of(ours), np_of(ref)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != torch's {b.dtype}"
    scale = float(np.max(np.abs(b[np.isfinite(b)]), initial=1.0))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, equal_nan=True,
                               err_msg=what)


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


