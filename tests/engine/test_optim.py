"""Every optimizer against torch's over 10 steps on a small two-layer network."""

import numpy as np
import pytest
import torch

import engine
from engine.autograd import events

RNG = np.random.default_rng(0)
W1 = RNG.standard_normal((8, 5)).astype(np.float32) * 0.5
B1 = RNG.standard_normal(8).astype(np.float32) * 0.1
W2 = RNG.standard_normal((3, 8)).astype(np.float32) * 0.5
X = RNG.standard_normal((16, 5)).astype(np.float32)
Y = RNG.standard_normal((16, 3)).astype(np.float32)


def _run(lib, opt_name, kwargs, steps=10, groups=False):
    params = [lib.tensor(a.copy(), requires_grad=True) for a in (W1, B1, W2)]
    if groups:
        spec = [{"params": params[:2]}, {"params": params[2:], "lr": kwargs.get("lr", 0.01) * 3}]
    else:
        spec = params
    opt = getattr(lib.optim, opt_name)(spec, **kwargs)
    x, y = lib.tensor(X), lib.tensor(Y)
    for _ in range(steps):
        opt.zero_grad()
        h = (x @ params[0].t() + params[1]).tanh()
        loss = ((h @ params[2].t() - y) ** 2).mean()
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in params], opt


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_matches_torch(name, kwargs):
    ours, _ = _run(engine, name, kwargs)
    theirs, _ = _run(torch, name, kwargs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_param_groups_with_own_lr_match_torch():
    ours, _ = _run(engine, "SGD", dict(lr=0.05, momentum=0.9), groups=True)
    theirs, _ = _run(torch, "SGD", dict(lr=0.05, momentum=0.9), groups=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_state_dict_resume_is_identical(name, kwargs):
    full, _ = _run(engine, name, kwargs, steps=6)
    # 3 steps, save the optimizer's state, rebuild, load, 3 more steps
    params = [engine.tensor(a.copy(), requires_grad=True) for a in (W1, B1, W2)]
    x, y = engine.tensor(X), engine.tensor(Y)

    def steps(opt, n):
        for _ in range(n):
            opt.zero_grad()
            h = (x @ params[0].t() + params[1]).tanh()
            ((h @ params[2].t() - y) ** 2).mean().backward()
            opt.step()

    opt = getattr(engine.optim, name)(params, **kwargs)
    steps(opt, 3)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0, 1, 2]
    opt2 = getattr(engine.optim, name)(params, **kwargs)
    opt2.load_state_dict(sd)
    steps(opt2, 3)
    for p, a in zip(params, full):
        np.testing.assert_allclose(p.detach().numpy(), a, rtol=1e-6, atol=1e-7)


def test_step_events_fire_begin_and_end_with_params():
    p = engine.tensor([1.0, 2.0], requires_grad=True)
    opt = engine.optim.SGD([p], lr=0.5)
    seen = []

    def listener(ev):
        if ev.kind == "optimizer_step":
            seen.append((ev.phase, ev.optimizer is opt, list(ev.params), p.detach().numpy().copy()))
    (p * p).sum().backward()
    with events.add_listener(listener):
        opt.step()
    assert [s[0] for s in seen] == ["begin", "end"]
    assert all(s[1] for s in seen) and seen[0][2][0] is p
    np.testing.assert_allclose(seen[0][3], [1.0, 2.0])      # before the update
    np.testing.assert_allclose(seen[1][3], [0.0, 0.0])      # after: p - 0.5 * 2p
    seen.clear()
    opt.step()
    assert seen == []  # nothing emitted without a listener


def test_zero_grad_set_to_none_and_zero():
    p = engine.tensor([1.0], requires_grad=True)
    opt = engine.optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.item() == 0
    opt.zero_grad()
    assert p.grad is None


def test_errors_name_the_problem():
    p = engine.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        engine.optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        engine.optim.Adam([])
    with pytest.raises(ValueError, match="Nesterov"):
        engine.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        engine.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_step_bumps_version_and_closure_runs_with_grad():
    p = engine.tensor([1.0, -1.0], requires_grad=True)
    opt = engine.optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    v = p._version
    with engine.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(2.0)
    assert p._version > v
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -0.8], rtol=1e-6)
