"""The small U-Net (samples/models/unet.py) trained 5 steps on both libraries from one
state_dict: losses and every parameter equal; PyTorch's parameter names and backward graph
(GroupNorm, skip concatenation, bilinear interpolation, transposed convolution)."""

import sys
from pathlib import Path

import numpy as np
from _train_both import train_both

import engine
import torch
from samples.models import to_lib, unet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from _nn_parity import assert_same_dag  # noqa: E402 - the nn tests' DAG comparison

CONFIG = {k: v for k, v in unet.SMALL.items() if k not in ("batch", "image_size")}


def test_unet_trains_like_torch():
    ours, ref = train_both(unet.recipe, steps=5, rtol=2e-4, atol=2e-5)
    assert ours[-1] < ours[0]


def test_unet_names_and_graph_are_torchs():
    ref = unet.build_model(torch, **CONFIG)
    model = unet.build_model(engine, **CONFIG)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert repr(model) == repr(ref)
    images, _ = unet.synthetic_batch(0, 1, 8, CONFIG["num_classes"])
    out_e, out_t = model(to_lib(engine, images)), ref(to_lib(torch, images))
    assert tuple(out_e.shape) == (1, CONFIG["num_classes"], 8, 8)
    assert_same_dag(out_e, out_t, "unet")
    names = set()
    stack, seen = [out_e.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        names.add(n.name())
        stack.extend(f for f, _ in n.next_functions)
    assert {"NativeGroupNormBackward0", "UpsampleBilinear2DBackward0", "CatBackward0",
            "ConvolutionBackward0"} <= names


def test_unet_masks_depend_on_the_image():
    images, masks = unet.synthetic_batch(3, 2, 16, 3)
    assert images.dtype == np.float32 and masks.shape == (2, 16, 16)
    assert len(np.unique(masks)) == 3
