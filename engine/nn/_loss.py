"""Loss functions with PyTorch's nodes: ``MseLossBackward0``, ``SmoothL1LossBackward0``,
``HuberLossBackward0``, ``NllLossBackward0`` / ``NllLoss2DBackward0``,
``BinaryCrossEntropyBackward0``, ``BinaryCrossEntropyWithLogitsBackward0``; ``l1_loss`` and
``cross_entropy`` are compositions, built from the same nodes PyTorch builds them from.

Every loss is numerically stable (log-softmax subtracts the row max; BCE-with-logits uses
``log1p(exp(-|x|))``), so logits of 1000 give finite values and gradients. Backward
formulas are engine ops on the saved tensors (``create_graph`` works); NLL's gradient is a
constant coefficient array times the incoming gradient, which is exact to any order.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..backend import get_array_module
from ..ops import abs as abs_, clamp, exp, log1p, relu, sigmoid, where
from ..ops._core import Node, SavedTensor, link, make, needs_grad, promote_types
from ..tensor import Tensor
from ._activation import log_softmax

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "legacy_reduction"]

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, emit_warning=True):
    """The ``reduction`` string for the deprecated ``size_average``/``reduce`` pair."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "none" if not reduce else ("mean" if size_average else "sum")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce_array(a, reduction):
    if reduction == "none":
        return a
    xp = get_array_module(a)
    return xp.asarray(a.sum() if reduction == "sum" else a.mean(), dtype=a.dtype)


def _check_sizes(input, target, name):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _as_target(target, input):
    if not isinstance(target, Tensor):
        raise TypeError(f"expected Tensor as target, got {type(target).__name__}")
    return target


def _scale_for(reduction, numel):
    return 1.0 / max(numel, 1) if reduction == "mean" else 1.0


# ---------------------------------------------------------------- scalar mul / div nodes
class MulBackward1(Node):
    """``tensor * scalar`` as ATen's C++ code builds it inside composite losses."""
    __slots__ = ("other",)

    def backward(self, g):
        return g * self.other


class DivBackward1(Node):
    __slots__ = ("other",)

    def backward(self, g):
        return g / self.other


def _mul_scalar(t, s):
    r = make(get_array_module(t._data).asarray(t._data * s, dtype=t._data.dtype))
    if needs_grad(t):
        n = MulBackward1()
        n.other = s
        link(n, (t,), r)
    return r


def _div_scalar(t, s):
    r = make(get_array_module(t._data).asarray(t._data / s, dtype=t._data.dtype))
    if needs_grad(t):
        n = DivBackward1()
        n.other = s
        link(n, (t,), r)
    return r


# ---------------------------------------------------------------- regression losses
class _PairLossNode(Node):
    __slots__ = ("self_", "target", "reduction", "scale")
    _saved_names = ("self_", "target")

    def _grad_out(self, g):
        return g * self.scale if self.reduction != "none" else g

    def backward(self, g):
        d = self.derivative(self.unpack(self.self_), self.unpack(self.target))
        gd = d * self._grad_out(g)
        return (gd if self.needs(0) else None), (-gd if self.needs(1) else None)


class MseLossBackward0(_PairLossNode):
    __slots__ = ()

    def derivative(self, x, t):
        return (x - t) * 2.0


class SmoothL1LossBackward0(_PairLossNode):
    __slots__ = ("beta",)

    def derivative(self, x, t):
        d = x - t
        small = make(np.abs(d._data) < self.beta)
        return where(small, d / self.beta, clamp(d / self.beta, -1.0, 1.0))


class HuberLossBackward0(_PairLossNode):
    __slots__ = ("delta",)

    def derivative(self, x, t):
        d = x - t
        return clamp(d, -self.delta, self.delta)


def _pair_loss(cls, input, target, reduction, values_fn, **attrs):
    _check_reduction(reduction)
    target = _as_target(target, input)
    a, b = input._data, target._data
    if b.dtype != a.dtype:  # PyTorch's promotion: an integer target takes the input's dtype
        rd = promote_types(a.dtype, b.dtype)
        a, b = a.astype(rd, copy=False), b.astype(rd, copy=False)
    try:
        d = a - b
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({a.shape[-1]}) must match the size of tensor "
                           f"b ({b.shape[-1]}) at non-singleton dimension "
                           f"{max(a.ndim, b.ndim) - 1}") from None
    vals = values_fn(d)
    r = make(_reduce_array(vals.astype(d.dtype, copy=False), reduction))
    if needs_grad(input, target):
        n = cls()
        n.self_, n.target = SavedTensor(input), SavedTensor(target)
        n.reduction, n.scale = reduction, _scale_for(reduction, d.size)
        for k, v in attrs.items():
            setattr(n, k, v)
        link(n, (input, target), r)
    return r


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_sizes(input, target, "mse_loss")
    if weight is not None:
        d = input - target
        return _reduce_tensor(d * d * weight, reduction)
    return _pair_loss(MseLossBackward0, input, target, reduction, lambda d: d * d)


def _reduce_tensor(t, reduction):
    _check_reduction(reduction)
    if reduction == "none":
        return t
    return t.sum() if reduction == "sum" else t.mean()


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """``|input - target|`` reduced: PyTorch builds it from Sub, Abs and Mean/Sum nodes."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_sizes(input, target, "l1_loss")
    d = abs_(input - target)
    if weight is not None:
        d = d * weight
    return _reduce_tensor(d, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_sizes(input, target, "smooth_l1_loss")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)

    def values(d):
        z = np.abs(d)
        return np.where(z < beta, 0.5 * d * d / beta, z - 0.5 * beta)
    return _pair_loss(SmoothL1LossBackward0, input, target, reduction, values, beta=beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _check_sizes(input, target, "huber_loss")

    def values(d):
        z = np.abs(d)
        return np.where(z < delta, 0.5 * d * d, delta * (z - 0.5 * delta))
    r = _pair_loss(HuberLossBackward0, input, target, reduction if weight is None else "none",
                   values, delta=delta)
    return r if weight is None else _reduce_tensor(r * weight, reduction)


# ---------------------------------------------------------------- negative log likelihood
class NllLossBackward0(Node):
    """d(loss)/d(input) is ``coef * grad``: ``coef`` holds ``-weight[t]/total`` at each row's
    target (zeros elsewhere), built once in forward from the targets alone."""
    __slots__ = ("coef", "reduction", "class_dim")

    def backward(self, g):
        if self.reduction == "none" and g._data.ndim:
            g = g.unsqueeze(self.class_dim)
        return g * make(self.coef)


class NllLoss2DBackward0(NllLossBackward0):
    __slots__ = ()


def _check_target(target, input):
    t = target._data
    if t.dtype.kind not in "iu":
        names = {"float32": "Float", "float64": "Double", "bool": "Bool", "float16": "Half"}
        raise RuntimeError(f"expected scalar type Long but found {names.get(str(t.dtype), t.dtype)}")
    return t


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of the target class; input (C), (N, C) or (N, C, d1, ...)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    a = input._data
    t = _check_target(target, input)
    nd = a.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd >= 2 and (t.ndim == 0 or a.shape[0] != t.shape[0]):
        raise ValueError(f"Expected input batch_size ({a.shape[0]}) to match target batch_size "
                         f"({t.shape[0] if t.ndim else 0}).")
    if nd == 1 and t.size != 1:
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported")
    if nd == 2 and weight is None and reduction == "mean" and t.ndim == 1:
        r = _nll_mean_2d(input, a, t, ignore_index)
        if r is not None:
            return r
    if nd == 3 or nd > 4:  # ATen views these as 4-d and calls the 2-d kernel
        n, c = a.shape[:2]
        out_size = (n,) + a.shape[2:]
        x4 = input.contiguous().view(n, c, 1, -1)
        t4 = make(np.ascontiguousarray(t).reshape(n, 1, -1))
        r = nll_loss(x4, t4, weight, ignore_index=ignore_index, reduction=reduction)
        return r.view(out_size) if reduction == "none" else r
    C = a.shape[1] if nd >= 2 else a.shape[0]
    if nd == 1:
        rows = a.reshape(1, C)
        tt = t.reshape(1)
    else:
        if t.shape != (a.shape[0],) + a.shape[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(a.shape)}, target: "
                               f"{list(t.shape)})" if nd == 2 else
                               f"only batches of spatial targets supported (3D tensors) but got "
                               f"targets of size: : {list(t.shape)}")
        rows = np.moveaxis(a, 1, -1).reshape(-1, C) if nd > 2 else a
        tt = t.reshape(-1)
    valid = tt != ignore_index
    safe = np.where(valid, tt, 0) if not valid.all() else tt
    bad = (safe < 0) | (safe >= C)
    if bad.any():
        raise IndexError(f"Target {int(tt[bad][0])} is out of bounds.")
    if weight is not None:
        w_all = weight._data.astype(a.dtype, copy=False)
        if w_all.shape != (C,):
            raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                               f"classes but got weight tensor of shape: {list(w_all.shape)}")
        w = w_all[safe] * valid
    else:
        w = valid.astype(a.dtype)
    xp = get_array_module(a)
    ridx = xp.arange(rows.shape[0])
    losses = -rows[ridx, safe] * w
    if reduction == "none":
        out = losses.reshape(t.shape).astype(a.dtype, copy=False)
        scale = w
    else:
        total = w.sum(dtype=a.dtype)
        if reduction == "sum":
            out = xp.asarray(losses.sum(), dtype=a.dtype)
            scale = w
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                out = xp.asarray(losses.sum() / total, dtype=a.dtype)
            # every target ignored: the loss is nan (0/0) but the gradient is zero (PyTorch)
            scale = w / total if total != 0 else w
    r = make(out)
    if needs_grad(input):
        coef = xp.zeros(rows.shape, dtype=a.dtype)
        coef[ridx, safe] = -scale
        if nd == 1:
            coef = coef.reshape(C)
        elif nd > 2:
            coef = np.moveaxis(coef.reshape((a.shape[0],) + a.shape[2:] + (C,)), -1, 1)
        n = NllLoss2DBackward0() if nd == 4 else NllLossBackward0()
        n.coef, n.reduction, n.class_dim = coef, reduction, 1 if nd >= 2 else 0
        link(n, (input,), r)
    return r


def _nll_mean_2d(input, a, t, ignore_index):
    """The training-loop case (N, C) logits, class targets, no weights, mean, nothing
    ignored: a few array ops and one node. None when the general path is needed."""
    n, C = a.shape
    if n == 0 or t.min() < 0 or t.max() >= C or (ignore_index >= 0 and (t == ignore_index).any()):
        return None
    xp = get_array_module(a)
    ridx = xp.arange(n)
    r = make(xp.asarray(-a[ridx, t].sum() / n, dtype=a.dtype))
    if needs_grad(input):
        coef = xp.zeros(a.shape, dtype=a.dtype)
        coef[ridx, t] = -1.0 / n
        node = NllLossBackward0()
        node.coef, node.reduction, node.class_dim = coef, "mean", 1
        link(node, (input,), r)
    return r


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim, then NLL (class indices) or the soft-target sum
    (class probabilities, a float target shaped like the input)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 1 if input.ndim >= 2 else 0
    logp = log_softmax(input, cdim)
    C = input.shape[cdim]
    if target._data.dtype.kind == "f":
        return _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, cdim, C)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0.0:
        return loss
    # ATen's cross_entropy_loss_label_smoothing, node for node
    if weight is not None:
        shape = [1] * logp.ndim
        shape[cdim] = C
        smooth = -(logp * weight.view(shape)).sum(cdim)
    else:
        smooth = -logp.sum(cdim)
    ignore = make(target._data == ignore_index)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        keep = target._data != ignore_index
        if weight is not None:
            denom = make(weight._data[target._data[keep].reshape(-1)].sum().reshape(()))
        else:
            denom = make(keep.sum().reshape(()))
        ret = smooth.sum() / denom
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return _mul_scalar(loss, 1 - label_smoothing) + _mul_scalar(ret, label_smoothing / C)


def _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, cdim, C):
    if target.shape != logp.shape:
        raise RuntimeError(f"Expected target size {list(logp.shape)}, got {list(target.shape)}")
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + label_smoothing / C
    prod = logp * target
    if weight is not None:
        shape = [1] * logp.ndim
        shape[cdim] = C
        prod = prod * weight.view(shape)
    if reduction == "none":
        return -prod.sum(cdim)
    if reduction == "sum":
        return -prod.sum()
    batch = logp.numel() // C if logp.ndim >= 2 else 1
    return _div_scalar(-prod.sum(), batch)


# ---------------------------------------------------------------- binary cross entropy
class BinaryCrossEntropyBackward0(Node):
    __slots__ = ("self_", "target", "weight", "reduction", "scale")
    _saved_names = ("self_", "target")

    def backward(self, g):
        x = self.unpack(self.self_)
        t = self.unpack(self.target)
        if self.reduction != "none":
            g = g * self.scale
        if self.weight is not None:
            g = g * self.weight
        gx = gt = None
        if self.needs(0):
            gx = g * (x - t) / clamp((1 - x) * x, min=1e-12)
        if self.needs(1):
            from ..ops import log
            gt = g * (clamp(log(1 - x), min=-100.0) - clamp(log(x), min=-100.0))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    x, t = input._data, target._data.astype(input._data.dtype, copy=False)
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):
        lx = np.maximum(np.log(x), -100)
        l1x = np.maximum(np.log1p(-x), -100)
    vals = -(t * lx + (1 - t) * l1x)
    w = None
    if weight is not None:
        w = weight if weight.shape == input.shape else weight.expand(input.shape)
        vals = vals * w._data
    r = make(_reduce_array(vals.astype(x.dtype, copy=False), reduction))
    if needs_grad(input, target):
        n = BinaryCrossEntropyBackward0()
        n.self_, n.target = SavedTensor(input), SavedTensor(target)
        n.weight = w.detach() if w is not None else None
        n.reduction, n.scale = reduction, _scale_for(reduction, x.size)
        link(n, (input, target), r)
    return r


class BinaryCrossEntropyWithLogitsBackward0(Node):
    __slots__ = ("self_", "target", "weight", "pos_weight", "reduction", "scale")
    _saved_names = ("self_", "target")

    def backward(self, g):
        x = self.unpack(self.self_)
        t = self.unpack(self.target)
        if self.reduction != "none":
            g = g * self.scale
        if self.weight is not None:
            g = g * self.weight
        pw = self.pos_weight
        gx = gt = None
        if self.needs(0):
            if pw is None:
                gx = g * (sigmoid(x) - t)
            else:
                lw = (pw - 1) * t + 1
                gx = g * ((1 - t) - lw * sigmoid(-x))
        if self.needs(1):
            if pw is None:
                gt = g * -x
            else:
                sp = log1p(exp(-abs_(x))) + relu(-x)   # softplus(-x), stable
                gt = g * ((pw - 1) * sp - x)
        return gx, gt


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + BCE in one stable formula:
    ``(1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0))``."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    x, t = input._data, target._data.astype(input._data.dtype, copy=False)
    sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
    if pos_weight is not None:
        lw = 1 + (pos_weight._data - 1) * t
        vals = (1 - t) * x + lw * sp
    else:
        vals = (1 - t) * x + sp
    if weight is not None:
        vals = vals * weight._data
    r = make(_reduce_array(vals.astype(x.dtype, copy=False), reduction))
    if needs_grad(input, target):
        n = BinaryCrossEntropyWithLogitsBackward0()
        n.self_, n.target = SavedTensor(input), SavedTensor(target)
        n.weight = weight.detach() if weight is not None else None
        n.pos_weight = pos_weight.detach() if pos_weight is not None else None
        n.reduction, n.scale = reduction, _scale_for(reduction, x.size)
        link(n, (input, target), r)
    return r
