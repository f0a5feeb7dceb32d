"""Convolutions against live PyTorch: forward, input/weight/bias gradients, graph shape,
gradcheck in float64, module reprs and initialisation, and PyTorch's error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF
from engine.autograd import gradcheck
from engine.nn.modules import conv as econv
from _nn_parity import assert_same_dag

RNG = np.random.default_rng(1234)

# PyTorch warns that 'same' with an even kernel copies the input; engine does it silently
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def _arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _close(ours, theirs, what, rtol=1e-5, atol=1e-5):
    """float32 parity: relative 1e-5, absolute 1e-5 of the largest reference magnitude
    (sums of hundreds of products round differently in the last bits)."""
    a = ours.detach().numpy() if isinstance(ours, engine.Tensor) else ours
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs torch {b.dtype}"
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=what)


def _run_both(efn, tfn, arrays):
    """Apply both functions to the same arrays (None stays None), backward a random
    upstream gradient, compare output and every input gradient."""
    ein = [None if a is None else engine.tensor(a, requires_grad=True) for a in arrays]
    tin = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    eout, tout = efn(*ein), tfn(*tin)
    _close(eout, tout, "output")
    assert eout.grad_fn.name() == tout.grad_fn.name()
    g = _arr(*tout.shape)
    eout.backward(engine.tensor(g))
    tout.backward(torch.tensor(g))
    for i, (e, t) in enumerate(zip(ein, tin)):
        if e is not None:
            _close(e.grad, t.grad, f"grad of input {i}")
    return eout, tout


# ---------------------------------------------------------------- conv2d parity grid
CONV2D = [
    # (N, C, H, W), (Co, kh, kw), kwargs, bias
    ((2, 3, 9, 9), (4, 3, 3), {}, True),
    ((1, 1, 32, 32), (6, 5, 5), {}, True),                       # LeNet conv1, batch 1
    ((3, 6, 14, 14), (16, 5, 5), {}, True),                      # LeNet conv2
    ((2, 3, 10, 7), (5, 3, 2), {"stride": (2, 1)}, True),        # non-square kernel, odd size
    ((2, 4, 11, 9), (6, 3, 3), {"stride": 2, "padding": 1}, False),
    ((1, 4, 8, 8), (4, 3, 3), {"padding": (2, 0), "dilation": (2, 1)}, True),
    ((2, 4, 9, 8), (6, 3, 2), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2),
                               "groups": 2}, True),
    ((2, 6, 7, 7), (6, 3, 3), {"groups": 6, "padding": 1}, True),   # depthwise
    ((2, 3, 7, 8), (4, 3, 3), {"padding": "same"}, True),
    ((2, 3, 7, 8), (4, 4, 2), {"padding": "same"}, True),       # even kernel: one-sided pad
    ((2, 3, 9, 9), (4, 3, 3), {"padding": "same", "dilation": 2}, False),
    ((2, 3, 6, 5), (4, 3, 3), {"padding": "valid"}, True),
    ((2, 5, 6, 6), (3, 1, 1), {}, True),                        # 1x1
    ((2, 5, 7, 6), (3, 1, 1), {"stride": 2}, True),
    ((1, 2, 5, 5), (3, 5, 5), {}, True),                        # kernel == input: 1x1 out
]


@pytest.mark.parametrize("xshape,wshape,kw,bias", CONV2D)
def test_conv2d_matches_torch(xshape, wshape, kw, bias):
    co, kh, kwid = wshape
    groups = kw.get("groups", 1)
    arrays = [_arr(*xshape), _arr(co, xshape[1] // groups, kh, kwid),
              _arr(co) if bias else None]
    eout, tout = _run_both(lambda x, w, b: EF.conv2d(x, w, b, **kw),
                           lambda x, w, b: TF.conv2d(x, w, b, **kw), arrays)
    assert_same_dag(eout, tout, f"conv2d {kw}")


def test_conv2d_unbatched_and_graph():
    arrays = [_arr(3, 8, 8), _arr(4, 3, 3, 3), _arr(4)]
    eout, tout = _run_both(lambda x, w, b: EF.conv2d(x, w, b, padding=1),
                           lambda x, w, b: TF.conv2d(x, w, b, padding=1), arrays)
    assert eout.shape == (4, 8, 8)
    assert_same_dag(eout, tout, "unbatched conv2d")       # Squeeze <- Convolution <- Unsqueeze


def test_conv2d_only_some_inputs_require_grad():
    xa, wa = _arr(2, 3, 6, 6), _arr(4, 3, 3, 3)
    x = engine.tensor(xa)                                 # no grad for the input (as conv1)
    w = engine.tensor(wa, requires_grad=True)
    tx, tw = torch.tensor(xa), torch.tensor(wa, requires_grad=True)
    EF.conv2d(x, w).sum().backward()
    TF.conv2d(tx, tw).sum().backward()
    _close(w.grad, tw.grad, "weight grad")
    assert x.grad is None
    # weight frozen, input trainable: no columns are kept, grad_input still right
    xa, wa = _arr(2, 3, 6, 6), _arr(4, 3, 3, 3)
    x2 = engine.tensor(xa, requires_grad=True)
    w2 = engine.tensor(wa)
    tx2, tw2 = torch.tensor(xa, requires_grad=True), torch.tensor(wa)
    out = EF.conv2d(x2, w2, stride=2, padding=1)
    assert out.grad_fn.cols is None
    out.sum().backward()
    TF.conv2d(tx2, tw2, stride=2, padding=1).sum().backward()
    _close(x2.grad, tx2.grad, "input grad")


def test_conv2d_empty_batch():
    out = EF.conv2d(engine.zeros(0, 3, 8, 8), engine.zeros(4, 3, 3, 3))
    assert out.shape == (0, 4, 6, 6)


def test_conv2d_float64_keeps_dtype():
    x = engine.tensor(_arr(1, 2, 5, 5, dtype=np.float64))
    w = engine.tensor(_arr(3, 2, 3, 3, dtype=np.float64))
    out = EF.conv2d(x, w)
    assert out.dtype == engine.float64
    ref = TF.conv2d(torch.tensor(x.numpy()), torch.tensor(w.numpy()))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- conv1d / transposed
CONV1D = [
    ((2, 3, 10), (4, 3), {}, True),
    ((1, 4, 9), (6, 2), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, False),
    ((2, 3, 8), (4, 4), {"padding": "same"}, True),
]


@pytest.mark.parametrize("xshape,wshape,kw,bias", CONV1D)
def test_conv1d_matches_torch(xshape, wshape, kw, bias):
    co, k = wshape
    groups = kw.get("groups", 1)
    arrays = [_arr(*xshape), _arr(co, xshape[1] // groups, k), _arr(co) if bias else None]
    eout, tout = _run_both(lambda x, w, b: EF.conv1d(x, w, b, **kw),
                           lambda x, w, b: TF.conv1d(x, w, b, **kw), arrays)
    assert_same_dag(eout, tout, f"conv1d {kw}")
    assert eout.grad_fn.name() == "ConvolutionBackward0" or kw.get("padding") == "same"


CONVT2D = [
    ((2, 4, 5, 5), (4, 3, 3, 3), {}, True),
    ((2, 4, 5, 4), (4, 2, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    ((1, 4, 4, 5), (4, 3, 3, 3), {"stride": (2, 3), "output_padding": (1, 2)}, False),
    ((2, 4, 5, 5), (4, 3, 3, 2), {"groups": 2, "dilation": 2, "padding": (2, 1)}, True),
    ((2, 6, 4, 4), (6, 1, 3, 3), {"groups": 3, "stride": 2, "dilation": 2,
                                  "output_padding": 1}, True),   # output_padding < dilation
    ((1, 2, 3, 3), (2, 3, 1, 1), {"stride": 2}, True),
]


@pytest.mark.parametrize("xshape,wshape,kw,bias", CONVT2D)
def test_conv_transpose2d_matches_torch(xshape, wshape, kw, bias):
    groups = kw.get("groups", 1)
    arrays = [_arr(*xshape), _arr(*wshape), _arr(wshape[1] * groups) if bias else None]
    eout, tout = _run_both(lambda x, w, b: EF.conv_transpose2d(x, w, b, **kw),
                           lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw), arrays)
    assert eout.grad_fn.transposed is True
    assert_same_dag(eout, tout, f"conv_transpose2d {kw}")


def test_conv_transpose1d_and_unbatched():
    from engine.nn._conv import conv_transpose1d
    arrays = [_arr(2, 3, 6), _arr(3, 2, 3), _arr(2)]
    _run_both(lambda x, w, b: conv_transpose1d(x, w, b, stride=2, output_padding=1),
              lambda x, w, b: TF.conv_transpose1d(x, w, b, stride=2, output_padding=1), arrays)
    arrays = [_arr(4, 5, 5), _arr(4, 3, 3, 3), None]
    eout, tout = _run_both(lambda x, w, b: EF.conv_transpose2d(x, w, b, stride=2),
                           lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2), arrays)
    assert_same_dag(eout, tout, "unbatched conv_transpose2d")


# ---------------------------------------------------------------- gradcheck (float64)
def _t64(*shape):
    return engine.tensor(_arr(*shape, dtype=np.float64), requires_grad=True)


def test_gradcheck_conv2d():
    x, w, b = _t64(2, 4, 5, 6), _t64(4, 2, 3, 2), _t64(4)
    assert gradcheck(lambda x, w, b: EF.conv2d(x, w, b, stride=(2, 1), padding=1,
                                               dilation=(1, 2), groups=2), (x, w, b))


def test_gradcheck_conv2d_same_even_kernel():
    x, w = _t64(1, 2, 4, 5), _t64(3, 2, 2, 2)
    assert gradcheck(lambda x, w: EF.conv2d(x, w, padding="same"), (x, w))


def test_gradcheck_conv1d():
    x, w, b = _t64(2, 2, 7), _t64(3, 2, 3), _t64(3)
    assert gradcheck(lambda x, w, b: EF.conv1d(x, w, b, stride=2, padding=1), (x, w, b))


def test_gradcheck_conv_transpose2d():
    x, w, b = _t64(1, 4, 3, 3), _t64(4, 1, 3, 2), _t64(2)
    assert gradcheck(lambda x, w, b: EF.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                         output_padding=1, groups=2), (x, w, b))


# ---------------------------------------------------------------- node behaviour
def test_node_saved_tensors_and_fields():
    x = engine.tensor(_arr(1, 2, 5, 5), requires_grad=True)
    w = engine.tensor(_arr(3, 2, 3, 3), requires_grad=True)
    out = EF.conv2d(x, w, stride=2, padding=1)
    node = out.grad_fn
    names = [n for n, _ in node._saved_items()]
    assert names == ["input", "weight"]
    assert node.stride == (2, 2) and node.padding == (1, 1) and node.transposed is False
    assert node.bias_sym_sizes_opt is None
    assert [type(n).__name__ if n else None for n, _ in node.next_functions] == \
        ["AccumulateGrad", "AccumulateGrad", None]
    o1 = EF.conv1d(engine.tensor(_arr(1, 2, 7), requires_grad=True), _t64(3, 2, 3).float(),
                   stride=2)
    assert o1.grad_fn.stride == (2,) and o1.grad_fn.padding == (0,)


def test_retain_graph_and_second_backward_error():
    x = engine.tensor(_arr(2, 2, 6, 6), requires_grad=True)
    w = engine.tensor(_arr(3, 2, 3, 3), requires_grad=True)
    out = EF.conv2d(x, w).sum()
    out.backward(retain_graph=True)
    g1 = w.grad.numpy().copy()
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * g1, rtol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


def test_inplace_change_of_input_is_detected():
    x = engine.tensor(_arr(1, 2, 6, 6), requires_grad=True)
    h = x * 1.0
    out = EF.conv2d(h, engine.tensor(_arr(3, 2, 3, 3), requires_grad=True))
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_double_backward_raises_clearly():
    x = engine.tensor(_arr(1, 2, 5, 5), requires_grad=True)
    w = engine.tensor(_arr(3, 2, 3, 3), requires_grad=True)
    out = EF.conv2d(x, w).sum()
    with pytest.raises(RuntimeError, match="ConvolutionBackward0: double backward"):
        engine.autograd.grad(out, (x,), create_graph=True)


# ---------------------------------------------------------------- errors
def _errors_match(efn, tfn):
    with pytest.raises(Exception) as te:
        tfn()
    with pytest.raises(type(te.value)) as ee:
        efn()
    assert str(ee.value) == str(te.value)


ERRORS = [
    ("conv2d", (1, 3, 32, 32), (6, 1, 5, 5), None, {}),                # channels
    ("conv2d", (1, 1, 3, 3), (6, 1, 5, 5), None, {}),                  # input < kernel
    ("conv2d", (1, 1, 6, 6), (6, 1, 3, 3), None, {"dilation": 3}),    # dilated kernel too big
    ("conv2d", (32, 32), (6, 1, 5, 5), None, {}),                      # 2-D input
    ("conv2d", (1, 6, 8, 8), (5, 3, 3, 3), None, {"groups": 2}),       # weight % groups
    ("conv2d", (1, 6, 8, 8), (4, 3, 3, 3), (3,), {"groups": 2}),       # bias size
    ("conv2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {"stride": 2, "padding": "same"}),
    ("conv2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {"padding": "foo"}),
    ("conv2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {"stride": 0}),
    ("conv2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {"padding": -1}),
    ("conv2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {"dilation": 0}),
    ("conv2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {"groups": 0}),
    ("conv2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {"stride": (1, 1, 1)}),
    ("conv1d", (1, 3, 3), (4, 3, 5), None, {}),
    ("conv1d", (1, 6, 8, 8), (4, 6, 3), None, {}),
    ("conv_transpose2d", (1, 6, 8, 8), (4, 6, 3, 3), None, {}),
    ("conv_transpose2d", (1, 4, 8, 8), (4, 6, 3, 3), None, {"stride": 2, "output_padding": 2}),
    ("conv_transpose2d", (1, 4, 2, 2), (4, 2, 3, 3), None, {"padding": 3}),
    ("conv_transpose2d", (1, 4, 2, 2), (4, 2, 3, 3), (4,), {}),
]


@pytest.mark.parametrize("op,xs,ws,bs,kw", ERRORS)
def test_errors_match_torch(op, xs, ws, bs, kw):
    ef, tf = getattr(EF, op), getattr(TF, op)
    x, w = _arr(*xs), _arr(*ws)
    b = _arr(*bs) if bs else None
    _errors_match(
        lambda: ef(engine.tensor(x), engine.tensor(w), None if b is None else engine.tensor(b),
                   **kw),
        lambda: tf(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b),
                   **kw))


def test_dtype_mismatch_errors_match_torch():
    x32, w64 = _arr(1, 3, 8, 8), _arr(4, 3, 3, 3, dtype=np.float64)
    _errors_match(lambda: EF.conv2d(engine.tensor(x32), engine.tensor(w64)),
                  lambda: TF.conv2d(torch.tensor(x32), torch.tensor(w64)))
    w32, b64 = _arr(4, 3, 3, 3), _arr(4, dtype=np.float64)
    _errors_match(lambda: EF.conv2d(engine.tensor(x32), engine.tensor(w32), engine.tensor(b64)),
                  lambda: TF.conv2d(torch.tensor(x32), torch.tensor(w32), torch.tensor(b64)))


# ---------------------------------------------------------------- modules
MODULES = [
    "Conv2d(1, 6, 5)",
    "Conv2d(3, 8, (3, 5), stride=2, padding=1, dilation=2, bias=False)",
    "Conv2d(4, 8, 3, padding='same', groups=2, padding_mode='reflect')",
    "Conv2d(4, 8, 4, padding='same')",
    "Conv2d(4, 8, 3, padding='valid')",
    "Conv2d(2, 4, 3, padding=1, padding_mode='circular')",
    "Conv1d(2, 4, 3)",
    "Conv1d(2, 4, 3, stride=2, padding=1, padding_mode='replicate')",
    "ConvTranspose2d(4, 2, 3, stride=2, output_padding=1)",
    "ConvTranspose2d(4, 2, (3, 2), groups=2, dilation=2, bias=False)",
    "ConvTranspose1d(4, 2, 3)",
]


@pytest.mark.parametrize("spec", MODULES)
def test_module_repr_and_parity(spec):
    emod = eval("econv." + spec)
    tmod = eval("torch.nn." + spec)
    assert repr(emod) == repr(tmod)
    assert [(n, tuple(p.shape)) for n, p in emod.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tmod.named_parameters()]
    emod.load_state_dict({k: engine.tensor(v.detach().numpy().copy())
                          for k, v in tmod.state_dict().items()})
    nd = 1 if "1d" in spec else 2
    x = _arr(2, tmod.in_channels, *([7] * nd))
    ex, tx = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = emod(ex), tmod(tx)
    _close(eo, to, spec)
    g = _arr(*to.shape)
    eo.backward(engine.tensor(g))
    to.backward(torch.tensor(g))
    _close(ex.grad, tx.grad, "input grad")
    for (n, ep), (_, tp) in zip(emod.named_parameters(), tmod.named_parameters()):
        _close(ep.grad, tp.grad, f"{n} grad")
    if "circular" not in spec:      # PyTorch pads circularly in Python (a CopySlices chain)
        assert_same_dag(eo, to, spec)


def test_conv_init_matches_torch_bounds():
    m = econv.Conv2d(6, 16, 5)
    bound = 1 / math.sqrt(6 * 25)              # kaiming_uniform_(a=sqrt(5)) == 1/sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.dtype == np.float32 and m.weight.requires_grad
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound   # uniform's std
    assert np.abs(b).max() <= bound
    t = econv.ConvTranspose2d(4, 6, 3, groups=2)                # fan_in from weight.size(1)
    assert tuple(t.weight.shape) == (4, 3, 3, 3)
    assert np.abs(t.bias.detach().numpy()).max() <= 1 / math.sqrt(3 * 9)


def test_conv_transpose_output_size():
    e = econv.ConvTranspose2d(4, 2, 3, stride=2)
    t = torch.nn.ConvTranspose2d(4, 2, 3, stride=2)
    x = _arr(1, 4, 5, 5)
    assert e(engine.tensor(x), output_size=(12, 12)).shape == \
        t(torch.tensor(x), output_size=(12, 12)).shape
    with pytest.raises(ValueError, match="requested an output size of"):
        e(engine.tensor(x), output_size=(14, 14))


def test_module_constructor_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        econv.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        econv.Conv2d(3, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        econv.Conv2d(3, 6, 3, padding="full")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        econv.ConvTranspose2d(3, 6, 3, padding_mode="reflect")


# ---------------------------------------------------------------- both column layouts
@pytest.mark.parametrize("batch_last", [False, True])
@pytest.mark.parametrize("case", [
    ("conv2d", (2, 4, 9, 23), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 2),
                                             "dilation": (1, 2), "groups": 2}),
    ("conv2d", (3, 3, 8, 8), (4, 3, 1, 1), {}),
    ("conv2d", (3, 3, 8, 8), (4, 3, 1, 1), {"stride": 2, "padding": 1}),
    ("conv2d", (2, 2, 7, 7), (3, 2, 2, 2), {"stride": 2}),             # disjoint col2im
    ("conv_transpose2d", (2, 4, 5, 21), (4, 3, 3, 2), {"stride": 2, "padding": 1,
                                                       "output_padding": 1, "groups": 2}),
], ids=str)
def test_both_column_layouts_match_torch(monkeypatch, batch_last, case):
    """The kernels pick batch-first or batch-last columns by image width; force each."""
    import engine.nn._conv as conv_mod
    monkeypatch.setattr(conv_mod, "batch_last_for", lambda n, ow: batch_last)
    op, xs, ws, kw = case
    groups = kw.get("groups", 1)
    nb = ws[0] if op == "conv2d" else ws[1] * groups
    _run_both(lambda x, w, b: getattr(EF, op)(x, w, b, **kw),
              lambda x, w, b: getattr(TF, op)(x, w, b, **kw), [_arr(*xs), _arr(*ws), _arr(nb)])
    # weight-only gradient path (columns kept from the forward)
    x = engine.tensor(_arr(*xs))
    w = engine.tensor(_arr(*ws), requires_grad=True)
    getattr(EF, op)(x, w, **kw).sum().backward()
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    getattr(TF, op)(torch.tensor(x.numpy()), tw, **kw).sum().backward()
    _close(w.grad, tw.grad, "weight grad")


def test_scratch_pool_reuses_only_its_own_buffers():
    from engine.nn import _im2col
    a = _im2col.scratch((256, 256), np.float32)
    addr = a.__array_interface__["data"][0]
    _im2col.release(a)
    b = _im2col.scratch((256, 256), np.float32)
    assert b.__array_interface__["data"][0] == addr          # reused
    mine = np.zeros((256, 256), np.float32)                  # a caller's array
    _im2col.release(mine, mine.T, b[:10])
    c = _im2col.scratch((256, 256), np.float32)
    assert c is b or c.__array_interface__["data"][0] != mine.__array_interface__["data"][0]
    assert not any(f is mine for lst in _im2col._pool.values() for f in lst)


# ---------------------------------------------------------------- chunks on the pool
@pytest.mark.parametrize("case", [
    ((7, 3, 12, 30), (4, 3, 3, 3), {"padding": 1}, False),                       # 7 chunks
    ((9, 2, 9, 9), (5, 2, 3, 2), {"stride": (2, 1), "dilation": (1, 2)}, True),  # 3 chunks
], ids=str)
def test_batch_cut_into_chunks_on_two_threads_matches_torch(monkeypatch, case):
    """The batch cut into chunks that run as tasks on two threads: the same output and
    gradients as PyTorch, and the weight gradient the same whichever thread ran what."""
    import engine.nn._conv as conv_mod
    monkeypatch.setattr(conv_mod, "CHUNK_BYTES", 1)                 # one image per chunk
    monkeypatch.setattr(conv_mod, "CHUNK_BYTES_BATCH_LAST", 4100)   # three images per chunk
    monkeypatch.setattr(conv_mod, "PARALLEL_BYTES", 0)
    before = engine.get_num_threads()
    engine.set_num_threads(2)
    try:
        xs, ws, kw, batch_last = case
        arrays = [_arr(*xs), _arr(*ws), _arr(ws[0])]
        probe = EF.conv2d(engine.tensor(arrays[0]), engine.tensor(arrays[1], requires_grad=True),
                          **kw)
        bounds, bl, cols = probe.grad_fn.cols
        assert bl == batch_last and len(cols) == len(bounds) - 1 == (7 if not bl else 3)
        _run_both(lambda x, w, b: EF.conv2d(x, w, b, **kw),
                  lambda x, w, b: TF.conv2d(x, w, b, **kw), arrays)
        grads = []
        for _ in range(3):
            w = engine.tensor(arrays[1], requires_grad=True)
            out = EF.conv2d(engine.tensor(arrays[0]), w, **kw)
            out.square().sum().backward()
            assert out.grad_fn.cols is None                          # freed with the graph
            grads.append(w.grad.numpy())
        assert all(np.array_equal(grads[0], g) for g in grads[1:])
    finally:
        engine.set_num_threads(before)


def test_chunks_follow_the_layout_and_the_threads(monkeypatch):
    import engine.nn._conv as conv_mod
    monkeypatch.setattr(engine.threads, "_num_threads", [2])
    wide, bl = conv_mod._image_chunks(np, 64, 78_400, 28)     # LeNet conv1 at batch 64
    assert not bl and len(wide) - 1 == -(-64 * 78_400 // conv_mod.CHUNK_BYTES)
    narrow, bl = conv_mod._image_chunks(np, 64, 60_000, 10)   # conv2
    assert bl and len(narrow) - 1 == 2                        # one chunk per thread
    one, bl = conv_mod._image_chunks(np, 1, 78_400, 28)       # batch 1: inline, one chunk
    assert one == [0, 1] and not bl
