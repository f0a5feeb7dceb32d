"""Trains one iteration, then raises: the GUI must show the traceback and stay up."""

import engine as torch
import engine.nn as nn


def broken_metric(loss):
    raise ValueError(f"metric exploded at loss {loss:.3f}")


model = nn.Linear(3, 1)
x, y = torch.randn(8, 3), torch.randn(8, 1)
loss = ((model(x) - y) ** 2).mean()
loss.backward()
broken_metric(loss.item())
