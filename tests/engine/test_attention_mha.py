"""``nn.MultiheadAttention`` and ``F.multi_head_attention_forward`` against PyTorch: outputs,
attention weights, input and parameter gradients and the grad_fn DAG (weights copied
through the state dict), for each mask kind, ``need_weights`` on and off, ``batch_first``,
``kdim``/``vdim``, ``add_bias_kv``/``add_zero_attn``; parameter names, init, repr, error
texts, dropout, gradcheck; and the two graph details attention relies on (``reshape`` of a
non-contiguous view, ``linear`` of a non-contiguous input)."""

import math
import warnings

import numpy as np
import pytest
import torch

import engine
from _nn_parity import assert_close, assert_same_dag, copy_state
from engine.autograd import gradcheck

L, S, N, E, HEADS = 5, 7, 2, 8, 2
KPM = np.array([[False] * (L - 1) + [True], [False] * L])
CAUSAL = np.triu(np.full((L, L), -np.inf, dtype=np.float32), 1)
ATTN_BOOL = np.random.default_rng(5).random((L, L)) > 0.7
np.fill_diagonal(ATTN_BOOL, False)      # every query keeps at least itself

# (id, module kwargs, forward kwargs, input options)
CASES = [
    ("weights", {}, {}, {}),
    ("no_weights", {}, {"need_weights": False}, {}),
    ("per_head_batch_first", {}, {"average_attn_weights": False}, {"batch_first": True}),
    ("cross_no_weights", {}, {"need_weights": False}, {"batch_first": True, "self": "kv"}),
    ("cross_separate_kv", {}, {}, {"self": "none"}),
    ("kdim_vdim", {"kdim": 3, "vdim": 5}, {}, {"self": "none"}),
    ("kdim_vdim_no_weights", {"kdim": 3, "vdim": 5}, {"need_weights": False},
     {"self": "none", "batch_first": True}),
    ("bias_kv_zero_attn", {"add_bias_kv": True, "add_zero_attn": True}, {},
     {"kpm": KPM, "attn_mask": ATTN_BOOL}),
    ("bias_kv_zero_attn_sdpa", {"add_bias_kv": True, "add_zero_attn": True},
     {"need_weights": False}, {"kpm": KPM, "attn_mask": ATTN_BOOL}),
    ("no_bias_unbatched", {"bias": False}, {"need_weights": False}, {"unbatched": True}),
    ("unbatched_weights", {}, {}, {"unbatched": True, "kpm": KPM[0]}),
    ("causal_hint", {}, {"need_weights": False, "is_causal": True},
     {"attn_mask": CAUSAL, "batch_first": True}),
    ("causal_hint_weights", {}, {"is_causal": True}, {"attn_mask": CAUSAL}),
    ("causal_hint_padding", {}, {"need_weights": False, "is_causal": True},
     {"attn_mask": CAUSAL, "kpm": KPM, "batch_first": True}),
    ("float_padding", {}, {"need_weights": False},
     {"kpm": np.where(KPM, -1e9, 0.0).astype(np.float32)}),
    ("mask_3d", {}, {"need_weights": False},
     {"attn_mask": np.random.default_rng(6).standard_normal((N * HEADS, L, L)).astype(np.float32)}),
]


def _pair(module_kw, batch_first=False, dtype=np.float32):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, HEADS, batch_first=batch_first, **module_kw)
    em = engine.nn.MultiheadAttention(E, HEADS, batch_first=batch_first, **module_kw)
    if dtype == np.float64:
        tm, em = tm.double(), em.double()
    copy_state(tm, em)
    return tm, em


def _run(case, dtype):
    _, module_kw, fwd, opts = case
    bf, unbatched, mode = opts.get("batch_first", False), opts.get("unbatched", False), \
        opts.get("self", "qkv")
    tm, em = _pair(module_kw, bf, dtype)

    def shape(length, width):
        return (length, width) if unbatched else ((N, length, width) if bf else (length, N, width))
    rng = np.random.default_rng(1)
    qa = rng.standard_normal(shape(L, E)).astype(dtype)
    ka = rng.standard_normal(shape(S, module_kw.get("kdim", E))).astype(dtype)
    va = rng.standard_normal(shape(S, module_kw.get("vdim", E))).astype(dtype)
    results = []
    for T, m in ((torch, tm), (engine, em)):
        q = T.tensor(qa.copy(), requires_grad=True)
        k = v = q
        if mode == "kv":
            k = v = T.tensor(ka.copy(), requires_grad=True)
        elif mode == "none":
            k, v = T.tensor(ka.copy(), requires_grad=True), T.tensor(va.copy(), requires_grad=True)
        kw = dict(fwd)
        for name, key in (("kpm", "key_padding_mask"), ("attn_mask", "attn_mask")):
            if name in opts:
                a = opts[name]
                kw[key] = T.tensor(a.astype(dtype) if a.dtype.kind == "f" else a)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # PyTorch's mismatched-mask-type deprecation
            out, weights = m(q, k, v, **kw)
        loss = (out * T.tensor(np.random.default_rng(2).standard_normal(out.shape)
                               .astype(dtype))).sum()
        if weights is not None:
            loss = loss + (weights * T.tensor(np.random.default_rng(3).standard_normal(
                weights.shape).astype(dtype))).sum()
        loss.backward()
        results.append((out, weights, [t.grad for t in {id(t): t for t in (q, k, v)}.values()],
                        {n: p.grad for n, p in m.named_parameters()}))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_multihead_attention_matches_torch(case, dtype):
    (ot, wt, gt, pt), (oe, we, ge, pe) = _run(case, dtype)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    assert_same_dag(oe, ot, "output")
    assert_close(oe, ot, what="output", **tol)
    if wt is None:
        assert we is None
    else:
        assert_same_dag(we, wt, "weights")
        assert_close(we, wt, what="attention weights", **tol)
    for i, (a, b) in enumerate(zip(ge, gt)):
        assert_close(a, b, what=f"grad of input {i}", **tol)
    assert list(pe) == list(pt)
    for name in pt:
        assert_close(pe[name], pt[name], what=f"grad of {name}", **tol)


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"kdim": 3, "vdim": 5},
                                {"add_bias_kv": True}], ids=str)
def test_parameters_state_dict_and_repr_are_torchs(kw):
    tm, em = _pair(kw)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    for name in ("embed_dim", "kdim", "vdim", "num_heads", "head_dim", "dropout",
                 "batch_first", "_qkv_same_embed_dim", "add_zero_attn"):
        assert getattr(em, name) == getattr(tm, name), name


def test_init_follows_torch():
    engine.manual_seed(0)
    m = engine.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    bound = math.sqrt(6.0 / (16 + 48))    # xavier_uniform_ on the packed (3E, E) weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not m.in_proj_bias.detach().numpy().any()
    assert not m.out_proj.bias.detach().numpy().any()
    assert m.bias_k.detach().numpy().std() > 0
    sep = engine.nn.MultiheadAttention(16, 4, kdim=6, vdim=10)
    assert sep.in_proj_weight is None and tuple(sep.v_proj_weight.shape) == (16, 10)


def test_dropout_in_training_only():
    torch.manual_seed(0)
    em = engine.nn.MultiheadAttention(E, HEADS, dropout=0.5)
    ref = engine.nn.MultiheadAttention(E, HEADS)
    ref.load_state_dict(em.state_dict())
    x = engine.randn(L, N, E)
    a, wa = em(x, x, x)
    b, wb = em(x, x, x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    assert (wa.detach().numpy() == 0).any() or not np.allclose(wa.detach().numpy(),
                                                               wb.detach().numpy())
    em.eval()
    c, _ = em(x, x, x)
    d, _ = ref(x, x, x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())


def _mha_error(T, module_kw, q, k, v, **kw):
    m = T.nn.MultiheadAttention(E, HEADS, **module_kw)
    with pytest.raises(Exception) as info:
        m(*(T.tensor(a) for a in (q, k, v)),
          **{n: T.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kw.items()})
    return info.value


_x = np.zeros((L, N, E), dtype=np.float32)
MHA_ERRORS = [
    ("2d_mask_shape", {}, (_x, _x, _x), {"attn_mask": np.zeros((L, L + 1), dtype=bool)}),
    ("3d_mask_shape", {}, (_x, _x, _x), {"attn_mask": np.zeros((3, L, L), dtype=np.float32)}),
    ("4d_mask", {}, (_x, _x, _x), {"attn_mask": np.zeros((1, 1, L, L), dtype=bool)}),
    ("kpm_rank", {}, (_x, _x, _x), {"key_padding_mask": np.zeros(L, dtype=bool)}),
    ("kpm_size", {}, (_x, _x, _x), {"key_padding_mask": np.zeros((N, L + 1), dtype=bool)}),
    ("int_mask", {}, (_x, _x, _x), {"attn_mask": np.zeros((L, L), dtype=np.int64)}),
    ("mask_dtype_with_weights", {}, (_x, _x, _x), {"attn_mask": np.zeros((L, L))}),
    ("causal_without_mask", {}, (_x, _x, _x), {"is_causal": True}),
    ("embed_dim", {}, (_x[..., :6], _x[..., :6], _x[..., :6]), {}),
    ("key_value_shapes", {}, (_x, _x, _x[:3]), {}),
    ("query_rank", {}, (_x[None], _x[None], _x[None]), {}),
    ("key_rank", {}, (_x, _x[0], _x[0]), {}),
]


@pytest.mark.parametrize("case", MHA_ERRORS, ids=[c[0] for c in MHA_ERRORS])
def test_multihead_attention_errors_are_torchs(case):
    _, module_kw, (q, k, v), kw = case
    theirs = _mha_error(torch, module_kw, q, k, v, **kw)
    ours = _mha_error(engine, module_kw, q, k, v, **kw)
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs).replace("torch.Size(", "engine.Size(") or \
        str(ours) == str(theirs)


def test_constructor_errors_are_torchs():
    for T in (torch, engine):
        with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
            T.nn.MultiheadAttention(10, 3)
        with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0, "
                                             "got embed_dim=4 and num_heads=0 instead"):
            T.nn.MultiheadAttention(4, 0)


def test_mismatched_mask_types_warn_as_torch():
    em = engine.nn.MultiheadAttention(E, HEADS)
    x = engine.randn(L, N, E)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                         "attn_mask is deprecated"):
        em(x, x, x, key_padding_mask=engine.tensor(KPM), attn_mask=engine.tensor(CAUSAL))


def test_functional_form_with_separate_weights_and_static_kv():
    rng = np.random.default_rng(0)
    arr = {n: rng.standard_normal(s).astype(np.float32) for n, s in (
        ("q", (L, N, E)), ("w_q", (E, E)), ("w_k", (E, 3)), ("w_v", (E, 5)), ("b", (3 * E,)),
        ("w_o", (E, E)), ("b_o", (E,)), ("sk", (N * HEADS, S, E // HEADS)),
        ("sv", (N * HEADS, S, E // HEADS)), ("k", (S, N, 3)), ("v", (S, N, 5)))}
    outs = []
    for T in (torch, engine):
        t = {n: T.tensor(a, requires_grad=True) for n, a in arr.items()}
        out, w = T.nn.functional.multi_head_attention_forward(
            t["q"], t["k"], t["v"], E, HEADS, None, t["b"], None, None, False, 0.0, t["w_o"],
            t["b_o"], use_separate_proj_weight=True, q_proj_weight=t["w_q"],
            k_proj_weight=t["w_k"], v_proj_weight=t["w_v"], static_k=t["sk"], static_v=t["sv"],
            average_attn_weights=False)
        (out.sum() + (w * w).sum()).backward()
        outs.append((out, w, t))
    (ot, wt, tt), (oe, we, te) = outs
    assert_same_dag(oe, ot)
    assert_close(oe, ot)
    assert_close(we, wt)
    for name in arr:
        if tt[name].grad is None:
            assert te[name].grad is None, name
        else:
            assert_close(te[name].grad, tt[name].grad, what=name)


@pytest.mark.parametrize("need_weights", [True, False])
def test_gradcheck_tiny_multihead_attention(need_weights):
    engine.manual_seed(0)
    m = engine.nn.MultiheadAttention(4, 2, add_bias_kv=True).double()
    x = engine.randn(3, 1, 4, dtype=engine.float64, requires_grad=True)
    mem = engine.randn(2, 1, 4, dtype=engine.float64, requires_grad=True)
    kpm = engine.tensor([[False, True]])

    def fn(x, mem, w, b):
        m.in_proj_weight, m.in_proj_bias = w, b
        out, weights = m(x, mem, mem, key_padding_mask=kpm, need_weights=need_weights)
        return (out, weights) if need_weights else out
    w = engine.nn.Parameter(m.in_proj_weight.detach().clone())
    b = engine.nn.Parameter(engine.randn(12, dtype=engine.float64))
    assert gradcheck(fn, (x, mem, w, b))


def test_reshape_of_a_non_contiguous_view_is_reshape_alias():
    for T in (torch, engine):
        x = T.randn(2, 3, 4, requires_grad=True)
        assert type(x.transpose(1, 2).reshape(2, 4, 3).grad_fn).__name__ == \
            "ReshapeAliasBackward0"
        assert type(x.reshape(6, 4).grad_fn).__name__ == "ViewBackward0"
        assert type(x.transpose(1, 2).reshape(8, 3).grad_fn).__name__ == "UnsafeViewBackward0"


@pytest.mark.parametrize("shape, perm", [((4,), None), ((3, 2, 4), None), ((3, 2, 4), (1, 0, 2)),
                                         ((2, 3, 2, 4), None), ((2, 3, 2, 4), (0, 2, 1, 3))],
                         ids=str)
def test_linear_graph_follows_the_input_layout(shape, perm):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (shape, (6, 4), (6,))]
    res = []
    for T in (torch, engine):
        x, w, b = (T.tensor(a, requires_grad=True) for a in arrays)
        out = T.nn.functional.linear(x.permute(*perm) if perm else x, w, b)
        out.sum().backward()
        res.append((out, x.grad, w.grad, b.grad))
    assert_same_dag(res[1][0], res[0][0])
    for ours, theirs in zip(res[1], res[0]):
        assert_close(ours, theirs)


def test_merge_masks_is_torchs():
    tm, em = _pair({}, batch_first=True)
    x = np.zeros((N, L, E), dtype=np.float32)
    kpm = np.where(KPM, -np.inf, 0.0).astype(np.float32)
    for attn, pad in ((CAUSAL, None), (None, kpm), (CAUSAL, kpm)):
        res = [m.merge_masks(None if attn is None else T.tensor(attn),
                             None if pad is None else T.tensor(pad), T.tensor(x))
               for T, m in ((torch, tm), (engine, em))]
        (tmask, ttype), (emask, etype) = res
        assert etype == ttype
        assert_close(emask, tmask)
