"""benchmarks/models.py builds every recipe that exists at its benchmark size and steps it."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

import models as bench  # noqa: E402


def test_every_recipe_module_is_listed_and_steps_on_the_engine():
    import pkgutil

    import samples.models
    present = {m.name for m in pkgutil.iter_modules(samples.models.__path__)
               if not m.name.startswith("_")}
    assert present <= set(bench.MODELS), f"recipes missing from benchmarks/models.py: " \
                                         f"{sorted(present - set(bench.MODELS))}"
    assert bench.available(["mlp", "no_such_model"]) == ["mlp"]
    step = bench.side("engine", "mlp")
    step(0)
    step(1)
