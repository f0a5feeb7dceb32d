"""``engine.nn.functional``: the layers as functions (``F.relu``, ``F.cross_entropy``,
``F.conv2d`` ...), as in ``torch.nn.functional``.

Each function lives beside its backward node in a small private module (``_activation``,
``_loss``, ``_norm``, ``_linear``, ``_dropout``, ``_embedding``, ``_pad``, ``_rnn``,
``_conv``, ``_pool``); this module gathers them under PyTorch's names.
"""

from __future__ import annotations

from .. import ops as _ops
from ..ops import inplace as _inplace
from ._attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from ._activation import (elu, elu_, erf, gelu, hardtanh, leaky_relu, leaky_relu_,  # noqa
                          log_softmax, relu6, silu, softmax, softmin, softplus)
from ._dropout import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d  # noqa: F401
from ._embedding import embedding, one_hot  # noqa: F401
from ._linear import bilinear, linear  # noqa: F401
from ._loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                    cross_entropy, huber_loss, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from ._norm import batch_norm, layer_norm  # noqa: F401
from ._group_norm import group_norm  # noqa: F401
from ._instance_norm import instance_norm  # noqa: F401
from ._rms_norm import local_response_norm, rms_norm  # noqa: F401
from ._upsample import interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: F401
from ._pool3d import (adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool2d,  # noqa
                      adaptive_max_pool3d, avg_pool3d, max_pool3d, max_pool3d_with_indices)
from ._lp_pool import lp_pool1d, lp_pool2d, lp_pool3d  # noqa: F401
from ._pixel_shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle  # noqa: F401
from ._fold import fold, unfold  # noqa: F401
from ._grid_sample import affine_grid, grid_sample  # noqa: F401
from ._conv3d import conv3d, conv_transpose3d  # noqa: F401
from ._activation_more import (celu, celu_, glu, hardshrink, hardsigmoid, hardswish,  # noqa
                               logsigmoid, mish, prelu, selu, selu_, softshrink, softsign,
                               tanhshrink, threshold, threshold_)
from ._loss_more import (cosine_embedding_loss, cosine_similarity, gaussian_nll_loss,  # noqa
                         kl_div, margin_ranking_loss, multilabel_soft_margin_loss,
                         pairwise_distance, poisson_nll_loss, soft_margin_loss,
                         triplet_margin_loss)
from ._pad import pad  # noqa: F401
from . import _conv, _pool
from ._conv import conv1d, conv2d, conv_transpose2d  # noqa: F401
from ._pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401

# whatever else the convolution and pooling modules export (conv_transpose1d, max_pool1d, ...)
for _mod in (_conv, _pool):
    for _name in getattr(_mod, "__all__", ()):
        if _name[:1].islower() and _name not in globals():
            globals()[_name] = getattr(_mod, _name)
del _mod, _name


def relu(input, inplace=False):
    return _inplace.relu_(input) if inplace else _ops.relu(input)


def relu_(input):
    return _inplace.relu_(input)


def sigmoid(input):
    return _ops.sigmoid(input)


def tanh(input):
    return _ops.tanh(input)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    denom = _ops.norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


def flatten(input, start_dim=0, end_dim=-1):
    return _ops.flatten(input, start_dim, end_dim)
