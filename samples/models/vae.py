"""A variational autoencoder (Kingma & Welling 2014) with MLP encoder and decoder: the
encoder maps an input to ``mu`` and ``logvar``, a latent is drawn by reparameterisation
(``Normal(mu, std).rsample()``, so gradients flow into the encoder through the draw), the
decoder maps it back to Bernoulli logits; the loss is the reconstruction term plus
``kl_divergence(q(z|x), N(0, 1))`` summed over latent dimensions, averaged over the batch.

The data: binary "images" (each a few random bars on a small grid) drawn from numpy per
step. The latent draws come from the library's own generator; parity tests patch that
source on both libraries to the same numbers (``tests/models/_same_draws.py``).
"""

from __future__ import annotations

import numpy as np

from . import Recipe, batch_rng, to_lib


BENCH = dict(batch=64, side=28, hidden=400, latent=20)  # an MNIST-sized VAE (28x28 inputs)


def build_model(T, n_in=36, hidden=32, latent=4):
    nn = T.nn
    D = T.distributions

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(n_in, hidden)
            self.fc_mu = nn.Linear(hidden, latent)
            self.fc_logvar = nn.Linear(hidden, latent)
            self.dec1 = nn.Linear(latent, hidden)
            self.dec2 = nn.Linear(hidden, n_in)

        def encode(self, x):
            h = T.relu(self.enc(x))
            return self.fc_mu(h), self.fc_logvar(h)

        def decode(self, z):
            return self.dec2(T.relu(self.dec1(z)))

        def forward(self, x):
            """Reconstruction logits and the approximate posterior q(z|x)."""
            mu, logvar = self.encode(x)
            q = D.Normal(mu, (0.5 * logvar).exp())
            return self.decode(q.rsample()), q

    return VAE()


def bars(rng, batch, side=6):
    """``batch`` binary side x side images, each with one to three horizontal or vertical
    bars, flattened (float32)."""
    x = np.zeros((batch, side, side), np.float32)
    for b in range(batch):
        for _ in range(rng.integers(1, 4)):
            k = rng.integers(0, side)
            if rng.random() < 0.5:
                x[b, k, :] = 1
            else:
                x[b, :, k] = 1
    return x.reshape(batch, side * side)


def loss_fn(T, model, x):
    """Negative ELBO per example: Bernoulli reconstruction + KL(q(z|x) || N(0, I))."""
    logits, q = model(x)
    recon = T.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    prior = T.distributions.Normal(T.zeros_like(q.loc), T.ones_like(q.scale))
    kl = T.distributions.kl_divergence(q, prior).sum(-1)
    return (recon.sum(-1) + kl).mean()


def recipe(T, *, batch=16, side=6, hidden=32, latent=4, lr=3e-3) -> Recipe:
    model = build_model(T, side * side, hidden, latent)
    opt = T.optim.Adam(model.parameters(), lr=lr)

    def step(i):
        x = to_lib(T, bars(batch_rng(i), batch, side))
        opt.zero_grad()
        loss = loss_fn(T, model, x)
        loss.backward()
        opt.step()
        return loss

    return Recipe(T, model, opt, step)
