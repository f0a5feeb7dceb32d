"""A tiny training script for the CLI tests: a two-layer net on random data with a
manual SGD update (no engine.optim needed). ``--nan-at K`` plants a NaN at iteration K
(sqrt of zero in the backward pass); ``--iters N``; ``--fail`` raises at the end."""

import argparse

import engine as torch

p = argparse.ArgumentParser()
p.add_argument("--iters", type=int, default=5)
p.add_argument("--nan-at", type=int, default=-1)
p.add_argument("--fail", action="store_true")
a = p.parse_args()

torch.manual_seed(0)
w1 = torch.randn(4, 8, requires_grad=True)
w2 = torch.randn(8, 1, requires_grad=True)
x = torch.randn(16, 4)
y = torch.randn(16, 1)
for it in range(a.iters):
    h = (x @ w1).tanh()
    out = h @ w2
    loss = ((out - y) ** 2).mean()
    if it == a.nan_at:
        loss = loss + (w1 * 0.0).sum().sqrt()   # planted: d sqrt(0) = inf
    loss.backward()
    with torch.no_grad():
        w1 -= 0.05 * w1.grad
        w2 -= 0.05 * w2.grad
        w1.grad = None
        w2.grad = None
if a.fail:
    raise ValueError("planted failure at the end")
print("script done")
