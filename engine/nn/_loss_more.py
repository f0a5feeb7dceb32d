"""More losses and distances, as composites of engine ops in the order PyTorch's own code
computes them (so the graph shows PyTorch's nodes): ``kl_div`` (reduction incl. 'batchmean',
``log_target``), ``cosine_similarity``, ``pairwise_distance`` (``NormBackward1``),
``cosine_embedding_loss``, ``margin_ranking_loss``, ``triplet_margin_loss``,
``gaussian_nll_loss``, ``poisson_nll_loss``, ``multilabel_soft_margin_loss``, and
``soft_margin_loss`` with its own ``SoftMarginLossBackward0``.

Where PyTorch's C++ adds a Python number with the Scalar overload the graph has
``AddBackward1`` / ``SubBackward1`` (``_scalar_nodes``); where it writes ``1 - t`` the number
becomes a constant tensor (``SubBackward0`` with an empty first edge).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops import log, where
from ..ops import arithmetic as _arith
from ..ops._core import Node, SavedTensor, broadcast_check, link, make, needs_grad, wrap_dim
from ..ops.inplace import _inplace_unary
from ..ops.reduction import LinalgVectorNormBackward0, vector_norm
from ..ops.unary import clamp_min
from ._activation_more import logsigmoid
from ._loss import _check_reduction, _reduce_array, legacy_reduction
from ._scalar_nodes import add_scalar, sub_scalar

__all__ = ["kl_div", "cosine_similarity", "pairwise_distance", "cosine_embedding_loss",
           "margin_ranking_loss", "triplet_margin_loss", "gaussian_nll_loss",
           "poisson_nll_loss", "multilabel_soft_margin_loss", "soft_margin_loss"]


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce, emit_warning=False)
    return reduction


def _apply_reduction(loss, reduction):
    """ATen's ``apply_loss_reduction``: mean / sum / none."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


#: ``t.clamp_min_(v)`` in place (``ClampMinBackward0``), as ATen's composites call it
_clamp_min_ = _inplace_unary(clamp_min)


def _constant(value, like):
    """A 0-d constant tensor of ``like``'s dtype (what C++ makes of a number in ``1 - t``)."""
    return make(np.asarray(value, dtype=like._data.dtype))


# ---------------------------------------------------------------- kl_div
class XlogyBackward0(Node):
    """``x * log(y)`` (0 where x is 0): d/dx = log(y) where x != 0, d/dy = x / y."""
    __slots__ = ("self_", "other")
    _saved_names = ("self_", "other")

    def backward(self, g):
        x, y = self.unpack(self.self_), self.unpack(self.other)
        gx = g * (make((x._data != 0).astype(x._data.dtype)) * log(y)) if self.needs(0) else None
        gy = g * x / y if self.needs(1) else None
        return gx, gy


def _xlogy(x, y):
    a, b = x._data, y._data
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(a == 0, 0, a * np.log(b)).astype(a.dtype, copy=False)
    r = make(out)
    if needs_grad(x, y):
        n = XlogyBackward0()
        n.self_, n.other = SavedTensor(x), SavedTensor(y)
        link(n, (x, y), r)
    return r


_KL_MEAN_WARNING = ("reduction: 'mean' divides the total loss by both the batch size and the "
                    "support size.'batchmean' divides only by the batch size, and aligns with the "
                    "KL div math definition.'mean' will be changed to behave the same as "
                    "'batchmean' in the next major release.")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """``target * (log target - input)`` (``input`` holds log-probabilities; ``target`` too when
    ``log_target``); ``reduction='batchmean'`` divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, emit_warning=False)
    elif reduction == "mean":
        warnings.warn(_KL_MEAN_WARNING, stacklevel=2)
    reduced_as = "sum" if reduction == "batchmean" else reduction
    _check_reduction(reduced_as)
    if log_target:
        out = target.exp() * (target - input)
    else:
        out = _xlogy(target, target) - target * input
    r = _apply_reduction(out, reduced_as)
    if reduction == "batchmean" and input.dim() != 0:
        r = r / input.shape[0]
    return r


# ---------------------------------------------------------------- distances
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1/|x1| * x2/|x2|)`` along ``dim``, each norm clamped below at ``eps`` without
    affecting the gradient (as PyTorch: the norms are cloned and clamped in place under
    no_grad)."""
    if tuple(x1.shape) != tuple(x2.shape):
        shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
        x1, x2 = x1.expand(*shape), x2.expand(*shape)      # both, as expand_outplace
    n1 = vector_norm(x1, 2, dim, True).clone()
    n2 = vector_norm(x2, 2, dim, True).clone()
    with no_grad():
        _clamp_min_(n1, eps)
        _clamp_min_(n2, eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


class NormBackward1(LinalgVectorNormBackward0):
    """``at::norm(x, p, dim, keepdim)``'s node (same formula as ``linalg.vector_norm``'s)."""
    __slots__ = ()


def _norm(x, p, dim, keepdim):
    with no_grad():
        r = vector_norm(x, p, dim, keepdim)
    if needs_grad(x):
        n = NormBackward1()
        n.self_, n.result = SavedTensor(x), SavedTensor(r, is_output=True)
        n.ord, n.axes, n.keepdim = p, (wrap_dim(dim, x.dim()),), keepdim
        link(n, (x,), r)
    return r


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim."""
    dim = max(x1.dim(), x2.dim()) - 1
    return _norm(add_scalar(x1 - x2, eps), p, dim, keepdim)


# ---------------------------------------------------------------- embedding / ranking losses
_EPSILON = 1e-12


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos`` where target is 1, ``max(0, cos - margin)`` where it is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    tdim = target.dim()
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if tdim == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(f"{tdim}D target tensor expects {want}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod_sum = (input1 * input2).sum(tdim)
    mag1 = add_scalar((input1 * input1).sum(tdim), _EPSILON)
    mag2 = add_scalar((input2 * input2).sum(tdim), _EPSILON)
    cos = prod_sum / (mag1 * mag2).sqrt_()
    zeros = make(np.zeros(cos._data.shape, dtype=cos._data.dtype))
    pos = _arith.sub(_constant(1, cos), cos)
    neg = _clamp_min_(sub_scalar(cos, margin), 0)
    out = where(target == 1, pos, zeros) + where(target == -1, neg, zeros)
    return _apply_reduction(out, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape!r}, input2: {input2.shape!r}, "
                           f"target: {target.shape!r} ")
    out = _clamp_min_(add_scalar(-target * (input1 - input2), margin), 0)
    return _apply_reduction(out, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with pairwise
    distances; ``swap`` uses the smaller of d(a, n) and d(p, n)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if not dims[0] == dims[1] == dims[2]:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from ..ops import minimum
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply_reduction((add_scalar(d_pos, margin) - d_neg).clamp_min(0), reduction)


# ---------------------------------------------------------------- likelihood losses
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``0.5 * (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` when ``full``),
    ``var`` clamped below at ``eps`` without affecting its gradient."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * make(np.ones(input._data.shape, dtype=input._data.dtype))
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape)[:-1] == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss += 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """``exp(input) - target * input`` (``log_input``) or ``input - target * log(input +
    eps)``; ``full`` adds Stirling's approximation of ``log(target!)`` where target > 1."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * log(add_scalar(input, eps))
    if full:
        stirling = target * log(target) - target + 0.5 * log(2 * math.pi * target)
        loss += stirling.masked_fill(target <= 1, 0)
    return _apply_reduction(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-class binary logistic loss averaged over the classes (last dim)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, emit_warning=False)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _apply_reduction(loss, reduction)


class SoftMarginLossBackward0(Node):
    """d/dx of ``log(1 + exp(-y x))``: ``-y * sigmoid(-y x)`` (over numel for 'mean')."""
    __slots__ = ("self_", "target", "reduction")
    _saved_names = ("self_", "target")

    def backward(self, g):
        from ..ops import sigmoid
        x, y = self.unpack(self.self_), self.unpack(self.target)
        d = -y * sigmoid(-y * x)
        if self.reduction == "mean":
            d = d / x.numel()
        return g * d


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))``, reduced."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if getattr(target, "_requires_grad", False) and needs_grad(target):
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect "
                           "to argument 'target'. This input cannot have requires_grad True.")
    a, t = input._data, target._data
    broadcast_check("soft_margin_loss", a, t)
    z = -t * a
    out = (np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0)).astype(a.dtype, copy=False)
    r = make(_reduce_array(out, reduction))
    if needs_grad(input):
        n = SoftMarginLossBackward0()
        n.self_, n.target, n.reduction = SavedTensor(input), SavedTensor(target), reduction
        link(n, (input,), r)
    return r
