"""Whole PyTorch tutorial programs, run unchanged on the engine and on torch 2.13.

Each test holds the code of a classic tutorial (written from memory of the official ones,
shortened where the tutorial loops over a real data set) as a function whose body uses the
module it is given under the name ``torch``. ``_tutorial_harness.run_both`` runs it on torch,
then on the engine, with torch's random draws and initial weights replayed on the engine, and
compares everything the program recorded: losses, gradients, shapes, printed reprs and text.
"""

from __future__ import annotations

import copy
import math
import random
import string

import numpy as np
import pytest

import engine
from _tutorial_harness import assert_same_text, node_names, run_both, strip_addresses


# ---------------------------------------------------------------------------------------
# (1) A Gentle Introduction to torch.autograd; Autograd mechanics; the old blitz tutorial
# ---------------------------------------------------------------------------------------

def tiny_resnet(torch, num_classes=1000):
    """A ResNet in miniature (stem, one residual block, global pool, ``fc``), standing in
    for torchvision's resnet18 of the tutorial."""
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, planes):
            super().__init__()
            self.conv1 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = nn.Sequential(BasicBlock(8))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer1(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.fc(x)

    return ResNet()


def test_gentle_introduction_to_autograd():
    def program(torch, rec):
        # usage in PyTorch: one training step of a (pretrained) ResNet
        model = rec.sync(tiny_resnet(torch))
        data = rec.same(torch.rand(1, 3, 64, 64))
        labels = rec.same(torch.rand(1, 1000))
        prediction = model(data)
        rec("prediction", prediction)
        loss = (prediction - labels).sum()
        loss.backward()
        rec("conv1 grad", model.conv1.weight.grad)
        rec("fc grad", model.fc.weight.grad)
        optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
        optim.step()
        rec("conv1 after step", model.conv1.weight)

        # differentiation in autograd
        a = torch.tensor([2., 3.], requires_grad=True)
        b = torch.tensor([6., 4.], requires_grad=True)
        Q = 3 * a ** 3 - b ** 2
        rec("Q", repr(Q))
        external_grad = torch.tensor([1., 1.])
        Q.backward(gradient=external_grad)
        rec("9*a**2 == a.grad", repr(9 * a ** 2 == a.grad))
        rec("-2*b == b.grad", repr(-2 * b == b.grad))
        rec("a.grad", a.grad)
        rec("Q graph", node_names(Q, 4))

        # exclusion from the DAG
        x = torch.rand(5, 5)
        y = torch.rand(5, 5)
        z = torch.rand((5, 5), requires_grad=True)
        a = x + y
        rec("a requires grad", f"Does `a` require gradients?: {a.requires_grad}")
        b = x + z
        rec("b requires grad", f"Does `b` require gradients?: {b.requires_grad}")

        # freeze the network, replace the classifier, optimise only the classifier
        nn, optim = torch.nn, torch.optim
        model = tiny_resnet(torch)
        for param in model.parameters():
            param.requires_grad = False
        model.fc = nn.Linear(8, 10)
        rec.sync(model)
        optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        out = model(data)
        out.sum().backward()
        optimizer.step()
        rec("frozen grads", [p.grad is None for p in model.parameters()])
        rec("changed", [k for k, v in model.state_dict().items()
                        if not torch.equal(v, before[k])])
        rec("trainable", sum(p.numel() for p in model.parameters() if p.requires_grad))
        rec("out graph", node_names(out, 2))

    run_both(program)


def test_autograd_mechanics():
    def program(torch, rec):
        # saved tensors: the input saved as is, the output saved as a new tensor object
        x = torch.randn(5, requires_grad=True)
        y = x.pow(2)
        rec("saved self equal", x.equal(y.grad_fn._saved_self))
        rec("saved self is x", x is y.grad_fn._saved_self)
        y = x.exp()
        rec("saved result equal", y.equal(y.grad_fn._saved_result))
        rec("saved result is y", y is y.grad_fn._saved_result)

        # grad modes
        x = torch.ones(3, requires_grad=True)
        with torch.no_grad():
            y = x * 2
        rec("no_grad", y.requires_grad)
        is_train = False
        with torch.set_grad_enabled(is_train):
            y = x * 2
        rec("set_grad_enabled(False)", y.requires_grad)
        torch.set_grad_enabled(True)
        y = x * 2
        rec("set_grad_enabled(True)", y.requires_grad)
        torch.set_grad_enabled(False)
        y = x * 2
        rec("set_grad_enabled(False) fn", y.requires_grad)
        torch.set_grad_enabled(True)

        @torch.no_grad()
        def doubler(t):
            return t * 2
        rec("decorated", doubler(x).requires_grad)
        with torch.inference_mode():
            y = x * 2
        rec("inference_mode", y.requires_grad)

        # eval() changes layers, not autograd
        model = torch.nn.Linear(3, 2)
        model.eval()
        rec("eval still records", model(x).requires_grad)

        # in-place correctness checks
        a = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
        b = a.sigmoid()
        b.mul_(2)
        try:
            b.sum().backward()
            rec("inplace error", "no error")
        except RuntimeError as e:
            rec("inplace error", str(e))
        try:
            a.add_(1)
            rec("leaf inplace", "no error")
        except RuntimeError as e:
            rec("leaf inplace", str(e))

        # detach shares storage and leaves the graph
        c = a * 3
        d = c.detach()
        rec("detached", (d.requires_grad, d.grad_fn is None, d.is_leaf))
        d.zero_()
        rec("c after d.zero_()", c)

        # requires_grad_ on an intermediate, grad of non-leaves
        h = (a * 2).sum()
        rec("is_leaf", (a.is_leaf, h.is_leaf))
        h.backward()
        rec("a.grad", a.grad)

    run_both(program)


def test_autograd_blitz():
    """The older 60-minute blitz 'Autograd: automatic differentiation'."""
    def program(torch, rec):
        x = torch.ones(2, 2, requires_grad=True)
        rec("x", repr(x))
        y = x + 2
        rec("y", repr(y))
        rec("y.grad_fn", strip_addresses(repr(y.grad_fn)))
        z = y * y * 3
        out = z.mean()
        rec("z, out", f"{z} {out}")
        a = rec.same(torch.randn(2, 2))
        a = ((a * 3) / (a - 1))
        rec("a.requires_grad", a.requires_grad)
        a.requires_grad_(True)
        rec("a.requires_grad_", a.requires_grad)
        b = (a * a).sum()
        rec("b.grad_fn", strip_addresses(str(b.grad_fn)))
        out.backward()
        rec("x.grad", repr(x.grad))

        # vector-Jacobian product
        x = rec.same(torch.randn(3, requires_grad=True))
        y = x * 2
        n = 0
        while y.data.norm() < 1000:
            y = y * 2
            n += 1
        rec("doublings", n)
        rec("y doubled", y)
        v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
        y.backward(v)
        rec("x.grad vjp", x.grad)

        rec("x.requires_grad", x.requires_grad)
        rec("(x ** 2).requires_grad", (x ** 2).requires_grad)
        with torch.no_grad():
            rec("(x ** 2).requires_grad no_grad", (x ** 2).requires_grad)
        y = x.detach()
        rec("detach requires_grad", y.requires_grad)
        rec("x.eq(y).all()", repr(x.eq(y).all()))

    run_both(program)


# ---------------------------------------------------------------------------------------
# (2) Neural Networks (the 60-minute blitz): LeNet, MSELoss, manual SGD, optim.SGD
# ---------------------------------------------------------------------------------------

def test_neural_networks_tutorial():
    def program(torch, rec):
        nn = torch.nn
        F = torch.nn.functional
        optim = torch.optim

        class Net(nn.Module):

            def __init__(self):
                super(Net, self).__init__()
                # 1 input image channel, 6 output channels, 5x5 square convolution kernel
                self.conv1 = nn.Conv2d(1, 6, 5)
                self.conv2 = nn.Conv2d(6, 16, 5)
                # an affine operation: y = Wx + b
                self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
                self.fc2 = nn.Linear(120, 84)
                self.fc3 = nn.Linear(84, 10)

            def forward(self, x):
                # Max pooling over a (2, 2) window
                x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
                # If the size is a square, you can specify with a single number
                x = F.max_pool2d(F.relu(self.conv2(x)), 2)
                x = x.view(-1, self.num_flat_features(x))
                x = F.relu(self.fc1(x))
                x = F.relu(self.fc2(x))
                x = self.fc3(x)
                return x

            def num_flat_features(self, x):
                size = x.size()[1:]  # all dimensions except the batch dimension
                num_features = 1
                for s in size:
                    num_features *= s
                return num_features

        net = Net()
        print(net)
        rec.sync(net)

        params = list(net.parameters())
        print(len(params))
        print(params[0].size())  # conv1's .weight

        input = rec.same(torch.randn(1, 1, 32, 32))
        out = net(input)
        rec("out", out)

        net.zero_grad()
        out.backward(rec.same(torch.randn(1, 10)))
        rec("conv1.weight.grad (random backward)", net.conv1.weight.grad)

        output = net(input)
        target = rec.same(torch.randn(10))  # a dummy target, for example
        target = target.view(1, -1)  # make it the same shape as output
        criterion = nn.MSELoss()

        loss = criterion(output, target)
        print(loss)
        print(strip_addresses(str(loss.grad_fn)))  # MSELoss
        print(strip_addresses(str(loss.grad_fn.next_functions[0][0])))  # Linear
        print(strip_addresses(str(loss.grad_fn.next_functions[0][0].next_functions[0][0])))

        net.zero_grad()  # zeroes the gradient buffers of all parameters
        print('conv1.bias.grad before backward')
        print(net.conv1.bias.grad)
        loss.backward()
        print('conv1.bias.grad after backward')
        print(net.conv1.bias.grad)
        rec("conv1.bias.grad", net.conv1.bias.grad)
        rec("all grads", [p.grad for p in net.parameters()])

        learning_rate = 0.01
        for f in net.parameters():
            f.data.sub_(f.grad.data * learning_rate)
        rec("after manual update", [p for p in net.parameters()])

        # create your optimizer
        optimizer = optim.SGD(net.parameters(), lr=0.01)

        # in your training loop:
        for step in range(3):
            optimizer.zero_grad()   # zero the gradient buffers
            output = net(input)
            loss = criterion(output, target)
            loss.backward()
            optimizer.step()    # Does the update
            rec(f"loss {step}", loss.item())
        rec("after optim", list(net.parameters()))

    run_both(program, capture=True)


# ---------------------------------------------------------------------------------------
# (3) Learning PyTorch with Examples: y = sin(x) by a third-order polynomial
# ---------------------------------------------------------------------------------------

STEPS = 300  # the tutorial runs 2000; the numbers are compared at every 100th step


def test_examples_tensors_manual_gradients():
    def program(torch, rec):
        dtype = torch.float
        device = torch.device("cpu")
        # device = torch.device("cuda:0") # Uncomment this to run on GPU

        # Create random input and output data
        x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
        y = torch.sin(x)

        # Randomly initialize weights
        a = rec.same(torch.randn((), device=device, dtype=dtype))
        b = rec.same(torch.randn((), device=device, dtype=dtype))
        c = rec.same(torch.randn((), device=device, dtype=dtype))
        d = rec.same(torch.randn((), device=device, dtype=dtype))

        learning_rate = 1e-6
        for t in range(STEPS):
            # Forward pass: compute predicted y
            y_pred = a + b * x + c * x ** 2 + d * x ** 3

            # Compute and print loss
            loss = (y_pred - y).pow(2).sum().item()
            if t % 100 == 99:
                print(t, loss)

            # Backprop to compute gradients of a, b, c, d with respect to loss
            grad_y_pred = 2.0 * (y_pred - y)
            grad_a = grad_y_pred.sum()
            grad_b = (grad_y_pred * x).sum()
            grad_c = (grad_y_pred * x ** 2).sum()
            grad_d = (grad_y_pred * x ** 3).sum()

            # Update weights using gradient descent
            a -= learning_rate * grad_a
            b -= learning_rate * grad_b
            c -= learning_rate * grad_c
            d -= learning_rate * grad_d

        print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
        rec("abcd", [a, b, c, d])

    run_both(program, capture=True, rtol=1e-3)


def test_examples_tensors_and_autograd():
    def program(torch, rec):
        dtype = torch.float
        device = "cuda" if torch.cuda.is_available() else "cpu"
        torch.set_default_device(device)

        x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
        y = torch.sin(x)

        a = rec.same(torch.randn((), dtype=dtype, requires_grad=True))
        b = rec.same(torch.randn((), dtype=dtype, requires_grad=True))
        c = rec.same(torch.randn((), dtype=dtype, requires_grad=True))
        d = rec.same(torch.randn((), dtype=dtype, requires_grad=True))

        learning_rate = 1e-6
        for t in range(STEPS):
            y_pred = a + b * x + c * x ** 2 + d * x ** 3
            loss = (y_pred - y).pow(2).sum()
            if t % 100 == 99:
                print(t, loss.item())
            loss.backward()
            with torch.no_grad():
                a -= learning_rate * a.grad
                b -= learning_rate * b.grad
                c -= learning_rate * c.grad
                d -= learning_rate * d.grad

                # Manually zero the gradients after updating weights
                a.grad = None
                b.grad = None
                c.grad = None
                d.grad = None

        print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
        rec("leaves", [t.is_leaf and t.requires_grad for t in (a, b, c, d)])
        rec("default device", torch.get_default_device())
        torch.set_default_device(None)  # not in the tutorial: leave no global state behind

    run_both(program, capture=True, rtol=1e-3)


def test_examples_custom_autograd_function():
    def program(torch, rec):

        class LegendrePolynomial3(torch.autograd.Function):
            """
            We can implement our own custom autograd Functions by subclassing
            torch.autograd.Function and implementing the forward and backward passes
            which operate on Tensors.
            """

            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return 0.5 * (5 * input ** 3 - 3 * input)

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                return grad_output * 1.5 * (5 * input ** 2 - 1)

        dtype = torch.float
        device = torch.device("cpu")
        x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
        y = torch.sin(x)

        # a starting point close to the solution, as the tutorial chooses
        a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
        b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
        c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
        d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

        learning_rate = 5e-6
        for t in range(STEPS):
            # To apply our Function, we use Function.apply method. We alias this as 'P3'.
            P3 = LegendrePolynomial3.apply

            y_pred = a + b * P3(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            if t % 100 == 99:
                print(t, loss.item())
            if t == 0:
                rec("graph", node_names(y_pred, 3))
            loss.backward()
            with torch.no_grad():
                a -= learning_rate * a.grad
                b -= learning_rate * b.grad
                c -= learning_rate * c.grad
                d -= learning_rate * d.grad
                a.grad = None
                b.grad = None
                c.grad = None
                d.grad = None

        print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')

    run_both(program, capture=True, rtol=1e-3)


def test_examples_nn_sequential_and_optim():
    def program(torch, rec):
        x = torch.linspace(-math.pi, math.pi, 2000)
        y = torch.sin(x)

        # For this example, the output y is a linear function of (x, x^2, x^3), so
        # we can consider it as a linear layer neural network. Let's prepare the
        # tensor (x, x^2, x^3).
        p = torch.tensor([1, 2, 3])
        xx = x.unsqueeze(-1).pow(p)
        rec("xx", xx)

        model = torch.nn.Sequential(
            torch.nn.Linear(3, 1),
            torch.nn.Flatten(0, 1)
        )
        rec.sync(model)
        print(model)
        loss_fn = torch.nn.MSELoss(reduction='sum')

        learning_rate = 1e-6
        for t in range(STEPS):
            y_pred = model(xx)
            loss = loss_fn(y_pred, y)
            if t % 100 == 99:
                print(t, loss.item())
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad

        linear_layer = model[0]
        print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + '
              f'{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')

        # the same with RMSprop
        model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
        rec.sync(model)
        loss_fn = torch.nn.MSELoss(reduction='sum')
        learning_rate = 1e-3
        optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
        for t in range(STEPS):
            y_pred = model(xx)
            loss = loss_fn(y_pred, y)
            if t % 100 == 99:
                print(t, loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        rec("rmsprop state", [v for s in optimizer.state.values() for v in s.values()])

    run_both(program, capture=True, rtol=1e-3)


def test_examples_custom_modules_and_dynamic_net():
    def program(torch, rec):
        class Polynomial3(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Parameter(torch.randn(()))
                self.b = torch.nn.Parameter(torch.randn(()))
                self.c = torch.nn.Parameter(torch.randn(()))
                self.d = torch.nn.Parameter(torch.randn(()))

            def forward(self, x):
                return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

            def string(self):
                return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                        f'{self.d.item()} x^3')

        x = torch.linspace(-math.pi, math.pi, 2000)
        y = torch.sin(x)
        model = rec.sync(Polynomial3())
        print(model)
        criterion = torch.nn.MSELoss(reduction='sum')
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
        for t in range(STEPS):
            y_pred = model(x)
            loss = criterion(y_pred, y)
            if t % 100 == 99:
                print(t, loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f'Result: {model.string()}')

        class DynamicNet(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Parameter(torch.randn(()))
                self.b = torch.nn.Parameter(torch.randn(()))
                self.c = torch.nn.Parameter(torch.randn(()))
                self.d = torch.nn.Parameter(torch.randn(()))
                self.e = torch.nn.Parameter(torch.randn(()))

            def forward(self, x):
                """A third, fourth or fifth order polynomial, chosen at random each pass,
                reusing the same parameter ``e`` for the fourth and fifth order."""
                y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
                for exp in range(4, random.randint(4, 6)):
                    y = y + self.e * x ** exp
                return y

            def string(self):
                return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                        f'{self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?')

        random.seed(0)
        model = rec.sync(DynamicNet())
        criterion = torch.nn.MSELoss(reduction='sum')
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
        for t in range(STEPS):
            y_pred = model(x)
            loss = criterion(y_pred, y)
            if t % 100 == 99:
                print(t, loss.item())
            optimizer.zero_grad()
            loss.backward()
            if t == 0:
                rec("e.grad", model.e.grad)
            optimizer.step()
        print(f'Result: {model.string()}')

    run_both(program, capture=True, rtol=1e-3)


# ---------------------------------------------------------------------------------------
# (4) What is torch.nn really? (on synthetic 28x28 "digits" instead of MNIST)
# ---------------------------------------------------------------------------------------

def synthetic_digits(n_train=512, n_valid=256, seed=0):
    """Ten classes of 28x28 images in [0, 1]: a fixed random stroke pattern per class plus
    noise, flattened to 784 like the tutorial's pickled MNIST (float32, int64 labels)."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((10, 784)) < 0.15).astype(np.float32)

    def draw(n):
        y = rng.integers(0, 10, n)
        x = np.clip(protos[y] * 0.8 + rng.random((n, 784)) * 0.4, 0, 1).astype(np.float32)
        return x, y.astype(np.int64)

    return draw(n_train) + draw(n_valid)


DIGITS = synthetic_digits()


def test_nn_really_from_scratch_to_optim():
    def program(torch, rec):
        nn, F, optim = torch.nn, torch.nn.functional, torch.optim
        TensorDataset = torch.utils.data.TensorDataset
        DataLoader = torch.utils.data.DataLoader

        x_train, y_train, x_valid, y_valid = map(torch.tensor, DIGITS)
        n, c = x_train.shape
        print(x_train, y_train)
        print(x_train.shape)
        print(y_train.min(), y_train.max())

        # neural net from scratch (no torch.nn)
        weights = rec.same(torch.randn(784, 10) / math.sqrt(784))
        weights.requires_grad_()
        bias = torch.zeros(10, requires_grad=True)

        def log_softmax(x):
            return x - x.exp().sum(-1).log().unsqueeze(-1)

        def model(xb):
            return log_softmax(xb @ weights + bias)

        bs = 64  # batch size
        xb = x_train[0:bs]  # a mini-batch from x
        preds = model(xb)  # predictions
        preds[0], preds.shape
        print(preds[0], preds.shape)

        def nll(input, target):
            return -input[range(target.shape[0]), target].mean()

        loss_func = nll
        yb = y_train[0:bs]
        print(loss_func(preds, yb))

        def accuracy(out, yb):
            preds = torch.argmax(out, dim=1)
            return (preds == yb).float().mean()

        print(accuracy(preds, yb))
        rec("graph", node_names(loss_func(preds, yb), 6))

        lr = 0.5  # learning rate
        epochs = 2  # how many epochs to train for
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)

                loss.backward()
                with torch.no_grad():
                    weights -= weights.grad * lr
                    bias -= bias.grad * lr
                    weights.grad.zero_()
                    bias.grad.zero_()
        print(loss_func(model(xb), yb), accuracy(model(xb), yb))
        rec("scratch weights", weights)

        # using torch.nn.functional
        loss_func = F.cross_entropy

        def model(xb):
            return xb @ weights + bias

        print(loss_func(model(xb), yb), accuracy(model(xb), yb))

        # refactor using nn.Module
        class Mnist_Logistic(nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
                self.bias = nn.Parameter(torch.zeros(10))

            def forward(self, xb):
                return xb @ self.weights + self.bias

        model = rec.sync(Mnist_Logistic())
        print(loss_func(model(xb), yb))

        def fit():
            for epoch in range(epochs):
                for i in range((n - 1) // bs + 1):
                    start_i = i * bs
                    end_i = start_i + bs
                    xb = x_train[start_i:end_i]
                    yb = y_train[start_i:end_i]
                    pred = model(xb)
                    loss = loss_func(pred, yb)

                    loss.backward()
                    with torch.no_grad():
                        for p in model.parameters():
                            p -= p.grad * lr
                        model.zero_grad()

        fit()
        print(loss_func(model(xb), yb))

        # refactor using nn.Linear
        class Mnist_Logistic(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(784, 10)

            def forward(self, xb):
                return self.lin(xb)

        model = rec.sync(Mnist_Logistic())
        print(loss_func(model(xb), yb))
        fit()
        print(loss_func(model(xb), yb))

        # refactor using torch.optim
        def get_model():
            model = rec.sync(Mnist_Logistic())
            return model, optim.SGD(model.parameters(), lr=lr)

        model, opt = get_model()
        print(loss_func(model(xb), yb))
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)

                loss.backward()
                opt.step()
                opt.zero_grad()
        print(loss_func(model(xb), yb))

        # refactor using Dataset
        train_ds = TensorDataset(x_train, y_train)
        model, opt = get_model()
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                xb, yb = train_ds[i * bs: i * bs + bs]
                pred = model(xb)
                loss = loss_func(pred, yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
        print(loss_func(model(xb), yb))

        # refactor using DataLoader, add validation
        train_dl = DataLoader(train_ds, batch_size=bs)
        valid_ds = TensorDataset(x_valid, y_valid)
        valid_dl = DataLoader(valid_ds, batch_size=bs * 2)
        model, opt = get_model()
        for epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                pred = model(xb)
                loss = loss_func(pred, yb)
                loss.backward()
                opt.step()
                opt.zero_grad()

            model.eval()
            with torch.no_grad():
                valid_loss = sum(loss_func(model(xb), yb) for xb, yb in valid_dl)
            print(epoch, valid_loss / len(valid_dl))
            rec(f"valid loss {epoch}", valid_loss / len(valid_dl))
        rec("final weights", model.lin.weight)

    run_both(program, capture=True, rtol=2e-4)


def test_nn_really_fit_loop_and_cnn():
    def program(torch, rec):
        nn, F, optim = torch.nn, torch.nn.functional, torch.optim
        from_ds = torch.utils.data
        TensorDataset, DataLoader = from_ds.TensorDataset, from_ds.DataLoader

        x_train, y_train, x_valid, y_valid = map(torch.tensor, DIGITS)
        train_ds = TensorDataset(x_train, y_train)
        valid_ds = TensorDataset(x_valid, y_valid)
        loss_func = F.cross_entropy
        bs = 64

        def loss_batch(model, loss_func, xb, yb, opt=None):
            loss = loss_func(model(xb), yb)

            if opt is not None:
                loss.backward()
                opt.step()
                opt.zero_grad()

            return loss.item(), len(xb)

        def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
            for epoch in range(epochs):
                model.train()
                for xb, yb in train_dl:
                    loss_batch(model, loss_func, xb, yb, opt)

                model.eval()
                with torch.no_grad():
                    losses, nums = zip(
                        *[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl]
                    )
                val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)

                print(epoch, val_loss)

        def get_data(train_ds, valid_ds, bs):
            # shuffle=False here (the tutorial shuffles): the two libraries draw different
            # permutations, and this test compares numbers
            return (
                DataLoader(train_ds, batch_size=bs, shuffle=False),
                DataLoader(valid_ds, batch_size=bs * 2),
            )

        train_dl, valid_dl = get_data(train_ds, valid_ds, bs)

        # switch to a CNN
        class Mnist_CNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
                self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
                self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

            def forward(self, xb):
                xb = xb.view(-1, 1, 28, 28)
                xb = F.relu(self.conv1(xb))
                xb = F.relu(self.conv2(xb))
                xb = F.relu(self.conv3(xb))
                xb = F.avg_pool2d(xb, 4)
                return xb.view(-1, xb.size(1))

        lr = 0.1
        model = rec.sync(Mnist_CNN())
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        fit(1, model, loss_func, opt, train_dl, valid_dl)
        rec("cnn conv1", model.conv1.weight)

        # nn.Sequential with a Lambda layer
        class Lambda(nn.Module):
            def __init__(self, func):
                super().__init__()
                self.func = func

            def forward(self, x):
                return self.func(x)

        def preprocess(x):
            return x.view(-1, 1, 28, 28)

        model = nn.Sequential(
            Lambda(preprocess),
            nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(4),
            Lambda(lambda x: x.view(x.size(0), -1)),
        )
        rec.sync(model)
        print(model)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        fit(1, model, loss_func, opt, train_dl, valid_dl)

        # wrapping the DataLoader, AdaptiveAvgPool2d, and the device
        dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

        def preprocess(x, y):
            return x.view(-1, 1, 28, 28).to(dev), y.to(dev)

        class WrappedDataLoader:
            def __init__(self, dl, func):
                self.dl = dl
                self.func = func

            def __len__(self):
                return len(self.dl)

            def __iter__(self):
                for b in self.dl:
                    yield (self.func(*b))

        train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
        train_dl = WrappedDataLoader(train_dl, preprocess)
        valid_dl = WrappedDataLoader(valid_dl, preprocess)

        model = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            Lambda(lambda x: x.view(x.size(0), -1)),
        )
        rec.sync(model)
        model.to(dev)
        print(model)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        fit(2, model, loss_func, opt, train_dl, valid_dl)
        rec("last conv", model[4].weight)

    run_both(program, capture=True, rtol=5e-4)


def test_nn_really_shuffled_training_learns():
    """The tutorial's get_data shuffles the training set: the engine's own permutations
    (seeded) must train the logistic model as well as torch's do."""
    import engine as torch
    from engine.utils.data import DataLoader, TensorDataset
    import engine.nn.functional as F

    torch.manual_seed(0)
    x_train, y_train, x_valid, y_valid = map(torch.tensor, DIGITS)
    train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    model = torch.nn.Linear(784, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    seen = []
    for epoch in range(3):
        order = []
        for xb, yb in train_dl:
            order.append(yb)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        seen.append(torch.cat(order))
    assert not torch.equal(seen[0], seen[1]), "shuffle=True gave the same order twice"
    assert sorted(seen[0].tolist()) == sorted(y_train.tolist())
    with torch.no_grad():
        acc = (model(x_valid).argmax(1) == y_valid).float().mean().item()
    assert acc > 0.9


# ---------------------------------------------------------------------------------------
# (5) Saving and loading models
# ---------------------------------------------------------------------------------------

def the_model_class(torch):
    nn, F = torch.nn, torch.nn.functional

    class TheModelClass(nn.Module):
        def __init__(self):
            super(TheModelClass, self).__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

    return TheModelClass


def test_saving_and_loading_models(tmp_path):
    def program(torch, rec):
        nn, optim = torch.nn, torch.optim
        TheModelClass = the_model_class(torch)
        folder = tmp_path / torch.__name__
        folder.mkdir()

        # Initialize model
        model = rec.sync(TheModelClass())

        # Initialize optimizer
        optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

        # Print model's state_dict
        print("Model's state_dict:")
        for param_tensor in model.state_dict():
            print(param_tensor, "\t", model.state_dict()[param_tensor].size())

        # Print optimizer's state_dict
        print("Optimizer's state_dict:")
        for var_name in optimizer.state_dict():
            print(var_name, "\t", optimizer.state_dict()[var_name])

        inputs = rec.same(torch.randn(4, 3, 32, 32))
        labels = torch.tensor([1, 0, 3, 9])
        criterion = nn.CrossEntropyLoss()

        def train_steps(model, optimizer, k):
            model.train()
            for _ in range(k):
                optimizer.zero_grad()
                loss = criterion(model(inputs), labels)
                loss.backward()
                optimizer.step()
            return loss.item()

        LOSS = train_steps(model, optimizer, 2)
        print("Optimizer's state_dict after two steps:")
        for var_name, value in optimizer.state_dict().items():
            print(var_name, "\t", value if var_name != "state" else sorted(value))

        # save / load the state_dict for inference
        PATH = str(folder / "model_weights.pt")
        torch.save(model.state_dict(), PATH)
        model2 = TheModelClass()
        print(model2.load_state_dict(torch.load(PATH, weights_only=True)))
        model2.eval()
        with torch.no_grad():
            rec("inference", model2(inputs))
            rec("inference equal", torch.equal(model2(inputs), model(inputs)))

        # a general checkpoint for inference and/or resuming training
        EPOCH = 5
        PATH = str(folder / "model.tar")
        torch.save({
            'epoch': EPOCH,
            'model_state_dict': model.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': LOSS,
        }, PATH)

        model3 = TheModelClass()
        optimizer3 = optim.SGD(model3.parameters(), lr=0.001, momentum=0.9)
        checkpoint = torch.load(PATH, weights_only=True)
        model3.load_state_dict(checkpoint['model_state_dict'])
        optimizer3.load_state_dict(checkpoint['optimizer_state_dict'])
        epoch = checkpoint['epoch']
        loss = checkpoint['loss']
        rec("epoch, loss", (epoch, loss))
        rec("momentum buffers", [s["momentum_buffer"]
                                 for s in optimizer3.state_dict()["state"].values()])

        # resuming gives the very same parameters as not stopping at all
        model3.train()
        resumed = train_steps(model3, optimizer3, 2)
        continued = train_steps(model, optimizer, 2)
        rec("resumed loss", resumed)
        rec("resumed == continued", [torch.equal(a, b) for a, b in
                                     zip(model3.parameters(), model.parameters())])
        rec("resumed weights", model3.fc3.weight)

        # several models in one file; warmstarting with strict=False
        modelA, modelB = TheModelClass(), TheModelClass()
        optimizerA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
        optimizerB = optim.SGD(modelB.parameters(), lr=0.001, momentum=0.9)
        PATH = str(folder / "ab.tar")
        torch.save({
            'modelA_state_dict': modelA.state_dict(),
            'modelB_state_dict': modelB.state_dict(),
            'optimizerA_state_dict': optimizerA.state_dict(),
            'optimizerB_state_dict': optimizerB.state_dict(),
        }, PATH)
        checkpoint = torch.load(PATH, weights_only=True)
        modelA.load_state_dict(checkpoint['modelA_state_dict'])
        modelB.load_state_dict(checkpoint['modelB_state_dict'])
        optimizerA.load_state_dict(checkpoint['optimizerA_state_dict'])
        optimizerB.load_state_dict(checkpoint['optimizerB_state_dict'])

        class Bigger(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(16 * 5 * 5, 120)
                self.head = nn.Linear(120, 2)

        netB = Bigger()
        result = netB.load_state_dict(model.state_dict(), strict=False)
        print(result)
        rec("warm fc1", torch.equal(netB.fc1.weight, model.fc1.weight))
        try:
            netB.load_state_dict(model.state_dict())
            rec("strict error", "no error")
        except RuntimeError as e:
            rec("strict error", str(e))

        # save on GPU / load on CPU
        device = torch.device('cpu')
        model4 = TheModelClass()
        model4.load_state_dict(torch.load(str(folder / "model_weights.pt"),
                                          map_location=device, weights_only=True))
        model4.to(device)
        rec("map_location", next(model4.parameters()).device)

    run_both(program, capture=True)


def test_saving_a_whole_model_is_refused_clearly(tmp_path):
    """torch.save(model, PATH) pickles the module; the engine never pickles, and says so."""
    import engine as torch
    model = the_model_class(torch)()
    with pytest.raises(TypeError, match="state_dict"):
        torch.save(model, str(tmp_path / "model.pt"))


# ---------------------------------------------------------------------------------------
# (6) NLP from scratch: classifying names with a character-level RNN; RNNCell / LSTMCell
# ---------------------------------------------------------------------------------------

NAMES = {
    "English": ["Smith", "Jones", "Taylor", "Brown", "Walker", "Wright"],
    "French": ["Dubois", "Lefevre", "Moreau", "Girard", "Rousseau", "Fournier"],
    "Italian": ["Rossi", "Bianchi", "Romano", "Ricci", "Marino", "Greco"],
    "Japanese": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito"],
}


def test_char_rnn_classification_from_scratch():
    def program(torch, rec):
        nn = torch.nn
        all_letters = string.ascii_letters + " .,;'"
        n_letters = len(all_letters)
        category_lines = NAMES
        all_categories = list(NAMES)
        n_categories = len(all_categories)

        # Find letter index from all_letters, e.g. "a" = 0
        def letterToIndex(letter):
            return all_letters.find(letter)

        # Just for demonstration, turn a letter into a <1 x n_letters> Tensor
        def letterToTensor(letter):
            tensor = torch.zeros(1, n_letters)
            tensor[0][letterToIndex(letter)] = 1
            return tensor

        # Turn a line into a <line_length x 1 x n_letters>, or an array of one-hot vectors
        def lineToTensor(line):
            tensor = torch.zeros(len(line), 1, n_letters)
            for li, letter in enumerate(line):
                tensor[li][0][letterToIndex(letter)] = 1
            return tensor

        print(letterToTensor('J'))
        print(lineToTensor('Jones').size())
        rec("one-hot", lineToTensor('Jones').nonzero())

        class RNN(nn.Module):
            def __init__(self, input_size, hidden_size, output_size):
                super(RNN, self).__init__()

                self.hidden_size = hidden_size

                self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
                self.i2o = nn.Linear(input_size + hidden_size, output_size)
                self.softmax = nn.LogSoftmax(dim=1)

            def forward(self, input, hidden):
                combined = torch.cat((input, hidden), 1)
                hidden = self.i2h(combined)
                output = self.i2o(combined)
                output = self.softmax(output)
                return output, hidden

            def initHidden(self):
                return torch.zeros(1, self.hidden_size)

        n_hidden = 128
        rnn = rec.sync(RNN(n_letters, n_hidden, n_categories))
        print(rnn)

        input = lineToTensor('Albert')
        hidden = torch.zeros(1, n_hidden)
        output, next_hidden = rnn(input[0], hidden)
        print(output)

        def categoryFromOutput(output):
            top_n, top_i = output.topk(1)
            category_i = top_i[0].item()
            return all_categories[category_i], category_i

        print(categoryFromOutput(output))

        criterion = nn.NLLLoss()
        learning_rate = 0.005  # If you set this too high, it might explode.

        def train(category_tensor, line_tensor):
            hidden = rnn.initHidden()

            rnn.zero_grad()

            for i in range(line_tensor.size()[0]):
                output, hidden = rnn(line_tensor[i], hidden)

            loss = criterion(output, category_tensor)
            loss.backward()

            # Add parameters' gradients to their values, multiplied by learning rate
            for p in rnn.parameters():
                p.data.add_(p.grad.data, alpha=-learning_rate)

            return output, loss.item()

        # a fixed sequence of examples instead of randomTrainingExample()
        rng = random.Random(0)
        current_loss = 0
        all_losses = []
        for it in range(1, 121):
            category = rng.choice(all_categories)
            line = rng.choice(category_lines[category])
            category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
            line_tensor = lineToTensor(line)
            output, loss = train(category_tensor, line_tensor)
            current_loss += loss
            if it % 40 == 0:
                guess, guess_i = categoryFromOutput(output)
                correct = '✓' if guess == category else '✗ (%s)' % category
                print('%d %d%% %.4f %s / %s %s' % (it, it / 120 * 100, loss, line, guess,
                                                   correct))
                all_losses.append(current_loss / 40)
                current_loss = 0
        rec("losses", all_losses)
        rec("i2h.weight", rnn.i2h.weight)

        # evaluating: a confusion matrix
        confusion = torch.zeros(n_categories, n_categories)

        def evaluate(line_tensor):
            hidden = rnn.initHidden()
            for i in range(line_tensor.size()[0]):
                output, hidden = rnn(line_tensor[i], hidden)
            return output

        with torch.no_grad():
            for category in all_categories:
                for line in category_lines[category]:
                    output = evaluate(lineToTensor(line))
                    guess, guess_i = categoryFromOutput(output)
                    category_i = all_categories.index(category)
                    confusion[category_i][guess_i] += 1
        for i in range(n_categories):
            confusion[i] = confusion[i] / confusion[i].sum()
        print(confusion)
        rec("confusion", confusion)

        def predict(input_line, n_predictions=3):
            print('\n> %s' % input_line)
            with torch.no_grad():
                output = evaluate(lineToTensor(input_line))

                # Get top N categories
                topv, topi = output.topk(n_predictions, 1, True)
                predictions = []

                for i in range(n_predictions):
                    value = topv[0][i].item()
                    category_index = topi[0][i].item()
                    print('(%.2f) %s' % (value, all_categories[category_index]))
                    predictions.append([value, all_categories[category_index]])
            return predictions

        rec("predict", predict('Dovesky'))
        predict('Satoshi')

    run_both(program, capture=True, rtol=5e-4)


def test_rnn_cell_lstm_cell_and_gru_cell_loops():
    def program(torch, rec):
        nn = torch.nn
        rnn = rec.sync(nn.RNNCell(10, 20))
        input = rec.same(torch.randn(6, 3, 10, requires_grad=True))  # (time_steps, batch, in)
        hx = rec.same(torch.randn(3, 20))  # (batch, hidden_size)
        output = []
        for i in range(6):
            hx = rnn(input[i], hx)
            output.append(hx)
        print(rnn)
        out = torch.stack(output, dim=0)
        rec("rnn out", out)
        out.pow(2).mean().backward()
        rec("rnn input grad", input.grad)
        rec("rnn grads", [p.grad for p in rnn.parameters()])
        rec("rnn graph", node_names(hx, 3))

        rnn = rec.sync(nn.LSTMCell(10, 20))  # (input_size, hidden_size)
        input = rec.same(torch.randn(2, 3, 10))  # (time_steps, batch, input_size)
        hx = rec.same(torch.randn(3, 20))  # (batch, hidden_size)
        cx = rec.same(torch.randn(3, 20))
        output = []
        for i in range(input.size()[0]):
            hx, cx = rnn(input[i], (hx, cx))
            output.append(hx)
        output = torch.stack(output, dim=0)
        print(rnn)
        rec("lstm out", output)
        loss = output.sum() + cx.sum()
        loss.backward()
        rec("lstm grads", [p.grad for p in rnn.parameters()])

        # no hidden state given: zeros
        rec("lstm default state", rnn(input[0])[1])
        rec("rnn unbatched", nn.RNNCell(10, 20, nonlinearity="relu")(input[0, 0]).shape)

        gru = rec.sync(nn.GRUCell(10, 20, bias=False))
        h = None
        for i in range(input.size(0)):
            h = gru(input[i], h)
        print(gru)
        h.sum().backward()
        rec("gru h", h)
        rec("gru grads", [p.grad for p in gru.parameters()])
        rec("gru graph", node_names(h, 4))

    run_both(program, capture=True)


# ---------------------------------------------------------------------------------------
# (7) Transfer learning: a frozen feature extractor, StepLR; BatchNorm and Dropout modes
# ---------------------------------------------------------------------------------------

def test_transfer_learning_fixed_feature_extractor():
    def program(torch, rec):
        nn, optim = torch.nn, torch.optim
        from_optim = torch.optim
        lr_scheduler = from_optim.lr_scheduler
        device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

        rng = np.random.default_rng(3)
        images = rng.standard_normal((48, 3, 16, 16)).astype(np.float32)
        labels = (images[:, 0].mean((1, 2)) > images[:, 1].mean((1, 2))).astype(np.int64)
        images[:, 2] += labels[:, None, None] * 0.5
        datasets = {
            'train': torch.utils.data.TensorDataset(torch.from_numpy(images[:32]),
                                                    torch.from_numpy(labels[:32])),
            'val': torch.utils.data.TensorDataset(torch.from_numpy(images[32:]),
                                                  torch.from_numpy(labels[32:])),
        }
        dataloaders = {x: torch.utils.data.DataLoader(datasets[x], batch_size=8)
                       for x in ['train', 'val']}
        dataset_sizes = {x: len(datasets[x]) for x in ['train', 'val']}

        def train_model(model, criterion, optimizer, scheduler, num_epochs=3):
            best_model_wts = copy.deepcopy(model.state_dict())
            best_acc = 0.0

            for epoch in range(num_epochs):
                print(f'Epoch {epoch}/{num_epochs - 1}')
                print('-' * 10)

                # Each epoch has a training and validation phase
                for phase in ['train', 'val']:
                    if phase == 'train':
                        model.train()  # Set model to training mode
                    else:
                        model.eval()   # Set model to evaluate mode

                    running_loss = 0.0
                    running_corrects = 0

                    # Iterate over data.
                    for inputs, labels in dataloaders[phase]:
                        inputs = inputs.to(device)
                        labels = labels.to(device)

                        # zero the parameter gradients
                        optimizer.zero_grad()

                        # forward
                        # track history if only in train
                        with torch.set_grad_enabled(phase == 'train'):
                            outputs = model(inputs)
                            _, preds = torch.max(outputs, 1)
                            loss = criterion(outputs, labels)

                            # backward + optimize only if in training phase
                            if phase == 'train':
                                loss.backward()
                                optimizer.step()

                        # statistics
                        running_loss += loss.item() * inputs.size(0)
                        running_corrects += torch.sum(preds == labels.data)
                    if phase == 'train':
                        scheduler.step()

                    epoch_loss = running_loss / dataset_sizes[phase]
                    epoch_acc = running_corrects.double() / dataset_sizes[phase]

                    print(f'{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}')

                    # deep copy the model
                    if phase == 'val' and epoch_acc > best_acc:
                        best_acc = epoch_acc
                        best_model_wts = copy.deepcopy(model.state_dict())
                print(f'lr now {scheduler.get_last_lr()}')

            print(f'Best val Acc: {best_acc:4f}')

            # load best model weights
            model.load_state_dict(best_model_wts)
            return model

        model_conv = tiny_resnet(torch)
        for param in model_conv.parameters():
            param.requires_grad = False

        # Parameters of newly constructed modules have requires_grad=True by default
        num_ftrs = model_conv.fc.in_features
        model_conv.fc = nn.Linear(num_ftrs, 2)
        rec.sync(model_conv)

        model_conv = model_conv.to(device)
        criterion = nn.CrossEntropyLoss()

        # Observe that only parameters of final layer are being optimized as
        # opposed to before.
        optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.001, momentum=0.9)

        # Decay LR by a factor of 0.1 every 2 epochs
        exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=2, gamma=0.1)

        frozen_before = copy.deepcopy(model_conv.layer1.state_dict())
        model_conv = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler)
        rec("fc", model_conv.fc.weight)
        rec("frozen grads none", all(p.grad is None for n, p in model_conv.named_parameters()
                                     if not n.startswith("fc.")))
        # the frozen part still updates its BatchNorm running statistics in train mode
        rec("running_mean", model_conv.layer1[0].bn1.running_mean)
        rec("num_batches_tracked", model_conv.layer1[0].bn1.num_batches_tracked)
        rec("frozen conv unchanged", torch.equal(frozen_before["0.conv1.weight"],
                                                 model_conv.layer1[0].conv1.weight))
        rec("requires_grad", [n for n, p in model_conv.named_parameters() if p.requires_grad])

    run_both(program, capture=True, rtol=5e-4)


def test_batchnorm_and_dropout_train_eval():
    def program(torch, rec):
        nn = torch.nn
        torch.manual_seed(0)

        model = nn.Sequential(
            nn.Linear(6, 8),
            nn.BatchNorm1d(8),
            nn.ReLU(),
            nn.Dropout(p=0.5),
            nn.Linear(8, 3),
        )
        rec.sync(model)
        print(model)
        x = rec.same(torch.randn(16, 6))

        # train mode: batch statistics, running stats updated, dropout random
        model.train()
        rec("training flags", [m.training for m in model.modules()])
        out1, out2 = model(x), model(x)
        rec("dropout differs in train", not torch.equal(out1, out2))
        rec("running_mean", model[1].running_mean)
        rec("running_var", model[1].running_var)
        rec("num_batches_tracked", model[1].num_batches_tracked)
        drop = out1.detach()
        rec("dropout zeros some", bool((model[3](torch.ones(1000)) == 0).any()))
        rec("dropout scales", sorted(set(model[3](torch.ones(1000)).tolist())))

        # eval mode: running statistics, dropout the identity, deterministic
        model.eval()
        rec("eval flags", [m.training for m in model.modules()])
        e1, e2 = model(x), model(x)
        rec("eval deterministic", torch.equal(e1, e2))
        rec("eval output", e1)
        rec("running_mean unchanged in eval", model[1].running_mean)
        with torch.no_grad():
            manual = model[1](model[0](x))
            ref = (model[0](x) - model[1].running_mean) / torch.sqrt(
                model[1].running_var + model[1].eps) * model[1].weight + model[1].bias
        rec("bn eval formula", torch.allclose(manual, ref, atol=1e-5))
        rec("drop", drop.shape)

        # BatchNorm2d in train mode on images; gradients through batch statistics
        bn = rec.sync(nn.BatchNorm2d(3, momentum=0.2))
        img = rec.same(torch.randn(4, 3, 5, 5, requires_grad=True))
        y = bn(img)
        (y * torch.arange(75.).view(3, 5, 5)).sum().backward()
        rec("bn2d out", y)
        rec("bn2d grad", img.grad)
        rec("bn2d weight grad", bn.weight.grad)
        rec("bn2d running_var", bn.running_var)
        rec("bn2d state keys", list(bn.state_dict()))
        print(bn)

    run_both(program, capture=True)


# ---------------------------------------------------------------------------------------
# (8) The Tensors tutorial and the idioms every training script uses
# ---------------------------------------------------------------------------------------

def test_tensors_tutorial():
    def program(torch, rec):
        data = [[1, 2], [3, 4]]
        x_data = torch.tensor(data)
        np_array = np.array(data)
        x_np = torch.from_numpy(np_array)
        print(x_data, x_np)

        x_ones = torch.ones_like(x_data)  # retains the properties of x_data
        print(f"Ones Tensor: \n {x_ones} \n")
        x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the datatype
        print(x_rand.dtype, x_rand.shape, bool(((x_rand >= 0) & (x_rand < 1)).all()))

        shape = (2, 3,)
        rand_tensor = torch.rand(shape)
        ones_tensor = torch.ones(shape)
        zeros_tensor = torch.zeros(shape)
        print(f"Random Tensor: \n {rand_tensor.shape} \n")
        print(f"Ones Tensor: \n {ones_tensor} \n")
        print(f"Zeros Tensor: \n {zeros_tensor}")

        tensor = torch.rand(3, 4)
        print(f"Shape of tensor: {tensor.shape}")
        print(f"Datatype of tensor: {tensor.dtype}")
        print(f"Device tensor is stored on: {tensor.device}")

        if torch.cuda.is_available():
            tensor = tensor.to("cuda")
        if torch.accelerator.is_available():
            tensor = tensor.to(torch.accelerator.current_accelerator())

        tensor = torch.ones(4, 4)
        print(f"First row: {tensor[0]}")
        print(f"First column: {tensor[:, 0]}")
        print(f"Last column: {tensor[..., -1]}")
        tensor[:, 1] = 0
        print(tensor)

        t1 = torch.cat([tensor, tensor, tensor], dim=1)
        print(t1)

        # This computes the matrix multiplication between two tensors.
        # y1, y2, y3 will have the same value
        y1 = tensor @ tensor.T
        y2 = tensor.matmul(tensor.T)
        y3 = torch.rand_like(y1)
        torch.matmul(tensor, tensor.T, out=y3)
        print(y1, torch.equal(y1, y2), torch.equal(y1, y3))

        # This computes the element-wise product. z1, z2, z3 will have the same value
        z1 = tensor * tensor
        z2 = tensor.mul(tensor)
        z3 = torch.rand_like(tensor)
        torch.mul(tensor, tensor, out=z3)
        print(z1, torch.equal(z1, z2), torch.equal(z1, z3))

        agg = tensor.sum()
        agg_item = agg.item()
        print(agg_item, type(agg_item))

        print(f"{tensor} \n")
        tensor.add_(5)
        print(tensor)

        # bridge with NumPy: shared memory both ways
        t = torch.ones(5)
        print(f"t: {t}")
        n = t.numpy()
        print(f"n: {n}")
        t.add_(1)
        print(f"t: {t}")
        print(f"n: {n}")

        n = np.ones(5)
        t = torch.from_numpy(n)
        np.add(n, 1, out=n)
        print(f"t: {t}")
        print(f"n: {n}")

    run_both(program, capture=True)


def test_training_script_idioms():
    def program(torch, rec):
        nn, F, optim = torch.nn, torch.nn.functional, torch.optim
        torch.manual_seed(42)
        device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
        print(f"Using {device} device")
        print(repr(device), torch.device('cpu') == torch.device('cpu'), str(torch.device('cuda:1')))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 5)
                self.fc1 = nn.Linear(16 * 5 * 5, 120)
                self.fc2 = nn.Linear(120, 84)
                self.fc3 = nn.Linear(84, 10)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = torch.flatten(x, 1)  # flatten all dimensions except batch
                x = F.relu(self.fc1(x))
                x = F.relu(self.fc2(x))
                x = self.fc3(x)
                return x

        net = rec.sync(Net()).to(device)
        print(net)
        print(sum(p.numel() for p in net.parameters()))
        print(sum(p.numel() for p in net.parameters() if p.requires_grad))
        print([name for name, _ in net.named_parameters()])
        print([type(m).__name__ for m in net.modules()])
        print([name for name, _ in net.named_children()])

        inputs = rec.same(torch.randn(8, 3, 32, 32)).to(device)
        labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7]).to(device)
        criterion = nn.CrossEntropyLoss()
        optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

        running_loss = 0.0
        for i in range(3):
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            total_norm = nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
            optimizer.step()
            running_loss += loss.item()
            print(f'[{i + 1}] loss: {running_loss / (i + 1):.3f} norm: {total_norm:.4f}')
            rec(f"total norm {i}", total_norm)

        correct = 0
        total = 0
        with torch.no_grad():
            outputs = net(inputs)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            print(f'Accuracy: {100 * correct // total} %')
            values, idx = torch.max(outputs, 1)
            rec("max values", values)
            rec("predicted", predicted)
            pred = net(inputs)
            print((pred.argmax(1) == labels).type(torch.float).sum().item())
            rec("softmax", F.softmax(pred, dim=1).sum(1))
            probs = torch.softmax(pred, dim=1)
            rec("probs", probs)

        # shapes and views
        x = torch.arange(24.).view(2, 3, 4)
        print(x.size(), x.shape, x.size(1), x.dim(), x.numel(), len(x))
        print(x.view(-1, 12).shape, x.reshape(4, -1).shape, torch.flatten(x, 1).shape)
        print(x.permute(2, 0, 1).shape, x.transpose(0, 1).shape, x[0].T.shape)
        print(x.unsqueeze(0).shape, x.unsqueeze(-1).shape, x[:, None].shape,
              x.unsqueeze(0).squeeze().shape)
        print(torch.stack([x, x]).shape, torch.stack([x, x], dim=1).shape,
              torch.cat([x, x], 2).shape)
        print(x[:, 1], x[..., -1], x[0, :, ::2])
        print(x[x > 20], x.masked_fill(x < 20, 0).sum())
        print(torch.where(x > 11, x, torch.zeros_like(x)).sum(), x.max(), x.argmax())
        print(x.mean(dim=0, keepdim=True).shape, x.std().item(), x.sum(1).long())
        print(torch.clamp(x - 10, min=0).sum(), torch.clamp(x, 2, 5)[0, 0], x.clip(max=3)[0, 0])
        print(torch.zeros_like(x).shape, torch.ones_like(x).dtype,
              torch.randn_like(x).shape, torch.rand_like(x).dtype, torch.full_like(x, 7)[0, 0])
        print(x.is_contiguous(), x.transpose(0, 1).is_contiguous(),
              x.transpose(0, 1).contiguous().is_contiguous())

        # dtypes
        i = torch.tensor([1, 2, 3])
        f = torch.tensor([0.5, 1.5])
        print(i.dtype, f.dtype, i.float().dtype, f.long(), f.int(), i.double(), i.to(torch.float16))
        print(torch.cat([i, f]), torch.cat([i.float(), f]).dtype, (i * 0.5).dtype, (i / 2).dtype,
              (i // 2), i.type(torch.float), i.type(), f.type())
        print(torch.tensor(3.5), torch.tensor(True), torch.tensor([True, False]),
              torch.tensor([[1e-8, 1.0], [1e8, 2.0]]), torch.tensor([1e-3, 12345.678]))
        print(torch.arange(5), torch.arange(0, 1, 0.25), torch.linspace(0, 1, 5),
              torch.eye(2), torch.tensor([1.0, float('nan'), float('inf')]))
        print(torch.tensor([[1.5, -2.25]], dtype=torch.float64), torch.zeros(2, dtype=torch.int32))
        print(torch.is_tensor(x), torch.is_floating_point(i), torch.numel(x))

        # tensors and numpy
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        t = torch.from_numpy(a)
        a[0, 0] = 100
        print(t[0, 0].item(), t.numpy().dtype, t.tolist())
        print(torch.tensor(a).sum().item(), torch.as_tensor(a).shape,
              np.asarray(t).shape, torch.tensor(np.float32(2.5)))

        # parameters and gradients
        model = rec.sync(nn.Linear(4, 2))
        for p in model.parameters():
            print(p.shape, p.requires_grad, p.grad)
        print(model.weight.__class__.__name__, isinstance(model.weight, torch.Tensor))
        out = model(torch.ones(3, 4))
        out.sum().backward()
        print(model.weight.grad, model.bias.grad)
        print(strip_addresses(repr(out.grad_fn)),
              out.grad_fn.next_functions[0][0].name().replace("torch::autograd::", ""))
        print(model.weight.grad.norm(), nn.utils.clip_grad_value_(model.parameters(), 1.0))
        print(model.weight.grad)
        params = filter(lambda p: p.requires_grad, model.parameters())
        opt = optim.Adam(params, lr=0.1)
        opt.step()
        rec("adam step", model.weight)
        print(opt)
        vec = nn.utils.parameters_to_vector(model.parameters())
        print(vec.shape)
        model.zero_grad()
        print(model.weight.grad)
        print(model.state_dict().keys())
        print(model)
        print(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), nn.ModuleList([nn.Tanh()]),
              nn.ModuleDict({'act': nn.Sigmoid()}))

    run_both(program, capture=True)


# ---------------------------------------------------------------------------------------
# Whole scripts as users write them: `import torch`, `from torch import nn`, ... rewritten
# to `import engine as torch`, `from engine import nn`, ... and nothing else changed
# ---------------------------------------------------------------------------------------

IMPORTS = [
    ("import torch.nn.functional as F", "import engine.nn.functional as F"),
    ("import torch.nn as nn", "import engine.nn as nn"),
    ("import torch.optim as optim", "import engine.optim as optim"),
    ("from torch.utils.data import", "from engine.utils.data import"),
    ("from torch.optim import lr_scheduler", "from engine.optim import lr_scheduler"),
    ("from torch import nn", "from engine import nn"),
    ("import torch\n", "import engine as torch\n"),
]


def run_script(source, lib, tmp_path, **names):
    """Exec ``source`` (written for torch) against ``lib``: torch runs it as written, the
    engine after its import lines are rewritten. Returns what it printed."""
    import contextlib
    import io
    import os
    if lib == "engine":
        for theirs, ours in IMPORTS:
            source = source.replace(theirs, ours)
        assert "torch." not in "".join(l for l in source.splitlines(True)
                                       if l.lstrip().startswith(("import", "from")))
    buf = io.StringIO()
    cwd = os.getcwd()
    folder = tmp_path / lib
    folder.mkdir()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(buf):
            exec(compile(source, f"<{lib} tutorial>", "exec"), dict(names, __name__="__main__"))
    finally:
        os.chdir(cwd)
    return buf.getvalue()


def script_both(source, tmp_path, make_names, rtol=1e-4, atol=1e-5):
    """Run the script on torch then on the engine with the same data and initial weights
    (``sync(model)`` and ``data(...)`` are injected); compare the printed text."""
    import torch as real_torch
    shared = []
    printed = {}
    for lib, mod in (("torch", real_torch), ("engine", engine)):
        k = [0]

        def sync(model, mod=mod, k=k):
            if mod is real_torch:
                shared.append({n: v.detach().numpy().copy()
                               for n, v in model.state_dict().items()})
            else:
                model.load_state_dict({n: engine.from_numpy(v.copy())
                                       for n, v in shared[k[0]].items()})
            k[0] += 1
            return model

        printed[lib] = run_script(source, lib, tmp_path, sync=sync, **make_names(mod))
    assert_same_text(printed["engine"], printed["torch"], "printed output", rtol, atol)
    return printed["engine"]


QUICKSTART = '''
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

# FashionMNIST stands in as synthetic 1x28x28 images (the tutorial downloads it)
training_data = TensorDataset(*data(train=True))
test_data = TensorDataset(*data(train=False))

batch_size = 64

# Create data loaders.
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")

# Define model
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = sync(NeuralNetwork()).to(device)
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 4 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")

def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \\n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \\n")

epochs = 3
for t in range(epochs):
    print(f"Epoch {t+1}\\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")

torch.save(model.state_dict(), "model.pth")
print("Saved PyTorch Model State to model.pth")

model = NeuralNetwork().to(device)
model.load_state_dict(torch.load("model.pth", weights_only=True))

classes = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

model.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
'''


def test_quickstart_script(tmp_path):
    def names(mod):
        def data(train):
            x, y = (DIGITS[0], DIGITS[1]) if train else (DIGITS[2], DIGITS[3])
            return mod.from_numpy(x.reshape(-1, 1, 28, 28)), mod.from_numpy(y)
        return {"data": data}

    out = script_both(QUICKSTART, tmp_path, names)
    assert "Accuracy: 100.0%" in out.split("Epoch 3")[1]  # it does learn


CLASSIFIER = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader

batch_size = 4
trainloader = DataLoader(trainset, batch_size=batch_size, shuffle=False, num_workers=2)
testloader = DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=2)

classes = ('plane', 'car', 'bird', 'cat',
           'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

# get some training images
dataiter = iter(trainloader)
images, labels = next(dataiter)
print(' '.join(f'{classes[labels[j]]:5s}' for j in range(batch_size)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1) # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = sync(Net())

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

for epoch in range(2):  # loop over the dataset multiple times

    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        if i % 10 == 9:    # print every 10 mini-batches
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 10:.3f}')
            running_loss = 0.0
    scheduler.step()

print('Finished Training')

PATH = './cifar_net.pth'
torch.save(net.state_dict(), PATH)

dataiter = iter(testloader)
images, labels = next(dataiter)
print('GroundTruth: ', ' '.join(f'{classes[labels[j]]:5s}' for j in range(4)))

net = Net()
net.load_state_dict(torch.load(PATH, weights_only=True))
outputs = net(images)
_, predicted = torch.max(outputs, 1)

print('Predicted: ', ' '.join(f'{classes[predicted[j]]:5s}'
                              for j in range(4)))

correct = 0
total = 0
# since we're not training, we don't need to calculate the gradients for our outputs
with torch.no_grad():
    for data in testloader:
        images, labels = data
        # calculate outputs by running images through the network
        outputs = net(images)
        # the class with the highest energy is what we choose as prediction
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

print(f'Accuracy of the network on the {total} test images: {100 * correct // total} %')

# prepare to count predictions for each class
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}

# again no gradients needed
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net(images)
        _, predictions = torch.max(outputs, 1)
        # collect the correct predictions for each class
        for label, prediction in zip(labels, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1


# print accuracy for each class
for classname, correct_count in correct_pred.items():
    if total_pred[classname]:
        accuracy = 100 * float(correct_count) / total_pred[classname]
        print(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')
'''


def test_training_a_classifier_script(tmp_path):
    rng = np.random.default_rng(5)
    protos = rng.standard_normal((10, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 120)
    x = (protos[y] + rng.standard_normal((120, 3, 32, 32)) * 0.5).astype(np.float32)

    def names(mod):
        ds = mod.utils.data.TensorDataset
        return {"trainset": ds(mod.from_numpy(x[:80]), mod.from_numpy(y[:80])),
                "testset": ds(mod.from_numpy(x[80:]), mod.from_numpy(y[80:]))}

    script_both(CLASSIFIER, tmp_path, names, rtol=5e-4)
