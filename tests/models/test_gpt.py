"""The character-level GPT (samples/models/gpt.py) trained 5 steps on both libraries from one
state_dict: losses and every parameter equal, with either attention, and weight tying kept
through the state_dict load."""

import sys
from pathlib import Path

import pytest
import torch
from _train_both import train_both

import engine
from samples.models import copy_state, gpt, to_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from _nn_parity import assert_same_dag  # noqa: E402 - the nn tests' DAG comparison


@pytest.mark.parametrize("attention", ["sdpa", "manual"])
def test_gpt_trains_like_torch(attention):
    ours, ref = train_both(gpt.recipe, steps=5, attention=attention)
    assert ours[-1] < ours[0]   # it learns the walks, not only matches


def test_tied_weight_stays_tied_after_loading_a_state_dict():
    ref = gpt.build_model(torch, **{k: v for k, v in gpt.SMALL.items() if k != "batch"})
    model = gpt.build_model(engine, **{k: v for k, v in gpt.SMALL.items() if k != "batch"})
    assert "lm_head.weight" in model.state_dict() and "transformer.wte.weight" in \
        model.state_dict()
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in ref.named_parameters()]
    copy_state(model, ref, engine)
    assert model.lm_head.weight is model.transformer.wte.weight
    opt = gpt.configure_optimizer(engine, model, lr=1e-3, weight_decay=0.1)
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))
    assert all(p.ndim >= 2 for p in opt.param_groups[0]["params"])


@pytest.mark.parametrize("attention", ["sdpa", "manual"])
def test_gpt_graph_is_torchs_node_for_node(attention):
    cfg = {k: v for k, v in gpt.SMALL.items() if k != "batch"}
    ref = gpt.build_model(torch, attention=attention, **cfg)
    model = gpt.build_model(engine, attention=attention, **cfg)
    batch = gpt.synthetic_batch(0, 2, cfg["block_size"], cfg["vocab_size"])
    assert_same_dag(model(*to_lib(engine, *batch))[1], ref(*to_lib(torch, *batch))[1])
