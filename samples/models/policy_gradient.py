"""A REINFORCE agent (Williams 1992) on a tiny environment written in numpy: a corridor of
cells where the agent starts in the left half and is rewarded for reaching the right end.

Each step runs ``batch`` episodes side by side for ``horizon`` moves: the policy (an MLP on
the one-hot cell and the time left) gives logits, ``Categorical(logits=...).sample()``
picks left / stay / right, ``log_prob`` of the choice is kept; the loss is
``-sum_t log_prob_t * (G_t - mean G_t)`` (reward-to-go with a batch-mean baseline) minus an
entropy bonus, over live steps only. The environment is numpy; the actions come from the
library's generator, which parity tests patch to the same draws on both libraries
(``tests/models/_same_draws.py``).
"""

from __future__ import annotations

import numpy as np

from . import Recipe, batch_rng, to_lib


BENCH = dict(batch=64, cells=8, horizon=12, hidden=64)  # 64 episodes side by side


class Corridor:
    """``batch`` corridors of ``n`` cells; action 0 moves left, 1 stays, 2 moves right.
    Reaching cell ``n - 1`` pays 1 and ends the episode; every other move costs 0.05."""

    def __init__(self, rng, batch, n=6, horizon=8):
        self.n, self.horizon = n, horizon
        self.pos = rng.integers(0, n // 2, batch)
        self.done = np.zeros(batch, bool)
        self.t = 0

    def observe(self):
        obs = np.zeros((len(self.pos), self.n + 1), np.float32)
        obs[np.arange(len(self.pos)), self.pos] = 1
        obs[:, -1] = (self.horizon - self.t) / self.horizon
        return obs

    def step(self, actions):
        """Move the live episodes; returns ``(reward, alive_before)`` as float32 arrays."""
        alive = ~self.done
        self.pos = np.where(alive, np.clip(self.pos + np.asarray(actions) - 1, 0, self.n - 1),
                            self.pos)
        arrived = alive & (self.pos == self.n - 1)
        reward = np.where(arrived, 1.0, -0.05) * alive
        self.done |= arrived
        self.t += 1
        return reward.astype(np.float32), alive.astype(np.float32)


def build_model(T, n_obs=7, hidden=32, n_actions=3):
    nn = T.nn
    return nn.Sequential(nn.Linear(n_obs, hidden), nn.Tanh(), nn.Linear(hidden, n_actions))


def rewards_to_go(rewards, gamma):
    """``G_t = r_t + gamma * G_{t+1}`` for a (time, batch) array."""
    out = np.zeros_like(rewards)
    acc = np.zeros(rewards.shape[1], rewards.dtype)
    for t in range(len(rewards) - 1, -1, -1):
        acc = rewards[t] + gamma * acc
        out[t] = acc
    return out


def recipe(T, *, batch=16, cells=6, horizon=8, hidden=32, lr=1e-2, gamma=0.95,
           entropy_coef=0.01) -> Recipe:
    policy = build_model(T, cells + 1, hidden, 3)
    opt = T.optim.Adam(policy.parameters(), lr=lr)
    D = T.distributions

    def step(i):
        env = Corridor(batch_rng(i), batch, cells, horizon)
        log_probs, entropies, rewards, alive = [], [], [], []
        for _ in range(horizon):
            dist = D.Categorical(logits=policy(to_lib(T, env.observe())))
            action = dist.sample()
            log_probs.append(dist.log_prob(action))
            entropies.append(dist.entropy())
            r, a = env.step(action.cpu().numpy())
            rewards.append(r)
            alive.append(a)
        live = np.stack(alive)
        ret = rewards_to_go(np.stack(rewards), gamma)
        adv = (ret - ret.mean(1, keepdims=True)) * live
        live_t, adv_t = to_lib(T, live, adv.astype(np.float32))
        opt.zero_grad()
        pg = -(T.stack(log_probs) * adv_t).sum(0).mean()
        bonus = (T.stack(entropies) * live_t).sum(0).mean()
        loss = pg - entropy_coef * bonus
        loss.backward()
        opt.step()
        return loss

    return Recipe(T, policy, opt, step)
