"""A gradient penalty: the gradient of a gradient, and the double-backward graph it builds.

"Double backpropagation" (Drucker & LeCun, 1992) trains a classifier to be insensitive
to small changes of its input by adding the squared norm of the loss's input gradient to
the loss:

    grad_x = autograd.grad(loss, x, create_graph=True)
    total  = loss + lambda * mean(|grad_x|^2)

``create_graph=True`` makes the first backward pass record its own operations as a
graph, so ``grad_x`` is a function of the weights that ``total.backward()`` can
differentiate again. WGAN-GP's gradient penalty is the same construction.

Under the debugger the backward graph of ``total`` holds two copies of the network's
backward: the ordinary one, and the nodes that differentiate the first backward pass
(``TanhBackwardBackward0``, ``MmBackward0`` of transposed weights, ...). The script
prints the node counts of both graphs at the first step.

Run it:
    python samples/higher_order.py
    python samples/higher_order.py --penalty 0     # no penalty: a single backward graph
    python samples/higher_order.py --steps 2
"""

from __future__ import annotations

import argparse

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.utils.data import DataLoader, TensorDataset

from samples.digits import load_digits_8x8, stratified_split


def load_data(seed: int = 0):
    """Flattened 8x8 digits, standardised per pixel: ``(train_x, train_y, test_x, test_y)``."""
    images, labels = load_digits_8x8()
    features = images.reshape(len(images), -1)
    train, test = stratified_split(labels, 0.2, seed)
    mean, std = features[train].mean(0), features[train].std(0) + 1e-3
    features = (features - mean) / std
    return (torch.tensor(features[train]), torch.tensor(labels[train]),
            torch.tensor(features[test]), torch.tensor(labels[test]))


def count_nodes(tensor) -> int:
    """Backward nodes reachable from ``tensor.grad_fn`` (each counted once)."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(fn for fn, _ in node.next_functions)
    return len(seen)


def penalised_loss(model, x, y, weight: float):
    """``(total, loss, penalty)``: cross-entropy plus ``weight`` times the input-gradient penalty."""
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    # per-sample input gradients: each sample's loss depends only on its own row of x,
    # so the gradient of the summed loss holds every sample's own gradient
    (grad_x,) = torch.autograd.grad(loss * x.shape[0], x, create_graph=True)
    penalty = grad_x.pow(2).sum(dim=1).mean()
    return loss + weight * penalty, loss, penalty


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--penalty", type=float, default=0.1,
                        help="weight of the input-gradient penalty (0 turns it off)")
    parser.add_argument("--steps", type=int, default=None,
                        help="stop after this many optimizer iterations (default: all epochs)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train with the penalty; print loss, penalty, test accuracy per epoch."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_data(args.seed)
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size, shuffle=True)
    model = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 32), nn.Tanh(),
                          nn.Linear(32, 10))
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    step = 0
    done = False
    for epoch in range(1, args.epochs + 1):
        for x, y in loader:
            optimizer.zero_grad()
            total, loss, penalty = penalised_loss(model, x, y, args.penalty)
            if step == 0:
                print(f"backward graph: {count_nodes(loss)} nodes for the loss alone, "
                      f"{count_nodes(total)} for loss + gradient penalty")
            (total if args.penalty else loss).backward()
            optimizer.step()
            step += 1
            if args.steps is not None and step >= args.steps:
                done = True
                break
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch:2d}  step {step:4d}  loss {loss.item():.4f}  "
              f"penalty {penalty.item():.4f}  test accuracy {100 * accuracy:5.1f}%", flush=True)
        if done:
            break
    return {"loss": loss.item(), "penalty": penalty.item(), "test_accuracy": accuracy,
            "steps": step}


if __name__ == "__main__":
    main()
