"""The VAE recipe trained 5 steps on engine and torch from one state_dict: losses and every
parameter equal within float32 tolerance.

Both libraries draw the latent noise through ``Normal.rsample``; ``same_draws`` patches the
standard-normal source of each (engine: ``engine.distributions.utils._standard_normal``;
torch: ``torch.distributions.normal._standard_normal``) with one numpy generator per
library, seeded alike, so the engine's step i sees the same eps as torch's step i.
"""

from _same_draws import same_draws
from _train_both import train_both

import engine
from samples.models import vae


def test_vae_trains_like_torch():
    with same_draws(seed=4):
        ours, ref = train_both(vae.recipe, steps=5)
    assert ours[-1] < ours[0]


def test_vae_kl_term_is_the_closed_form():
    """The KL the recipe takes from ``kl_divergence`` equals the textbook closed form
    -0.5 * sum(1 + logvar - mu^2 - exp(logvar))."""
    engine.manual_seed(0)
    model = vae.build_model(engine)
    x = engine.rand(4, 36)
    mu, logvar = model.encode(x)
    q = engine.distributions.Normal(mu, (0.5 * logvar).exp())
    kl = engine.distributions.kl_divergence(q, engine.distributions.Normal(0.0, 1.0)).sum(-1)
    closed = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)
    assert float((kl - closed).abs().max()) < 1e-5
