"""The LSTM language model (samples/models/lstm_lm.py) trained 5 steps on both libraries from
one state_dict with truncated backpropagation: losses and every parameter equal; each window's
graph stops at the carried (detached) state; the graph is torch's node for node."""

import sys
from pathlib import Path

import pytest
import torch
from _train_both import train_both

import engine
from samples.char_rnn import count_nodes
from samples.models import copy_state, lstm_lm, to_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from _nn_parity import assert_same_dag  # noqa: E402 - the nn tests' DAG comparison


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_lstm_lm_trains_like_torch(optimizer):
    ours, ref = train_both(lstm_lm.recipe, steps=5, optimizer=optimizer)
    assert ours[-1] < ours[0]


def test_backward_stops_at_the_carried_state():
    engine.manual_seed(0)
    r = lstm_lm.recipe(engine)
    sizes = []
    for i in range(3):
        before = r.state["hidden"]
        loss = r.step(i)
        sizes.append(count_nodes(loss))
        if i:
            assert float(before[0].abs().sum()) > 0   # a real state was carried in
    assert sizes[0] == sizes[1] == sizes[2]
    assert r.state["hidden"][0].grad_fn is not None   # detached only when the next step starts


def test_lstm_lm_graph_is_torchs_node_for_node():
    cfg = {k: v for k, v in lstm_lm.SMALL.items() if k not in ("batch", "bptt")}
    ref, model = lstm_lm.build_model(torch, **cfg), lstm_lm.build_model(engine, **cfg)
    copy_state(model, ref, engine)
    x, _ = lstm_lm.token_windows(0, 2, 4, cfg["vocab"])
    with torch.backends.mkldnn.flags(enabled=False):   # else one fused node per layer
        theirs, _ = ref(to_lib(torch, x), ref.init_hidden(2))
    ours, _ = model(to_lib(engine, x), model.init_hidden(2))
    assert_same_dag(ours, theirs)
