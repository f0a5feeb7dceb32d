"""nn.RNN / nn.LSTM / nn.GRU against torch: outputs, final states, the gradient of every
parameter, input and initial state, and the grad_fn DAG node for node, in float32 and
float64, over layers, directions, batch_first, bias, projections, unbatched and packed
input; gradcheck in float64; the module's names, repr and error texts.

A float32 LSTM is compared with torch's graph under ``mkldnn.flags(enabled=False)``: with
oneDNN torch records one fused ``MkldnnRnnLayerBackward0`` per layer (see engine/nn/_rnn.py).
"""

import warnings

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import engine
from _nn_parity import assert_close, assert_same_dag, copy_state, to_np
from engine.nn.utils import rnn as ernn

T_, B_, IN, H = 3, 2, 3, 4


def build(lib, mode, **kw):
    nn = lib.nn
    if mode in ("tanh", "relu"):
        return nn.RNN(IN, H, nonlinearity=mode, **kw)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[mode](IN, H, **kw)


def pair(mode, dtype=np.float32, **kw):
    """A torch module and an engine one with torch's weights."""
    tm = build(torch, mode, **kw)
    em = build(engine, mode, **kw)
    if dtype == np.float64:
        tm, em = tm.double(), em.double()
    copy_state(tm, em)
    return tm, em


def flat(r):
    """(output, hidden) flattened: [output, h] or [output, h, c]; packed output as its data."""
    out, hid = r
    out = out.data if isinstance(out, (trnn.PackedSequence, ernn.PackedSequence)) else out
    return [out] + (list(hid) if isinstance(hid, tuple) else [hid])


def torch_graph(mode, dtype):
    """oneDNN off for the float32 LSTM, so torch records the decomposed graph."""
    if mode == "lstm" and dtype == np.float32:
        return torch.backends.mkldnn.flags(enabled=False)
    import contextlib
    return contextlib.nullcontext()


def run_both(tm, em, mode, dtype, t_in, e_in, t_hx=None, e_hx=None, seed=0):
    """Forward both, compare values and DAGs, backward a random projection of every
    output, return the two flattened result lists."""
    with torch_graph(mode, dtype):
        tr = flat(tm(t_in) if t_hx is None else tm(t_in, t_hx))
    er = flat(em(e_in) if e_hx is None else em(e_in, e_hx))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    rng = np.random.default_rng(seed)
    tl = el = 0
    for k, (t, e) in enumerate(zip(tr, er)):
        assert_close(e, t, what=f"result {k}", **tol)
        assert_same_dag(e, t, f"result {k}")
        g = rng.standard_normal(tuple(t.shape)).astype(dtype)
        tl = tl + (t * torch.tensor(g)).sum()
        el = el + (e * engine.tensor(g)).sum()
    tl.backward()
    el.backward()
    tp, ep = dict(tm.named_parameters()), dict(em.named_parameters())
    assert list(tp) == list(ep)
    for name, p in tp.items():
        assert_close(ep[name].grad, p.grad, what=f"grad of {name}", **tol)
    return tol


def leaves(arrays, dtype):
    t = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    e = [engine.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return t, e


def hidden_arrays(mode, layers, dirs, batch, proj, rng):
    h = rng.standard_normal((layers * dirs, batch, proj or H))
    if mode != "lstm":
        return [h]
    return [h, rng.standard_normal((layers * dirs, batch, H))]


def as_hx(mode, ts):
    return tuple(ts) if mode == "lstm" else ts[0]


CONFIGS = [
    # (id, module kwargs, give initial state)
    ("plain", {}, False),
    ("h0", {}, True),
    ("2layers_h0", dict(num_layers=2), True),
    ("bidir", dict(bidirectional=True), False),
    ("2layers_bidir_h0", dict(num_layers=2, bidirectional=True), True),
    ("batch_first", dict(batch_first=True), True),
    ("batch_first_bidir", dict(batch_first=True, bidirectional=True, num_layers=2), False),
    ("nobias", dict(bias=False), True),
    ("nobias_batch_first", dict(bias=False, batch_first=True), False),
]
PROJ_CONFIGS = [
    ("proj", dict(proj_size=2), True),
    ("proj_2layers_bidir", dict(proj_size=3, num_layers=2, bidirectional=True), True),
    ("proj_nobias_batch_first", dict(proj_size=2, bias=False, batch_first=True), False),
]
MODES = ["tanh", "relu", "lstm", "gru"]


def _cases():
    for mode in MODES:
        for cid, kw, give in CONFIGS + (PROJ_CONFIGS if mode == "lstm" else []):
            yield pytest.param(mode, kw, give, id=f"{mode}-{cid}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("mode, kw, give_hx", list(_cases()))
def test_padded_input_matches_torch(mode, kw, give_hx, dtype):
    tm, em = pair(mode, dtype, **kw)
    rng = np.random.default_rng(1)
    shape = (B_, T_, IN) if kw.get("batch_first") else (T_, B_, IN)
    arrays = [rng.standard_normal(shape)]
    dirs = 2 if kw.get("bidirectional") else 1
    if give_hx:
        arrays += hidden_arrays(mode, kw.get("num_layers", 1), dirs, B_, kw.get("proj_size"),
                                rng)
    t, e = leaves(arrays, dtype)
    t_hx = as_hx(mode, t[1:]) if give_hx else None
    e_hx = as_hx(mode, e[1:]) if give_hx else None
    tol = run_both(tm, em, mode, dtype, t[0], e[0], t_hx, e_hx)
    for k, (a, b) in enumerate(zip(e, t)):
        assert_close(a.grad, b.grad, what=f"grad of input {k}", **tol)


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input_matches_torch(mode):
    tm, em = pair(mode, np.float64, num_layers=2)
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((T_, IN))] + [a[:, 0] for a in
                                                hidden_arrays(mode, 2, 1, 1, None, rng)]
    t, e = leaves(arrays, np.float64)
    tol = run_both(tm, em, mode, np.float64, t[0], e[0], as_hx(mode, t[1:]),
                   as_hx(mode, e[1:]))
    for k, (a, b) in enumerate(zip(e, t)):
        assert_close(a.grad, b.grad, what=f"grad of input {k}", **tol)
    out, _ = em(e[0].detach())
    assert tuple(out.shape) == (T_, H)


PACKED = [
    ("sorted", True, {}, False),
    ("sorted_h0", True, {}, True),
    ("unsorted", False, {}, False),
    ("unsorted_h0_bidir_2layers", False, dict(bidirectional=True, num_layers=2), True),
    ("sorted_bidir", True, dict(bidirectional=True), True),
    ("unsorted_batch_first", False, dict(batch_first=True), True),
]


def _packed_cases():
    for mode in MODES:
        for cid, enforce, kw, give in PACKED:
            yield pytest.param(mode, enforce, kw, give, id=f"{mode}-{cid}")
    yield pytest.param("lstm", False, dict(proj_size=2, bidirectional=True), True,
                       id="lstm-unsorted_proj_bidir")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("mode, enforce_sorted, kw, give_hx", list(_packed_cases()))
def test_packed_input_matches_torch(mode, enforce_sorted, kw, give_hx, dtype):
    """Each sequence's final state is taken at its own length; states and output padding
    come back in the caller's batch order."""
    tm, em = pair(mode, dtype, **kw)
    rng = np.random.default_rng(3)
    lengths = [4, 4, 2, 1] if enforce_sorted else [2, 4, 1, 4]
    bf = kw.get("batch_first", False)
    arrays = [rng.standard_normal((4, 4, IN))]
    dirs = 2 if kw.get("bidirectional") else 1
    if give_hx:
        arrays += hidden_arrays(mode, kw.get("num_layers", 1), dirs, 4, kw.get("proj_size"), rng)
    t, e = leaves(arrays, dtype)
    tp = trnn.pack_padded_sequence(t[0], lengths, batch_first=bf, enforce_sorted=enforce_sorted)
    ep = ernn.pack_padded_sequence(e[0], lengths, batch_first=bf, enforce_sorted=enforce_sorted)
    tol = run_both(tm, em, mode, dtype, tp, ep, as_hx(mode, t[1:]) if give_hx else None,
                   as_hx(mode, e[1:]) if give_hx else None)
    for k, (a, b) in enumerate(zip(e, t)):
        assert_close(a.grad, b.grad, what=f"grad of input {k}", **tol)


def test_packed_output_pads_back_and_final_state_is_each_sequences_last_step():
    engine.manual_seed(0)
    m = engine.nn.GRU(IN, H).double()
    x = engine.randn(4, 3, IN, dtype=engine.float64)
    lengths = [1, 4, 2]
    out, h = m(ernn.pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, lens = ernn.pad_packed_sequence(out)
    assert lens.tolist() == lengths
    for b, n in enumerate(lengths):
        alone, h_alone = m(x[:n, b:b + 1])
        np.testing.assert_allclose(to_np(padded[:n, b]), to_np(alone[:, 0]), rtol=1e-12)
        np.testing.assert_allclose(to_np(h[0, b]), to_np(h_alone[0, 0]), rtol=1e-12)
        assert (to_np(padded[n:, b]) == 0).all()


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_gradcheck_tiny_float64(mode):
    engine.manual_seed(0)
    m = build(engine, mode, num_layers=2, bidirectional=True).double()
    x = engine.randn(3, 2, IN, dtype=engine.float64, requires_grad=True)
    h0 = engine.randn(4, 2, H, dtype=engine.float64, requires_grad=True)
    params = list(m.parameters())

    def fn(x, h0, *ps):
        hx = (h0, h0 * 0.5) if mode == "lstm" else h0
        out, hid = m(x, hx)
        return out, (hid[1] if mode == "lstm" else hid)

    assert engine.autograd.gradcheck(fn, (x, h0, *params), eps=1e-6, atol=1e-6, rtol=1e-4)

    def packed(x):
        out, _ = m(ernn.pack_padded_sequence(x, [3, 1], enforce_sorted=True))
        return out.data

    assert engine.autograd.gradcheck(packed, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_double_backward_through_lstm_and_gru():
    """Every backward formula is made of ops: gradients of gradients work, as in PyTorch's
    decomposed graph."""
    engine.manual_seed(0)
    for mode in ("lstm", "gru"):
        m = build(engine, mode, batch_first=True).double()
        x = engine.randn(2, 3, IN, dtype=engine.float64, requires_grad=True)
        assert engine.autograd.gradgradcheck(lambda x: m(x)[0], (x,), eps=1e-6, atol=1e-5)


# ---------------------------------------------------------------- dropout between layers
def test_dropout_between_layers_in_training_only():
    tm, em = pair("gru", np.float64, num_layers=3, dropout=0.5)
    x = np.random.default_rng(4).standard_normal((T_, B_, IN))
    engine.manual_seed(0)
    a = to_np(em(engine.tensor(x))[0])
    b = to_np(em(engine.tensor(x))[0])
    assert not np.allclose(a, b), "training mode drops different units each call"
    tm.eval()
    em.eval()
    t, e = leaves([x], np.float64)
    run_both(tm, em, "gru", np.float64, t[0], e[0])


def test_dropout_graph_is_one_mul_per_layer_boundary():
    def count(root, name):
        seen, stack, n = set(), [root.grad_fn], 0
        while stack:
            f = stack.pop()
            if f is None or f in seen:
                continue
            seen.add(f)
            n += f.name() == name
            stack += [g for g, _ in f.next_functions]
        return n

    tm, em = pair("lstm", np.float64, num_layers=3, dropout=0.3)
    x = np.ones((1, 1, IN))
    assert count(em(engine.tensor(x))[0], "MulBackward0") == \
        count(tm(torch.tensor(x))[0], "MulBackward0")


@pytest.mark.parametrize("mode", MODES)
def test_dropout_zero_in_training_matches_torch(mode):
    tm, em = pair(mode, np.float32, num_layers=2, dropout=0.0)
    t, e = leaves([np.random.default_rng(5).standard_normal((T_, B_, IN))], np.float32)
    run_both(tm, em, mode, np.float32, t[0], e[0])


# ---------------------------------------------------------------- the module itself
def test_names_shapes_and_state_dict_load_from_torch():
    tm = torch.nn.LSTM(IN, H, num_layers=2, bidirectional=True, proj_size=2)
    em = engine.nn.LSTM(IN, H, num_layers=2, bidirectional=True, proj_size=2)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert em._flat_weights_names == tm._flat_weights_names
    assert em._all_weights == tm._all_weights
    copy_state(tm, em)
    assert [tuple(w.shape) for w in em.all_weights[1]] == \
        [tuple(w.shape) for w in tm.all_weights[1]]
    assert em.flatten_parameters() is None
    assert isinstance(em, engine.nn.RNNBase)


def test_init_is_uniform_within_one_over_sqrt_hidden():
    engine.manual_seed(0)
    m = engine.nn.GRU(5, 16, bias=True)
    for p in m.parameters():
        a = to_np(p)
        assert a.dtype == np.float32
        assert np.abs(a).max() <= 0.25 and np.abs(a).max() > 0.2 and np.abs(a).mean() > 0.1


@pytest.mark.parametrize("build_", [
    lambda nn: nn.LSTM(10, 20, 2, bias=False, batch_first=True, dropout=0.1,
                       bidirectional=True, proj_size=5),
    lambda nn: nn.RNN(10, 20, nonlinearity="relu"),
    lambda nn: nn.RNN(10, 20, 3, "relu", False),
    lambda nn: nn.GRU(10, 20, dropout=0),
    lambda nn: nn.RNNBase("LSTM", 10, 20),
    lambda nn: nn.Sequential(nn.GRU(3, 4, bidirectional=True)),
])
def test_repr_is_torchs(build_):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert repr(build_(engine.nn)) == repr(build_(torch.nn))


def test_to_dtype_keeps_parameters_and_runs():
    m = engine.nn.LSTM(IN, H).double()
    out, (h, c) = m(engine.randn(2, 1, IN, dtype=engine.float64))
    assert out.dtype == h.dtype == c.dtype == engine.float64


def test_zero_batch_runs():
    tm, em = pair("gru", np.float32)
    out, h = em(engine.zeros(2, 0, IN))
    assert tuple(out.shape) == tuple(tm(torch.zeros(2, 0, IN))[0].shape) == (2, 0, H)
    assert tuple(h.shape) == (1, 0, H)


def raised(lib, f):
    """(type name, message) of what ``f(lib)`` raises, or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f(lib)
        except Exception as e:  # noqa: BLE001 - the type and text are what is compared
            return type(e).__name__, str(e)
    return None


def assert_raises_like_torch(f):
    theirs = raised(torch, f)
    assert theirs is not None
    assert raised(engine, f) == theirs


def _packed(lib, x, lengths):
    return lib.nn.utils.rnn.pack_padded_sequence(x, lengths)


ERRORS = [
    ("input_size", lambda T: T.nn.RNN(10, 20)(T.randn(5, 3, 7))),
    ("hidden_size", lambda T: T.nn.RNN(10, 20, 2)(T.randn(5, 3, 10), T.randn(1, 3, 20))),
    ("lstm_h", lambda T: T.nn.LSTM(10, 20, 2)(T.randn(5, 3, 10),
                                              (T.randn(1, 3, 20), T.randn(2, 3, 20)))),
    ("lstm_c", lambda T: T.nn.LSTM(10, 20, 2)(T.randn(5, 3, 10),
                                              (T.randn(2, 3, 20), T.randn(2, 3, 21)))),
    ("lstm_proj_h", lambda T: T.nn.LSTM(10, 20, 2, proj_size=5)(
        T.randn(5, 3, 10), (T.randn(2, 3, 20), T.randn(2, 3, 20)))),
    ("gru_4d", lambda T: T.nn.GRU(10, 20)(T.randn(5, 3, 10, 1))),
    ("lstm_4d", lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 10, 1))),
    ("rnn_4d", lambda T: T.nn.RNN(10, 20)(T.randn(5, 3, 10, 1))),
    ("gru_hx_2d", lambda T: T.nn.GRU(10, 20)(T.randn(5, 3, 10), T.randn(3, 20))),
    ("gru_hx_3d_unbatched", lambda T: T.nn.GRU(10, 20)(T.randn(5, 10), T.randn(1, 3, 20))),
    ("lstm_hx_2d", lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 10),
                                               (T.randn(3, 20), T.randn(3, 20)))),
    ("lstm_hx_3d_unbatched", lambda T: T.nn.LSTM(10, 20)(
        T.randn(5, 10), (T.randn(1, 3, 20), T.randn(1, 3, 20)))),
    ("dtype", lambda T: T.nn.GRU(10, 20)(T.randn(5, 3, 10, dtype=T.float64))),
    ("empty_sequence", lambda T: T.nn.GRU(10, 20)(T.randn(0, 3, 10))),
    ("empty_sequence_lstm", lambda T: T.nn.LSTM(10, 20)(T.randn(0, 3, 10))),
    ("packed_3d", lambda T: T.nn.GRU(10, 20)(T.nn.utils.rnn.PackedSequence(
        T.randn(5, 3, 10), T.tensor([3, 2])))),
    ("packed_input_size", lambda T: T.nn.GRU(10, 20)(_packed(T, T.randn(3, 2, 7), [3, 2]))),
    ("packed_lstm_input_size", lambda T: T.nn.LSTM(10, 20)(_packed(T, T.randn(3, 2, 7),
                                                                   [3, 2]))),
    ("packed_hidden", lambda T: T.nn.GRU(10, 20)(_packed(T, T.randn(3, 2, 10), [3, 2]),
                                                 T.randn(1, 3, 20))),
    ("proj_rnn", lambda T: T.nn.RNN(10, 20, proj_size=3)),
    ("proj_gru", lambda T: T.nn.GRU(10, 20, proj_size=3)),
    ("proj_big", lambda T: T.nn.LSTM(10, 20, proj_size=20)),
    ("proj_negative", lambda T: T.nn.LSTM(10, 20, proj_size=-1)),
    ("nonlinearity", lambda T: T.nn.RNN(10, 20, nonlinearity="sigmoid")),
    ("dropout_range", lambda T: T.nn.RNN(10, 20, dropout=2)),
    ("dropout_bool", lambda T: T.nn.RNN(10, 20, dropout=True)),
    ("hidden_zero", lambda T: T.nn.RNN(10, 0)),
    ("layers_zero", lambda T: T.nn.RNN(10, 2, 0)),
    ("bias_int", lambda T: T.nn.RNN(10, 2, bias=1)),
    ("batch_first_int", lambda T: T.nn.GRU(10, 2, batch_first=0)),
    ("input_float", lambda T: T.nn.RNN(10.0, 2)),
    ("bad_mode", lambda T: T.nn.RNNBase("FOO", 10, 2)),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_error_texts_are_torchs(case):
    assert_raises_like_torch(case[1])


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, "
                                         "but got dropout=0.5 and num_layers=1"):
        engine.nn.LSTM(3, 4, dropout=0.5)
