"""Learning-rate sequences of every scheduler equal torch's."""

import math

import pytest
import torch

import engine


def _seq(lib, make_sched, n=30, metrics=None):
    p = lib.tensor([1.0], requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.5, momentum=0.9)
    sched = make_sched(lib, opt)
    out = []
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append(sched.get_last_lr()[0])
    return out


SCHEDS = {
    "StepLR": lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, [3, 7, 7, 20], 0.3),
    "ExponentialLR": lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, 10, 0.01),
    "LambdaLR": lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e)),
}


@pytest.mark.parametrize("name", sorted(SCHEDS))
def test_schedule_matches_torch(name):
    ours = _seq(engine, SCHEDS[name])
    theirs = _seq(torch, SCHEDS[name])
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", factor=0.5, patience=2),
                                dict(patience=1, cooldown=2, min_lr=0.01, threshold=0.1,
                                     threshold_mode="abs")])
def test_reduce_on_plateau_matches_torch(kw):
    losses = [1.0, 0.9, 0.9, 0.91, 0.95, 0.9, 0.89, 0.89, 0.89, 0.89, 0.5, 0.6, 0.7, 0.8,
              0.9, 1.0, 1.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]

    def mk(lib, o):
        return lib.optim.lr_scheduler.ReduceLROnPlateau(o, **kw)
    assert _seq(engine, mk, metrics=losses) == pytest.approx(_seq(torch, mk, metrics=losses))


def test_initial_lr_recorded_and_state_dict_round_trip():
    p = engine.tensor([1.0], requires_grad=True)
    opt = engine.optim.SGD([p], lr=0.1)
    s = engine.optim.lr_scheduler.StepLR(opt, 2, 0.1)
    assert opt.param_groups[0]["initial_lr"] == 0.1 and s.last_epoch == 0
    for _ in range(3):
        opt.step()
        s.step()
    sd = s.state_dict()
    s2 = engine.optim.lr_scheduler.StepLR(opt, 5, 0.5)
    s2.load_state_dict(sd)
    assert s2.step_size == 2 and s2.last_epoch == 3
    assert math.isclose(s2.get_last_lr()[0], 0.01)
