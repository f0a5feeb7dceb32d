"""The ViT-tiny classifier (samples/models/vit.py) trained 5 steps on both libraries from one
state_dict: losses and every parameter equal; PyTorch's parameter names and graph."""

import sys
from pathlib import Path

import numpy as np
import torch
from _train_both import train_both

import engine
from samples.models import copy_state, to_lib, vit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from _nn_parity import assert_same_dag  # noqa: E402 - the nn tests' DAG comparison

CONFIG = {k: v for k, v in vit.SMALL.items() if k != "batch"}


def test_vit_trains_like_torch():
    """In float64: in float32 the key bias's gradient is rounding noise, which Adam turns
    into steps of the learning rate's size that differ between the libraries."""
    ours, ref = train_both(vit.recipe, steps=5, rtol=1e-9, atol=1e-11, dtype="float64")
    assert ours[-1] < ours[0]


def test_vit_float32_losses_follow_torch():
    engine.manual_seed(0)
    torch.manual_seed(0)
    ref, ours = vit.recipe(torch), vit.recipe(engine)
    copy_state(ours.model, ref.model, engine)
    for i in range(3):
        np.testing.assert_allclose(ours.step(i).item(), ref.step(i).item(), rtol=1e-5)


def test_vit_names_and_graph_are_torchs():
    ref = vit.build_model(torch, **CONFIG)
    model = vit.build_model(engine, **CONFIG)
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in ref.named_parameters()]
    assert "encoder.layers.1.self_attn.in_proj_weight" in names
    images, _ = vit.synthetic_batch(0, 2, CONFIG["image_size"], CONFIG["num_classes"])
    assert_same_dag(model(to_lib(engine, images)), ref(to_lib(torch, images)))
