"""The ResNet-style CNN (samples/models/resnet.py) trained 5 steps on both libraries from one
state_dict: losses, every parameter and every BatchNorm running statistic equal; PyTorch's
parameter names and backward graph."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from _train_both import assert_close, train_both

import engine
from samples.models import resnet, to_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from _nn_parity import assert_same_dag  # noqa: E402 - the nn tests' DAG comparison

CONFIG = {k: v for k, v in resnet.SMALL.items() if k not in ("batch", "image_size")}
HAS_ONECYCLE = hasattr(engine.optim.lr_scheduler, "OneCycleLR")


def _train_and_compare_buffers(steps, **config):
    built = {}

    def capture(T, **kw):
        built[T.__name__] = r = resnet.recipe(T, **kw)
        return r
    ours, ref = train_both(capture, steps=steps, rtol=2e-4, atol=2e-5, **config)
    mine = dict(built["engine"].model.named_buffers())
    theirs = dict(built["torch"].model.named_buffers())
    assert list(mine) == list(theirs)
    for name, b in theirs.items():
        assert_close(mine[name], b, f"buffer {name}", 1e-4, 1e-5)
    return ours, ref, built


@pytest.mark.skipif(not HAS_ONECYCLE, reason="waits for OneCycleLR (issue 14, i14optim)")
def test_resnet_trains_like_torch_with_onecycle():
    ours, ref, built = _train_and_compare_buffers(5)
    assert ours[-1] < ours[0]
    lr = [g["lr"] for g in built["engine"].optimizer.param_groups]
    assert lr == [g["lr"] for g in built["torch"].optimizer.param_groups]


def test_resnet_trains_like_torch_constant_lr():
    """The same model and optimizer without the schedule (runs before OneCycleLR lands)."""
    ours, _, built = _train_and_compare_buffers(5, schedule=None, lr=0.02)
    assert ours[-1] < ours[0]
    bn = built["engine"].model.bn1
    assert int(bn.num_batches_tracked) == 5


def test_resnet_names_and_graph_are_torchs():
    ref = resnet.build_model(torch, **CONFIG)
    model = resnet.build_model(engine, **CONFIG)
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in model.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert repr(model) == repr(ref)
    images, _ = resnet.synthetic_batch(0, 2, 16, CONFIG["num_classes"])
    assert_same_dag(model(to_lib(engine, images)), ref(to_lib(torch, images)), "resnet")


def test_resnet_eval_mode_uses_running_stats_like_torch():
    torch.manual_seed(0)
    ref = resnet.recipe(torch, schedule=None)
    ours = resnet.recipe(engine, schedule=None)
    from samples.models import copy_state
    copy_state(ours.model, ref.model, engine)
    for i in range(2):
        ref.step(i)
        ours.step(i)
    ref.model.eval()
    ours.model.eval()
    images, _ = resnet.synthetic_batch(9, 3, 16, CONFIG["num_classes"])
    with torch.no_grad(), engine.no_grad():
        np.testing.assert_allclose(ours.model(to_lib(engine, images)).numpy(),
                                   ref.model(to_lib(torch, images)).numpy(), rtol=1e-4,
                                   atol=1e-5)
