"""``nn.TransformerEncoder(Layer)``, ``nn.TransformerDecoder(Layer)`` and ``nn.Transformer``
against PyTorch: outputs, input and parameter gradients and the grad_fn DAG (weights copied
through the state dict) with masks of each kind, ``batch_first``, ``norm_first``, the
activations, no bias; parameter names, repr, construction warnings, the causal mask,
eval-mode padding zeros, dropout, and error texts."""

import warnings

import numpy as np
import pytest
import torch

import engine
from _nn_parity import assert_close, assert_same_dag, copy_state

D, HEADS, FF = 8, 2, 16
KPM = np.array([[False] * 3 + [True] * 2, [False] * 5])
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True",
                                        "ignore:The PyTorch API of nested tensors")


def _build(T, kind, **kw):
    nn = T.nn
    if kind == "enc_layer":
        return nn.TransformerEncoderLayer(D, HEADS, FF, **kw)
    if kind == "dec_layer":
        return nn.TransformerDecoderLayer(D, HEADS, FF, **kw)
    if kind == "enc":
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, FF, **kw), 2,
                                     norm=nn.LayerNorm(D))
    if kind == "dec":
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(D, HEADS, FF, **kw), 2,
                                     norm=nn.LayerNorm(D))
    return nn.Transformer(D, HEADS, 2, 1, FF, **kw)


def _pair(kind, dtype=np.float32, **kw):
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        tm = _build(torch, kind, **kw)
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        em = _build(engine, kind, **kw)
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]
    if dtype == np.float64:
        tm, em = tm.double(), em.double()
    copy_state(tm, em)
    return tm, em


def _square(T, n):
    return T.nn.Transformer.generate_square_subsequent_mask(n)


# (id, kind, constructor kwargs, forward(T, module, src, tgt))
CASES = [
    ("enc_layer", "enc_layer", {}, lambda T, m, x, y: m(x)),
    ("enc_layer_gelu_norm_first", "enc_layer",
     {"activation": "gelu", "norm_first": True, "batch_first": True}, lambda T, m, x, y: m(x)),
    ("enc_layer_module_activation", "enc_layer", {"activation": "GELU"},
     lambda T, m, x, y: m(x, src_key_padding_mask=T.tensor(KPM))),
    ("enc_layer_causal", "enc_layer", {"batch_first": True},
     lambda T, m, x, y: m(x, src_mask=_square(T, 5), is_causal=True)),
    ("enc_causal_detected", "enc", {"batch_first": True},
     lambda T, m, x, y: m(x, mask=_square(T, 5))),
    ("enc_bool_mask_padding", "enc", {"batch_first": True},
     lambda T, m, x, y: m(x, mask=T.tensor(np.triu(np.ones((5, 5), bool), 1)),
                          src_key_padding_mask=T.tensor(KPM))),
    ("enc_callable_activation_no_bias", "enc", {"activation": "tanh_lambda", "bias": False},
     lambda T, m, x, y: m(x, src_key_padding_mask=T.tensor(KPM))),
    ("enc_layer_eps", "enc", {"layer_norm_eps": 1e-3, "norm_first": True},
     lambda T, m, x, y: m(x, mask=_square(T, 5), is_causal=True)),
    ("dec_layer", "dec_layer", {}, lambda T, m, x, y: m(y, x)),
    ("dec_masks", "dec", {"batch_first": True},
     lambda T, m, x, y: m(y, x, tgt_mask=_square(T, 4), memory_key_padding_mask=T.tensor(KPM),
                          tgt_key_padding_mask=T.tensor(KPM[:, 1:]))),
    ("dec_norm_first_no_bias", "dec", {"norm_first": True, "bias": False},
     lambda T, m, x, y: m(y, x, memory_mask=T.tensor(np.random.default_rng(0)
                                                     .random((4, 5)) > 0.8))),
    ("transformer", "tr", {"batch_first": True},
     lambda T, m, x, y: m(x, y, tgt_mask=_square(T, 4), src_key_padding_mask=T.tensor(KPM),
                          memory_key_padding_mask=T.tensor(KPM))),
    ("transformer_seq_first", "tr", {},
     lambda T, m, x, y: m(x, y, tgt_mask=_square(T, 4), tgt_is_causal=True)),
]


def _activation(T, kw):
    kw = dict(kw, dropout=0.0)
    if kw.get("activation") == "tanh_lambda":
        kw["activation"] = lambda t: t.tanh()
    elif kw.get("activation") == "GELU":
        kw["activation"] = T.nn.GELU()
    return kw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_transformer_matches_torch(case, dtype):
    _, kind, kw, forward = case
    torch.manual_seed(0)
    tm = _build(torch, kind, **_activation(torch, kw))
    em = _build(engine, kind, **_activation(engine, kw))
    if dtype == np.float64:
        tm, em = tm.double(), em.double()
    copy_state(tm, em)
    assert repr(em) == repr(tm) or "lambda" in kw.get("activation", "")
    bf = kw.get("batch_first", False)
    rng = np.random.default_rng(1)
    xa = rng.standard_normal((2, 5, D) if bf else (5, 2, D)).astype(dtype)
    ya = rng.standard_normal((2, 4, D) if bf else (4, 2, D)).astype(dtype)
    res = []
    for T, m in ((torch, tm), (engine, em)):
        x, y = T.tensor(xa, requires_grad=True), T.tensor(ya, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = forward(T, m, x, y)
        g = np.random.default_rng(2).standard_normal(tuple(out.shape)).astype(dtype)
        (out * T.tensor(g)).sum().backward()
        res.append((out, x.grad, y.grad, {n: p.grad for n, p in m.named_parameters()}))
    (ot, xt, yt, pt), (oe, xe, ye, pe) = res
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    assert_same_dag(oe, ot)
    assert_close(oe, ot, what="output", **tol)
    for ours, theirs, what in ((xe, xt, "src"), (ye, yt, "tgt")):
        if theirs is None:
            assert ours is None, what
        else:
            assert_close(ours, theirs, what=f"grad of {what}", **tol)
    assert list(pe) == list(pt)
    for name in pt:
        assert_close(pe[name], pt[name], what=f"grad of {name}", **tol)


@pytest.mark.parametrize("kind, kw", [("enc", {}), ("enc", {"batch_first": True}),
                                      ("enc", {"batch_first": True, "norm_first": True}),
                                      ("dec", {"activation": "gelu"}), ("tr", {})], ids=str)
def test_names_repr_and_warnings_are_torchs(kind, kw):
    tm, em = _pair(kind, **kw)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert repr(em) == repr(tm)
    if kind == "enc":
        assert em.use_nested_tensor == tm.use_nested_tensor
        assert em.layers[0].activation_relu_or_gelu == tm.layers[0].activation_relu_or_gelu


def test_layers_are_independent_copies():
    _, em = _pair("enc")
    a, b = em.layers[0].self_attn.in_proj_weight, em.layers[1].self_attn.in_proj_weight
    assert a is not b
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_square_subsequent_mask():
    for dtype in (None, torch.float64):
        ref = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype)
        ours = engine.nn.Transformer.generate_square_subsequent_mask(
            4, dtype=None if dtype is None else engine.float64)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
        assert str(ours.dtype) == str(ref.dtype).replace("torch", "engine") or \
            ours.numpy().dtype == ref.numpy().dtype


def test_eval_without_autograd_zeros_padded_positions_as_torch():
    """PyTorch runs this on nested tensors: padded positions come back as zeros (before the
    final norm); with autograd on, or training, they are computed as usual."""
    tm, em = _pair("enc", batch_first=True)
    tm.eval()
    em.eval()
    x = np.random.default_rng(0).standard_normal((2, 5, D)).astype(np.float32)
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            ref = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(KPM))
        with engine.set_grad_enabled(grad):
            ours = em(engine.tensor(x), src_key_padding_mask=engine.tensor(KPM))
        assert_close(ours, ref, what=f"grad enabled={grad}")
        assert (not ours.detach().numpy()[0, 3:].any()) is not grad
    not_left_aligned = np.array([[True] + [False] * 4, [False] * 5])
    with torch.no_grad(), engine.no_grad():
        assert_close(em(engine.tensor(x), src_key_padding_mask=engine.tensor(not_left_aligned)),
                     tm(torch.tensor(x), src_key_padding_mask=torch.tensor(not_left_aligned)))


def test_dropout_in_training_only():
    engine.manual_seed(0)
    layer = engine.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.5)
    plain = engine.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0)
    plain.load_state_dict(layer.state_dict())
    x = engine.randn(5, 2, D)
    a, b = layer(x).detach().numpy(), layer(x).detach().numpy()
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_allclose(layer(x).detach().numpy(), plain(x).detach().numpy(), rtol=1e-6)


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


@pytest.mark.parametrize("what", ["activation", "batch", "features"])
def test_errors_are_torchs(what):
    errors = []
    for T in (torch, engine):
        if what == "activation":
            errors.append(_error(lambda: T.nn.TransformerEncoderLayer(D, HEADS, activation="tanh")))
            continue
        m = T.nn.Transformer(D, HEADS, 1, 1, FF)
        src = T.zeros(5, 2, D)
        tgt = T.zeros(4, 3, D) if what == "batch" else T.zeros(4, 2, D + 1)
        errors.append(_error(lambda: m(src, tgt)))
    assert type(errors[1]) is type(errors[0])
    assert str(errors[1]) == str(errors[0])
