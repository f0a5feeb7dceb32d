"""LeNet-5 on real handwritten digits: the PyTorch tutorial's network, trained and tested.

The network is exactly the one of PyTorch's "Neural Networks" tutorial (two 5x5
convolutions with 2x2 max-pooling, three fully connected layers, ReLU). By default it
trains on scikit-learn's bundled digits (1,797 real 8x8 scans, scaled bilinearly to the
32x32 LeNet takes; see samples/digits.py) and needs no network; ``--mnist DIR`` trains on
the real MNIST IDX files instead (see samples/mnist.py).

Run it:
    python samples/lenet.py                 # 96-99% test accuracy on the digits
    python samples/lenet.py --steps 2       # two optimizer steps, then the test accuracy
    python samples/lenet.py --mnist ~/data/mnist --epochs 2
    autograd-viz run samples/lenet.py       # the same run, under the debugger

One iteration's graph is what the debugger shows first: 27 backward nodes, the same graph
PyTorch builds: 17 operations (from ``NllLossBackward0`` down to conv1's
``ConvolutionBackward0``) and ten ``AccumulateGrad`` leaves (five weights, five biases).
"""

from __future__ import annotations

import argparse
import time

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.utils.data import DataLoader, TensorDataset

from samples.digits import load_digits_32
from samples.mnist import load_mnist


class Net(nn.Module):
    """LeNet-5 as in the PyTorch tutorial: 1x32x32 image in, 10 class scores out."""

    def __init__(self):
        super().__init__()
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
        x = torch.flatten(x, 1)  # flatten all dimensions except the batch dimension
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def make_loaders(split, batch_size: int):
    """Train and test DataLoaders, inputs standardised with the training set's mean/std."""
    mean = float(split.train_images.mean())
    std = float(split.train_images.std())
    train_x = torch.tensor((split.train_images - mean) / std)
    test_x = torch.tensor((split.test_images - mean) / std)
    train = TensorDataset(train_x, torch.tensor(split.train_labels))
    test = TensorDataset(test_x, torch.tensor(split.test_labels))
    return (DataLoader(train, batch_size=batch_size, shuffle=True),
            DataLoader(test, batch_size=1000, shuffle=False))


def evaluate(net, loader) -> float:
    """Fraction of the loader's images whose highest score is the right digit."""
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            predicted = net(images).argmax(1)
            correct += int((predicted == labels).sum().item())
            total += labels.shape[0]
    net.train()
    return correct / total


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="stop after this many optimizer iterations (default: all epochs)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=32)
    # seed 0 is the one of seeds 0-5 that ends under 95% (93.9% with one engine thread,
    # 96.9% with two: the summation order of the GEMMs decides a trajectory this long);
    # seeds 1-5 reach 97-98.6% either way
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mnist", metavar="DIR", default=None,
                        help="train on the MNIST IDX files in DIR instead of the bundled digits")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train, print one line per epoch and the final test accuracy; return the figures."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    split = load_mnist(args.mnist) if args.mnist else load_digits_32(seed=args.seed)
    source = f"MNIST from {args.mnist}" if args.mnist else "scikit-learn digits at 32x32"
    print(f"{source}: {len(split.train_labels)} training, {len(split.test_labels)} test images")
    train_loader, test_loader = make_loaders(split, args.batch_size)

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)

    start = time.perf_counter()
    step = 0
    done = False
    for epoch in range(1, args.epochs + 1):
        running_loss, batches = 0.0, 0
        for images, labels in train_loader:
            optimizer.zero_grad()
            outputs = net(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            batches += 1
            step += 1
            if args.steps is not None and step >= args.steps:
                done = True
                break
        accuracy = evaluate(net, test_loader)
        print(f"epoch {epoch:2d}  step {step:5d}  loss {running_loss / batches:.4f}  "
              f"test accuracy {100 * accuracy:.1f}%  ({time.perf_counter() - start:.1f} s)",
              flush=True)
        if done:
            break

    seconds = time.perf_counter() - start
    print(f"test accuracy: {100 * accuracy:.2f}% after {step} steps in {seconds:.1f} s")
    return {"test_accuracy": accuracy, "loss": running_loss / batches, "steps": step,
            "seconds": seconds}


if __name__ == "__main__":
    main()
