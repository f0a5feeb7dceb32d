"""NAdam, RAdam, Adamax, Adadelta, Rprop, ASGD and SparseAdam against torch's: parameters
over 10 steps (float32 and float64, groups, every option), state names, state dicts taken
from torch and resumed on the engine, argument errors, and the step events. SparseAdam
runs on embeddings (torch's with sparse gradients, ours with dense ones)."""

import numpy as np
import pytest
import torch

import engine
from engine.autograd import events

RNG = np.random.default_rng(1)
W1 = RNG.standard_normal((8, 5)) * 0.5
B1 = RNG.standard_normal(8) * 0.1
W2 = RNG.standard_normal((3, 8)) * 0.5
X = RNG.standard_normal((16, 5))
Y = RNG.standard_normal((16, 3))


def _model(lib, dtype):
    dt = getattr(lib, dtype)
    return [lib.tensor(a.astype(dtype), dtype=dt, requires_grad=True) for a in (W1, B1, W2)]


def _loss(lib, params, dtype):
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
    h = (x @ params[0].t() + params[1]).tanh()
    return ((h @ params[2].t() - y) ** 2).mean()


def _make(lib, name, params, kwargs, groups):
    spec = params
    if groups:
        spec = [{"params": params[:2]}, {"params": params[2:], "lr": kwargs.get("lr", 0.01) * 3}]
    return getattr(lib.optim, name)(spec, **kwargs)


def _steps(lib, opt, params, dtype, n):
    for _ in range(n):
        opt.zero_grad()
        _loss(lib, params, dtype).backward()
        opt.step()


def _run(lib, name, kwargs, steps=10, groups=False, dtype="float32"):
    params = _model(lib, dtype)
    opt = _make(lib, name, params, kwargs, groups)
    _steps(lib, opt, params, dtype, steps)
    return [p.detach().numpy().copy() for p in params], opt


CASES = [
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),      # rho_t > 5 from step 6
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.5), weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.05, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.06), maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.01)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_optimizer_matches_torch(name, kwargs, dtype):
    ours, opt = _run(engine, name, kwargs, dtype=dtype)
    theirs, ref = _run(torch, name, kwargs, dtype=dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol)
    for p, q in zip(opt.state.values(), ref.state.values()):
        assert list(p) == list(q)                                     # state names, in order
        for k in q:
            if torch.is_tensor(q[k]):
                assert p[k].dtype.itemsize == q[k].dtype.itemsize, k  # float32 step, ...
                np.testing.assert_allclose(p[k].numpy(), q[k].numpy(), **tol, err_msg=k)
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    assert groups == [{k: v for k, v in g.items() if k != "params"} for g in ref.param_groups]


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[4], CASES[7], CASES[9], CASES[11],
                                         CASES[13]], ids=[IDS[i] for i in (1, 4, 7, 9, 11, 13)])
def test_param_groups_match_torch(name, kwargs):
    ours, _ = _run(engine, name, kwargs, groups=True)
    theirs, _ = _run(torch, name, kwargs, groups=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _to_engine(v):
    if torch.is_tensor(v):
        return engine.tensor(v.numpy().copy())
    return v


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=IDS[::2])
def test_torch_state_dict_resumes_on_engine(name, kwargs):
    """3 steps in torch, its state_dict loaded into the engine's optimizer, 3 more steps on
    each: the same parameters (so the formats agree, names and all)."""
    params_t = _model(torch, "float32")
    opt_t = _make(torch, name, params_t, kwargs, groups=True)
    _steps(torch, opt_t, params_t, "float32", 3)
    sd = opt_t.state_dict()
    params_e = [engine.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params_t]
    opt_e = _make(engine, name, params_e, kwargs, groups=True)
    opt_e.load_state_dict({"state": {i: {k: _to_engine(v) for k, v in s.items()}
                                     for i, s in sd["state"].items()},
                           "param_groups": sd["param_groups"]})
    _steps(torch, opt_t, params_t, "float32", 3)
    _steps(engine, opt_e, params_e, "float32", 3)
    for a, b in zip(params_e, params_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    ours = opt_e.state_dict()
    assert ours["param_groups"] == opt_t.state_dict()["param_groups"]


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=IDS[::3])
def test_own_state_dict_round_trip(name, kwargs):
    full, _ = _run(engine, name, kwargs, steps=6)
    params = _model(engine, "float32")
    opt = _make(engine, name, params, kwargs, False)
    _steps(engine, opt, params, "float32", 3)
    opt2 = _make(engine, name, params, kwargs, False)
    opt2.load_state_dict(opt.state_dict())
    _steps(engine, opt2, params, "float32", 3)
    for p, a in zip(params, full):
        np.testing.assert_allclose(p.detach().numpy(), a, rtol=1e-6, atol=1e-7)


BAD = [
    ("NAdam", dict(lr=-1.0)), ("NAdam", dict(eps=-1e-3)), ("NAdam", dict(betas=(1.0, 0.9))),
    ("NAdam", dict(betas=(0.9, -0.1))), ("NAdam", dict(weight_decay=-1)),
    ("NAdam", dict(momentum_decay=-0.5)), ("RAdam", dict(lr=-1.0)),
    ("RAdam", dict(weight_decay=-0.1)), ("Adamax", dict(betas=(0.9, 1.5))),
    ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1.0)), ("Adadelta", dict(lr=-2)),
    ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("Rprop", dict(lr=-0.01)), ("ASGD", dict(weight_decay=-1.0)), ("ASGD", dict(lr=-1e-3)),
    ("SparseAdam", dict(lr=0.0)), ("SparseAdam", dict(eps=0.0)),
    ("SparseAdam", dict(betas=(0.9, 1.0))),
]


@pytest.mark.parametrize("name,kwargs", BAD, ids=[f"{n}-{sorted(k)[0]}" for n, k in BAD])
def test_argument_errors_are_torchs(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(engine.optim, name)([engine.zeros(2, requires_grad=True)], **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_tensor_lr_accepted_and_checked():
    ours, _ = _run(engine, "NAdam", dict(lr=engine.tensor(0.01)))
    theirs, _ = _run(torch, "NAdam", dict(lr=torch.tensor(0.01)))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        engine.optim.RAdam([engine.zeros(2, requires_grad=True)], lr=engine.ones(2))


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD",
                                  "SparseAdam"])
def test_steps_announce_begin_and_end(name):
    p = engine.tensor([1.0, 2.0], requires_grad=True)
    opt = getattr(engine.optim, name)([p])
    seen = []

    def listener(ev):
        if ev.kind == "optimizer_step":
            seen.append((ev.phase, ev.optimizer is opt, p.detach().numpy().copy()))
    (p * p).sum().backward()
    v = p._version
    with events.add_listener(listener):
        opt.step()
    assert [s[0] for s in seen] == ["begin", "end"] and all(s[1] for s in seen)
    np.testing.assert_array_equal(seen[0][2], [1.0, 2.0])
    assert not np.array_equal(seen[1][2], seen[0][2]) and p._version > v


def test_params_without_grad_are_left_alone():
    a, b = engine.ones(3, requires_grad=True), engine.ones(3, requires_grad=True)
    opt = engine.optim.NAdam([a, b])
    (a * 2).sum().backward()
    opt.step()
    assert [id(k) for k in opt.state] == [id(a)] and np.all(b.detach().numpy() == 1)


# ------------------------------------------------------------------------------ SparseAdam
def _embedding_run(lib, sparse_grad, steps=6):
    """An embedding trained on batches that each look up a few rows: rows outside the batch
    must keep their values and moments. float64: Adam's normalised steps amplify float32
    rounding in the tanh gradients of entries near zero."""
    emb = lib.nn.Embedding(10, 4, sparse=sparse_grad, dtype=lib.float64)
    emb.weight.data = lib.tensor(np.random.default_rng(3).standard_normal((10, 4)))
    lin = lib.tensor(np.random.default_rng(4).standard_normal((4, 2)))
    opt = lib.optim.SparseAdam(emb.parameters(), lr=0.1, betas=(0.8, 0.9))
    for i in range(steps):
        idx = lib.tensor(np.random.default_rng(i).integers(0, 10, (3, 2)))
        opt.zero_grad()
        (emb(idx) @ lin).tanh().sum().backward()
        opt.step()
    return emb.weight.detach().numpy().copy(), opt


def test_sparse_adam_on_dense_embedding_grads_matches_torch_sparse():
    ours, opt = _embedding_run(engine, sparse_grad=True)
    theirs, ref = _embedding_run(torch, sparse_grad=True)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    st, rt = opt.state[opt.param_groups[0]["params"][0]], list(ref.state.values())[0]
    assert list(st) == list(rt) == ["step", "exp_avg", "exp_avg_sq"]
    assert st["step"] == rt["step"] == 6
    np.testing.assert_allclose(st["exp_avg_sq"].numpy(), rt["exp_avg_sq"].numpy(), rtol=1e-10)
    # a row never looked up keeps its initial value and zero moments
    never = sorted(set(range(10)) - {int(v) for i in range(6)
                                     for v in np.random.default_rng(i).integers(0, 10, (3, 2))
                                     .ravel()})
    init = np.random.default_rng(3).standard_normal((10, 4))
    np.testing.assert_array_equal(ours[never], init[never])
    assert np.all(st["exp_avg"].numpy()[never] == 0)


def test_sparse_adam_with_dense_grads_still_runs_torch_refuses():
    ours, _ = _embedding_run(engine, sparse_grad=False, steps=2)
    assert np.isfinite(ours).all()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        _embedding_run(torch, sparse_grad=False, steps=1)


# ------------------------------------------------------------------ device arrays
@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD",
                                  "SparseAdam", "LBFGS"])
def test_steps_stay_on_the_device_on_the_cupy_standin(name):
    """On device parameters every moment stays a device array and a step makes no host
    transfer (LBFGS reads its scalar tests and the loss back, as PyTorch's does)."""
    import cupy_standin
    from cupy_standin import transfers
    rng = np.random.default_rng(0)
    with cupy_standin.use() as cp:
        w = engine.tensor(rng.standard_normal((4, 3)).astype(np.float32), device="cuda",
                          requires_grad=True)
        opt = getattr(engine.optim, name)([w])

        def closure():          # the loss |w|^2 without engine reductions
            w.grad = engine.Tensor._make(2 * w._data)
            return float((w._data * w._data).sum())
        transfers.reset()
        for _ in range(3):
            if name == "LBFGS":
                opt.step(closure)
            else:
                w.grad = engine.Tensor._make(cp.asarray(rng.standard_normal((4, 3))
                                                        .astype(np.float32)))
                transfers.reset()
                opt.step()
                assert transfers.d2h == 0, transfers.d2h_sites
        assert isinstance(w._data, cp.ndarray)
        for k, v in opt.state[w].items():
            if isinstance(v, engine.Tensor) and v.dim() > 0:
                assert isinstance(v._data, cp.ndarray), k
