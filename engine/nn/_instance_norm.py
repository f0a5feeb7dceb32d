"""Instance normalisation: each (sample, channel) plane normalised over its own spatial
positions.

PyTorch computes it as a batch norm of the input viewed as one sample with ``N*C`` channels
(weight, bias and running statistics repeated ``N`` times), then views the result back, so its
graph is ``ViewBackward0 -> NativeBatchNormBackward0 -> (ViewBackward0, RepeatBackward0,
RepeatBackward0)``; this does the same with the engine's ``batch_norm``. The running
statistics, when given, are updated with the mean over the batch of the per-instance updates.
"""

from __future__ import annotations

from ..size import Size
from ._norm import batch_norm

__all__ = ["instance_norm"]


def _verify_spatial_size(shape):
    count = 1
    for s in shape[2:]:
        count *= s
    if count == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{Size(shape)!r}")


def _repeat(t, n):
    return None if t is None else t.repeat(n)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """``torch.nn.functional.instance_norm`` over (N, C, *) input."""
    shape = tuple(input.shape)
    if use_input_stats:
        _verify_spatial_size(shape)
    n, c = shape[0], shape[1]
    rm, rv = _repeat(running_mean, n), _repeat(running_var, n)
    out = batch_norm(input.contiguous().view(1, n * c, *shape[2:]), rm, rv,
                     _repeat(weight, n), _repeat(bias, n), use_input_stats, momentum, eps)
    for stat, rep in ((running_mean, rm), (running_var, rv)):
        if stat is not None:
            stat._data[...] = rep._data.reshape(n, c).mean(axis=0).astype(stat._data.dtype)
            stat._vc[0] += 1
    return out.view(*shape)
