"""``_standard_gamma(alpha)``: Gamma(alpha, 1) draws with a pathwise gradient in ``alpha``
(node ``StandardGammaBackward0``, as PyTorch's), which makes ``Gamma.rsample`` and the
gamma-ratio ``Beta.rsample`` reparameterised.

The gradient is the implicit one: a draw is ``x = F^{-1}(u; alpha)`` for the regularised
incomplete gamma ``F = P(alpha, .)``, so ``dx/dalpha = -(dP/dalpha)(alpha, x) / p(x;
alpha)``. ``dP/dalpha`` is a central difference of ``P`` (series below ``alpha + 1``, the
continued fraction of ``Q = 1 - P`` above, each in float64 to convergence), taken on
whichever of P and Q is the small one so nothing cancels; above alpha = 1e4 the
Wilson-Hilferty cube-root approximation (relative error ~1e-6 there) gives it in closed
form. PyTorch uses its own approximation of the same quantity, within ~1e-3 of this.
Draws come from the engine's generator on the host and are placed on alpha's device.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..ops._core import Node, link, make, needs_grad
from ..random import rng

__all__ = ["_standard_gamma", "_standard_gamma_grad"]

_lgamma = np.frompyfunc(math.lgamma, 1, 1)
_TINY = 1e-300


def _log_pdf(a, x):
    return (a - 1) * np.log(x) - x - _lgamma(a).astype(np.float64)


def _series_p(a, x):
    """P(a, x) by its power series (fast for x < a + 1)."""
    term = 1.0 / a
    total = term.copy()
    ap = a.copy()
    for _ in range(5000):
        ap = ap + 1
        term = term * x / ap
        total = total + term
        if np.all(np.abs(term) <= np.abs(total) * 1e-16):
            break
    return total * np.exp(-x + a * np.log(x) - _lgamma(a).astype(np.float64))


def _fraction_q(a, x):
    """Q(a, x) = 1 - P(a, x) by its continued fraction (modified Lentz; x >= a + 1)."""
    b = x + 1 - a
    c = np.full_like(x, 1 / _TINY)
    d = 1 / b
    h = d.copy()
    for i in range(1, 5000):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1) <= 1e-15):
            break
    return h * np.exp(-x + a * np.log(x) - _lgamma(a).astype(np.float64))


def _dx_dalpha(a, x):
    """The implicit derivative of a Gamma(a, 1) draw ``x`` in ``a`` (float64 arrays)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.maximum(np.asarray(x, np.float64),
                                                                      _TINY))
    out = np.empty(a.shape)
    big = a > 1e4
    if big.any():       # Wilson-Hilferty: x = a (1 - 1/(9a) + z / (3 sqrt a))^3, z fixed
        ab, xb = a[big], x[big]
        c = np.cbrt(xb / ab)
        z = (c - 1 + 1 / (9 * ab)) * 3 * np.sqrt(ab)
        out[big] = c ** 3 + 3 * ab * c ** 2 * (1 / (9 * ab ** 2) - z / (6 * ab ** 1.5))
    small = ~big
    if small.any():
        a_s, x_s = a[small], x[small]
        h = 1e-5 * np.maximum(a_s, 1.0)
        h = np.minimum(h, 0.5 * a_s)
        lower = x_s < a_s + 1
        dp = np.empty(a_s.shape)
        for mask, fn, sign in ((lower, _series_p, 1.0), (~lower, _fraction_q, -1.0)):
            if mask.any():
                am, xm, hm = a_s[mask], x_s[mask], h[mask]
                dp[mask] = sign * (fn(am + hm, xm) - fn(am - hm, xm)) / (2 * hm)
        out[small] = -dp / np.exp(_log_pdf(a_s, x_s))
    return out


class StandardGammaBackward0(Node):
    __slots__ = ("dx_dalpha",)

    def backward(self, g):
        return g * self.dx_dalpha


def _standard_gamma_grad(alpha, x):
    """``torch._standard_gamma_grad``: ``dx/dalpha`` of Gamma(alpha, 1) draws ``x``."""
    host = _dx_dalpha(_host(alpha), _host(x)).astype(alpha._data.dtype)
    return make(_place(host, alpha))


def _host(t):
    a = t._data
    return a.get() if backend.is_cuda_array(a) else a


def _place(arr, like):
    return backend.to_device_array(arr, like.device) if backend.is_cuda_array(like._data) \
        else arr


def _standard_gamma(alpha, generator=None):
    """Gamma(alpha, 1) draws of alpha's shape and dtype, differentiable in ``alpha``."""
    a = _host(alpha).astype(np.float64)
    x = np.maximum(rng(generator).standard_gamma(a), np.finfo(alpha._data.dtype).tiny)
    r = make(_place(x.astype(alpha._data.dtype), alpha))
    if needs_grad(alpha):
        n = StandardGammaBackward0()
        n.dx_dalpha = make(_place(_dx_dalpha(a, x).astype(alpha._data.dtype), alpha))
        link(n, (alpha,), r)
    return r
