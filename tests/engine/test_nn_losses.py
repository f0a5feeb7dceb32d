"""Every loss against torch: each reduction, forward value, input (and target) gradients,
the grad_fn DAG; gradcheck in float64; numerical stability with huge logits."""

import numpy as np
import pytest
import torch

import engine
from _nn_parity import assert_close, assert_same_dag, to_np

r = np.random.default_rng(0)
X = r.standard_normal((4, 5)).astype(np.float32)
Y = r.standard_normal((4, 5)).astype(np.float32)
P = r.uniform(0.05, 0.95, (4, 5)).astype(np.float32)
T01 = r.uniform(0, 1, (4, 5)).astype(np.float32)
CLS = np.array([1, 0, 4, 2])
CLS_IGN = np.array([1, -100, 4, 2])
W5 = r.uniform(0.5, 2, 5).astype(np.float32)
X4 = r.standard_normal((2, 3, 2, 2)).astype(np.float32)
CLS4 = r.integers(0, 3, (2, 2, 2))
X3 = r.standard_normal((2, 3, 4)).astype(np.float32)
CLS3 = r.integers(0, 3, (2, 4))
SOFT = torch.softmax(torch.tensor(Y), 1).numpy()

REDUCTIONS = ["mean", "sum", "none"]

# (id, loss(nn, T, reduction) -> module, input array, target array, target requires grad)
CASES = [
    ("mse", lambda nn, T, red: nn.MSELoss(reduction=red), X, Y, True),
    ("l1", lambda nn, T, red: nn.L1Loss(reduction=red), X, Y, True),
    ("smooth_l1", lambda nn, T, red: nn.SmoothL1Loss(reduction=red), X, Y, True),
    ("smooth_l1_beta", lambda nn, T, red: nn.SmoothL1Loss(reduction=red, beta=0.3), X, Y, True),
    ("huber", lambda nn, T, red: nn.HuberLoss(reduction=red, delta=0.5), X, Y, True),
    ("cross_entropy", lambda nn, T, red: nn.CrossEntropyLoss(reduction=red), X, CLS, False),
    ("cross_entropy_ignore", lambda nn, T, red: nn.CrossEntropyLoss(reduction=red),
     X, CLS_IGN, False),
    ("cross_entropy_weight", lambda nn, T, red: nn.CrossEntropyLoss(
        weight=T.tensor(W5), reduction=red), X, CLS_IGN, False),
    ("cross_entropy_smooth", lambda nn, T, red: nn.CrossEntropyLoss(
        reduction=red, label_smoothing=0.1), X, CLS_IGN, False),
    ("cross_entropy_smooth_weight", lambda nn, T, red: nn.CrossEntropyLoss(
        weight=T.tensor(W5), reduction=red, label_smoothing=0.2), X, CLS, False),
    ("cross_entropy_probs", lambda nn, T, red: nn.CrossEntropyLoss(reduction=red),
     X, SOFT, False),
    ("cross_entropy_probs_smooth", lambda nn, T, red: nn.CrossEntropyLoss(
        reduction=red, label_smoothing=0.1, weight=T.tensor(W5)), X, SOFT, False),
    ("cross_entropy_4d", lambda nn, T, red: nn.CrossEntropyLoss(reduction=red), X4, CLS4, False),
    ("cross_entropy_3d", lambda nn, T, red: nn.CrossEntropyLoss(reduction=red), X3, CLS3, False),
    ("cross_entropy_1d", lambda nn, T, red: nn.CrossEntropyLoss(reduction=red),
     X[0], np.array(3), False),
    ("nll", lambda nn, T, red: nn.NLLLoss(reduction=red), X, CLS, False),
    ("nll_weight_ignore", lambda nn, T, red: nn.NLLLoss(weight=T.tensor(W5), reduction=red,
                                                        ignore_index=4), X, CLS, False),
    ("bce", lambda nn, T, red: nn.BCELoss(reduction=red), P, T01, True),
    ("bce_weight", lambda nn, T, red: nn.BCELoss(weight=T.tensor(W5), reduction=red),
     P, T01, True),
    ("bce_logits", lambda nn, T, red: nn.BCEWithLogitsLoss(reduction=red), X, T01, True),
    ("bce_logits_pos_weight", lambda nn, T, red: nn.BCEWithLogitsLoss(
        reduction=red, pos_weight=T.tensor(W5), weight=T.tensor(W5[::-1].copy())),
     X, T01, True),
]


def _run(T, case, red, x, t):
    _, build, _, _, tgrad = case
    loss = build(T.nn, T, red)
    xi = T.tensor(x.copy(), requires_grad=True)
    ti = T.tensor(t.copy(), requires_grad=tgrad)
    out = loss(xi, ti)
    g = np.linspace(-1, 1, max(out.numel(), 1)).reshape(tuple(out.shape)).astype(np.float32)
    (out * T.tensor(g)).sum().backward()
    return out, xi, ti


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_parity(case, red):
    x, t = case[2], case[3]
    eo, ex, et = _run(engine, case, red, x, t)
    to, tx, tt = _run(torch, case, red, x, t)
    assert_close(eo, to, what="loss")
    assert_close(ex.grad, tx.grad, what="input grad")
    if case[4]:
        assert_close(et.grad, tt.grad, what="target grad")
    assert_same_dag(eo, to, "loss")


def test_mse_loss_node_and_tutorial_usage():
    out = engine.randn(1, 10, requires_grad=True)
    target = engine.randn(10).view(1, -1)
    loss = engine.nn.MSELoss()(out, target)
    assert loss.grad_fn.name() == "MseLossBackward0"
    assert loss.shape == engine.Size([])


def test_cross_entropy_with_huge_logits_is_finite():
    logits = np.array([[1000.0, -1000.0, 0.0], [0.0, 1000.0, 999.0]], np.float32)
    target = np.array([1, 2])
    for T in (engine, torch):
        x = T.tensor(logits, requires_grad=True)
        loss = T.nn.functional.cross_entropy(x, T.tensor(target))
        loss.backward()
        if T is engine:
            e_loss, e_grad = to_np(loss), to_np(x.grad)
        else:
            t_loss, t_grad = to_np(loss), to_np(x.grad)
    assert np.isfinite(e_loss) and np.isfinite(e_grad).all()
    np.testing.assert_allclose(e_loss, t_loss, rtol=1e-6)
    np.testing.assert_allclose(e_grad, t_grad, atol=1e-6)


def test_bce_with_logits_huge_values_are_finite():
    x = engine.tensor([1000.0, -1000.0, 30.0], requires_grad=True)
    t = engine.tensor([0.0, 1.0, 1.0])
    loss = engine.nn.functional.binary_cross_entropy_with_logits(x, t)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(to_np(x.grad)).all()
    np.testing.assert_allclose(loss.item(), 2000 / 3, rtol=1e-5)


def test_log_softmax_huge_logits():
    x = engine.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    y = engine.nn.functional.log_softmax(x, 1)
    assert np.isfinite(to_np(y)).all()
    y[0, 0].backward()
    assert np.isfinite(to_np(x.grad)).all()


def test_all_ignored_mean_is_nan_like_torch():
    x = np.zeros((2, 3), np.float32)
    t = np.array([-100, -100])
    e = engine.nn.functional.cross_entropy(engine.tensor(x), engine.tensor(t))
    tt = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(e.item()) and np.isnan(tt.item())


def test_loss_errors():
    F = engine.nn.functional
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        F.nll_loss(engine.randn(2, 3), engine.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(2\) to match target "
                                         r"batch_size \(3\)"):
        F.cross_entropy(engine.randn(2, 3), engine.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.nll_loss(engine.randn(2, 3), engine.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(engine.tensor([1.5]), engine.tensor([1.0]))
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.mse_loss(engine.randn(2), engine.randn(2), reduction="avg")
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(engine.randn(3, 1), engine.randn(3))


def test_loss_module_repr_and_weight_buffer():
    w = engine.ones(3)
    ce = engine.nn.CrossEntropyLoss(weight=w)
    assert repr(ce) == "CrossEntropyLoss()"
    assert list(ce.state_dict()) == ["weight"]
    assert repr(engine.nn.BCEWithLogitsLoss(pos_weight=w)) == "BCEWithLogitsLoss()"
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert engine.nn.MSELoss(size_average=False).reduction == "sum"


GRADCHECK = [
    ("mse", lambda F, x, t: F.mse_loss(x, t), "float"),
    ("l1", lambda F, x, t: F.l1_loss(x, t, reduction="sum"), "float"),
    ("smooth_l1", lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.5), "float"),
    ("huber", lambda F, x, t: F.huber_loss(x, t, delta=0.5), "float"),
    ("cross_entropy", lambda F, x, t: F.cross_entropy(x, t), "class"),
    ("cross_entropy_smooth", lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.2), "class"),
    ("cross_entropy_none", lambda F, x, t: F.cross_entropy(x, t, reduction="none"), "class"),
    ("nll", lambda F, x, t: F.nll_loss(x, t), "class"),
    ("nll_weight_ignore", lambda F, x, t: F.nll_loss(
        x, t, weight=engine.tensor([0.5, 2.0, 1.5], dtype=engine.float64), ignore_index=0),
     "class"),
    ("cross_entropy_probs", lambda F, x, t: F.cross_entropy(x, F.softmax(t, 1), label_smoothing=0.1),
     "float"),
    ("bce", lambda F, x, t: F.binary_cross_entropy(x.sigmoid(), t), "prob"),
    ("bce_logits", lambda F, x, t: F.binary_cross_entropy_with_logits(
        x, t, pos_weight=engine.tensor([1.0, 2.0, 0.5], dtype=engine.float64)), "prob"),
]


@pytest.mark.parametrize("case", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_loss_gradcheck_float64(case):
    _, fn, kind = case
    rr = np.random.default_rng(3)
    x = engine.tensor(rr.standard_normal((2, 3)), dtype=engine.float64, requires_grad=True)
    if kind == "class":
        t = engine.tensor([2, 0])
        inputs = [x]
        f = lambda x: fn(engine.nn.functional, x, t)  # noqa: E731
    else:
        tv = rr.uniform(0.1, 0.9, (2, 3)) if kind == "prob" else rr.standard_normal((2, 3))
        t = engine.tensor(tv, dtype=engine.float64, requires_grad=True)
        inputs = [x, t]
        f = lambda x, t: fn(engine.nn.functional, x, t)  # noqa: E731
    assert engine.autograd.gradcheck(f, inputs)


def test_cross_entropy_double_backward_matches_torch():
    x0 = np.random.default_rng(4).standard_normal((3, 4))
    res = []
    for T in (engine, torch):
        x = T.tensor(x0.copy(), requires_grad=True)
        loss = T.nn.functional.cross_entropy(x, T.tensor([0, 3, 1]))
        (g,) = T.autograd.grad(loss, x, create_graph=True)
        (gg,) = T.autograd.grad((g * g).sum(), x)
        res.append(to_np(gg))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-6, atol=1e-10)
