"""engine.nn.functional against torch.nn.functional: the functions that are not layers
(pad, one_hot, softmax forms, dropout arguments ...) and the full set of names."""

import numpy as np
import pytest
import torch

import engine
import engine.nn.functional as F
from _nn_parity import assert_close, assert_same_dag, to_np

r = np.random.default_rng(0)


def both(fn, *arrays, grad=True, seed=1):
    """fn(T, *tensors) on engine and torch; compare outputs, grads and DAGs."""
    res = []
    for T in (engine, torch):
        xs = [T.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(T, *xs)
        if grad and out.requires_grad:
            g = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(np.float32)
            (out * T.tensor(g)).sum().backward()
        res.append((out, xs))
    (eo, ex), (to, tx) = res
    assert_close(eo, to, what="output")
    assert_same_dag(eo, to)
    for a, b in zip(ex, tx):
        if b.grad is not None:
            assert_close(a.grad, b.grad, what="grad")
    return eo


PADS = [
    ("const1", lambda T, x: T.nn.functional.pad(x, (1, 2)), (2, 3, 4)),
    ("const2", lambda T, x: T.nn.functional.pad(x, (1, 0, 2, 1), value=3.5), (2, 3, 4)),
    ("const_crop", lambda T, x: T.nn.functional.pad(x, (-1, 2, 0, -1)), (2, 3, 4)),
    ("reflect1", lambda T, x: T.nn.functional.pad(x, (2, 1), mode="reflect"), (2, 3, 4)),
    ("reflect2", lambda T, x: T.nn.functional.pad(x, (1, 2, 2, 1), mode="reflect"),
     (1, 2, 4, 5)),
    ("replicate1", lambda T, x: T.nn.functional.pad(x, (3, 1), mode="replicate"), (2, 3, 4)),
    ("replicate2", lambda T, x: T.nn.functional.pad(x, (1, 2, 3, 0), mode="replicate"),
     (1, 2, 4, 5)),
]


@pytest.mark.parametrize("case", PADS, ids=[c[0] for c in PADS])
def test_pad_matches_torch(case):
    _, fn, shape = case
    both(fn, r.standard_normal(shape).astype(np.float32))


def test_circular_pad_values_and_grad_match_torch():
    x0 = r.standard_normal((1, 2, 5)).astype(np.float32)
    res = []
    for T in (engine, torch):
        x = T.tensor(x0, requires_grad=True)
        y = T.nn.functional.pad(x, (2, 1), mode="circular")
        (y * T.tensor(np.arange(16, dtype=np.float32).reshape(1, 2, 8))).sum().backward()
        res.append((to_np(y), to_np(x.grad)))
    np.testing.assert_allclose(res[0][0], res[1][0])
    np.testing.assert_allclose(res[0][1], res[1][1])


def test_pad_errors():
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(engine.zeros(2, 2), (1,))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding "
                                           "input dimension"):
        F.pad(engine.zeros(1, 2, 3), (3, 3), mode="reflect")


def test_pad_gradcheck():
    x = engine.randn(1, 2, 3, dtype=engine.float64, requires_grad=True)
    assert engine.autograd.gradcheck(lambda x: F.pad(x, (2, 1), mode="reflect"), [x])
    assert engine.autograd.gradcheck(lambda x: F.pad(x, (1, -1), value=2.0), [x])


def test_one_hot_matches_torch():
    t = np.array([[0, 2], [1, 3]])
    e = F.one_hot(engine.tensor(t))
    tt = torch.nn.functional.one_hot(torch.tensor(t))
    assert e.dtype == engine.int64
    np.testing.assert_array_equal(to_np(e), tt.numpy())
    np.testing.assert_array_equal(to_np(F.one_hot(engine.tensor(t), 6)),
                                  torch.nn.functional.one_hot(torch.tensor(t), 6).numpy())
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(engine.tensor([3]), 2)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(engine.tensor([1.0]))


def test_functional_activations_match_torch():
    x = (r.standard_normal((3, 5)) * 3).astype(np.float32)
    fns = {
        "relu": lambda T, x: T.nn.functional.relu(x),
        "leaky": lambda T, x: T.nn.functional.leaky_relu(x, 0.3),
        "elu": lambda T, x: T.nn.functional.elu(x, 1.5),
        "gelu": lambda T, x: T.nn.functional.gelu(x),
        "gelu_tanh": lambda T, x: T.nn.functional.gelu(x, approximate="tanh"),
        "silu": lambda T, x: T.nn.functional.silu(x),
        "sigmoid": lambda T, x: T.nn.functional.sigmoid(x),
        "tanh": lambda T, x: T.nn.functional.tanh(x),
        "softmax": lambda T, x: T.nn.functional.softmax(x, dim=0),
        "log_softmax": lambda T, x: T.nn.functional.log_softmax(x, dim=1),
        "log_softmax_dtype": lambda T, x: T.nn.functional.log_softmax(x, 1, dtype=T.float64),
        "hardtanh": lambda T, x: T.nn.functional.hardtanh(x, -1.5, 2.0),
        "relu6": lambda T, x: T.nn.functional.relu6(x),
        "linear": lambda T, x: T.nn.functional.linear(x, x[:2] * 1, None),
    }
    for name, fn in fns.items():
        both(fn, x)
    for name, fn in {"softplus": lambda T, x: T.nn.functional.softplus(x, beta=2.0),
                     "logsigmoid": lambda T, x: T.nn.functional.logsigmoid(x),
                     "normalize": lambda T, x: T.nn.functional.normalize(x, dim=1)}.items():
        res = [to_np(fn(T, T.tensor(x))) for T in (engine, torch)]
        np.testing.assert_allclose(res[0], res[1], rtol=1e-5, atol=1e-6, err_msg=name)


def test_gelu_exact_matches_torch_in_float64():
    x = np.linspace(-6, 6, 101)
    e = to_np(F.gelu(engine.tensor(x)))
    t = torch.nn.functional.gelu(torch.tensor(x)).numpy()
    np.testing.assert_allclose(e, t, rtol=1e-14, atol=1e-15)


def test_softmax_implicit_dim_warns_like_torch():
    x = engine.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(to_np(y).sum(1), 1, rtol=1e-6)
    with pytest.warns(UserWarning):
        engine.nn.Softmax()(x)


def test_softmax_of_integers_errors():
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.softmax(engine.tensor([1, 2]), 0)


def test_dropout_arguments():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        F.dropout(engine.ones(2), 1.5)
    x = engine.ones(3, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(to_np(F.dropout(x, 1.0)), 0)
    y = engine.ones(1000)
    F.dropout(y, 0.5, inplace=True)
    assert set(np.unique(to_np(y))) <= {0.0, 2.0}


def test_dropout_is_repeatable_with_seed():
    engine.manual_seed(7)
    a = to_np(F.dropout(engine.ones(50), 0.5))
    engine.manual_seed(7)
    b = to_np(F.dropout(engine.ones(50), 0.5))
    np.testing.assert_array_equal(a, b)


def test_batch_and_layer_norm_functional_match_torch():
    x = r.standard_normal((4, 3, 2)).astype(np.float32)
    w = r.standard_normal(3).astype(np.float32)
    b = r.standard_normal(3).astype(np.float32)
    for T in (engine, torch):
        rm, rv = T.zeros(3), T.ones(3)
        out = T.nn.functional.batch_norm(T.tensor(x), rm, rv, T.tensor(w), T.tensor(b),
                                         training=True, momentum=0.3)
        if T is engine:
            e = (to_np(out), to_np(rm), to_np(rv))
        else:
            t = (to_np(out), to_np(rm), to_np(rv))
    for a, bb in zip(e, t):
        np.testing.assert_allclose(a, bb, rtol=1e-5, atol=1e-6)
    ln = [to_np(T.nn.functional.layer_norm(T.tensor(x), (2,), eps=1e-3)) for T in (engine, torch)]
    np.testing.assert_allclose(ln[0], ln[1], rtol=1e-5, atol=1e-6)


def test_embedding_functional_matches_torch():
    w = r.standard_normal((6, 3)).astype(np.float32)
    ids = np.array([[0, 5], [5, 2]])
    both(lambda T, w, i: T.nn.functional.embedding(i, w, padding_idx=5), w, ids)


def test_functional_names_exist():
    names = ["conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
             "adaptive_avg_pool2d", "linear", "bilinear", "relu", "relu_", "leaky_relu", "elu",
             "gelu", "silu", "sigmoid", "tanh", "softmax", "log_softmax", "softmin",
             "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
             "binary_cross_entropy", "binary_cross_entropy_with_logits", "dropout", "dropout2d",
             "pad", "one_hot", "embedding", "batch_norm", "layer_norm", "hardtanh", "relu6",
             "softplus", "logsigmoid", "normalize", "cosine_similarity", "flatten"]
    missing = [n for n in names if not callable(getattr(F, n, None))]
    assert not missing, missing
    assert engine.nn.functional is F


def test_nn_utils_clip_grad_norm_matches_torch():
    r2 = np.random.default_rng(9)
    grads = [r2.standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (5,), (2, 2)]]
    for norm_type in (2.0, 1.0, float("inf"), 3.0):
        res = []
        for T in (engine, torch):
            ps = [T.zeros(g.shape, requires_grad=True) for g in grads]
            for p, g in zip(ps, grads):
                p.grad = T.tensor(g.copy())
            total = T.nn.utils.clip_grad_norm_(ps, max_norm=1.5, norm_type=norm_type)
            res.append((to_np(total), [to_np(p.grad) for p in ps]))
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-5)
        assert res[0][0].shape == () and res[0][0].dtype == np.float32
        for a, b in zip(res[0][1], res[1][1]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_clip_grad_errors_and_value():
    p = engine.zeros(2, requires_grad=True)
    p.grad = engine.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        engine.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    q = engine.zeros(3, requires_grad=True)
    q.grad = engine.tensor([-5.0, 0.5, 7.0])
    engine.nn.utils.clip_grad_value_(q, 1.0)
    np.testing.assert_array_equal(to_np(q.grad), [-1.0, 0.5, 1.0])
    assert engine.nn.utils.clip_grad_norm_([engine.zeros(1, requires_grad=True)], 1.0).item() == 0


def test_parameters_to_vector_and_back():
    m = engine.nn.Linear(3, 2)
    v = engine.nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == engine.Size([8])
    assert v.grad_fn is not None  # differentiable, as torch.cat of views
    new = engine.arange(8, dtype=engine.float32)
    w = m.weight
    engine.nn.utils.vector_to_parameters(new, m.parameters())
    assert m.weight is w
    np.testing.assert_array_equal(to_np(m.weight), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(to_np(m.bias), [6, 7])
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        engine.nn.utils.vector_to_parameters([1.0], m.parameters())
