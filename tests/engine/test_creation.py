"""Factories: dtypes, shapes and values as PyTorch gives them; seeds repeat."""

import numpy as np
import pytest
import torch

import engine

FACTORIES = {
    "tensor list": lambda T: T.tensor([[1, 2], [3, 4]]),
    "tensor floats": lambda T: T.tensor([1.0, 2.0]),
    "tensor mixed": lambda T: T.tensor([1, 2.5]),
    "tensor bool": lambda T: T.tensor([True, False]),
    "tensor scalar": lambda T: T.tensor(3),
    "tensor dtype": lambda T: T.tensor([1, 2], dtype=T.float64),
    "tensor np f64": lambda T: T.tensor(np.array([1.0, 2.0])),
    "tensor np i32": lambda T: T.tensor(np.array([1, 2], dtype=np.int32)),
    "zeros": lambda T: T.zeros(2, 3),
    "zeros tuple": lambda T: T.zeros((2, 3), dtype=T.int64),
    "ones": lambda T: T.ones(3),
    "full float": lambda T: T.full((2, 2), 1.5),
    "full int": lambda T: T.full((2,), 7),
    "full bool": lambda T: T.full((2,), True),
    "arange int": lambda T: T.arange(5),
    "arange float": lambda T: T.arange(0, 1, 0.25),
    "arange start end": lambda T: T.arange(2, 7, 2),
    "linspace": lambda T: T.linspace(0, 1, 5),
    "eye": lambda T: T.eye(3),
    "eye rect": lambda T: T.eye(2, 3),
    "zeros_like": lambda T: T.zeros_like(T.ones(2, dtype=T.int32)),
    "ones_like": lambda T: T.ones_like(T.ones(2, 2)),
    "full_like": lambda T: T.full_like(T.ones(2), 3.0),
}


@pytest.mark.parametrize("label", list(FACTORIES))
def test_factory_matches_torch(label):
    ours, theirs = FACTORIES[label](engine), FACTORIES[label](torch)
    assert str(ours.dtype) == str(theirs.dtype) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_random_factories_shapes_dtypes_and_seed():
    engine.manual_seed(0)
    a = engine.rand(2, 3)
    b = engine.randn(4)
    c = engine.randint(0, 10, (5,))
    engine.manual_seed(0)
    assert engine.equal(engine.rand(2, 3), a) and engine.equal(engine.randn(4), b)
    assert engine.equal(engine.randint(0, 10, (5,)), c)
    assert a.dtype is engine.float32 and b.dtype is engine.float32 and c.dtype is engine.int64
    assert (a.numpy() >= 0).all() and (a.numpy() < 1).all()
    assert ((c.numpy() >= 0) & (c.numpy() < 10)).all()
    assert engine.randn_like(a).shape == (2, 3) and engine.randn(2, dtype=engine.float64).dtype \
        is engine.float64
    assert engine.randn(3, requires_grad=True).requires_grad


def test_empty_and_requires_grad():
    e = engine.empty(2, 3)
    assert e.shape == (2, 3) and e.dtype is engine.float32
    z = engine.zeros(2, requires_grad=True)
    assert z.is_leaf and z.requires_grad


def test_default_dtype_switch():
    engine.set_default_dtype(engine.float64)
    try:
        assert engine.tensor([1.5]).dtype is engine.float64 and engine.zeros(1).dtype is \
            engine.float64
    finally:
        engine.set_default_dtype(engine.float32)
    assert engine.get_default_dtype() is engine.float32


def test_cuda_is_available_false_without_gpu_stack():
    assert engine.cuda.is_available() in (True, False)
    try:
        import cupy  # noqa: F401
    except ImportError:
        assert engine.cuda.is_available() is False


def test_dtype_aliases():
    assert engine.float is engine.float32 and engine.double is engine.float64
    assert engine.long is engine.int64 and engine.half is engine.float16
    assert engine.tensor([1]).dtype == engine.int64


def test_set_default_device_and_accelerator():
    """The 'Learning PyTorch with Examples' and quickstart device idioms."""
    try:
        engine.set_default_device("cpu")
        assert engine.get_default_device() == engine.device("cpu")
        assert engine.zeros(2).device.type == "cpu" and engine.tensor([1]).device.type == "cpu"
    finally:
        engine.set_default_device(None)
    assert engine.get_default_device() == engine.device("cpu")
    assert engine.accelerator.is_available() == engine.cuda.is_available()
    device = (engine.accelerator.current_accelerator().type
              if engine.accelerator.is_available() else "cpu")
    assert device in ("cpu", "cuda")
    if not engine.cuda.is_available():
        assert engine.accelerator.current_accelerator() is None
        assert engine.accelerator.device_count() == 0
