"""Exploding gradients: a learning rate too high for a deep network, until the loss is Inf.

A six-layer ReLU network regresses scikit-learn's diabetes data (442 real patients, a
disease-progression score of 25..346; bundled with scikit-learn). The targets are left
unscaled, so the first mean squared error is about 29,000 and its gradient is large; with
SGD at ``--lr 0.01`` and momentum, the first steps overshoot, the overshoot makes the next
gradient larger still, and within a handful of iterations the gradient norm grows by
orders of magnitude per step, the loss overflows float32 to ``inf`` and the next backward
pass turns every gradient into NaN.

The script does not crash: it checks the loss and the total gradient norm every
iteration and, when one stops being finite, reports where and stops. Under the debugger,
a breakpoint on "gradient norm above a threshold" stops the run one step before the loss
overflows.

``--fix`` rescales the gradients before each step with
``torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)``, so no step can be
larger than ``lr``: same network, same learning rate, and the loss falls steadily.

Run it:
    python samples/exploding_gradients.py           # blows up within ten iterations
    python samples/exploding_gradients.py --fix     # trains
    python samples/exploding_gradients.py --steps 2
"""

from __future__ import annotations

import argparse
import math

import engine as torch
import engine.nn as nn
import engine.optim as optim

DEPTH = 6
WIDTH = 64


def load_data():
    """Diabetes features standardised per column, targets unscaled: ``(x (442, 10), y (442, 1))``."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    features = (data.data - data.data.mean(0)) / data.data.std(0)
    return (torch.tensor(features, dtype=torch.float32),
            torch.tensor(data.target, dtype=torch.float32).reshape(-1, 1))


def make_model(n_features: int) -> nn.Sequential:
    """``DEPTH`` hidden Linear+ReLU layers of ``WIDTH`` units and one output."""
    layers = []
    width_in = n_features
    for _ in range(DEPTH):
        layers += [nn.Linear(width_in, WIDTH), nn.ReLU()]
        width_in = WIDTH
    layers.append(nn.Linear(WIDTH, 1))
    return nn.Sequential(*layers)


def total_grad_norm(parameters) -> float:
    """The 2-norm of all gradients together (``math.hypot`` does not overflow)."""
    return math.hypot(*(p.grad.norm().item() for p in parameters if p.grad is not None))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true",
                        help="clip the total gradient norm to 1.0 before every step")
    parser.add_argument("--steps", type=int, default=200, help="number of optimizer iterations")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--max-norm", type=float, default=1.0, help="clipping threshold for --fix")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train full-batch; report the first non-finite loss or gradient instead of crashing."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    x, y = load_data()
    model = make_model(x.shape[1])
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    print(f"{DEPTH}-layer ReLU network, SGD lr={args.lr} momentum=0.9"
          + (f", gradients clipped to norm {args.max_norm}" if args.fix else ", no clipping"))

    exploded_at = None
    for step in range(1, args.steps + 1):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        norm = total_grad_norm(model.parameters())
        loss_value = loss.item()

        if not (math.isfinite(loss_value) and math.isfinite(norm)):
            exploded_at = step
            print(f"step {step:4d}  loss {loss_value:.4g}  gradient norm {norm:.4g}")
            print(f"the gradients exploded: loss {loss_value} and gradient norm {norm} "
                  f"at step {step}; stopping (try --fix, or a smaller --lr)")
            break
        if args.fix:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=args.max_norm)
        optimizer.step()

        if step <= 10 or step % 10 == 0 or step == args.steps:
            print(f"step {step:4d}  loss {loss_value:.4g}  gradient norm {norm:.4g}", flush=True)

    if exploded_at is None:
        print(f"finished {args.steps} steps, final loss {loss_value:.4g}")
    return {"exploded_at": exploded_at, "loss": loss_value, "grad_norm": norm}


if __name__ == "__main__":
    main()
