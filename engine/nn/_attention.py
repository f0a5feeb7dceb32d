"""Attention: ``F.scaled_dot_product_attention`` and ``F.multi_head_attention_forward``.

``scaled_dot_product_attention`` takes the two routes PyTorch 2.13 takes on the CPU, so
the graph shows the nodes PyTorch's does:

- **Fused** (PyTorch's flash-attention kernel for the CPU): 4-D query, key and value with
  equal batch sizes, equal head counts (or ``enable_gqa`` with key and value heads
  dividing the query heads), one head size, non-empty sequences, unit last-dimension
  strides, no dropout, and a mask that is 2-D or 4-D, broadcastable over (batch, heads)
  and does not require grad. PyTorch computes this in one kernel; here it is one node of
  our own with PyTorch's name, ``ScaledDotProductFlashAttentionForCpuBackward0`` (inputs:
  query, key, value), forward on arrays and backward as the softmax-attention gradient
  written with engine ops. Its probabilities are kept for backward (PyTorch keeps the
  log-sum-exp and recomputes them, trading speed for memory). Under ``create_graph`` the
  backward rebuilds them from query and key with engine ops, so second derivatives are
  exact (PyTorch's flash backward has none).
- **Math** (``_scaled_dot_product_attention_math``), otherwise: ``q * sqrt(scale)``
  (``MulBackward1``), ``k^T * sqrt(scale)``, ``matmul``, the mask added in place
  (``AddBackward0``), ``_safe_softmax`` (``SafeSoftmaxBackward0``: rows with every
  position masked give zeros, not NaN), dropout (``MulBackward0``), ``matmul``.

PyTorch's own quirks are kept where they change results or errors: the fused route
combines an explicit mask with ``is_causal`` while the math route refuses the pair, and
the causal mask is aligned top-left (``tril`` of an L x S matrix of ones).

``multi_head_attention_forward`` follows ``torch.nn.functional`` line for line (packed or
separate input projections, ``bias_k``/``bias_v``, ``add_zero_attn``, key padding and
attention masks merged as float masks), with explicit ``baddbmm``/softmax/``bmm`` when
the weights are wanted and ``scaled_dot_product_attention`` when they are not.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import ops as _ops
from ..autograd.grad_mode import _state
from ..backend import get_array_module
from ..ops._core import Node, SavedTensor, link, make, needs_grad
from ..ops.linalg import _tn
from ..tensor import Tensor
from ._activation import softmax
from ._dropout import dropout
from ._linear import linear
from ._pad import pad

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_SCALAR_TYPE = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool"}


# ---------------------------------------------------------------- small nodes of the math route
class MulBackward1(Node):
    """``input * scalar`` where ATen multiplies by a C++ Scalar (``mul.Scalar``)."""
    __slots__ = ("other",)

    def backward(self, g):
        return g * self.other


def _mul_scalar(t, s):
    r = make(t._data * s)
    if needs_grad(t):
        n = MulBackward1()
        n.other = s
        link(n, (t,), r)
    return r


def _safe_softmax_array(a, dim):
    """softmax along ``dim``; rows where every entry is -inf give zeros (not NaN)."""
    xp = get_array_module(a)
    m = a.max(axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0).astype(a.dtype, copy=False)
    e = xp.exp(a - m)
    s = e.sum(axis=dim, keepdims=True)
    s[s == 0] = np.inf
    e /= s
    return e


class SafeSoftmaxBackward0(Node):
    """Softmax backward from the saved result (a fully masked row has result 0: no gradient)."""
    __slots__ = ("dim", "result")
    _saved_names = ("result",)

    def backward(self, g):
        y = self.unpack(self.result)
        if not _state.enabled:  # no graph to build: plain arrays
            yd = y._data
            gy = g._data * yd
            return make(gy - yd * gy.sum(axis=self.dim, keepdims=True))
        gy = g * y
        return gy - y * gy.sum(self.dim, keepdim=True)


def _safe_softmax(t, dim):
    d = dim % t.ndim
    r = make(_safe_softmax_array(t._data, d))
    if needs_grad(t):
        n = SafeSoftmaxBackward0()
        n.dim, n.result = d, SavedTensor(r, is_output=True)
        link(n, (t,), r)
    return r


# ---------------------------------------------------------------- argument checks
def _check_inputs(query, key, value, attn_mask, dropout_p):
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and "
                           f"value.dim: {value.ndim} instead.")
    qd = query._data.dtype
    if key._data.dtype != qd or value._data.dtype != qd:
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_tn(query)} key.dtype: {_tn(key)} and value.dtype: "
                           f"{_tn(value)} instead.")
    if attn_mask is not None:
        md = attn_mask._data.dtype
        if md != np.bool_ and md != np.float32 and md != qd:
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {_tn(attn_mask)} and  "
                               f"query.dtype: {_tn(query)} instead.")
    if qd.kind != "f":
        raise RuntimeError(f"expected scalar type Float but found {_SCALAR_TYPE.get(qd.name, qd.name)}")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")


def _fused_route(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Would PyTorch 2.13 pick its CPU flash kernel (``use_flash_attention_cpp``)?"""
    if dropout_p > 0.0 or query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        return False
    (b, hq, lq, e), (bk, hk, s, ek), (bv, hv, sv, ev) = query.shape, key.shape, value.shape
    if not b == bk == bv:
        return False
    if enable_gqa:
        if hk != hv or hk == 0 or hq % hk:
            return False
    elif not hq == hk == hv:
        return False
    if attn_mask is not None:
        if attn_mask._requires_grad:
            return False
        ms = attn_mask.shape
        if len(ms) < 2:  # PyTorch's shape check reads size(-2) first
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{max(len(ms), 1)}, {max(len(ms), 1) - 1}], but got -2)")
        if ms[-2] not in (lq, 1) or ms[-1] not in (s, 1):
            return False
        if len(ms) == 3 or len(ms) > 4:
            return False
        if len(ms) == 4 and (ms[0] not in (1, b) or ms[1] not in (1, hq)):
            return False
    if not e == ek == ev or s != sv:
        return False
    if lq == 0 or s == 0 or e == 0:
        return False
    return all(t.shape[-1] == 1 or t._data.strides[-1] == t._data.itemsize
               for t in (query, key, value))


def _float_mask(mask, dtype):
    """A bool mask (True = attend) as 0 / -inf in ``dtype``; a float mask as it is."""
    if mask is None or mask._data.dtype != np.bool_:
        return mask
    xp = get_array_module(mask._data)
    return make(xp.where(mask._data, dtype.type(0), dtype.type(-np.inf)))


def _causal_mask(l, s, like):
    """The top-left-aligned causal mask (L, S) as 0 / -inf in ``like``'s dtype."""
    xp = get_array_module(like)
    return xp.triu(xp.full((l, s), -np.inf, dtype=like.dtype), 1)


# ---------------------------------------------------------------- fused route
def _group(q, k, v, hk):
    """View query as (B, Hk, G, L, E) and key/value as (B, Hk, 1, S, E) so G query heads
    share one key/value head (grouped-query attention); plain heads have G = 1."""
    b, hq, l, e = q.shape
    if hq == hk:
        return q, k, v
    return (q.reshape(b, hk, hq // hk, l, e), k.reshape(b, hk, 1, *k.shape[2:]),
            v.reshape(b, hk, 1, *v.shape[2:]))


def _group_mask(m, ndim, hk):
    """A (B|1, H|1, L|1, S|1) mask laid out like the grouped scores (B, Hk, G, L, S)."""
    if ndim == 4 or m.ndim == 2:
        return m
    return m[:, :, None] if m.shape[1] == 1 else m.reshape(m.shape[0], hk, -1, *m.shape[2:])


class ScaledDotProductFlashAttentionForCpuBackward0(Node):
    """Gradients of ``softmax(q k^T * scale + mask) v`` w.r.t. query, key and value.

    ``probs`` are the attention probabilities of the forward pass; under ``create_graph``
    they are recomputed from query and key with engine ops (so the result differentiates
    again). Key and value gradients of grouped heads are summed over their group.
    """
    __slots__ = ("query", "key", "value", "output", "logsumexp", "probs", "attn_mask",
                 "dropout_p", "is_causal", "scale", "scale_value")
    _saved_names = ("query", "key", "value", "output", "logsumexp", "probs", "attn_mask")

    def _probs_with_graph(self, q, k):
        s = _ops.matmul(q, k.transpose(-2, -1)) * self.scale_value
        if self.attn_mask is not None:
            s = s + make(_group_mask(self.unpack(self.attn_mask)._data, s.ndim, k.shape[1]))
        if self.is_causal:
            s = s + make(_causal_mask(s.shape[-2], s.shape[-1], s._data))
        return _safe_softmax(s, -1)

    def backward(self, g):
        q, k, v = self.unpack(self.query), self.unpack(self.key), self.unpack(self.value)
        b, hq, l, e = q.shape
        hk = k.shape[1]
        qg, kg, vg = _group(q, k, v, hk)
        p = self._probs_with_graph(qg, kg) if _state.enabled else self.unpack(self.probs)
        gg = g.reshape(qg.shape[:-1] + (v.shape[-1],)) if hq != hk else g
        gq = gk = gv = None
        if self.needs(2):
            gv = _ops.matmul(p.transpose(-2, -1), gg)
            gv = gv.sum(2) if hq != hk else gv
        if self.needs(0) or self.needs(1):
            gp = _ops.matmul(gg, vg.transpose(-2, -1))
            gs = p * (gp - (gp * p).sum(-1, keepdim=True))
            gs = gs * self.scale_value
            if self.needs(0):
                gq = _ops.matmul(gs, kg).reshape(q.shape)
            if self.needs(1):
                gk = _ops.matmul(gs.transpose(-2, -1), qg)
                gk = gk.sum(2) if hq != hk else gk
        return gq, gk, gv


def _sdpa_fused(query, key, value, attn_mask, is_causal, scale):
    q, k, v = query._data, key._data, value._data
    hk = k.shape[1]
    scale_value = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    xp = get_array_module(q)
    qg, kg, vg = _group(q, k, v, hk)
    s = qg @ xp.swapaxes(kg, -1, -2)
    s *= s.dtype.type(scale_value)
    mask = _float_mask(attn_mask, q.dtype)
    if mask is not None:
        s += _group_mask(mask._data, s.ndim, hk)
    if is_causal:
        s += _causal_mask(s.shape[-2], s.shape[-1], s)
    mx = s.max(axis=-1, keepdims=True)
    mx = xp.where(xp.isfinite(mx), mx, 0).astype(s.dtype, copy=False)
    s -= mx
    p = xp.exp(s, out=s)
    denom = p.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        lse = (xp.log(denom) + mx)[..., 0]
    denom[denom == 0] = np.inf
    p /= denom
    out = p @ vg
    if out.ndim == 5:
        out = out.reshape(q.shape[:-1] + (v.shape[-1],))
    if not q.flags.c_contiguous:
        # PyTorch's kernel writes the output in the query's memory layout: multi-head
        # attention's (L, N, heads, E) layout then reshapes as a view, not a copy
        laid = xp.empty_like(q, order="K")
        laid[...] = out
        out = laid
    r = make(out)
    if needs_grad(query, key, value):
        n = ScaledDotProductFlashAttentionForCpuBackward0()
        n.query, n.key, n.value = SavedTensor(query), SavedTensor(key), SavedTensor(value)
        n.output = SavedTensor(r, is_output=True)
        n.logsumexp = SavedTensor(make(lse.reshape(q.shape[:-1])))
        n.probs = SavedTensor(make(p))
        n.attn_mask = SavedTensor(mask) if mask is not None else None
        n.dropout_p, n.is_causal, n.scale, n.scale_value = 0.0, bool(is_causal), scale, scale_value
        link(n, (query, key, value), r)
    return r


# ---------------------------------------------------------------- math route
def _repeat_heads(t, repeats):
    """``t.repeat_interleave(repeats, -3)`` as ATen decomposes it (expand, clone, view)."""
    shape = t.shape
    u = t.unsqueeze(-3)
    u = u.expand(shape[:-3] + (shape[-3], repeats) + shape[-2:])
    return u.contiguous().reshape(shape[:-3] + (shape[-3] * repeats,) + shape[-2:])


def _gqa(query, key, value, enable_gqa):
    if not enable_gqa:
        return key, value
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq == hk == hv:
        return key, value
    if not (hk > 0 and hq % hk == 0 and hv > 0 and hq % hv == 0):
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    return _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hv)


def _sdpa_math(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    negative = scale is not None and scale < 0
    base = 1.0 / math.sqrt(query.shape[-1]) if scale is None else abs(scale)
    factor = math.sqrt(base)
    q = _mul_scalar(query, -factor if negative else factor)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        attn_mask = make(_causal_mask(query.shape[-2], key.shape[-2], query._data))
    key, value = _gqa(query, key, value, enable_gqa)
    attn = _ops.matmul(q, _mul_scalar(key.transpose(-2, -1), factor))
    if attn_mask is not None:
        attn = attn.add_(_float_mask(attn_mask, query._data.dtype))
    attn = _safe_softmax(attn, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return _ops.matmul(attn, value)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(q k^T * scale + mask) v`` over the last two dimensions.

    ``attn_mask``: bool (True = take part in attention) or float (added to the scores),
    broadcastable to (..., L, S). ``is_causal``: each query position i attends to key
    positions j <= i. ``scale`` defaults to ``1 / sqrt(E)``. Dropout on the attention
    probabilities is applied whenever ``dropout_p > 0`` (PyTorch's function has no training
    flag). With ``enable_gqa``, key and value may have fewer heads (dim -3) than query,
    each shared by a group of query heads. Which graph this builds: see the module doc.
    """
    _check_inputs(query, key, value, attn_mask, dropout_p)
    if _fused_route(query, key, value, attn_mask, dropout_p, enable_gqa):
        return _sdpa_fused(query, key, value, attn_mask, is_causal, scale)
    return _sdpa_math(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


# ---------------------------------------------------------------- multi-head attention
class BaddbmmBackward0(Node):
    """``beta * input + alpha * (batch1 @ batch2)``; the input's gradient is reduced to its
    (broadcast) shape by the engine."""
    __slots__ = ("batch1", "batch2", "alpha", "beta")
    _saved_names = ("batch1", "batch2")

    def backward(self, g):
        gi = (g if self.beta == 1 else g * self.beta) if self.needs(0) else None
        g1 = g2 = None
        if self.needs(1):
            g1 = _ops.bmm(g, self.unpack(self.batch2).transpose(1, 2))
            g1 = g1 if self.alpha == 1 else g1 * self.alpha
        if self.needs(2):
            g2 = _ops.bmm(self.unpack(self.batch1).transpose(1, 2), g)
            g2 = g2 if self.alpha == 1 else g2 * self.alpha
        return gi, g1, g2


def _baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``torch.baddbmm`` as multi-head attention uses it (the mask plus the scores)."""
    if not input._data.dtype == batch1._data.dtype == batch2._data.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_tn(input)}, batch1: "
                           f"{_tn(batch1)}, batch2: {_tn(batch2)}")
    prod = _ops.bmm(batch1.detach(), batch2.detach())._data
    if alpha != 1:
        prod *= alpha
    prod += input._data if beta == 1 else input._data * beta
    r = make(prod)
    if needs_grad(input, batch1, batch2):
        n = BaddbmmBackward0()
        n.batch1 = SavedTensor(batch1) if batch2._requires_grad else None
        n.batch2 = SavedTensor(batch2) if batch1._requires_grad else None
        n.alpha, n.beta = alpha, beta
        link(n, (input, batch1, batch2), r)
    return r


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked out) as a float mask of ``target_type`` (0 / -inf); a
    float mask as it is. Other dtypes are refused, as in PyTorch."""
    if mask is None:
        return None
    kind = mask._data.dtype.kind
    if kind != "b" and kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=2)
    if kind == "b":
        xp = get_array_module(mask._data)
        dt = target_type.np
        return make(xp.where(mask._data, dt.type(-np.inf), dt.type(0)))
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Is the input batched (3-D) or not (2-D)? PyTorch's checks and messages."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v through one (3E, E) weight: one ``linear`` for self-attention, two for
    encoder-decoder attention (key is value), three otherwise (PyTorch's graph in each)."""
    e = q.shape[-1]
    if k is v:
        if q is k:
            proj = linear(q, w, b)
            proj = proj.unflatten(-1, (3, e)).unsqueeze(0).transpose(0, -2).squeeze(-2)
            proj = proj.contiguous()
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([e, e * 2])
        b_q, b_kv = (None, None) if b is None else b.split([e, e * 2])
        kv = linear(k, w_kv, b_kv).unflatten(-1, (2, e)).unsqueeze(0).transpose(0, -2)
        kv = kv.squeeze(-2).contiguous()
        return linear(q, w_q, b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """q, k, v through their own weights (``kdim``/``vdim`` differ from ``embed_dim``)."""
    eq, ek, ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, t, shape in (("query weights", w_q, (eq, eq)), ("key weights", w_k, (eq, ek)),
                           ("value weights", w_v, (eq, ev)), ("query bias", b_q, (eq,)),
                           ("key bias", b_k, (eq,)), ("value bias", b_v, (eq,))):
        if t is not None and tuple(t.shape) != shape:
            raise AssertionError(f"expecting {name} shape of {shape}, but got {t.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _check_attn_mask_size(attn_mask, tgt_len, src_len, bsz, num_heads):
    """``attn_mask`` as (1 or N*heads, L, S), checked against the input."""
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                               f"be {(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.ndim == 3:
        if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                               f"be {(bsz * num_heads, tgt_len, src_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")


def _static_kv(static, name, bsz, num_heads, head_dim):
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """The forward pass of ``nn.MultiheadAttention`` on sequence-first inputs (L, N, E) or
    unbatched (L, E); returns ``(output, weights or None)``.

    With ``need_weights`` the attention is written out (scaled query, ``baddbmm`` with the
    mask or ``bmm``, softmax, dropout, ``bmm``), so the weights can be returned, averaged
    over heads when ``average_attn_weights``; a row with every key masked is NaN there, as
    in PyTorch. Without, it goes through ``scaled_dot_product_attention`` (such rows give
    zeros). ``is_causal`` needs ``attn_mask`` (the causal mask it hints at) and is only
    used as a hint where no padding mask or weights are asked for.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None    # SDPA applies the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False   # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight,
                                 b_q, b_k, b_v)

    if attn_mask is not None:
        attn_mask = _check_attn_mask_size(attn_mask, tgt_len, src_len, bsz, num_heads)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _ops.cat([k, bias_k.repeat(1, bsz, 1)])
        v = _ops.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # heads into the batch: (L, N, E) -> (N * heads, L, head_dim)
    q = q.view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.view(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None
         else _static_kv(static_k, "static_k", bsz, num_heads, head_dim))
    v = (v.view(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None
         else _static_kv(static_v, "static_v", bsz, num_heads, head_dim))
    if add_zero_attn:
        zeros = make(get_array_module(k._data).zeros((bsz * num_heads, 1, head_dim),
                                                      dtype=k._data.dtype))
        k = _ops.cat([k, zeros], 1)
        v = _ops.cat([v, zeros.clone()], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len) \
            .expand(-1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        e = q.shape[-1]
        q_scaled = q * math.sqrt(1.0 / float(e))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            weights = _baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = _ops.bmm(q_scaled, k.transpose(-2, -1))
        weights = softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = _ops.bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.shape[1])
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.shape[1])
    if not is_batched:
        out = out.squeeze(1)
    return out, None
