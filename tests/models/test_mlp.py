"""The simplest whole-model parity check: an MLP trained 5 steps on both libraries."""

from _train_both import train_both

from samples.models import mlp


def test_mlp_trains_like_torch():
    ours, ref = train_both(mlp.recipe, steps=5)
    assert ours[-1] < ours[0]  # it learns on its own batches, not only matches
