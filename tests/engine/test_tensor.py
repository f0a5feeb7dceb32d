"""Tensor attributes, conversions and ``repr`` compared with PyTorch's."""

import copy

import numpy as np
import pytest
import torch

import engine

REPR_CASES = {
    "ints": lambda T: T.tensor([1, 2, 3]),
    "int matrix": lambda T: T.tensor([[1, -20], [300, 4]]),
    "floats integral": lambda T: T.tensor([1.0, 2.0, -3.0]),
    "floats": lambda T: T.tensor([1.5, 2.25, -3.125]),
    "floats 4 decimals": lambda T: T.tensor([0.123456, 10.5]),
    "matrix": lambda T: T.tensor([[1.5, 2.0], [3.0, 4.0]]),
    "3d": lambda T: T.arange(12).reshape(2, 3, 2).float() / 7,
    "sci small": lambda T: T.tensor([1e-5, 1.0]),
    "sci large": lambda T: T.tensor([1e10, 1.0]),
    "sci wide range": lambda T: T.tensor([0.001, 123.0]),
    "zero": lambda T: T.tensor(0.0),
    "scalar": lambda T: T.tensor(3.5),
    "int scalar": lambda T: T.tensor(7),
    "bool": lambda T: T.tensor([True, False]),
    "bool scalar": lambda T: T.tensor(True),
    "float64": lambda T: T.tensor([1.0, 2.5], dtype=T.float64),
    "float64 scalar": lambda T: T.tensor(1.5, dtype=T.float64),
    "int32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "float16": lambda T: T.tensor([1.0, 2.5], dtype=T.float16),
    "nan inf": lambda T: T.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
    "nan integral": lambda T: T.tensor([float("nan"), 1.0, 2.0]),
    "negative zero mix": lambda T: T.tensor([-1.5, 0.0, 2.0]),
    "requires_grad": lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad scalar": lambda T: T.tensor(2.0, requires_grad=True),
    "grad_fn": lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn scalar": lambda T: (T.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
    "grad_fn float64": lambda T: T.tensor([1.0], dtype=T.float64, requires_grad=True).exp(),
    "empty": lambda T: T.tensor([]),
    "empty 2d": lambda T: T.zeros(0, 3),
    "empty int": lambda T: T.tensor([], dtype=T.int64),
    "long row wraps": lambda T: T.arange(30).float() / 3,
    "large summarised": lambda T: T.arange(2000).float(),
    "suffix wraps": lambda T: (T.arange(10, dtype=T.float64) / 3).requires_grad_() * 2,
    "suffix wraps 2": lambda T: T.tensor([1.5] * 11, dtype=T.float64, requires_grad=True),
    "large 2d summarised": lambda T: T.arange(4000).reshape(40, 100),
}


@pytest.mark.parametrize("label", list(REPR_CASES))
def test_repr_matches_torch(label):
    fn = REPR_CASES[label]
    assert repr(fn(engine)) == repr(fn(torch))
    assert str(fn(engine)) == str(fn(torch))


def test_size_dtype_device_reprs():
    assert repr(engine.ones(6, 1, 5, 5).shape) == "torch.Size([6, 1, 5, 5])"
    assert engine.ones(2, 3).shape == (2, 3) and isinstance(engine.ones(2).shape, tuple)
    assert str(engine.float32) == "torch.float32" and repr(engine.int64) == "torch.int64"
    assert str(engine.ones(1).device) == "cpu" and repr(engine.device("cpu")) == "device(type='cpu')"
    assert repr(engine.device("cuda:1")) == repr(torch.device("cuda:1"))
    assert engine.ones(1).device == "cpu"


def test_attributes():
    x = engine.randn(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24
    assert x.dtype is engine.float32 and x.is_floating_point()
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert x.is_leaf and not x.requires_grad and x.grad is None and x.grad_fn is None
    assert x.is_contiguous() and not x.transpose(0, 1).is_contiguous()
    assert x.stride() == (12, 4, 1) and x.element_size() == 4
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)


def test_conversions():
    x = engine.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert isinstance(x.numpy(), np.ndarray) and x.numpy().dtype == np.float32
    assert x[0, 0].item() == 1.5 and isinstance(x.sum().item(), float)
    assert x.long().dtype is engine.int64 and x.long().tolist() == [[1, 2], [3, 4]]
    assert x.double().dtype is engine.float64 and x.float() is x
    assert x.to(engine.float64).dtype is engine.float64 and x.to("cpu") is x
    assert x.cpu() is x and x.int().dtype is engine.int32 and x.bool().dtype is engine.bool
    assert x.to(engine.zeros(1, dtype=engine.float64)).dtype is engine.float64
    assert float(engine.tensor([2.5])) == 2.5 and int(engine.tensor(3)) == 3
    assert [1, 2, 3][engine.tensor(1)] == 2
    assert len(x) == 2 and [r.tolist() for r in x] == [[1.5, 2.0], [3.0, 4.0]]
    assert f"{engine.tensor(1.23456):.2f}" == "1.23"


def test_numpy_shares_memory_and_from_numpy():
    a = np.arange(3, dtype=np.float32)
    t = engine.from_numpy(a)
    a[0] = 10
    assert t[0].item() == 10.0
    assert engine.tensor(a)._data is not a


def test_data_detach_clone():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5.0                   # untracked write through .data
    assert x[0].item() == 5.0
    y = x * 2
    det = y.detach()
    assert det.grad_fn is None and not det.requires_grad
    assert np.shares_memory(det.numpy(), y.detach().numpy())
    c = y.clone()
    assert c.grad_fn.name() == "CloneBackward0" and not np.shares_memory(c._data, y._data)
    x.data = engine.tensor([7.0, 8.0])
    assert x.tolist() == [7.0, 8.0] and x.requires_grad


def test_requires_grad_flags():
    x = engine.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    y = engine.ones(2, requires_grad=True) * 2
    assert not y.is_leaf and y.requires_grad
    y.requires_grad = True  # allowed on non-leaf when True


def test_deepcopy_leaf_keeps_grad_and_flag():
    x = engine.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    assert y.requires_grad and y.grad.tolist() == [2.0] and y._data is not x._data
    with pytest.raises(RuntimeError, match="deepcopy"):
        copy.deepcopy(x * 2)


def test_not_picklable():
    import pickle
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(engine.ones(1))


def test_bool_of_single_element_and_iteration_errors():
    assert bool(engine.tensor([1.0])) and not bool(engine.tensor(0.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(engine.tensor(1.0))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(engine.tensor(1.0))


def test_method_and_function_forms_agree():
    x = engine.randn(3, 4)
    for name in ("exp", "sin", "tanh", "sigmoid", "relu", "abs", "sum", "mean", "t"):
        assert engine.equal(getattr(engine, name)(x), getattr(x, name)())
    assert engine.equal(engine.transpose(x, 0, 1), x.transpose(0, 1))
    assert engine.equal(engine.reshape(x, (2, 6)), x.reshape(2, 6))
    assert engine.equal(engine.matmul(x, x.t()), x @ x.t())


def test_format_of_a_0d_tensor_is_its_number():
    """f"{loss}" prints 0.25 in PyTorch, not tensor(0.2500) (tutorial print lines)."""
    for T in (engine, torch):
        out = T.tensor([[27.0]]).mean()
        assert f"{out}" == "27.0" and f"{out:.3f}" == "27.000" and f"{T.tensor(3)}" == "3"
        assert f"{T.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
        with pytest.raises(TypeError):
            format(T.tensor([1.0, 2.0]), ".2f")


def test_range_as_an_index():
    """``-input[range(n), target].mean()``: the nll of 'What is torch.nn really?'."""
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    target = [2, 0, 1, 1]
    for T in (engine, torch):
        x = T.tensor(a, requires_grad=True)
        loss = -x[range(4), T.tensor(target)].mean()
        loss.backward()
        assert loss.item() == pytest.approx(-np.mean(a[np.arange(4), target]))
        assert x.grad[range(4), T.tensor(target)].tolist() == [-0.25] * 4
        assert x[range(1, 4, 2)].shape == (2, 3)
        y = T.zeros(3)
        y[range(2)] = 1
        assert y.tolist() == [1.0, 1.0, 0.0]


def test_legacy_tensor_types():
    """``torch.FloatTensor([...])``, ``x.type(torch.LongTensor)``, isinstance checks."""
    x = engine.tensor([[1.5, -2.0]])
    assert x.type(engine.LongTensor).tolist() == [[1, -2]]
    assert x.type("torch.DoubleTensor").dtype is engine.float64
    assert x.type(engine.float16).dtype is engine.float16 and x.type() == "torch.FloatTensor"
    assert isinstance(x, engine.FloatTensor) and not isinstance(x, engine.LongTensor)
    assert isinstance(x.long(), engine.LongTensor)
    assert engine.FloatTensor([1, 2]).dtype is engine.float32
    assert engine.LongTensor([1, 2]).tolist() == [1, 2]
    assert engine.FloatTensor(2, 3).shape == (2, 3) and engine.ByteTensor(4).dtype is engine.uint8
    assert engine.FloatTensor(engine.Size([2, 1])).shape == (2, 1)
    assert engine.DoubleTensor(x).dtype is engine.float64
    assert repr(engine.FloatTensor) == repr(torch.FloatTensor) == "<class 'torch.FloatTensor'>"


def test_out_argument_writes_into_the_given_tensor():
    """``torch.mul(a, b, out=z)`` and friends (the Tensors tutorial) fill ``z`` in place;
    ``out=`` with an input that requires grad is refused as PyTorch refuses it."""
    for T in (engine, torch):
        a = T.tensor([[1.0, 2.0], [3.0, 4.0]])
        z = T.zeros(2, 2)
        alias = z.view(4)
        assert T.mul(a, a, out=z) is z and z.tolist() == [[1.0, 4.0], [9.0, 16.0]]
        assert alias.tolist() == [1.0, 4.0, 9.0, 16.0]  # written in place, not rebound
        T.matmul(a, a.T, out=z)
        assert z.tolist() == [[5.0, 11.0], [11.0, 25.0]]
        T.add(a, 1, alpha=2, out=z)
        assert z.tolist() == [[3.0, 4.0], [5.0, 6.0]]
        T.div(a, 2, out=z), T.sub(a, a, out=z)
        assert z.tolist() == [[0.0, 0.0], [0.0, 0.0]]
        c = T.empty(0)
        T.cat([a, a], dim=0, out=c)  # resized to the result
        assert c.shape == (4, 2)
        s = T.empty(0)
        T.stack([a, a], out=s)
        assert s.shape == (2, 2, 2)
        T.zeros(3, out=c)
        assert c.tolist() == [0.0, 0.0, 0.0]
        T.ones(2, 2, out=z)
        assert z.tolist() == [[1.0, 1.0], [1.0, 1.0]]
        i = T.zeros(2, 2, dtype=T.int64)
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            T.mul(a, a, out=i)
        w = T.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            T.mul(w, a, out=z)
        with T.no_grad():
            T.mul(w, a, out=z)
        assert z.tolist() == a.tolist()
