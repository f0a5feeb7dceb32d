"""Each sample shows what it claims to show, measured on the engine.

The samples run in-process here (``main(argv)`` returns the figures), so these tests
are fast; ``test_samples_run.py`` runs them as scripts.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest

import engine
from engine.autograd import events


def quiet(main, *argv):
    """``main(list(argv))`` with its progress lines swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        return main(list(argv))


# --- vanishing gradients ------------------------------------------------------------

def test_vanishing_gradients_first_layer_gets_100x_less_and_fix_closes_the_gap():
    from samples.vanishing_gradients import DEPTH, measure_grad_norms

    for seed in (0, 1):
        sigmoid = measure_grad_norms(fix=False, seed=seed)
        relu = measure_grad_norms(fix=True, seed=seed)
        assert len(sigmoid) == len(relu) == DEPTH + 1
        gap = sigmoid[-1] / sigmoid[0]
        fixed_gap = relu[-1] / relu[0]
        assert gap >= 100, f"sigmoid: last/first = {gap:.3g}, expected >= 100"
        # --fix leaves at most a small factor (measured ~3x against ~1e6x) ...
        assert fixed_gap <= 10, f"--fix: last/first = {fixed_gap:.3g}, expected <= 10"
        # ... and closes most of the gap on the log scale the gradient-flow chart uses
        assert math.log10(max(fixed_gap, 1.0)) <= 0.25 * math.log10(gap)
        # the sigmoid norms shrink layer after layer on the way down
        assert all(a < b for a, b in zip(sigmoid[:-1], sigmoid[1:]))


def test_vanishing_gradients_sigmoid_net_does_not_learn_relu_net_does():
    from samples.vanishing_gradients import main

    plain = quiet(main, "--epochs", "4")
    fixed = quiet(main, "--epochs", "4", "--fix")
    assert plain["test_accuracy"] < 0.3
    assert fixed["test_accuracy"] > 0.8


# --- exploding gradients ------------------------------------------------------------

def test_exploding_gradients_reports_instead_of_crashing_and_fix_trains():
    from samples.exploding_gradients import main

    with np.errstate(all="ignore"):
        blown = quiet(main, "--steps", "40")
    assert blown["exploded_at"] is not None and blown["exploded_at"] <= 20
    assert not math.isfinite(blown["loss"]) or not math.isfinite(blown["grad_norm"])

    # clipped steps are small (at most lr): the loss falls slowly at first, then fast
    fixed = quiet(main, "--steps", "150", "--fix")
    assert fixed["exploded_at"] is None
    assert math.isfinite(fixed["loss"]) and fixed["loss"] < 6000  # from ~29,000


# --- NaN hunt -----------------------------------------------------------------------

def test_nan_hunt_turns_nan_after_some_steps_and_fix_does_not():
    from samples.nan_hunt import main

    with np.errstate(all="ignore"):
        broken = quiet(main)
    assert broken["nan_at"] is not None and broken["nan_at"] > 20, broken
    fixed = quiet(main, "--fix", "--steps", str(broken["nan_at"] + 20))
    assert fixed["nan_at"] is None and math.isfinite(fixed["loss"])


def test_nan_hunt_first_non_finite_gradient_comes_from_log_backward():
    """Saturated logits: the backward node that first emits a non-finite gradient is Log's."""
    from samples.nan_hunt import soft_target_cross_entropy

    logits = engine.tensor([[200.0, 0.0, -10.0], [0.0, 5.0, 1.0]], requires_grad=True)
    targets = engine.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    first_bad = []

    def listener(event):
        if isinstance(event, events.NodeFinished) and not first_bad:
            for g in event.grads_out:
                if g is not None and not np.isfinite(g.numpy()).all():
                    first_bad.append(event.node.name())
                    break

    with np.errstate(all="ignore"):
        loss = soft_target_cross_entropy(logits, targets)
        with events.add_listener(listener):
            loss.backward()
    assert math.isnan(loss.item())
    assert first_bad == ["LogBackward0"]
    # the fixed loss is finite with finite gradients on the same logits
    from samples.nan_hunt import soft_target_cross_entropy_fixed
    logits.grad = None
    fixed = soft_target_cross_entropy_fixed(logits, targets)
    fixed.backward()
    assert math.isfinite(fixed.item()) and np.isfinite(logits.grad.numpy()).all()


# --- shape mismatch -----------------------------------------------------------------

def test_shape_mismatch_raises_the_engine_error_and_fix_trains():
    from samples.shape_mismatch import main

    with pytest.raises(RuntimeError,
                       match=r"mat1 and mat2 shapes cannot be multiplied \(16x1350 and 576x120\)"):
        quiet(main, "--steps", "1")
    result = quiet(main, "--fix", "--steps", "3")
    assert result["steps"] == 3 and math.isfinite(result["loss"])


# --- custom Function ----------------------------------------------------------------

def test_straight_through_estimator_passes_gradient_plain_round_does_not():
    from samples.custom_function import QuantizedMLP, RoundSTE, main, quantizer_node

    x = engine.tensor([[0.2, 0.6, 1.4, 2.5]], requires_grad=True)
    y = RoundSTE.apply(x)
    np.testing.assert_array_equal(y.detach().numpy(), [[0.0, 1.0, 1.0, 2.0]])
    (y * engine.tensor([[1.0, 2.0, 3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 2.0, 3.0, 4.0]])  # passed straight through

    engine.manual_seed(0)
    assert quantizer_node(QuantizedMLP(True)(engine.randn(2, 64))) == "RoundSTEBackward"
    assert quantizer_node(QuantizedMLP(False)(engine.randn(2, 64))) == "RoundBackward0"

    ste = quiet(main, "--steps", "3")
    plain = quiet(main, "--steps", "3", "--plain-round")
    assert ste["fc1_grad_norm"] > 1e-3
    assert plain["fc1_grad_norm"] == 0.0


# --- higher order -------------------------------------------------------------------

def test_gradient_penalty_builds_a_double_backward_graph():
    from samples.higher_order import count_nodes, load_data, penalised_loss
    import engine.nn as nn

    engine.manual_seed(0)
    x, y, _, _ = load_data()
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
    total, loss, penalty = penalised_loss(model, x[:8], y[:8], 0.1)
    assert count_nodes(total) > count_nodes(loss) + 5
    assert penalty.item() > 0
    total.backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all()
               for p in model.parameters())


def test_gradient_penalty_gradients_match_pytorch():
    """Same weights, same batch: the engine's d(loss + penalty)/dW equals PyTorch's."""
    torch = pytest.importorskip("torch")
    from samples.higher_order import load_data, penalised_loss
    import engine.nn as nn

    engine.manual_seed(0)
    x, y, _, _ = load_data()
    x, y = x[:16], y[:16]
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
    total, _, _ = penalised_loss(model, x, y, 0.5)
    total.backward()

    ref = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
    with torch.no_grad():
        for p_ref, p in zip(ref.parameters(), model.parameters()):
            p_ref.copy_(torch.from_numpy(p.detach().numpy().copy()))
    xr = torch.from_numpy(x.numpy().copy()).requires_grad_(True)
    yr = torch.from_numpy(y.numpy().copy())
    loss_ref = torch.nn.functional.cross_entropy(ref(xr), yr)
    (gx,) = torch.autograd.grad(loss_ref * xr.shape[0], xr, create_graph=True)
    (loss_ref + 0.5 * gx.pow(2).sum(1).mean()).backward()

    np.testing.assert_allclose(total.item(), (loss_ref + 0.5 * gx.pow(2).sum(1).mean()).item(),
                               rtol=1e-5)
    for p_ref, p in zip(ref.parameters(), model.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), p_ref.grad.numpy(), rtol=1e-4, atol=1e-6)


# --- char RNN, linear regression ----------------------------------------------------

def test_char_rnn_graph_is_large_with_shared_weights():
    from samples.char_rnn import CharData, CharRNN, count_nodes, load_text
    import engine.nn as nn

    text = load_text()
    assert len(text) > 5000
    engine.manual_seed(0)
    data = CharData(text, seed=0)
    model = CharRNN(data.vocab_size, 32)
    inputs, targets = data.batch(seq_len=100, batch_size=2)
    scores, _ = model(inputs)
    loss = nn.CrossEntropyLoss()(scores.reshape(-1, data.vocab_size), targets.reshape(-1))
    assert count_nodes(loss) > 700
    loss.backward()
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters())


def test_char_rnn_learns():
    from samples.char_rnn import main

    result = quiet(main, "--steps", "40", "--seq-len", "30", "--hidden", "64")
    assert result["loss"] < 3.6  # from ln(84) = 4.43: the character frequencies are learnt
    assert len(result["sample"]) == 4 + 120


def test_gpt_graph_has_one_leaf_for_the_tied_embedding():
    from samples.char_rnn import CharData, load_text
    from samples.gpt import batch, build_model

    data = CharData(load_text(), seed=0)
    model = build_model(engine, vocab_size=data.vocab_size, block_size=16, n_layer=2, n_head=2,
                        n_embd=16)
    _, loss = model(*batch(data, 16, 2))
    leaf = model.lm_head.weight
    parents, seen, stack = [], set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for child, _ in node.next_functions:
            if getattr(child, "variable", None) is leaf:
                parents.append(node.name())
            stack.append(child)
    assert sorted(parents) == ["EmbeddingBackward0", "TBackward0"]


def test_gpt_learns():
    from samples.gpt import main

    result = quiet(main, "--steps", "40", "--n-layer", "2", "--n-embd", "64", "--block-size", "32")
    assert result["loss"] < 3.5  # from ln(84) = 4.43: at least the character frequencies
    assert len(result["sample"]) == 4 + 120


def test_lstm_lm_backward_covers_one_window_and_stops_at_the_carried_state():
    from samples.char_rnn import count_nodes
    from samples.lstm_lm import Corpus, build_model, load_words, repackage_hidden

    engine.manual_seed(0)
    corpus = Corpus(load_words(), batch_size=2)
    assert corpus.vocab_size > 1000 and corpus.streams.shape[0] > 5000
    model = build_model(engine, vocab=corpus.vocab_size, embed=8, hidden=8, layers=2)
    hidden, sizes = model.init_hidden(2), []
    for start in corpus.windows(10)[:3]:
        inputs, targets = corpus.window(start, 10)
        scores, hidden = model(inputs, repackage_hidden(hidden))
        loss = engine.nn.functional.cross_entropy(scores.view(-1, corpus.vocab_size),
                                                  targets.view(-1))
        sizes.append(count_nodes(loss))
        loss.backward()
    assert sizes[0] == sizes[1] == sizes[2] > 10 * 2 * 10   # 10 steps of 2 layers, no more
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters())


def test_lstm_lm_learns():
    from samples.lstm_lm import main

    result = quiet(main, "--steps", "30", "--bptt", "10", "--embed", "32", "--hidden", "32")
    assert result["loss"] < 6.5  # from ln(1670) = 7.4: at least the word frequencies
    assert len(result["sample"]) > 40


def test_linear_regression_recovers_the_line():
    from samples.linear_regression import TRUE_B, TRUE_W, main

    result = quiet(main)
    assert abs(result["w"] - TRUE_W) < 0.1 and abs(result["b"] - TRUE_B) < 0.1


# --- LeNet --------------------------------------------------------------------------

@pytest.mark.slow
def test_lenet_reaches_95_percent_on_the_digits():
    from samples.lenet import main

    result = quiet(main)
    assert result["test_accuracy"] >= 0.95, result


def test_lenet_trains_on_mnist_idx_files(tmp_path):
    """``--mnist DIR`` end to end, on small IDX files written here (gzipped, as distributed)."""
    from samples.lenet import main
    from idx_files import write_mnist_dir

    write_mnist_dir(tmp_path, n_train=40, n_test=10, compress=True)
    result = quiet(main, "--mnist", str(tmp_path), "--steps", "2", "--batch-size", "8")
    assert result["steps"] == 2 and 0.0 <= result["test_accuracy"] <= 1.0


# --- determinism --------------------------------------------------------------------

@pytest.mark.parametrize("module, argv", [
    ("lenet", ["--steps", "3"]),
    ("nan_hunt", ["--steps", "5"]),
    ("custom_function", ["--steps", "5"]),
    ("char_rnn", ["--steps", "2", "--seq-len", "20"]),
    ("gpt", ["--steps", "2", "--n-layer", "1", "--n-embd", "16", "--block-size", "16"]),
    ("lstm_lm", ["--steps", "2", "--bptt", "5", "--hidden", "16", "--embed", "16"]),
])
def test_same_seed_same_run_other_seed_other_run(module, argv):
    import importlib

    main = importlib.import_module(f"samples.{module}").main
    first = quiet(main, *argv)
    again = quiet(main, *argv)
    other = quiet(main, *argv, "--seed", "7")
    assert first["loss"] == again["loss"]
    assert first["loss"] != other["loss"]
