"""OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts, LinearLR, ConstantLR, PolynomialLR,
MultiplicativeLR, SequentialLR and ChainedScheduler side by side with torch's: the rates (and
cycled momenta / betas) of every group over many steps, state dicts, and error texts."""

import math
import warnings

import pytest
import torch

import engine


def _opt(lib, kind):
    p = lib.tensor([1.0], requires_grad=True)
    q = lib.tensor([2.0], requires_grad=True)
    groups = [{"params": [p]}, {"params": [q], "lr": 0.2}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.5, betas=(0.9, 0.99))
    return lib.optim.SGD(groups, lr=0.5, momentum=0.9)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _flat(seq):
    return [x for lrs, _ in seq for x in lrs]


def _seq(lib, make, n=40, kind="sgd", epochs=None):
    opt = _opt(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    out = [(sched.get_last_lr(), _momenta(opt))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            opt.step()
            if epochs is None:
                sched.step()
            else:
                sched.step(epochs[i])
            out.append((sched.get_last_lr(), _momenta(opt)))
    return out, sched, opt


S = {
    "OneCycle-cos": lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=40),
    "OneCycle-linear-3phase": lambda L, o: L.OneCycleLR(
        o, max_lr=0.8, epochs=4, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
        three_phase=True, div_factor=10.0, final_div_factor=100.0, base_momentum=0.8,
        max_momentum=[0.9, 0.95]),
    "OneCycle-no-momentum": lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=41,
                                                      cycle_momentum=False),
    "Cyclic-triangular": lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=5),
    "Cyclic-triangular2": lambda L, o: L.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=3,
                                                  step_size_down=7, mode="triangular2"),
    "Cyclic-exp_range": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                mode="exp_range", gamma=0.95,
                                                base_momentum=0.7, max_momentum=0.95),
    "Cyclic-scale_fn": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                               scale_fn=lambda x: 1 / (1 + x),
                                               scale_mode="iterations", cycle_momentum=False),
    "WarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7),
    "WarmRestarts-mult": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                    eta_min=0.01),
    "Linear": lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=8),
    "Linear-down": lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                           total_iters=12),
    "Constant": lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=6),
    "Polynomial": lambda L, o: L.PolynomialLR(o, total_iters=25, power=2.0),
    "Multiplicative": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.95 if e % 3 else 1.01),
    "Sequential": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.2, total_iters=5),
                                                  L.CosineAnnealingLR(o, T_max=20),
                                                  L.ExponentialLR(o, 0.9)], milestones=[5, 25]),
    "Chained": lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.3, total_iters=4),
                                                L.ExponentialLR(o, gamma=0.93)]),
    "Chained-sequential": lambda L, o: L.ChainedScheduler([
        L.SequentialLR(o, [L.ConstantLR(o, 0.5, total_iters=3), L.StepLR(o, 4, 0.5)], [6]),
        L.MultiplicativeLR(o, lambda e: 0.99)]),
}


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", sorted(S))
def test_schedule_matches_torch(name, kind):
    ours, _, _ = _seq(engine, S[name], kind=kind)
    theirs, _, _ = _seq(torch, S[name], kind=kind)
    for i, ((lr_a, m_a), (lr_b, m_b)) in enumerate(zip(ours, theirs)):
        assert lr_a == pytest.approx(lr_b, rel=1e-12, abs=1e-15), f"lr at step {i}"
        assert m_a == pytest.approx(m_b, rel=1e-12, abs=1e-15), f"momentum at step {i}"


@pytest.mark.parametrize("name", ["WarmRestarts", "WarmRestarts-mult"])
def test_warm_restarts_fractional_epochs_match_torch(name):
    """``step(epoch + i / iters)`` inside epochs, as PyTorch's docs show, and jumps."""
    epochs = [e + i / 4 for e in range(8) for i in range(4)] + [30, 2.5, 0, 17.25]
    ours, _, _ = _seq(engine, S[name], n=len(epochs), epochs=epochs)
    theirs, _, _ = _seq(torch, S[name], n=len(epochs), epochs=epochs)
    assert _flat(ours) == pytest.approx(_flat(theirs), rel=1e-12)


@pytest.mark.parametrize("name", ["Linear", "Constant", "Polynomial"])
def test_closed_form_with_epoch_argument_matches_torch(name):
    epochs = [3, 1, 7, 0, 30, 4]
    ours, _, _ = _seq(engine, S[name], n=len(epochs), epochs=epochs)
    theirs, _, _ = _seq(torch, S[name], n=len(epochs), epochs=epochs)
    assert _flat(ours) == pytest.approx(_flat(theirs), rel=1e-12)
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step"):
        _opt_sched = S[name](engine.optim.lr_scheduler, _opt(engine, "sgd"))
        _opt_sched.step(3)


@pytest.mark.parametrize("name", ["OneCycle-linear-3phase", "Cyclic-exp_range", "WarmRestarts-mult",
                                  "Linear", "Polynomial", "Sequential", "Chained-sequential",
                                  "Multiplicative"])
def test_state_dict_resume(name):
    """Stop after 13 steps, load the state dict into a fresh scheduler, go on: the same
    rates as without the stop. The keys are torch's."""
    full, _, _ = _seq(engine, S[name], n=30)
    part, sched, opt = _seq(engine, S[name], n=13)
    sd = sched.state_dict()
    _, ref, _ = _seq(torch, S[name], n=13)
    assert sorted(sd) == sorted(ref.state_dict())
    opt2 = _opt(engine, "sgd")
    sched2 = S[name](engine.optim.lr_scheduler, opt2)   # before the optimizer's state, as
    opt2.load_state_dict(opt.state_dict())               # PyTorch's docs ask
    sched2.load_state_dict(sd)
    for i in range(13, 30):
        opt2.step()
        sched2.step()
        assert sched2.get_last_lr() == pytest.approx(full[i + 1][0], rel=1e-12), i


def test_one_cycle_past_total_steps_raises():
    _, sched, _ = _seq(engine, S["OneCycle-cos"], n=39)
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 41 times. The specified number of "
                                         "total steps is 40"):
        sched.step()


ERRORS = [
    lambda L, o: L.OneCycleLR(o, max_lr=1.0),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=0),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=-1),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
    lambda L, o: L.OneCycleLR(o, max_lr=[1.0], total_steps=10),
    lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode="sine"),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    lambda L, o: L.LinearLR(o, start_factor=0),
    lambda L, o: L.LinearLR(o, end_factor=1.5),
    lambda L, o: L.ConstantLR(o, factor=2.0),
    lambda L, o: L.MultiplicativeLR(o, [lambda e: 1.0]),
    lambda L, o: L.MultiplicativeLR(o, 0.5),
    lambda L, o: L.SequentialLR(o, [], []),
    lambda L, o: L.SequentialLR(o, [L.LinearLR(o), L.StepLR(o, 2)], [1, 2]),
    lambda L, o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], []),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.StepLR("not an optimizer", 2),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_are_torchs(i):
    with pytest.raises((ValueError, TypeError)) as theirs:
        ERRORS[i](torch.optim.lr_scheduler, _opt(torch, "sgd"))
    with pytest.raises((ValueError, TypeError)) as ours:
        ERRORS[i](engine.optim.lr_scheduler, _opt(engine, "sgd"))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_cycle_momentum_needs_momentum():
    p = engine.tensor([1.0], requires_grad=True)
    opt = engine.optim.Adadelta([p])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        engine.optim.lr_scheduler.OneCycleLR(opt, 1.0, total_steps=5)
    opt = engine.optim.Adadelta([p])
    s = engine.optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0, cycle_momentum=False)
    assert math.isclose(s.get_last_lr()[0], 0.1)


def test_get_lr_outside_step_warns():
    opt = _opt(engine, "sgd")
    s = engine.optim.lr_scheduler.LinearLR(opt)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()
