"""Vanishing gradients: a deep sigmoid network whose first layers barely learn.

Backpropagation multiplies the gradient by every layer's local derivative on its way
down. The sigmoid's derivative is at most 0.25, and PyTorch's default ``nn.Linear``
initialisation keeps weights small, so each sigmoid layer shrinks the gradient several
times over: eight layers down, the first layer's weight gradient is orders of magnitude
smaller than the last layer's, and the first layers hardly move. The loss sits near
ln(10) = 2.30 for a long time.

``--fix`` swaps the sigmoids for ReLU and initialises the weights with Kaiming (He)
initialisation, which is designed to keep the gradient's scale constant from layer to
layer: the per-layer norms become comparable and the same network learns quickly.

The script prints each layer's weight-gradient norm (first to last) once per epoch;
under the debugger, the gradient-flow chart shows the same numbers as bars.
:func:`measure_grad_norms` returns them for the tests.

Run it:
    python samples/vanishing_gradients.py
    python samples/vanishing_gradients.py --fix
    python samples/vanishing_gradients.py --steps 2
"""

from __future__ import annotations

import argparse

import engine as torch
import engine.nn as nn
import engine.optim as optim
from engine.utils.data import DataLoader, TensorDataset

from samples.digits import load_digits_8x8, stratified_split

DEPTH = 8    # hidden layers
WIDTH = 64   # units per hidden layer (the digits have 64 pixels)


class DeepMLP(nn.Module):
    """``depth`` hidden Linear layers of ``width`` units, sigmoid (or ReLU with ``fix``)."""

    def __init__(self, depth: int = DEPTH, width: int = WIDTH, fix: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.out = nn.Linear(width, 10)
        self.act = nn.ReLU() if fix else nn.Sigmoid()
        if fix:
            for layer in self.layers:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return self.out(x)

    def weights(self):
        """The weight matrices, first layer to last (the output layer included)."""
        return [layer.weight for layer in self.layers] + [self.out.weight]


def load_data(seed: int = 0):
    """Flattened 8x8 digits, standardised per pixel: ``(train_x, train_y, test_x, test_y)``."""
    images, labels = load_digits_8x8()
    features = images.reshape(len(images), -1)
    train, test = stratified_split(labels, 0.2, seed)
    mean = features[train].mean(0)
    std = features[train].std(0) + 1e-3  # some border pixels are always blank
    features = (features - mean) / std
    return (torch.tensor(features[train]), torch.tensor(labels[train]),
            torch.tensor(features[test]), torch.tensor(labels[test]))


def grad_norms(model: DeepMLP) -> list:
    """Each weight's gradient norm, first layer to last."""
    return [w.grad.norm().item() for w in model.weights()]


def measure_grad_norms(fix: bool = False, seed: int = 0, batch_size: int = 256) -> list:
    """Per-layer weight-gradient norms of a freshly initialised network on one batch."""
    torch.manual_seed(seed)
    train_x, train_y, _, _ = load_data(seed)
    model = DeepMLP(fix=fix)
    loss = nn.CrossEntropyLoss()(model(train_x[:batch_size]), train_y[:batch_size])
    loss.backward()
    return grad_norms(model)


def format_norms(norms) -> str:
    return " ".join(f"{n:.1e}" for n in norms)


def ratio_text(norms) -> str:
    """How many times the last layer's gradient norm exceeds the first layer's."""
    if norms[0] == 0.0:
        return "inf (first layer's gradient is exactly zero)"
    return f"{norms[-1] / norms[0]:.1e}x"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="ReLU + Kaiming init instead of sigmoid")
    parser.add_argument("--steps", type=int, default=None,
                        help="stop after this many optimizer iterations (default: all epochs)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train; print per epoch the loss, test accuracy and per-layer gradient norms."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_data(args.seed)
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size, shuffle=True)

    model = DeepMLP(fix=args.fix)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    kind = "ReLU + Kaiming init" if args.fix else "sigmoid, default init"
    print(f"{DEPTH} hidden layers of {WIDTH} units, {kind}")
    print("gradient norms are listed first layer to last")

    step = 0
    done = False
    for epoch in range(1, args.epochs + 1):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            norms = grad_norms(model)
            optimizer.step()
            step += 1
            if args.steps is not None and step >= args.steps:
                done = True
                break
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch:2d}  step {step:4d}  loss {loss.item():.4f}  "
              f"test accuracy {100 * accuracy:5.1f}%  last/first {ratio_text(norms)}  "
              f"grad norms {format_norms(norms)}", flush=True)
        if done:
            break
    return {"loss": loss.item(), "test_accuracy": accuracy, "grad_norms": norms, "steps": step}


if __name__ == "__main__":
    main()
