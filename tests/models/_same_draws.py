"""Make engine and torch draw the same random numbers in distributions, for parity tests
of code that samples (a VAE's ``rsample``, a policy's ``Categorical.sample``).

``same_draws(seed)`` patches the seams every draw goes through on each side: on the engine
``engine.distributions.utils._standard_normal`` / ``_uniform`` / ``_multinomial``; on
torch ``_standard_normal`` where ``torch.distributions.normal`` and ``multivariate_normal``
imported it, ``torch.rand``, ``torch.bernoulli`` and ``torch.multinomial``. Each patched
function takes its numbers from one numpy generator per library, both seeded alike, so two
runs that draw in the same order (one on each library) see the same numbers: standard
normals as they are, uniforms as they are, a Bernoulli draw as ``u < p`` and a multinomial
draw as the inverse CDF of uniforms.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

import engine
from engine.distributions import utils as engine_utils


def _np(t):
    return np.asarray(t.detach().cpu().numpy())


def _inverse_cdf(probs, u):
    cdf = np.cumsum(np.asarray(probs, np.float64), axis=-1)
    cdf /= cdf[:, -1:]
    return np.minimum((u[:, :, None] >= cdf[:, None, :]).sum(-1), probs.shape[-1] - 1)


@contextlib.contextmanager
def same_draws(seed=0):
    """Both libraries draw the same standard normals, uniforms and categorical indices."""
    gens = {"engine": np.random.default_rng(seed), "torch": np.random.default_rng(seed)}

    def normal(lib, T):
        def draw(shape, dtype, device):
            a = gens[lib].standard_normal(tuple(shape))
            return T.tensor(a, dtype=dtype, device=device)
        return draw

    def uniform(lib, T):
        def draw(shape, dtype=None, device=None):
            a = gens[lib].random(tuple(shape))
            return T.tensor(a, dtype=dtype or T.get_default_dtype(), device=device)
        return draw

    def multinomial(lib, T):
        def draw(probs_2d, num_samples, replacement=True, **_):
            p = _np(probs_2d)
            u = gens[lib].random((p.shape[0], num_samples))
            return T.tensor(_inverse_cdf(p, u).astype(np.int64))
        return draw

    torch_rand = uniform("torch", torch)

    def bernoulli(probs, *_, **__):
        u = gens["torch"].random(tuple(probs.shape))
        return (torch.tensor(u, dtype=probs.dtype) < probs).to(probs.dtype)

    def rand(*size, dtype=None, device=None, **_):
        shape = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) \
            else size
        return torch_rand(shape, dtype, device)

    patches = [
        (engine_utils, "_standard_normal", normal("engine", engine)),
        (engine_utils, "_uniform", uniform("engine", engine)),
        (engine_utils, "_multinomial", multinomial("engine", engine)),
        (torch.distributions.normal, "_standard_normal", normal("torch", torch)),
        (torch.distributions.multivariate_normal, "_standard_normal", normal("torch", torch)),
        (torch, "rand", rand),
        (torch, "multinomial", multinomial("torch", torch)),
        (torch, "bernoulli", bernoulli),
    ]
    saved = [(m, n, getattr(m, n)) for m, n, _ in patches]
    try:
        for m, n, f in patches:
            setattr(m, n, f)
        yield
    finally:
        for m, n, f in saved:
            setattr(m, n, f)
