"""Random numbers: one global generator (``manual_seed``) and ``engine.Generator``.

Values differ from PyTorch's (a different bit generator), but distributions, shapes and
dtypes match, and a seed makes every run repeatable.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A seedable source of random numbers (``torch.Generator``-like)."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed):
    """Seed the global generator (and CuPy's, when a GPU is in use)."""
    default_generator.manual_seed(seed)
    from . import backend
    if backend._cupy is not None:
        backend._cupy.random.seed(int(seed) & 0xFFFFFFFF)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def rng(generator=None) -> np.random.Generator:
    return (generator or default_generator)._rng
