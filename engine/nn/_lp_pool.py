"""Power-average pooling ``lp_pool1d/2d/3d``: ``(sum over the window of x^p) ^ (1/p)``, the
composite of engine ops PyTorch uses (an average pool of ``x^p`` times the window size), so
the graph shows the same nodes."""

from __future__ import annotations

from ..ops import relu


def _lp(out, window, norm_type):
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def _sizes(kernel_size, n):
    return (kernel_size,) * n if isinstance(kernel_size, int) else tuple(kernel_size)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from ._pool import avg_pool1d
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, kernel_size, norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from ._pool import avg_pool2d
    kh, kw = _sizes(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, kh * kw, norm_type)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from ._pool3d import avg_pool3d
    kd, kh, kw = _sizes(kernel_size, 3)
    out = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, kd * kh * kw, norm_type)
