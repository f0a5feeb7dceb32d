"""No backward formula writes into a gradient it received or sent.

The debugger reduces gradients to statistics on a second thread while the backward pass
goes on (autograd_viz/stats_worker.py); that is only right if a gradient, once a node has
sent it, is never modified. A listener here makes every gradient array read-only as soon
as it is sent or received, so a backward that writes into one fails with numpy's
'assignment destination is read-only'."""

import numpy as np
import pytest

import engine
import engine.nn.functional as F
from engine.autograd import events

from _parity import rand_arrays
from test_nn_layers import LAYERS
from test_ops_parity import CASES, INPLACE


def _freeze(grads):
    for g in grads:
        if g is not None and isinstance(g._data, np.ndarray):
            g._data.flags.writeable = False


def _listener(ev):
    if ev.kind == "node_started":
        _freeze(ev.grads_in)
    elif ev.kind == "node_finished":
        _freeze(ev.grads_out)


@pytest.fixture
def frozen_gradients():
    with events.add_listener(_listener):
        yield


def _backward_all(outs):
    outs = outs if isinstance(outs, (tuple, list)) else [outs]
    diff = [o for o in outs if isinstance(o, engine.Tensor) and o.requires_grad]
    if diff:
        rng = np.random.default_rng(1)
        engine.autograd.backward(diff, [engine.tensor(rng.standard_normal(tuple(o.shape)).astype(
            o.detach().numpy().dtype)) for o in diff])


def _run(fn, arrays):
    xs = [engine.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    _backward_all(fn(engine, *xs))


@pytest.mark.parametrize("label", list(CASES))
def test_op_backward_leaves_gradients_untouched(frozen_gradients, label):
    fn, shapes, low = CASES[label]
    _run(fn, rand_arrays(shapes, seed=len(label), low=low))


@pytest.mark.parametrize("label", list(INPLACE))
def test_inplace_op_backward_leaves_gradients_untouched(frozen_gradients, label):
    fn, shapes = INPLACE[label]
    _run(fn, rand_arrays(shapes, seed=len(label)))


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_backward_leaves_gradients_untouched(frozen_gradients, case):
    _, build, inputs, ints = case
    engine.manual_seed(0)
    m = build(engine.nn)
    xs = [engine.tensor(a, requires_grad=i not in ints) for i, a in enumerate(inputs())]
    _backward_all(m(*xs))


@pytest.mark.parametrize("call", [
    lambda x, w: F.conv2d(x, w, padding=1),
    lambda x, w: F.conv2d(x, w, stride=2, groups=1),
    lambda x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2),
    lambda x, w: F.max_pool2d(F.conv2d(x, w), 2),
    lambda x, w: F.max_pool2d(x, 3, stride=2, padding=1) * w.sum(),
    lambda x, w: F.avg_pool2d(F.relu(F.conv2d(x, w)), 2),
    lambda x, w: F.cross_entropy(F.conv2d(x, w).flatten(1), engine.tensor([1, 0])),
], ids=["conv", "conv_stride", "conv_transpose", "conv_maxpool", "maxpool_pad", "avgpool",
        "cross_entropy"])
def test_conv_and_pool_backward_leave_gradients_untouched(frozen_gradients, call):
    x, w = (engine.tensor(a, requires_grad=True)
            for a in rand_arrays([(2, 3, 8, 8), (4, 3, 3, 3)], seed=3))
    _backward_all(call(x, w))


def test_lenet_training_steps_leave_gradients_untouched(frozen_gradients):
    from samples.lenet import Net
    engine.manual_seed(0)
    net = Net()
    opt = engine.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(net(engine.randn(4, 1, 32, 32)), engine.tensor([1, 2, 3, 4])).backward()
        opt.step()


def test_the_guard_catches_a_backward_that_writes_into_its_gradient(frozen_gradients):
    class Doubling(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            g._data *= 2          # the mistake this file guards against
            return g

    x = engine.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="read-only"):
        (Doubling.apply(x) * 3).sum().backward()
