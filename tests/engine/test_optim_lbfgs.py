"""LBFGS against torch's: fixed steps and the strong Wolfe line search on a small
least-squares-with-tanh problem and on Rosenbrock's function, history limits, stopping rules,
state names, and the closure contract."""

import numpy as np
import pytest
import torch

import engine

RNG = np.random.default_rng(5)
A = RNG.standard_normal((12, 4))
B = RNG.standard_normal(12)
X0 = RNG.standard_normal(4) * 0.3


def _fit(lib, kwargs, steps, dtype="float64", problem="tanh"):
    dt = getattr(lib, dtype)
    if problem == "tanh":
        w = lib.tensor(X0.astype(dtype), dtype=dt, requires_grad=True)
        c = lib.tensor(np.array([0.1], dtype), dtype=dt, requires_grad=True)
        a, b = lib.tensor(A.astype(dtype)), lib.tensor(B.astype(dtype))
        params = [w, c]

        def f():
            return (((a @ w).tanh() + c - b) ** 2).mean()
    else:
        xy = lib.tensor(np.array([-1.2, 1.0], dtype), dtype=dt, requires_grad=True)
        params = [xy]

        def f():
            return (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
    opt = lib.optim.LBFGS(params, **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        calls.append(1)
        return loss
    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return [p.detach().numpy().copy() for p in params], losses, len(calls), opt


CASES = [
    dict(),
    dict(lr=0.5, max_iter=5, history_size=3),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", max_iter=7, history_size=2, max_eval=9),
    dict(lr=0.8, tolerance_change=1e-4, tolerance_grad=1e-3),
]


@pytest.mark.parametrize("problem", ["tanh", "rosenbrock"])
@pytest.mark.parametrize("kwargs", CASES, ids=[str(i) for i in range(len(CASES))])
def test_lbfgs_matches_torch(kwargs, problem):
    ours, lo, n_ours, opt = _fit(engine, kwargs, 3, problem=problem)
    theirs, lt, n_theirs, ref = _fit(torch, kwargs, 3, problem=problem)
    assert n_ours == n_theirs                        # the same closure evaluations
    np.testing.assert_allclose(lo, lt, rtol=1e-9, atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    st, rt = list(opt.state.values())[0], list(ref.state.values())[0]
    assert sorted(st) == sorted(rt)
    assert st["func_evals"] == rt["func_evals"] and st["n_iter"] == rt["n_iter"]
    assert len(st["old_dirs"]) == len(rt["old_dirs"]) <= opt.defaults["history_size"]
    np.testing.assert_allclose(st["d"].numpy(), rt["d"].numpy(), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("problem", ["tanh", "rosenbrock"])
@pytest.mark.parametrize("kwargs", [dict(line_search_fn="strong_wolfe", max_iter=6),
                                    dict(lr=0.5, max_iter=6)], ids=["wolfe", "fixed"])
def test_lbfgs_float32_matches_torch(kwargs, problem):
    """A few iterations: over many, float32 rounding in the curvature pairs drifts apart."""
    ours, lo, _, _ = _fit(engine, kwargs, 2, "float32", problem)
    theirs, lt, _, _ = _fit(torch, kwargs, 2, "float32", problem)
    np.testing.assert_allclose(lo, lt, rtol=1e-5)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())


def test_lbfgs_reaches_the_minimum():
    xy, losses, _, _ = _fit(engine, dict(line_search_fn="strong_wolfe", max_iter=100), 1,
                            problem="rosenbrock")
    _, final, _, _ = _fit(engine, dict(line_search_fn="strong_wolfe", max_iter=100), 2,
                          problem="rosenbrock")
    np.testing.assert_allclose(xy[0], [1.0, 1.0], atol=1e-4)
    assert final[-1] < 1e-8


def test_lbfgs_errors():
    p = engine.zeros(2, requires_grad=True)
    q = engine.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        engine.optim.LBFGS([p], lr=-1)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        engine.optim.LBFGS([{"params": [p]}, {"params": [q]}])
    opt = engine.optim.LBFGS([p], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    assert opt.defaults["max_eval"] == 25


def test_lbfgs_state_dict_resumes():
    full, _, _, _ = _fit(engine, dict(history_size=4, max_iter=4), 4)
    params, _, _, opt = _fit(engine, dict(history_size=4, max_iter=4), 2)
    sd = opt.state_dict()
    w = engine.tensor(params[0], requires_grad=True)
    c = engine.tensor(params[1], requires_grad=True)
    opt2 = engine.optim.LBFGS([w, c], history_size=4, max_iter=4)
    opt2.load_state_dict(sd)
    a, b = engine.tensor(A), engine.tensor(B)

    def closure():
        opt2.zero_grad()
        loss = (((a @ w).tanh() + c - b) ** 2).mean()
        loss.backward()
        return loss
    for _ in range(2):
        opt2.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), full[0], rtol=1e-12)
    assert len(sd["state"][0]["old_dirs"]) <= 4
