"""A tiny regression run whose backward pass produces a NaN at one known node.

``PlantNaN`` is the identity forward; its backward multiplies the incoming gradient by
NaN from iteration ``--nan-at`` on. The first node to send a NaN is therefore the
``PlantNaNBackward`` node, between the two Linear layers.
"""

import argparse

import engine as torch
import engine.nn as nn
import engine.optim as optim

parser = argparse.ArgumentParser()
parser.add_argument("--nan-at", type=int, default=1)
parser.add_argument("--steps", type=int, default=4)
args = parser.parse_args()

ITERATION = [0]


class PlantNaN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        if ITERATION[0] >= args.nan_at:
            return grad * float("nan")
        return grad


torch.manual_seed(0)
first, second = nn.Linear(4, 8), nn.Linear(8, 1)
optimizer = optim.SGD(list(first.parameters()) + list(second.parameters()), lr=0.05)
x = torch.randn(16, 4)
y = torch.randn(16, 1)
for step in range(args.steps):
    ITERATION[0] = step
    optimizer.zero_grad()
    h = torch.relu(first(x))
    out = second(PlantNaN.apply(h))
    loss = ((out - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.4f}")
