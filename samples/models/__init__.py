"""Whole models written once in PyTorch style over a library module ``T`` (``engine`` or
``torch``), so the same code trains on both.

Each model module has ``recipe(T, **config) -> Recipe``: the model, its optimizer (and
scheduler), and ``step(i)``, one training step on batch ``i``. Batches come from numpy,
seeded by the step index (:func:`batch_rng`), so both libraries see the same data. The
parity tests (``tests/models``) train a recipe on both libraries from one ``state_dict``;
``benchmarks/models.py`` times ``step``; samples reuse the model classes.
"""

from ._recipe import Recipe, batch_rng, copy_state, pattern_images, to_lib  # noqa: F401
