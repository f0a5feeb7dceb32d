"""The PyTorch "Neural Networks" tutorial's LeNet, run unchanged on the engine and on torch:
same printout, same parameters, same grad_fn DAG node for node, same loss and gradients;
plus end-to-end learning tests (an MLP and a small CNN on synthetic separable data)."""

import numpy as np
import pytest
import torch

import engine
from _nn_parity import assert_close, assert_same_dag, copy_state, to_np


def make_lenet(T):
    """The tutorial's code, verbatim but for the module it uses as ``torch``."""
    nn = T.nn
    F = T.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, input):
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = T.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            output = self.fc3(f6)
            return output

    return Net()


EXPECTED_PRINT = """Net(
  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))
  (fc1): Linear(in_features=400, out_features=120, bias=True)
  (fc2): Linear(in_features=120, out_features=84, bias=True)
  (fc3): Linear(in_features=84, out_features=10, bias=True)
)"""


@pytest.fixture
def nets():
    torch.manual_seed(0)
    t = make_lenet(torch)
    e = make_lenet(engine)
    copy_state(t, e)
    return t, e


def test_print_and_parameters(nets):
    t, e = nets
    assert repr(e) == repr(t) == EXPECTED_PRINT
    params = list(e.parameters())
    assert len(params) == 10
    assert params[0].size() == engine.Size([6, 1, 5, 5])
    assert [tuple(p.shape) for p in params] == [tuple(p.shape) for p in t.parameters()]


def test_forward_backward_and_dag_match_torch(nets):
    t, e = nets
    x = np.random.default_rng(0).standard_normal((1, 1, 32, 32)).astype(np.float32)
    te, ee = torch.tensor(x), engine.tensor(x)
    tout, eout = t(te), e(ee)
    assert_close(eout, tout, what="LeNet output")
    assert_same_dag(eout, tout, "LeNet output")
    # tutorial: MSELoss against a random target
    target = np.random.default_rng(1).standard_normal((1, 10)).astype(np.float32)
    tl = torch.nn.MSELoss()(tout, torch.tensor(target))
    el = engine.nn.MSELoss()(eout, engine.tensor(target))
    assert_close(el, tl, what="MSE loss")
    assert_same_dag(el, tl, "MSE loss")
    assert el.grad_fn.name() == "MseLossBackward0"
    assert el.grad_fn.next_functions[0][0].name() == "AddmmBackward0"
    assert el.grad_fn.next_functions[0][0].next_functions[0][0].name() == "AccumulateGrad"
    e.zero_grad()
    t.zero_grad()
    assert e.conv1.bias.grad is None
    el.backward()
    tl.backward()
    for (name, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert_close(ep.grad, tp.grad, rtol=1e-4, atol=1e-6, what=f"grad of {name}")


def test_cross_entropy_batch_dag_and_grads(nets):
    t, e = nets
    x = np.random.default_rng(2).standard_normal((8, 1, 32, 32)).astype(np.float32)
    y = np.arange(8) % 10
    tl = torch.nn.CrossEntropyLoss()(t(torch.tensor(x)), torch.tensor(y))
    el = engine.nn.CrossEntropyLoss()(e(engine.tensor(x)), engine.tensor(y))
    assert_same_dag(el, tl, "LeNet + CrossEntropyLoss")
    assert el.grad_fn.name() == "NllLossBackward0"
    assert el.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"
    assert_close(el, tl, what="CE loss")
    tl.backward()
    el.backward()
    for (name, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert_close(ep.grad, tp.grad, rtol=1e-4, atol=1e-6, what=f"grad of {name}")


def test_ten_sgd_steps_track_torch(nets):
    t, e = nets
    x = np.random.default_rng(3).standard_normal((8, 1, 32, 32)).astype(np.float32)
    y = np.random.default_rng(4).integers(0, 10, 8)
    topt = torch.optim.SGD(t.parameters(), lr=0.05, momentum=0.9)
    eopt = engine.optim.SGD(e.parameters(), lr=0.05, momentum=0.9)
    for _ in range(10):
        for T, net, opt in ((torch, t, topt), (engine, e, eopt)):
            opt.zero_grad()
            loss = T.nn.functional.cross_entropy(net(T.tensor(x)), T.tensor(y))
            loss.backward()
            opt.step()
    for (name, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert_close(ep, tp, rtol=1e-3, atol=1e-4, what=name)


def _blobs(n, dim, classes, seed):
    """Gaussian blobs around well separated random centres."""
    g = np.random.default_rng(seed)
    centres = g.standard_normal((classes, dim)) * 4
    y = g.integers(0, classes, n)
    x = centres[y] + g.standard_normal((n, dim))
    return x.astype(np.float32), y


def test_mlp_learns_separable_task_with_plain_sgd():
    engine.manual_seed(0)
    x, y = _blobs(600, 8, 4, seed=5)
    xt, yt = _blobs(200, 8, 4, seed=5)  # same centres (same seed), fresh noise below
    xt = xt + np.random.default_rng(6).standard_normal(xt.shape).astype(np.float32) * 0.1
    nn = engine.nn
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for epoch in range(30):
        for i in range(0, 600, 50):
            out = model(engine.tensor(x[i:i + 50]))
            loss = loss_fn(out, engine.tensor(y[i:i + 50]))
            first = loss.item() if first is None else first
            model.zero_grad()
            loss.backward()
            with engine.no_grad():
                for p in model.parameters():
                    p -= 0.05 * p.grad
    with engine.no_grad():
        pred = to_np(model(engine.tensor(xt))).argmax(1)
    acc = (pred == yt).mean()
    assert acc > 0.95, acc
    assert loss.item() < first / 5


def test_small_cnn_learns_to_tell_stripes_with_optim_sgd():
    """Horizontal vs vertical vs diagonal bars in noise: a CNN must find them."""
    g = np.random.default_rng(7)

    def images(n):
        y = g.integers(0, 3, n)
        img = g.standard_normal((n, 1, 12, 12)).astype(np.float32) * 0.5
        pos = g.integers(2, 10, n)
        for k in range(n):
            if y[k] == 0:
                img[k, 0, pos[k], :] += 2
            elif y[k] == 1:
                img[k, 0, :, pos[k]] += 2
            else:
                np.fill_diagonal(img[k, 0], img[k, 0].diagonal() + 2)
        return img, y

    x, y = images(300)
    xt, yt = images(100)
    engine.manual_seed(1)
    nn = engine.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 5 * 5, 3))
    opt = engine.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(8):
        for i in range(0, 300, 30):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(engine.tensor(x[i:i + 30])),
                                               engine.tensor(y[i:i + 30]))
            loss.backward()
            opt.step()
    model.eval()
    with engine.no_grad():
        acc = (to_np(model(engine.tensor(xt))).argmax(1) == yt).mean()
    assert acc > 0.9, acc
