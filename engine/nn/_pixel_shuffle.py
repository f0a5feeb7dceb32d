"""Channel rearrangements: ``pixel_shuffle`` / ``pixel_unshuffle`` (depth to space and back)
and ``channel_shuffle``. Each is a permutation, so a linear map (``_linear_map``) whose
backward is the inverse permutation -- as PyTorch's, whose gradient of ``pixel_shuffle`` is a
``pixel_unshuffle`` (``PixelUnshuffleBackward0`` in a double-backward graph) and of
``channel_shuffle`` another channel shuffle."""

from __future__ import annotations

from ._linear_map import linear_map

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]


def _shuffle(a, r):
    *lead, c, h, w = a.shape
    x = a.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def _unshuffle(a, r):
    *lead, c, h, w = a.shape
    x = a.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def _check_dims(op, input):
    if input.dim() < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {input.dim()} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r), as ``torch.nn.functional.pixel_shuffle``."""
    _check_dims("pixel_shuffle", input)
    r = int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    return linear_map(input, lambda a: _shuffle(a, r), lambda g: _unshuffle(g, r),
                      "PixelShuffleBackward0", {"upscale_factor": r},
                      twin="PixelUnshuffleBackward0")


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W), as ``torch.nn.functional.pixel_unshuffle``."""
    _check_dims("pixel_unshuffle", input)
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    h, w = input.shape[-2], input.shape[-1]
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({dim})={size} is not "
                               f"divisible by {r}")
    return linear_map(input, lambda a: _unshuffle(a, r), lambda g: _shuffle(g, r),
                      "PixelUnshuffleBackward0", {"downscale_factor": r},
                      twin="PixelShuffleBackward0")


def _channel_shuffle(a, groups):
    n, c = a.shape[:2]
    rest = a.shape[2:]
    return a.reshape(n, groups, c // groups, *rest).swapaxes(1, 2).reshape(a.shape)


def channel_shuffle(input, groups):
    """Interleave the channels of (N, C, *) input from ``groups`` groups (ShuffleNet's
    shuffle), as ``torch.nn.functional.channel_shuffle``."""
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    return linear_map(input, lambda a: _channel_shuffle(a, groups),
                      lambda g: _channel_shuffle(g, c // groups), "ChannelShuffleBackward0",
                      {"groups": groups}, twin="ChannelShuffleBackward0")
