"""ModuleTracker names modules and parameters by object id, and never keeps an object
alive: a script that makes a new leaf (or module) every iteration must not pile them up,
and a freed object's id, reused by a new one, must not inherit its name."""

from __future__ import annotations

import gc
import weakref

import engine as torch
from autograd_viz.module_tracker import ModuleTracker


def _name_fresh_leaf(tracker):
    x = torch.randn(64, 8, requires_grad=True)   # an input that requires grad, per iteration
    tracker.name_leaves([x])
    assert tracker.param_name(x) == "x"
    return weakref.ref(x)


def test_leaves_named_per_iteration_are_not_kept_alive():
    tracker = ModuleTracker()
    refs = [_name_fresh_leaf(tracker) for _ in range(20)]
    gc.collect()
    assert all(r() is None for r in refs)
    assert not tracker._param_names and not tracker._tried


def test_a_reused_id_does_not_inherit_a_dead_tensors_name():
    tracker = ModuleTracker()
    t = torch.ones(3, requires_grad=True)
    tracker.set_param_name(t, "old")
    key = id(t)
    del t
    gc.collect()
    assert key not in tracker._param_names


def test_models_and_parameters_are_named_and_released():
    tracker = ModuleTracker()
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    tracker.add_model(model)
    assert tracker.param_name(model[2].weight) == "2.weight"
    other = torch.nn.Linear(1, 1)
    tracker.add_model(other, "Linear")      # a second root while the first lives: prefixed
    assert tracker.param_name(other.bias) == "Linear.bias"
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
    assert set(tracker._param_names.values()) == {"Linear.weight", "Linear.bias"}


def test_modules_made_inside_forward_are_not_kept_alive():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)

        def forward(self, x):
            return torch.nn.ReLU()(self.fc(x))      # a new unregistered module per call

    tracker = ModuleTracker()
    assert tracker.install()
    try:
        net = Net()
        for _ in range(5):
            net(torch.randn(2, 4))
        gc.collect()
        seen = [p for p in tracker._paths.values() if p.endswith("ReLU")]
        assert len(seen) <= 1
        assert tracker.stack == []
    finally:
        tracker.uninstall()
