"""Shape mismatch: a forward pass that skips a layer, and the error that says so.

``SimpleNet`` is the network of PyTorch's earlier "Neural Networks" tutorial: two 3x3
convolutions with 2x2 max-pooling, then three fully connected layers. For a 32x32 image
the feature map shrinks 32 -> 30 (conv1) -> 15 (pool) -> 13 (conv2) -> 6 (pool), so
``fc1`` is built for ``16 * 6 * 6 = 576`` inputs. This ``forward`` forgets the second
convolution stage (a line lost while editing), so ``fc1`` receives the 6x15x15 maps of
the first stage, flattened to ``6 * 15 * 15 = 1350`` features, and the matrix product
inside it fails:

    RuntimeError: mat1 and mat2 shapes cannot be multiplied (16x1350 and 576x120)

Read it as: the input batch is 16 x 1350, ``fc1.weight.T`` is 576 x 120; the inner
sizes (1350 and 576) must agree. 1350 = 6*15*15 names the tensor that arrived.

By design the script does not catch the error: it exits with the traceback (exit code
1), which points at the ``self.fc1(x)`` line; under the debugger the GUI shows the
exception the same way, with the graph built so far. ``--fix`` runs the complete
forward pass and trains on the digits, to show the same network working.

Run it:
    python samples/shape_mismatch.py          # RuntimeError: mat1 and mat2 shapes ...
    python samples/shape_mismatch.py --fix    # trains
"""

from __future__ import annotations

import argparse

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.utils.data import DataLoader, TensorDataset

from samples.digits import load_digits_32


class SimpleNet(nn.Module):
    """The tutorial's 3x3-convolution LeNet, with the second conv stage missing in forward."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 6 * 6, 120)  # 6*6 from the image dimension after conv2+pool
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


class FixedNet(SimpleNet):
    """The same layers with the forward pass the tutorial has."""

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="apply conv2 in forward, as it should")
    parser.add_argument("--steps", type=int, default=None,
                        help="stop after this many optimizer iterations (default: all epochs)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train SimpleNet; without ``--fix`` the first forward pass raises the shape error."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    split = load_digits_32(seed=args.seed)
    train = TensorDataset(torch.tensor(split.train_images), torch.tensor(split.train_labels))
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True)

    net = FixedNet() if args.fix else SimpleNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)

    step = 0
    for epoch in range(1, args.epochs + 1):
        total, batches = 0.0, 0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(net(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
            step += 1
            if args.steps is not None and step >= args.steps:
                break
        print(f"epoch {epoch}  step {step:4d}  loss {total / batches:.4f}", flush=True)
        if args.steps is not None and step >= args.steps:
            break
    return {"loss": total / batches, "steps": step}


if __name__ == "__main__":
    main()
