"""Parity helpers for the nn functions and layers of issue 14: one call checks a function
(or a module) on engine against torch in a given dtype -- values, input (and parameter)
gradients under a random upstream gradient, and the grad_fn DAG node for node -- and one
call runs engine's gradcheck in float64."""

from __future__ import annotations

import numpy as np
import torch

import engine
from _nn_parity import assert_close, assert_same_dag, copy_state, to_np

TOL = {np.float32: (2e-4, 2e-5), np.float64: (1e-9, 1e-10)}


def _tol(dtype, rtol, atol):
    r, a = TOL[np.dtype(dtype).type]
    return (rtol if rtol is not None else r), (atol if atol is not None else a)


def _backward_both(touts, eouts, seed):
    rng = np.random.default_rng(seed)
    tl = el = 0
    for t, e in zip(touts, eouts):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            g = rng.standard_normal(tuple(t.shape)).astype(to_np(t).dtype)
            tl = tl + (t * torch.tensor(g)).sum()
            el = el + (e * engine.tensor(g)).sum()
    if isinstance(tl, torch.Tensor):
        tl.backward()
        el.backward()


def _listify(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def fn_parity(fn, arrays, dtype=np.float32, *, grad=None, rtol=None, atol=None, seed=0,
              check_dag=True):
    """``fn(T, *tensors)`` for T = engine and T = torch on ``arrays`` cast to ``dtype`` (integer
    arrays kept); ``grad`` lists the positions that require grad (default: every float one)."""
    rtol, atol = _tol(dtype, rtol, atol)
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    if grad is None:
        grad = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    tins = [torch.tensor(a.copy(), requires_grad=i in grad) for i, a in enumerate(arrays)]
    eins = [engine.tensor(a.copy(), requires_grad=i in grad) for i, a in enumerate(arrays)]
    touts, eouts = _listify(fn(torch, *tins)), _listify(fn(engine, *eins))
    assert len(touts) == len(eouts)
    for k, (t, e) in enumerate(zip(touts, eouts)):
        assert_close(e, t, rtol, atol, f"output {k}")
        if check_dag and t.grad_fn is not None:
            assert_same_dag(e, t, f"output {k}")
        assert e.requires_grad == t.requires_grad, f"output {k}: requires_grad"
    _backward_both(touts, eouts, seed)
    for k, (t, e) in enumerate(zip(tins, eins)):
        if t.grad is None:
            assert e.grad is None, f"input {k}: engine has a gradient, torch none"
        else:
            assert e.grad is not None, f"input {k}: no gradient"
            assert_close(e.grad, t.grad, rtol, atol, f"grad of input {k}")
    return touts, eouts


def module_parity_dtype(build, arrays, dtype=np.float32, *, rtol=None, atol=None, seed=0,
                        check_dag=True, train=True):
    """``build(nn)`` on both libraries in ``dtype`` with torch's weights copied into engine's;
    compares outputs, input, parameter gradients, buffers and the DAG."""
    rtol, atol = _tol(dtype, rtol, atol)
    tdt = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
    edt = engine.float64 if np.dtype(dtype) == np.float64 else engine.float32
    torch.manual_seed(seed)
    tm, em = build(torch.nn).to(tdt), build(engine.nn).to(edt)
    copy_state(tm, em)
    tm.train(train)
    em.train(train)
    arrays = [a.astype(dtype) for a in arrays]
    tins = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    eins = [engine.tensor(a.copy(), requires_grad=True) for a in arrays]
    touts, eouts = _listify(tm(*tins)), _listify(em(*eins))
    for k, (t, e) in enumerate(zip(touts, eouts)):
        assert_close(e, t, rtol, atol, f"output {k}")
        if check_dag:
            assert_same_dag(e, t, f"output {k}")
    _backward_both(touts, eouts, seed)
    for k, (t, e) in enumerate(zip(tins, eins)):
        if t.grad is not None:
            assert_close(e.grad, t.grad, rtol, atol, f"grad of input {k}")
    tp, ep = dict(tm.named_parameters()), dict(em.named_parameters())
    assert list(tp) == list(ep)
    for name, p in tp.items():
        if p.grad is None:
            assert ep[name].grad is None, name
        else:
            assert_close(ep[name].grad, p.grad, rtol, atol, f"grad of {name}")
    tb, eb = dict(tm.named_buffers()), dict(em.named_buffers())
    assert list(tb) == list(eb)
    for name, b in tb.items():
        assert_close(eb[name], b, rtol, atol, f"buffer {name}")
    assert repr(em) == repr(tm)
    return tm, em


def gradcheck64(fn, arrays, *, grad=None, eps=1e-6, atol=1e-5, rtol=1e-3, **kw):
    """engine's gradcheck of ``fn(engine, *tensors)`` in float64."""
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    if grad is None:
        grad = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    xs = [engine.tensor(a.copy(), requires_grad=i in grad) for i, a in enumerate(arrays)]
    assert engine.autograd.gradcheck(lambda *t: fn(engine, *t), xs, eps=eps, atol=atol,
                                     rtol=rtol, **kw)


def gradgrad_parity(fn, arrays, *, rtol=1e-7, atol=1e-9):
    """Second derivatives through ``fn``: grad of (grad . w)^2 matches torch (float64)."""
    res = []
    for T in (engine, torch):
        xs = [T.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
        y = fn(T, *xs)
        w = T.tensor(np.linspace(-1, 1, int(np.prod(tuple(y.shape)))).reshape(tuple(y.shape)))
        gs = T.autograd.grad((y * w).sum(), xs, create_graph=True)
        total = sum((g * g).sum() for g in gs)
        res.append([None if g is None else to_np(g)
                    for g in T.autograd.grad(total, xs, allow_unused=True)])
    for a, b in zip(*res):
        if b is None:       # the second derivative does not reach this input
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def raises_like_torch(fn, exc, pattern):
    """``fn(T)`` raises ``exc`` matching ``pattern`` on torch and on engine alike."""
    import pytest
    for T in (torch, engine):
        with pytest.raises(exc, match=pattern):
            fn(T)
