"""Every engine.nn layer against torch.nn: forward, input and parameter gradients (weights
copied through the state dict), buffers, the grad_fn DAG node for node, and gradcheck in
float64."""

import numpy as np
import pytest
import torch

import engine
from _nn_parity import assert_same_dag, module_parity, to_np

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def idx(high, *shape):
    return rng.integers(0, high, shape).astype(np.int64)


# (id, builder(nn) -> module, inputs, integer input positions)
LAYERS = [
    ("linear2d", lambda nn: nn.Linear(4, 3), lambda: [randn(5, 4)], ()),
    ("linear3d", lambda nn: nn.Linear(4, 3), lambda: [randn(2, 5, 4)], ()),
    ("linear1d", lambda nn: nn.Linear(4, 3), lambda: [randn(4)], ()),
    ("linear_nobias", lambda nn: nn.Linear(4, 3, bias=False), lambda: [randn(5, 4)], ()),
    ("linear_nobias3d", lambda nn: nn.Linear(4, 3, bias=False), lambda: [randn(2, 5, 4)], ()),
    ("bilinear", lambda nn: nn.Bilinear(3, 2, 4), lambda: [randn(5, 3), randn(5, 2)], ()),
    ("identity", lambda nn: nn.Identity(7), lambda: [randn(3, 4)], ()),
    ("relu", lambda nn: nn.ReLU(), lambda: [randn(3, 4)], ()),
    ("relu6", lambda nn: nn.ReLU6(), lambda: [randn(3, 4) * 5], ()),
    ("leaky_relu", lambda nn: nn.LeakyReLU(0.2), lambda: [randn(3, 4)], ()),
    ("elu", lambda nn: nn.ELU(0.7), lambda: [randn(3, 4)], ()),
    ("gelu", lambda nn: nn.GELU(), lambda: [randn(3, 4) * 2], ()),
    ("gelu_tanh", lambda nn: nn.GELU("tanh"), lambda: [randn(3, 4) * 2], ()),
    ("silu", lambda nn: nn.SiLU(), lambda: [randn(3, 4)], ()),
    ("sigmoid", lambda nn: nn.Sigmoid(), lambda: [randn(3, 4)], ()),
    ("tanh", lambda nn: nn.Tanh(), lambda: [randn(3, 4)], ()),
    ("softmax", lambda nn: nn.Softmax(dim=1), lambda: [randn(3, 4)], ()),
    ("softmax0", lambda nn: nn.Softmax(dim=0), lambda: [randn(3, 4, 2)], ()),
    ("log_softmax", lambda nn: nn.LogSoftmax(dim=-1), lambda: [randn(3, 4)], ()),
    ("softmin", lambda nn: nn.Softmin(dim=1), lambda: [randn(3, 4)], ()),
    ("batchnorm1d", lambda nn: nn.BatchNorm1d(4), lambda: [randn(6, 4)], ()),
    ("batchnorm1d_3d", lambda nn: nn.BatchNorm1d(3), lambda: [randn(4, 3, 5)], ()),
    ("batchnorm2d", lambda nn: nn.BatchNorm2d(3), lambda: [randn(2, 3, 4, 4)], ()),
    ("batchnorm2d_noaffine", lambda nn: nn.BatchNorm2d(3, affine=False),
     lambda: [randn(2, 3, 4, 4)], ()),
    ("batchnorm_cma", lambda nn: nn.BatchNorm1d(4, momentum=None), lambda: [randn(6, 4)], ()),
    ("batchnorm_nostats", lambda nn: nn.BatchNorm1d(4, track_running_stats=False),
     lambda: [randn(6, 4)], ()),
    ("layernorm", lambda nn: nn.LayerNorm(4), lambda: [randn(3, 4)], ()),
    ("layernorm2", lambda nn: nn.LayerNorm((3, 4)), lambda: [randn(2, 3, 4)], ()),
    ("layernorm_nobias", lambda nn: nn.LayerNorm(4, bias=False), lambda: [randn(3, 4)], ()),
    ("layernorm_noaffine", lambda nn: nn.LayerNorm(4, elementwise_affine=False),
     lambda: [randn(3, 4)], ()),
    ("embedding", lambda nn: nn.Embedding(10, 3), lambda: [idx(10, 2, 5)], (0,)),
    ("embedding_pad", lambda nn: nn.Embedding(10, 3, padding_idx=1),
     lambda: [np.array([[1, 2, 1], [3, 1, 2]])], (0,)),
    ("embedding_freq", lambda nn: nn.Embedding(6, 3, scale_grad_by_freq=True),
     lambda: [np.array([0, 2, 2, 5, 2])], (0,)),
    ("flatten", lambda nn: nn.Flatten(), lambda: [randn(2, 3, 4)], ()),
    ("flatten02", lambda nn: nn.Flatten(0, 1), lambda: [randn(2, 3, 4)], ()),
    ("unflatten", lambda nn: nn.Unflatten(1, (2, 3)), lambda: [randn(2, 6)], ()),
    ("rnncell", lambda nn: nn.RNNCell(4, 3), lambda: [randn(2, 4), randn(2, 3)], ()),
    ("rnncell_nohx", lambda nn: nn.RNNCell(4, 3), lambda: [randn(2, 4)], ()),
    ("rnncell_relu", lambda nn: nn.RNNCell(4, 3, nonlinearity="relu"),
     lambda: [randn(2, 4), randn(2, 3)], ()),
    ("rnncell_unbatched", lambda nn: nn.RNNCell(4, 3), lambda: [randn(4), randn(3)], ()),
    ("lstmcell", lambda nn: nn.LSTMCell(4, 3), lambda: [randn(2, 4)], ()),
    ("grucell", lambda nn: nn.GRUCell(4, 3), lambda: [randn(2, 4), randn(2, 3)], ()),
    ("grucell_nohx_nobias", lambda nn: nn.GRUCell(4, 3, bias=False), lambda: [randn(2, 4)], ()),
    ("grucell_unbatched", lambda nn: nn.GRUCell(4, 3), lambda: [randn(4), randn(3)], ()),
    ("sequential", lambda nn: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2),
                                            nn.LogSoftmax(1)), lambda: [randn(3, 4)], ()),
]


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_parity_train(case):
    _, build, inputs, ints = case
    torch.manual_seed(0)
    module_parity(build(torch.nn), build(engine.nn), inputs(), int_inputs=ints)


def test_lstmcell_with_state_parity():
    torch.manual_seed(0)
    x, h, c = randn(2, 4), randn(2, 3), randn(2, 3)
    tm, em = torch.nn.LSTMCell(4, 3), engine.nn.LSTMCell(4, 3)

    # hx given as a tuple: wrap in modules taking three tensors
    class TW(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = tm

        def forward(self, x, h, c):
            return self.cell(x, (h, c))

    class EW(engine.nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = em

        def forward(self, x, h, c):
            return self.cell(x, (h, c))

    module_parity(TW(), EW(), [x, h, c])


@pytest.mark.parametrize("name", ["batchnorm1d", "batchnorm2d", "batchnorm_cma"])
def test_batchnorm_eval_after_training(name):
    case = next(c for c in LAYERS if c[0] == name)
    _, build, inputs, _ = case
    tm, em = build(torch.nn), build(engine.nn)
    xs = inputs()
    module_parity(tm, em, xs)             # one training step updates the running stats
    x2 = [a * 2 + 1 for a in xs]
    module_parity(tm, em, x2)             # a second step, copied state included
    tm.eval()
    em.eval()
    module_parity(tm, em, x2)
    assert int(em.num_batches_tracked.item()) == int(tm.num_batches_tracked.item())


def test_dropout_train_and_eval():
    d = engine.nn.Dropout(0.25)
    x = engine.ones(400, 50, requires_grad=True)
    y = d(x)
    assert y.grad_fn.name() == "MulBackward0"
    assert y.grad_fn.next_functions[1] == (None, 0)
    vals = to_np(y)
    zeros = (vals == 0).mean()
    assert 0.22 < zeros < 0.28
    np.testing.assert_allclose(vals[vals != 0], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), vals)  # grad = mask * scale
    d.eval()
    assert d(x) is x
    t = torch.nn.Dropout(0.25)
    assert_same_dag(engine.nn.Dropout(0.25)(x), t(torch.ones(3, 4, requires_grad=True)))


def test_dropout2d_zeroes_whole_channels():
    x = engine.ones(8, 16, 3, 3)
    y = to_np(engine.nn.Dropout2d(0.5)(x))
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))


def test_embedding_padding_row_initialised_to_zero_and_errors():
    e = engine.nn.Embedding(5, 3, padding_idx=-1)
    assert e.padding_idx == 4
    assert np.all(to_np(e.weight)[4] == 0)
    with pytest.raises(IndexError, match="index out of range in self"):
        e(engine.tensor([5]))
    with pytest.raises(RuntimeError, match="indices"):
        e(engine.tensor([1.0]))


def test_embedding_max_norm_matches_torch():
    torch.manual_seed(0)
    tm, em = torch.nn.Embedding(6, 4, max_norm=1.0), engine.nn.Embedding(6, 4, max_norm=1.0)
    ids = np.array([0, 3, 3, 5])
    module_parity(tm, em, [ids], int_inputs=(0,))
    np.testing.assert_allclose(to_np(em.weight), tm.weight.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_linear_graph_is_addmm_over_bias_input_and_t():
    lin = engine.nn.Linear(4, 3)
    x = engine.randn(2, 4, requires_grad=True)
    y = lin(x)
    n = y.grad_fn
    assert n.name() == "AddmmBackward0"
    (b, _), (xin, _), (t, _) = n.next_functions
    assert b.name() == "AccumulateGrad" and b.variable is lin.bias
    assert xin.name() == "AccumulateGrad" and xin.variable is x
    assert t.name() == "TBackward0" and t.next_functions[0][0].variable is lin.weight


def test_linear_shape_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(2x5 and 4x3\)"):
        engine.nn.Linear(4, 3)(engine.randn(2, 5))


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="expected 4D input"):
        engine.nn.BatchNorm2d(3)(engine.randn(2, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        engine.nn.BatchNorm1d(3)(engine.randn(1, 3))


def test_layernorm_shape_error():
    with pytest.raises(RuntimeError, match="normalized_shape"):
        engine.nn.LayerNorm(4)(engine.randn(3, 5))


# ------------------------------------------------------------------ gradcheck (float64)
GRADCHECK = [
    ("linear", lambda nn: nn.Linear(3, 2), [(2, 3)]),
    ("linear3d", lambda nn: nn.Linear(3, 2), [(2, 2, 3)]),
    ("bilinear", lambda nn: nn.Bilinear(2, 2, 2), [(2, 2), (2, 2)]),
    ("leaky_relu", lambda nn: nn.LeakyReLU(0.1), [(2, 3)]),
    ("elu", lambda nn: nn.ELU(), [(2, 3)]),
    ("gelu", lambda nn: nn.GELU(), [(2, 3)]),
    ("gelu_tanh", lambda nn: nn.GELU("tanh"), [(2, 3)]),
    ("silu", lambda nn: nn.SiLU(), [(2, 3)]),
    ("softmax", lambda nn: nn.Softmax(1), [(2, 3)]),
    ("log_softmax", lambda nn: nn.LogSoftmax(1), [(2, 3)]),
    ("batchnorm1d", lambda nn: nn.BatchNorm1d(2), [(4, 2)]),
    ("batchnorm2d", lambda nn: nn.BatchNorm2d(2), [(2, 2, 2, 2)]),
    ("layernorm", lambda nn: nn.LayerNorm(3), [(2, 3)]),
    ("rnncell", lambda nn: nn.RNNCell(2, 2), [(2, 2), (2, 2)]),
    ("lstmcell", lambda nn: nn.LSTMCell(2, 2), [(2, 2)]),
    ("grucell", lambda nn: nn.GRUCell(2, 2), [(2, 2), (2, 2)]),
    ("relu", lambda nn: nn.ReLU(), [(2, 3)]),
    ("sigmoid", lambda nn: nn.Sigmoid(), [(2, 3)]),
    ("tanh", lambda nn: nn.Tanh(), [(2, 3)]),
    ("hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.5), [(2, 3)]),
    ("softmin", lambda nn: nn.Softmin(0), [(2, 3)]),
    ("flatten", lambda nn: nn.Flatten(), [(2, 2, 2)]),
    ("layernorm2", lambda nn: nn.LayerNorm((2, 2)), [(2, 2, 2)]),
    ("batchnorm1d_eval", lambda nn: nn.BatchNorm1d(2).eval(), [(3, 2)]),
    ("sequential", lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
     [(2, 3)]),
]


@pytest.mark.parametrize("case", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_layer_gradcheck_float64(case):
    _, build, shapes = case
    engine.manual_seed(0)
    m = build(engine.nn).double()
    r = np.random.default_rng(1)
    xs = [engine.tensor(r.standard_normal(s), dtype=engine.float64, requires_grad=True)
          for s in shapes]
    params = list(m.parameters())
    for p in params:
        p._data += r.standard_normal(p.shape) * 0.1  # move off symmetric init (BN ones)

    def f(*args):
        out = m(*args[:len(xs)])
        return out if not isinstance(out, tuple) else out[0] * 2 + out[1]
    assert engine.autograd.gradcheck(f, xs + params, eps=1e-6, atol=1e-5)


def test_embedding_gradcheck():
    m = engine.nn.Embedding(5, 2).double()
    ids = engine.tensor([[0, 1, 4], [4, 2, 1]])
    assert engine.autograd.gradcheck(lambda w: m(ids), [m.weight])


def test_dropout_gradcheck_with_fixed_mask():
    x = engine.randn(3, 4, dtype=engine.float64, requires_grad=True)

    def f(x):
        engine.manual_seed(3)
        return engine.nn.functional.dropout(x, 0.4)
    assert engine.autograd.gradcheck(f, [x])


def test_layer_second_derivatives():
    """create_graph through GELU / log-softmax / layer norm matches torch's double backward."""
    x = np.random.default_rng(2).standard_normal((3, 4))
    for name, fn in [("gelu", lambda F, t: F.gelu(t)), ("log_softmax", lambda F, t: F.log_softmax(t, 1)),
                     ("layer_norm", lambda F, t: F.layer_norm(t, (4,))),
                     ("softmax", lambda F, t: F.softmax(t, 1)),
                     ("elu", lambda F, t: F.elu(t)), ("silu", lambda F, t: F.silu(t))]:
        res = []
        for T in (engine, torch):
            t = T.tensor(x.copy(), requires_grad=True)
            y = fn(T.nn.functional, t)
            w = T.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
            (g,) = T.autograd.grad((y * w).sum(), t, create_graph=True)
            (gg,) = T.autograd.grad((g * g).sum(), t)
            res.append(to_np(gg))
        np.testing.assert_allclose(res[0], res[1], rtol=1e-6, atol=1e-8, err_msg=name)
