"""A custom autograd Function: a straight-through estimator for rounding.

Rounding has a derivative of zero almost everywhere, so a network that quantises its
activations with ``torch.round`` sends no gradient to anything before the rounding: the
layers below never learn. The straight-through estimator (Bengio et al., 2013) rounds
in the forward pass and, in the backward pass, pretends the rounding was the identity
and passes the incoming gradient straight through.

``RoundSTE`` writes that as an ``engine.autograd.Function`` with a ``forward`` and a
``backward`` staticmethod; ``RoundSTE.apply(x)`` runs it. In the graph it appears as one
node named ``RoundSTEBackward`` (the class name plus "Backward", as PyTorch names custom
functions), between the sigmoid and the division below it.

The model: 64 pixels -> 32 hidden units squashed by a sigmoid and quantised to 2 bits
(levels 0, 1/3, 2/3, 1) -> 10 classes. ``--plain-round`` uses ``torch.round`` instead of
the estimator: the first layer's gradient is then exactly zero and only the last layer
learns.

Run it:
    python samples/custom_function.py
    python samples/custom_function.py --plain-round
    python samples/custom_function.py --steps 2
"""

from __future__ import annotations

import argparse

import engine as torch
import engine.nn as nn
import engine.optim as optim
from engine.utils.data import DataLoader, TensorDataset

from samples.digits import load_digits_8x8, stratified_split

LEVELS = 3  # 2-bit activations: round(3 * h) / 3 takes the values 0, 1/3, 2/3, 1


class RoundSTE(torch.autograd.Function):
    """Round to the nearest integer; backward passes the gradient through unchanged."""

    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class QuantizedMLP(nn.Module):
    """Linear -> sigmoid -> 2-bit quantisation -> Linear."""

    def __init__(self, straight_through: bool = True):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)
        self.straight_through = straight_through

    def forward(self, x):
        h = torch.sigmoid(self.fc1(x))
        if self.straight_through:
            h = RoundSTE.apply(h * LEVELS) / LEVELS
        else:
            h = torch.round(h * LEVELS) / LEVELS
        return self.fc2(h)


def load_data(seed: int = 0):
    """Flattened 8x8 digits, standardised per pixel: ``(train_x, train_y, test_x, test_y)``."""
    images, labels = load_digits_8x8()
    features = images.reshape(len(images), -1)
    train, test = stratified_split(labels, 0.2, seed)
    mean, std = features[train].mean(0), features[train].std(0) + 1e-3
    features = (features - mean) / std
    return (torch.tensor(features[train]), torch.tensor(labels[train]),
            torch.tensor(features[test]), torch.tensor(labels[test]))


def quantizer_node(logits) -> str:
    """The name of the node below fc2's input division: RoundSTEBackward or RoundBackward0.

    ``logits = fc2(h / LEVELS)``: walk AddmmBackward0 -> DivBackward0 -> its input.
    """
    addmm = logits.grad_fn
    div = next(fn for fn, _ in addmm.next_functions if fn is not None and "Div" in fn.name())
    below = next(fn for fn, _ in div.next_functions if fn is not None)
    return below.name()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain-round", action="store_true",
                        help="torch.round instead of the straight-through estimator")
    parser.add_argument("--steps", type=int, default=None,
                        help="stop after this many optimizer iterations (default: all epochs)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train the quantised MLP; print loss, test accuracy and the first layer's grad norm."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_data(args.seed)
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size, shuffle=True)
    model = QuantizedMLP(straight_through=not args.plain_round)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    step = 0
    done = False
    for epoch in range(1, args.epochs + 1):
        for x, y in loader:
            optimizer.zero_grad()
            logits = model(x)
            loss = criterion(logits, y)
            if step == 0:
                print(f"the quantised activations come from {quantizer_node(logits)} in the graph")
            loss.backward()
            fc1_grad = model.fc1.weight.grad.norm().item()
            optimizer.step()
            step += 1
            if args.steps is not None and step >= args.steps:
                done = True
                break
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch:2d}  step {step:4d}  loss {loss.item():.4f}  "
              f"test accuracy {100 * accuracy:5.1f}%  fc1 grad norm {fc1_grad:.3g}", flush=True)
        if done:
            break
    return {"loss": loss.item(), "test_accuracy": accuracy, "fc1_grad_norm": fc1_grad,
            "steps": step}


if __name__ == "__main__":
    main()
