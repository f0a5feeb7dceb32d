"""NaN hunt: a hand-written loss with a hidden log(0) that turns the gradients NaN.

A small classifier learns the 8x8 digits with a cross-entropy written by hand, the way
it is often first written: softmax, then log, then the dot product with the one-hot
target. It trains well for a while (SGD with momentum, accuracy past 90%). But the
pixels are fed unscaled (0..16), so the logits are large and swing widely from step to
step, and once a wrong class's probability underflows float32 to exactly 0,
``torch.log(probs)`` returns ``-inf`` there. The one-hot target is 0 at that class, and
``0 * -inf`` is NaN: the loss is NaN, and in the backward pass ``LogBackward0`` divides
a zero gradient by a zero probability and sends NaN into every parameter. One step
later all the weights would be NaN.

Under the debugger with break-on-non-finite (the GUI's breakpoint, or
``autograd-viz record samples/nan_hunt.py -o nan.avz --break-on nonfinite``) the run
stops at the first NaN and names the node that first produced a non-finite value,
``LogBackward0``, with its forward line: the ``torch.log`` call in
:func:`soft_target_cross_entropy`. The fix is ``F.log_softmax(logits, dim=1)`` (or
``nn.CrossEntropyLoss``), which never computes log(0); ``--fix`` uses it.

Headless, the script reports the first iteration whose loss or gradients are not finite
and stops.

Run it:
    python samples/nan_hunt.py            # NaN after a few hundred iterations
    python samples/nan_hunt.py --fix
    autograd-viz run samples/nan_hunt.py  # then: break on non-finite values
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.utils.data import DataLoader, TensorDataset

from samples.digits import load_digits_8x8


def soft_target_cross_entropy(logits, targets):
    """Cross-entropy against (one-hot or soft) target distributions, written out by hand."""
    probs = F.softmax(logits, dim=1)
    log_probs = torch.log(probs)  # log(0) = -inf once a probability underflows to 0
    return -(targets * log_probs).sum(dim=1).mean()


def soft_target_cross_entropy_fixed(logits, targets):
    """The same loss with ``log_softmax``, which stays finite for any logits."""
    log_probs = F.log_softmax(logits, dim=1)
    return -(targets * log_probs).sum(dim=1).mean()


def load_data():
    """All 1,797 digits as raw 0..16 pixel rows (no scaling: part of the trap) and one-hot targets."""
    images, labels = load_digits_8x8()
    pixels = images.reshape(len(images), -1) * np.float32(16.0)
    one_hot = np.eye(10, dtype=np.float32)[labels]
    return torch.tensor(pixels), torch.tensor(one_hot), torch.tensor(labels)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="use log_softmax instead of log(softmax)")
    parser.add_argument("--steps", type=int, default=1000, help="number of optimizer iterations")
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train until the loss or a gradient stops being finite; report that iteration."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    pixels, one_hot, labels = load_data()
    loader = DataLoader(TensorDataset(pixels, one_hot), batch_size=args.batch_size, shuffle=True)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = soft_target_cross_entropy_fixed if args.fix else soft_target_cross_entropy

    step = 0
    nan_at = None
    while step < args.steps and nan_at is None:
        for x, targets in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), targets)
            loss.backward()
            step += 1
            bad = [name for name, p in model.named_parameters()
                   if not bool(torch.isfinite(p.grad).all())]
            if bad or not math.isfinite(loss.item()):
                nan_at = step
                print(f"step {step:4d}  loss {loss.item()}  non-finite gradients in: "
                      f"{', '.join(bad) or 'none'}")
                print(f"NaN at step {step}: the loss took log(0) (see soft_target_cross_entropy); "
                      "stopping (try --fix)")
                break
            optimizer.step()
            if step % 20 == 0 or step == args.steps:
                with torch.no_grad():
                    accuracy = (model(pixels).argmax(1) == labels).float().mean().item()
                print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {100 * accuracy:.1f}%",
                      flush=True)
            if step >= args.steps:
                break
    if nan_at is None:
        print(f"finished {step} steps with finite gradients, final loss {loss.item():.4f}")
    return {"nan_at": nan_at, "steps": step, "loss": loss.item()}


if __name__ == "__main__":
    main()
