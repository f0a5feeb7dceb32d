"""The REINFORCE recipe trained 5 steps on engine and torch from one state_dict: losses and
every parameter equal within float32 tolerance, and the agent improves when trained longer.

Actions are drawn by ``Categorical(logits=...).sample()`` on each library. ``same_draws``
patches the multinomial source of each (engine: ``engine.distributions.utils._multinomial``;
torch: ``torch.multinomial``, which ``Categorical.sample`` calls) with one function that
takes uniforms from a numpy generator per library, seeded alike, and returns the inverse-CDF
category of each; so both sides pick the same actions and the numpy environments follow the
same trajectories.
"""

import numpy as np
from _same_draws import same_draws
from _train_both import train_both

import engine
from samples.models import policy_gradient as pg


def test_policy_gradient_trains_like_torch():
    with same_draws(seed=2):
        train_both(pg.recipe, steps=5)


def test_actions_match_torch_under_same_draws():
    """The two libraries' sampled action sequences are identical (not only close losses)."""
    import torch
    logits = np.random.default_rng(0).standard_normal((4, 12, 3)).astype(np.float32) * 2
    seqs = {}
    for T in (engine, torch):
        with same_draws(seed=9):
            seqs[T.__name__] = [T.distributions.Categorical(logits=T.tensor(x)).sample((2,))
                                .numpy().tolist() for x in logits]
    assert seqs["engine"] == seqs["torch"]
    assert len({a for s in seqs["engine"] for row in s for a in row}) == 3


def test_agent_learns_to_walk_right():
    engine.manual_seed(1)
    r = pg.recipe(engine, batch=32, lr=3e-2)
    env_rng = np.random.default_rng(123)

    def success():
        env = pg.Corridor(env_rng, 200)
        with engine.no_grad():
            for _ in range(env.horizon):
                logits = r.model(engine.tensor(env.observe()))
                env.step(logits.argmax(-1).numpy())
        return env.done.mean()

    before = success()
    for i in range(40):
        r.step(i)
    assert success() > max(before, 0.9)
