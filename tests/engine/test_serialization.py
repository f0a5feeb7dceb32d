"""engine.save/engine.load: round trips, and clear errors for files that are not ours."""

import pickle

import numpy as np
import pytest
import torch

import engine
from engine.serialization import CheckpointError


def test_round_trip_of_nested_state(tmp_path):
    w = engine.randn(3, 4, requires_grad=True)
    opt = engine.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    obj = {"model": {"w": w, "b": engine.zeros(4, dtype=engine.float64),
                     "idx": engine.tensor([1, 2, 3]), "mask": engine.tensor([True, False]),
                     "step": engine.tensor(3.0)},
           "opt": opt.state_dict(), "epoch": 7, "lr": 0.1, "tags": ["a", None, (1, 2.5)],
           "nan": float("nan")}
    path = tmp_path / "ckpt.avz"
    engine.save(obj, path)
    back = engine.load(path)
    m = back["model"]
    np.testing.assert_array_equal(m["w"].detach().numpy(), w.detach().numpy())
    assert m["w"].requires_grad
    assert m["b"].dtype == engine.float64 and m["idx"].dtype == engine.int64
    assert m["mask"].dtype == engine.bool and m["step"].shape == engine.Size([])
    assert back["epoch"] == 7 and back["lr"] == 0.1 and back["tags"] == ["a", None, (1, 2.5)]
    assert np.isnan(back["nan"])
    st = back["opt"]["state"][0]
    np.testing.assert_array_equal(st["exp_avg"].numpy(), opt.state[w]["exp_avg"].numpy())
    opt2 = engine.optim.Adam([w], lr=0.1)
    opt2.load_state_dict(back["opt"])
    assert opt2.state[w]["step"].item() == 1


def test_shared_tensor_stays_shared(tmp_path):
    t = engine.ones(2)
    engine.save({"a": t, "b": t}, tmp_path / "s")
    back = engine.load(tmp_path / "s")
    assert back["a"] is back["b"]


def test_unsupported_object_is_named(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type set"):
        engine.save({"s": {1, 2}}, tmp_path / "x")


def test_saving_a_whole_module_points_to_state_dict(tmp_path):
    """torch.save(model, PATH) (the tutorial's 'save entire model') would pickle."""
    with pytest.raises(TypeError, match=r"Linear.*save its state_dict\(\) instead"):
        engine.save(engine.nn.Linear(2, 3), tmp_path / "m")


@pytest.mark.parametrize("kind,message", [
    ("empty", "empty"), ("random", "not an engine checkpoint"), ("pickle", "pickle"),
    ("torch", "torch.save"), ("truncated", "truncated or corrupted")])
def test_bad_files_give_clear_errors(tmp_path, kind, message):
    path = tmp_path / f"{kind}.bin"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(300))
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"w": [1, 2, 3]}))
    elif kind == "torch":
        torch.save({"w": torch.ones(2)}, path)
    else:
        good = tmp_path / "good"
        engine.save({"w": engine.randn(50, 50)}, good)
        path.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(CheckpointError, match=message) as info:
        engine.load(path)
    assert str(path) in str(info.value)
