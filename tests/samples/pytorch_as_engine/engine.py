"""``import engine`` gives real PyTorch: put this folder first on PYTHONPATH to run a sample
on PyTorch instead of our engine (tests/samples/test_samples_on_pytorch.py does).

The samples import ``engine``, ``engine.nn``, ``engine.nn.functional``, ``engine.optim``,
``engine.utils.data`` and ``engine.autograd``; each name is bound to the PyTorch module
of the same path, so a sample that runs here is plain PyTorch code.
"""

import importlib
import sys

import torch

for _name in ("nn", "nn.functional", "nn.init", "nn.utils", "optim", "utils", "utils.data",
              "autograd"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"torch.{_name}")
sys.modules[__name__] = torch
