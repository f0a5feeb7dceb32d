"""The Gamma(alpha, 1) sampler behind Gamma/Beta.rsample: draws with the right moments, and
a pathwise gradient equal to the implicit derivative dx/dalpha = -dP/dalpha / p (checked
against scipy's incomplete gamma, and against torch's own approximation, which is within
~1e-3 of it)."""

import numpy as np
import pytest
import scipy.special as sp
import torch

import engine
from engine.distributions._standard_gamma import (_dx_dalpha, _standard_gamma,
                                                  _standard_gamma_grad)

ALPHAS = [0.05, 0.3, 1.0, 2.5, 10.0, 120.0, 3000.0, 9999.0, 10001.0, 1e5]


def _implicit(a, x):
    """dx/dalpha from scipy's regularised incomplete gamma (central difference)."""
    h = 1e-4 * np.sqrt(np.maximum(a, 1)) * np.minimum(a, 1)   # P varies on sqrt(a)
    P = lambda b: np.where(x < a + 1, sp.gammainc(b, x), -sp.gammaincc(b, x))  # noqa: E731
    return -(P(a + h) - P(a - h)) / (2 * h) / np.exp((a - 1) * np.log(x) - x - sp.gammaln(a))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_gradient_is_the_implicit_derivative(alpha):
    rng = np.random.default_rng(int(alpha * 10))
    a = np.full(500, alpha)
    x = rng.standard_gamma(a)
    ours = _dx_dalpha(a, x)
    ref = _implicit(a, x)
    np.testing.assert_allclose(ours, ref, rtol=2e-5, atol=1e-9)
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=1e-6)
    tensor = _standard_gamma_grad(engine.tensor(a), engine.tensor(x))
    np.testing.assert_allclose(tensor.numpy(), ours)


@pytest.mark.parametrize("dtype", [engine.float32, engine.float64])
def test_draws_moments_shape_dtype_and_node(dtype):
    engine.manual_seed(4)
    alpha = engine.tensor([[0.2, 1.0, 7.5]], dtype=dtype, requires_grad=True).expand(20000, 3)
    x = _standard_gamma(alpha)
    assert x.shape == alpha.shape and x.dtype == dtype
    assert type(x.grad_fn).__name__ == "StandardGammaBackward0"
    xs = x.detach().numpy().astype(np.float64)
    a = np.array([0.2, 1.0, 7.5])
    assert np.all(np.abs(xs.mean(0) - a) < 5 * np.sqrt(a / 20000))
    assert np.all(np.abs(xs.var(0) / a - 1) < 0.1)
    assert xs.min() > 0


def test_pathwise_gradient_is_unbiased_for_the_mean():
    """E[x] = alpha, so the average of dx/dalpha over many draws is 1."""
    engine.manual_seed(0)
    for alpha in (0.3, 2.0, 50.0):
        a = engine.tensor(alpha, dtype=engine.float64, requires_grad=True)
        x = _standard_gamma(a.expand(40000))
        x.sum().backward()
        assert abs(float(a.grad) / 40000 - 1) < 0.02
