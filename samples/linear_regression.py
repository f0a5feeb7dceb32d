"""Fitting a line by hand: the smallest graph there is, stepped node by node.

The way tutorials first teach autograd: two leaf tensors ``w`` and ``b`` with
``requires_grad=True``, a forward pass ``w * x + b``, a mean squared error, ``backward()``,
then a manual gradient-descent update inside ``torch.no_grad()`` (so the update itself is
not recorded in the graph) and ``grad.zero_()`` (gradients accumulate otherwise).

The backward graph has seven nodes: MeanBackward0 <- PowBackward0 <- SubBackward0 <-
AddBackward0 <- MulBackward0, and one AccumulateGrad for each of ``w`` and ``b``.
Under the debugger, step it one node at a time and watch ``w.grad`` and ``b.grad``
appear.

Run it:
    python samples/linear_regression.py             # 200 iterations, w -> 2, b -> 1
    python samples/linear_regression.py --steps 2
"""

from __future__ import annotations

import argparse

import engine as torch

TRUE_W = 2.0
TRUE_B = 1.0


def make_data(n: int = 100):
    """``n`` points on the line y = 2x + 1 with a little Gaussian noise, x in [-1, 1]."""
    x = torch.rand(n, 1) * 2 - 1
    y = TRUE_W * x + TRUE_B + 0.1 * torch.randn(n, 1)
    return x, y


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="number of gradient-descent steps")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--print-every", type=int, default=20)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Fit w and b; print the loss every ``--print-every`` steps; return the fit."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    x, y = make_data()

    w = torch.randn(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)

    for step in range(1, args.steps + 1):
        y_pred = w * x + b
        loss = ((y_pred - y) ** 2).mean()
        loss.backward()

        with torch.no_grad():
            w -= args.lr * w.grad
            b -= args.lr * b.grad
        w.grad.zero_()
        b.grad.zero_()

        if step % args.print_every == 0 or step == 1 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.5f}  w {w.item():.4f}  b {b.item():.4f}",
                  flush=True)

    print(f"fitted y = {w.item():.3f} x + {b.item():.3f}  (true: y = {TRUE_W} x + {TRUE_B})")
    return {"w": w.item(), "b": b.item(), "loss": loss.item(), "steps": args.steps}


if __name__ == "__main__":
    main()
