"""The bidirectional GRU classifier on packed variable-length sequences
(samples/models/gru_classifier.py) trained 5 steps on both libraries from one state_dict:
losses and every parameter equal; its graph is torch's node for node; padding never
reaches the GRU."""

import sys
from pathlib import Path

import numpy as np
import torch
from _train_both import train_both

import engine
from samples.models import copy_state, gru_classifier, to_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from _nn_parity import assert_same_dag  # noqa: E402 - the nn tests' DAG comparison

CFG = {k: v for k, v in gru_classifier.SMALL.items() if k not in ("batch", "max_len")}


def test_gru_classifier_trains_like_torch():
    ours, ref = train_both(gru_classifier.recipe, steps=5)
    assert ours[-1] < ours[0]


def _batch(lib, i=0):
    tokens, lengths, _ = gru_classifier.sequences(i, 5, 7, CFG["vocab"], CFG["classes"])
    return to_lib(lib, tokens), lib.from_numpy(lengths)


def test_gru_classifier_graph_is_torchs_node_for_node():
    ref, model = gru_classifier.build_model(torch, **CFG), gru_classifier.build_model(engine, **CFG)
    copy_state(model, ref, engine)
    assert_same_dag(model(*_batch(engine)), ref(*_batch(torch)))


def test_scores_do_not_depend_on_the_padding():
    engine.manual_seed(0)
    model = gru_classifier.build_model(engine, **CFG)
    tokens, lengths = _batch(engine)
    with engine.no_grad():
        a = model(tokens, lengths).numpy()
        longer = engine.cat([tokens, engine.zeros(5, 3, dtype=engine.int64)], 1)
        b = model(longer, lengths).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6)
