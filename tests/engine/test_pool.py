"""Pooling against live PyTorch: values, indices, gradients (ties and NaN included),
graph shape, gradcheck in float64, module reprs and PyTorch's error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF
from engine.autograd import gradcheck
from engine.nn import _pool
from engine.nn.modules import pooling as epool
from _nn_parity import assert_same_dag

RNG = np.random.default_rng(4321)


def _arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _close(ours, theirs, what, rtol=1e-5, atol=1e-6):
    a = ours.detach().numpy() if isinstance(ours, engine.Tensor) else ours
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs torch {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _run_both(efn, tfn, x):
    ex, tx = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eres, tres = efn(ex), tfn(tx)
    if isinstance(tres, tuple):
        assert isinstance(eres, tuple)
        np.testing.assert_array_equal(eres[1].numpy(), tres[1].numpy(), err_msg="indices")
        assert eres[1].dtype == engine.int64
        eres, tres = eres[0], tres[0]
    _close(eres, tres, "output")
    g = _arr(*tres.shape)
    eres.backward(engine.tensor(g))
    tres.backward(torch.tensor(g))
    _close(ex.grad, tx.grad, "input grad")
    assert_same_dag(eres, tres)
    return eres, tres


# ---------------------------------------------------------------- max pool
MAX = [
    {"kernel_size": 2},
    {"kernel_size": (2, 2), "return_indices": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True, "return_indices": True},
    {"kernel_size": (3, 2), "stride": 1, "padding": (1, 1), "dilation": (2, 1)},   # overlap
    {"kernel_size": 2, "stride": 1},
    {"kernel_size": (1, 3), "stride": (1, 2), "padding": (0, 1), "return_indices": True},
    {"kernel_size": 3, "stride": 3, "ceil_mode": True},                # last window partial
    {"kernel_size": 2, "stride": 3, "dilation": 2},
]


@pytest.mark.parametrize("kw", MAX, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (1, 2, 7, 7), (3, 10, 11)], ids=str)
def test_max_pool2d_matches_torch(kw, shape):
    eres, _ = _run_both(lambda t: EF.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw),
                        _arr(*shape))
    assert eres.grad_fn.name() == "MaxPool2DWithIndicesBackward0"


@pytest.mark.parametrize("kw", [MAX[1], MAX[3], MAX[4]], ids=str)
def test_max_pool2d_ties_go_to_the_first_maximum(kw):
    x = np.maximum(_arr(2, 3, 9, 8), 0)           # after a ReLU: whole windows of zeros
    x[0, 0] = 1.0                                  # a constant plane: every element ties
    x[1, 1, :4, :4] = np.round(x[1, 1, :4, :4])
    _run_both(lambda t: EF.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), x)


def test_max_pool2d_nan_and_inf_as_torch():
    x = _arr(1, 2, 6, 6)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = np.nan           # two NaNs in one window: the last wins
    x[0, 0, 2, 3] = np.nan
    x[0, 1, 4, 4] = np.inf
    x[0, 1, 0, 0] = -np.inf
    ex, tx = engine.tensor(x), torch.tensor(x)
    eo, ei = EF.max_pool2d(ex, 2, return_indices=True)
    to, ti = TF.max_pool2d(tx, 2, return_indices=True)
    np.testing.assert_array_equal(eo.numpy(), to.numpy())          # NaN positions equal too
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    eo, ei = EF.max_pool2d(ex, 3, stride=1, padding=1, return_indices=True)
    to, ti = TF.max_pool2d(tx, 3, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(eo.numpy(), to.numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


def test_max_pool2d_all_minus_inf_points_inside_the_input():
    x = np.full((1, 1, 5, 5), -np.inf, dtype=np.float32)
    for kw in ({"kernel_size": 3, "stride": 2, "padding": 1},
               {"kernel_size": 2, "stride": 2, "ceil_mode": True}):
        _run_both(lambda t: EF.max_pool2d(t, return_indices=True, **kw),
                  lambda t: TF.max_pool2d(t, return_indices=True, **kw), x)


def test_max_pool_saved_indices_are_torchs():
    x = _arr(2, 3, 8, 8)
    ex = engine.tensor(x, requires_grad=True)
    eo, ei = EF.max_pool2d(ex, 3, stride=2, padding=1, return_indices=True)
    saved = dict(eo.grad_fn._saved_items())
    assert list(saved) == ["self_", "result1"]
    np.testing.assert_array_equal(saved["result1"].numpy(), ei.numpy())
    assert saved["self_"] is ex
    eo.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        eo.grad_fn._saved_items()


def test_max_pool1d_matches_torch():
    for kw in ({"kernel_size": 3, "stride": 2, "padding": 1},
               {"kernel_size": 2, "return_indices": True},
               {"kernel_size": 3, "dilation": 2, "ceil_mode": True}):
        _run_both(lambda t: EF.max_pool1d(t, **kw), lambda t: TF.max_pool1d(t, **kw),
                  _arr(2, 3, 11))
        _run_both(lambda t: EF.max_pool1d(t, **kw), lambda t: TF.max_pool1d(t, **kw),
                  _arr(3, 11))


# ---------------------------------------------------------------- avg pool
AVG = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (3, 2), "stride": 1, "padding": (1, 1)},                       # overlap
    {"kernel_size": (3, 2), "stride": 1, "padding": (1, 1), "count_include_pad": False},
    {"kernel_size": 3, "divisor_override": 2},
    {"kernel_size": 2, "stride": 3, "ceil_mode": True},
]


@pytest.mark.parametrize("kw", AVG, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (3, 7, 10)], ids=str)
def test_avg_pool2d_matches_torch(kw, shape):
    eres, _ = _run_both(lambda t: EF.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw),
                        _arr(*shape))
    assert eres.grad_fn.name() == "AvgPool2DBackward0"


def test_avg_pool1d_matches_torch():
    _run_both(lambda t: EF.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
              lambda t: TF.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
              _arr(2, 3, 10))


# ---------------------------------------------------------------- adaptive avg pool
@pytest.mark.parametrize("out", [(3, 5), (4, None), (2, 1), (9, 8), (7, 3), 5, (1, 1), 1],
                         ids=str)
def test_adaptive_avg_pool2d_matches_torch(out):
    eres, tres = _run_both(lambda t: EF.adaptive_avg_pool2d(t, out),
                           lambda t: TF.adaptive_avg_pool2d(t, out), _arr(2, 3, 9, 8))
    expected = "MeanBackward1" if out in (1, (1, 1)) else "AdaptiveAvgPool2DBackward0"
    assert eres.grad_fn.name() == expected


def test_adaptive_avg_pool_unbatched_and_1d():
    _run_both(lambda t: EF.adaptive_avg_pool2d(t, (4, 3)),
              lambda t: TF.adaptive_avg_pool2d(t, (4, 3)), _arr(3, 10, 7))
    _run_both(lambda t: _pool.adaptive_avg_pool1d(t, 4),
              lambda t: TF.adaptive_avg_pool1d(t, 4), _arr(2, 3, 10))


# ---------------------------------------------------------------- gradcheck (float64)
def _t64(*shape):
    return engine.tensor(_arr(*shape, dtype=np.float64), requires_grad=True)


def test_gradcheck_max_pool2d():
    assert gradcheck(lambda x: EF.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
                     (_t64(1, 2, 5, 6),))
    assert gradcheck(lambda x: EF.max_pool2d(x, 2, stride=1, dilation=2), (_t64(1, 2, 5, 5),))


def test_gradcheck_avg_pool2d():
    assert gradcheck(lambda x: EF.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                             count_include_pad=False), (_t64(1, 2, 6, 5),))
    assert gradcheck(lambda x: EF.avg_pool2d(x, 2, stride=1), (_t64(2, 1, 4, 4),))


def test_gradcheck_adaptive_avg_pool2d():
    assert gradcheck(lambda x: EF.adaptive_avg_pool2d(x, (3, 2)), (_t64(1, 2, 7, 5),))


def test_gradcheck_1d_pools():
    assert gradcheck(lambda x: EF.max_pool1d(x, 3, 2, 1), (_t64(2, 2, 7),))
    assert gradcheck(lambda x: EF.avg_pool1d(x, 3, 2, 1), (_t64(2, 2, 7),))


def test_pool_double_backward_raises_clearly():
    x = _t64(1, 1, 4, 4)
    with pytest.raises(RuntimeError, match="MaxPool2DWithIndicesBackward0: double backward"):
        engine.autograd.grad(EF.max_pool2d(x, 2).sum(), (x,), create_graph=True)
    with pytest.raises(RuntimeError, match="AvgPool2DBackward0: double backward"):
        engine.autograd.grad(EF.avg_pool2d(x, 2).sum(), (x,), create_graph=True)


# ---------------------------------------------------------------- errors
ERRORS = [
    ("max_pool2d", (1, 6, 1, 1), (2,), {}),
    ("max_pool2d", (1, 6, 8, 8), (2,), {"padding": 2}),
    ("max_pool2d", (6, 8), (2,), {}),
    ("max_pool2d", (1, 6, 8, 8), (2,), {"stride": 0}),
    ("avg_pool2d", (1, 6, 1, 1), (2,), {}),
    ("avg_pool2d", (1, 6, 8, 8), (2,), {"padding": 2}),
    ("adaptive_avg_pool2d", (6, 8), (2,), {}),
]


@pytest.mark.parametrize("op,shape,args,kw", ERRORS, ids=str)
def test_errors_match_torch(op, shape, args, kw):
    x = _arr(*shape)
    with pytest.raises(RuntimeError) as te:
        getattr(TF, op)(torch.tensor(x), *args, **kw)
    with pytest.raises(RuntimeError) as ee:
        getattr(EF, op)(engine.tensor(x), *args, **kw)
    assert str(ee.value) == str(te.value)


# ---------------------------------------------------------------- modules
MODULES = [
    "MaxPool2d(2)",
    "MaxPool2d((2, 3), stride=1, padding=1, ceil_mode=True)",
    "MaxPool2d(3, 2, 1, 2, return_indices=True)",
    "AvgPool2d(2)",
    "AvgPool2d(3, 2, 1, True, False, 2)",
    "AdaptiveAvgPool2d((5, None))",
    "AdaptiveAvgPool2d(1)",
    "MaxPool1d(3)",
    "AvgPool1d(3, 2, 1)",
    "AdaptiveAvgPool1d(4)",
]


@pytest.mark.parametrize("spec", MODULES)
def test_module_repr_and_forward(spec):
    emod, tmod = eval("epool." + spec), eval("torch.nn." + spec)
    assert repr(emod) == repr(tmod)
    x = _arr(2, 3, 12) if "1d" in spec else _arr(2, 3, 12, 11)
    eo, to = emod(engine.tensor(x)), tmod(torch.tensor(x))
    if isinstance(to, tuple):
        np.testing.assert_array_equal(eo[1].numpy(), to[1].numpy())
        eo, to = eo[0], to[0]
    _close(eo, to, spec)


@pytest.mark.parametrize("kw", [MAX[0], MAX[7]], ids=str)     # 2x2; 3x3 ceil, padded scatter
def test_max_pool2d_in_chunks_on_two_threads_matches_torch(monkeypatch, kw):
    """The batch cut into one chunk per image, the chunks run on two threads: the same
    values, indices and gradient as PyTorch (ties included)."""
    monkeypatch.setattr(_pool, "POOL_CHUNK_BYTES", 1)
    monkeypatch.setattr(engine.ops._parallel, "PARALLEL_BYTES", 0)
    before = engine.get_num_threads()
    engine.set_num_threads(2)
    try:
        x = np.maximum(_arr(7, 3, 10, 12), 0)     # ties among the zeros
        kw = {**kw, "return_indices": True}
        _run_both(lambda t: EF.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), x)
    finally:
        engine.set_num_threads(before)
