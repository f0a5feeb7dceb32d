"""``F.scaled_dot_product_attention`` against PyTorch 2.13 on the CPU: outputs, input (and
float-mask) gradients, the grad_fn DAG node for node (the fused node where PyTorch fuses,
its math decomposition elsewhere), masks of each kind and their broadcasting, PyTorch's
error texts, dropout, and gradcheck / gradgradcheck in float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF
from _nn_parity import assert_close, assert_same_dag
from engine.autograd import gradcheck, gradgradcheck

FUSED = "ScaledDotProductFlashAttentionForCpuBackward0"
B, H, L, S, E = 2, 3, 5, 6, 4
QKV = [(B, H, L, E), (B, H, S, E), (B, H, S, E)]

_m = np.random.default_rng(7)
BOOL_LS = _m.random((L, S)) > 0.3
FLOAT_LS = _m.standard_normal((L, S)).astype(np.float32)

# (id, shapes of q, k, v, mask array or None, mask requires grad, kwargs, route)
CASES = [
    ("plain", QKV, None, False, {}, FUSED),
    ("causal", QKV, None, False, {"is_causal": True}, FUSED),
    ("bool_mask", QKV, BOOL_LS, False, {}, FUSED),
    ("float_mask", QKV, FLOAT_LS, False, {}, FUSED),
    ("mask_b1ls", QKV, _m.standard_normal((B, 1, L, S)).astype(np.float32), False, {}, FUSED),
    ("mask_1h1s", QKV, _m.random((1, H, 1, S)) > 0.2, False, {}, FUSED),
    ("mask_and_causal", QKV, BOOL_LS, False, {"is_causal": True}, FUSED),
    ("scale", QKV, None, False, {"scale": 0.3}, FUSED),
    ("negative_scale", QKV, None, False, {"scale": -0.3}, FUSED),
    ("gqa", [(B, 2 * H, L, E), (B, H, S, E), (B, H, S, E)], _m.random((B, 2 * H, L, S)) > 0.2,
     False, {"enable_gqa": True}, FUSED),
    ("gqa_mask_1h", [(B, 2 * H, L, E), (B, H, S, E), (B, H, S, E)],
     _m.random((1, 1, L, S)) > 0.2, False, {"enable_gqa": True, "is_causal": True}, FUSED),
    ("mask_requires_grad", QKV, FLOAT_LS, True, {}, "UnsafeViewBackward0"),
    ("mask_3d", QKV, _m.random((H, L, S)) > 0.3, False, {}, "UnsafeViewBackward0"),
    ("value_dim", [(B, H, L, E), (B, H, S, E), (B, H, S, 7)], BOOL_LS, False, {},
     "UnsafeViewBackward0"),
    ("batch_broadcast", [(1, H, L, E), (B, H, S, E), (B, H, S, E)], None, False,
     {"scale": 0.7}, "UnsafeViewBackward0"),
    ("gqa_math", [(B, 2 * H, L, E), (B, H, S, E), (B, 1, S, E)], None, False,
     {"enable_gqa": True}, "UnsafeViewBackward0"),
    ("3d", [(H, L, E), (H, S, E), (H, S, E)], FLOAT_LS, False, {}, "UnsafeViewBackward0"),
    ("3d_causal", [(H, L, E), (H, S, E), (H, S, E)], None, False, {"is_causal": True},
     "UnsafeViewBackward0"),
    ("3d_mask_1d", [(H, L, E), (H, S, E), (H, S, E)], BOOL_LS[0], False, {},
     "UnsafeViewBackward0"),
    ("2d", [(L, E), (S, E), (S, E)], BOOL_LS, False, {"scale": 0.5}, "MmBackward0"),
    ("5d", [(2, B, H, L, E), (2, B, H, S, E), (2, B, H, S, E)], None, False, {},
     "UnsafeViewBackward0"),
    ("transposed_last_dim", "qT", None, False, {}, "UnsafeViewBackward0"),
]


def _inputs(T, arrays, shapes):
    ts = [T.tensor(a.copy(), requires_grad=True) for a in arrays]
    if shapes == "qT":   # a query whose last dimension is not unit-stride
        return ts, [ts[0].transpose(-1, -2)] + ts[1:]
    return ts, ts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_sdpa_matches_torch(case, dtype):
    _, shapes, mask, mask_rg, kwargs, route = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in
              ([(B, H, E, L), (B, H, S, E), (B, H, S, E)] if shapes == "qT" else shapes)]
    results = []
    for T, F in ((torch, TF), (engine, EF)):
        leaves, (q, k, v) = _inputs(T, arrays, shapes)
        m = None
        if mask is not None:
            m = T.tensor(mask.astype(dtype) if mask.dtype != bool else mask,
                         requires_grad=mask_rg)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)
        g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
        out.backward(T.tensor(g))
        results.append((out, [t.grad for t in leaves], m.grad if mask_rg else None))
    (ot, gt, mt), (oe, ge, me) = results
    assert type(oe.grad_fn).__name__ == type(ot.grad_fn).__name__ == route
    assert_same_dag(oe, ot)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    assert_close(oe, ot, what="output", **tol)
    for i, (a, b) in enumerate(zip(ge, gt)):
        assert_close(a, b, what=f"grad of input {i}", **tol)
    if mask_rg:
        assert_close(me, mt, what="grad of the mask", **tol)


def test_fully_masked_rows_give_zeros_on_both_routes():
    mask = np.ones((L, S), dtype=bool)
    mask[2] = False
    fmask = np.where(mask, 0.0, -np.inf).astype(np.float32)
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in QKV)
    for m, args in ((mask, (q, k, v)), (fmask, (q, k, v)), (mask, (q[0], k[0], v[0]))):
        ref = TF.scaled_dot_product_attention(*map(torch.tensor, args), attn_mask=torch.tensor(m))
        ts = [engine.tensor(a, requires_grad=True) for a in args]
        out = EF.scaled_dot_product_attention(*ts, attn_mask=engine.tensor(m))
        assert_close(out, ref)
        assert not out.detach().numpy()[..., 2, :].any()
        out.sum().backward()
        assert all(np.isfinite(t.grad.numpy()).all() for t in ts)


def test_fused_output_keeps_the_query_layout():
    """PyTorch's kernel writes the output in the query's memory layout; multi-head attention
    relies on it (its permute + reshape is then a view, ``ViewBackward0``, not a copy)."""
    base = np.random.default_rng(0).standard_normal((L, B, H, E)).astype(np.float32)
    for T, F in ((torch, TF), (engine, EF)):
        x = T.tensor(base, requires_grad=True).permute(1, 2, 0, 3)
        out = F.scaled_dot_product_attention(x, x, x)
        flat = out.permute(2, 0, 1, 3).reshape(L * B, H * E)
        assert type(flat.grad_fn).__name__ == "ViewBackward0"


def test_saved_values_of_the_fused_node():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in QKV]
    nodes = []
    for T, F in ((torch, TF), (engine, EF)):
        q, k, v = (T.tensor(a, requires_grad=True) for a in arrays)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=T.tensor(BOOL_LS), scale=0.4)
        nodes.append((out.grad_fn, q, out))
    (tn, tq, tout), (en, eq, eout) = nodes
    assert en._saved_scale == tn._saved_scale == 0.4
    assert en._saved_is_causal is tn._saved_is_causal is False
    assert en._saved_dropout_p == tn._saved_dropout_p == 0.0
    assert en._saved_query is eq
    assert_close(en._saved_attn_mask, tn._saved_attn_mask)
    assert_close(en._saved_output, tout)
    assert_close(en._saved_logsumexp, tn._saved_logsumexp)
    assert len(en.next_functions) == len(tn.next_functions) == 3


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


R = np.random.default_rng(3)
_r = lambda *s: R.standard_normal(s).astype(np.float32)  # noqa: E731

ERRORS = [
    ("mask_with_causal_math", lambda: ([_r(H, L, E), _r(H, S, E), _r(H, S, E)],
                                        {"attn_mask": BOOL_LS, "is_causal": True})),
    ("head_dim", lambda: ([_r(B, H, L, E), _r(B, H, S, 5), _r(B, H, S, E)], {})),
    ("value_length", lambda: ([_r(H, L, E), _r(H, S, E), _r(H, 7, E)], {})),
    ("mask_shape", lambda: ([_r(B, H, L, E), _r(B, H, S, E), _r(B, H, S, E)],
                            {"attn_mask": _r(4, S)})),
    ("mask_1d_fused", lambda: ([_r(B, H, L, E), _r(B, H, S, E), _r(B, H, S, E)],
                               {"attn_mask": _r(S)})),
    ("mask_rank", lambda: ([_r(B, H, L, E), _r(B, H, S, E), _r(B, H, S, E)],
                           {"attn_mask": _r(1, B, H, L, S) > 0})),
    ("dtypes", lambda: ([_r(B, H, L, E), _r(B, H, S, E).astype(np.float64), _r(B, H, S, E)], {})),
    ("mask_dtype_long", lambda: ([_r(B, H, L, E), _r(B, H, S, E), _r(B, H, S, E)],
                                 {"attn_mask": np.ones((L, S), dtype=np.int64)})),
    ("mask_dtype_double", lambda: ([_r(B, H, L, E), _r(B, H, S, E), _r(B, H, S, E)],
                                   {"attn_mask": np.ones((L, S))})),
    ("rank_1", lambda: ([_r(E), _r(E), _r(E)], {})),
    ("heads", lambda: ([_r(B, H, L, E), _r(B, 4, S, E), _r(B, 4, S, E)], {})),
    ("gqa_heads", lambda: ([_r(B, H, L, E), _r(B, 2, S, E), _r(B, 2, S, E)],
                           {"enable_gqa": True})),
    ("batch", lambda: ([_r(B, H, L, E), _r(3, H, S, E), _r(3, H, S, E)], {})),
    ("integer", lambda: ([np.ones((B, H, L, E), dtype=np.int64)] * 3, {})),
    ("dropout_p", lambda: ([_r(B, H, L, E), _r(B, H, S, E), _r(B, H, S, E)],
                           {"dropout_p": 1.5})),
]


@pytest.mark.parametrize("make", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_sdpa_errors_are_torchs(make):
    arrays, kwargs = make()
    errors = []
    for T, F in ((torch, TF), (engine, EF)):
        kw = {k: (T.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        errors.append(_error(lambda: F.scaled_dot_product_attention(
            *(T.tensor(a) for a in arrays), **kw)))
    theirs, ours = errors
    assert type(ours) is type(theirs)
    # the engine names the op and both shapes after PyTorch's broadcast message
    assert str(ours).startswith(str(theirs)), (str(ours), str(theirs))


def test_dropout_routes_through_math_and_keeps_the_expectation():
    """Dropout applies whenever ``dropout_p > 0`` (autograd on or off); the graph is
    PyTorch's math route with the ``MulBackward0`` of dropout; streams differ from
    PyTorch's, so the values are checked by their statistics."""
    engine.manual_seed(0)
    torch.manual_seed(0)
    outs = []
    for T, F in ((torch, TF), (engine, EF)):
        q = T.zeros(1, 2, 8, 4, requires_grad=True)   # uniform attention over 4000 keys
        out = F.scaled_dot_product_attention(q, T.zeros(1, 2, 4000, 4), T.ones(1, 2, 4000, 4),
                                             dropout_p=0.25)
        outs.append(out)
    assert_same_dag(outs[1], outs[0])
    mean = outs[1].detach().numpy()
    assert np.allclose(mean, 1.0, atol=0.06) and not np.allclose(mean, 1.0, atol=1e-4)
    with engine.no_grad():
        x = engine.ones(1, 1, 4, 64)
        dropped = EF.scaled_dot_product_attention(x, x, x, dropout_p=0.5).numpy()
        assert not np.allclose(dropped, 1.0)  # some probabilities dropped, others doubled
    assert EF.scaled_dot_product_attention(x, x, x, dropout_p=0.0).numpy().min() == 1.0


def _f64(*shape):
    return engine.tensor(np.random.default_rng(sum(shape)).standard_normal(shape),
                         requires_grad=True)


@pytest.mark.parametrize("route", ["fused_causal", "fused_gqa_mask", "math_float_mask",
                                   "math_3d_gqa"])
def test_gradcheck_and_gradgradcheck(route):
    if route == "fused_causal":
        args = (_f64(1, 2, 3, 4), _f64(1, 2, 5, 4), _f64(1, 2, 5, 4))
        fn = lambda q, k, v: EF.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa
    elif route == "fused_gqa_mask":
        mask = engine.tensor(np.random.default_rng(0).random((1, 4, 3, 5)) > 0.3)
        args = (_f64(1, 4, 3, 4), _f64(1, 2, 5, 4), _f64(1, 2, 5, 4))
        fn = lambda q, k, v: EF.scaled_dot_product_attention(  # noqa
            q, k, v, attn_mask=mask, enable_gqa=True)
    elif route == "math_float_mask":
        args = (_f64(1, 2, 3, 4), _f64(1, 2, 5, 4), _f64(1, 2, 5, 4), _f64(3, 5))
        fn = lambda q, k, v, m: EF.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa
    else:
        args = (_f64(4, 3, 2), _f64(2, 5, 2), _f64(2, 5, 3))
        fn = lambda q, k, v: EF.scaled_dot_product_attention(  # noqa
            q, k, v, enable_gqa=True, scale=0.8)
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)
