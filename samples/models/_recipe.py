"""What every model recipe shares: the recipe record, deterministic batches, and moving
arrays and weights between libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Recipe", "batch_rng", "copy_state", "to_lib", "pattern_images"]


@dataclass
class Recipe:
    """One model ready to train on library ``T``.

    ``step(i)`` runs training step ``i`` (zero_grad, forward on batch ``i``, backward,
    clipping, optimizer and scheduler steps) and returns the loss tensor. ``state`` holds
    whatever a recipe carries across steps (an RNN's detached hidden state).
    """

    T: Any
    model: Any
    optimizer: Any
    step: Callable[[int], Any]
    scheduler: Any = None
    state: dict = field(default_factory=dict)


def batch_rng(i: int, seed: int = 0) -> np.random.Generator:
    """The numpy generator batch ``i`` is drawn from (the same for both libraries)."""
    return np.random.default_rng([seed, i])


def to_lib(T, *arrays):
    """numpy arrays as tensors of library ``T`` (dtypes kept); one array gives one tensor."""
    out = tuple(T.from_numpy(np.ascontiguousarray(a).copy()) for a in arrays)
    return out[0] if len(out) == 1 else out


def copy_state(dst_model, src_model, T_dst) -> None:
    """Load ``src_model``'s ``state_dict`` (either library) into ``dst_model`` of ``T_dst``."""
    state = {k: T_dst.from_numpy(np.array(v.detach().cpu().numpy()))
             for k, v in src_model.state_dict().items()}
    dst_model.load_state_dict(state)


def pattern_images(i, batch, image_size, num_classes, channels=3, seed=0):
    """Batch ``i`` of a synthetic image classification task: (images float32 (batch,
    channels, size, size), labels int64), each image its class's fixed random pattern (drawn
    from ``seed``) plus unit noise, so a few training steps lower the loss."""
    patterns = np.random.default_rng(seed).standard_normal(
        (num_classes, channels, image_size, image_size))
    rng = batch_rng(i)
    labels = rng.integers(0, num_classes, batch)
    images = patterns[labels] + rng.standard_normal((batch, channels, image_size, image_size))
    return images.astype(np.float32), labels.astype(np.int64)
