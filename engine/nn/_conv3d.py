"""3-D convolutions: ``conv3d`` and ``conv_transpose3d`` with PyTorch's
``ConvolutionBackward0`` (inputs: input, weight, bias), written once for any number of
spatial dims (only the 3-D forms are exported; 1-D and 2-D live in ``_conv.py``).

Forward is im2col plus one batched GEMM per group: the windows of the padded input are one
strided view (N, C, *kernel, *out), copied into columns (N, G, C/G * K, O) and multiplied by
the weight (G, Co/G, C/G * K). Backward: grad_weight by a GEMM against the columns kept from
the forward pass, grad_input by the transposed GEMM and a col2im that adds one slice per
kernel offset, grad_bias by a sum. A transposed convolution is the same pair the other way
round. As for the 2-D convolution, double backward is not supported (the gradients are array
kernels): ``create_graph=True`` through this node raises.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..autograd.grad_mode import _state
from ..backend import get_array_module
from ..ops._core import Node, SavedTensor, link, make, needs_grad
from ..tensor import Tensor
from ._conv import (_DOUBLE_BACKWARD, _check_common, _check_dtypes, _same_padding, _size_str,
                    _tuple, _unbatched)

__all__ = ["conv3d", "conv_transpose3d"]


# ---------------------------------------------------------------- array kernels
def _pad(x, padding):
    if not any(padding):
        return x
    xp = get_array_module(x)
    out = xp.zeros(x.shape[:2] + tuple(s + 2 * p for s, p in zip(x.shape[2:], padding)),
                   dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(p, p + s) for s, p in
                                           zip(x.shape[2:], padding))] = x
    return out


def _columns(xpad, kernel, stride, dilation, out, groups):
    """(N, G, C/G * K, O): every window of ``xpad`` (N, C, *padded) as a column."""
    xp = get_array_module(xpad)
    n, c = xpad.shape[:2]
    st = xpad.strides
    view = xp.lib.stride_tricks.as_strided(
        xpad, (n, c) + tuple(kernel) + tuple(out),
        st[:2] + tuple(s * d for s, d in zip(st[2:], dilation))
        + tuple(s * k for s, k in zip(st[2:], stride)))
    k = int(np.prod(kernel))
    return xp.ascontiguousarray(view).reshape(n, groups, (c // groups) * k, -1)


def _col2im(cols, channels, padded, kernel, stride, dilation, out):
    """Adjoint of ``_columns``: (N, G, C/G * K, O) summed back into (N, C, *padded)."""
    xp = get_array_module(cols)
    n = cols.shape[0]
    cv = cols.reshape((n, channels) + tuple(kernel) + tuple(out))
    acc = xp.zeros((n, channels) + tuple(padded), dtype=cols.dtype)
    for off in itertools.product(*(range(k) for k in kernel)):
        window = tuple(slice(j * d, j * d + (o - 1) * s + 1, s)
                       for j, d, o, s in zip(off, dilation, out, stride))
        acc[(slice(None), slice(None)) + window] += cv[(slice(None), slice(None)) + off]
    return acc


def _crop(a, padding, sizes):
    if not any(padding):
        return a
    get = get_array_module(a).ascontiguousarray
    return get(a[(slice(None), slice(None)) + tuple(slice(p, p + s)
                                                    for p, s in zip(padding, sizes))])


def _conv_forward(x, w, b, stride, padding, dilation, groups, keep_cols):
    xp = get_array_module(x)
    n = x.shape[0]
    co = w.shape[0]
    kernel = w.shape[2:]
    xpad = _pad(x, padding)
    out = tuple((s - d * (k - 1) - 1) // st + 1
                for s, k, st, d in zip(xpad.shape[2:], kernel, stride, dilation))
    cols = _columns(xpad, kernel, stride, dilation, out, groups)
    wm = w.reshape(groups, co // groups, -1)
    y = xp.matmul(wm[None], cols).reshape((n, co) + out)
    if b is not None:
        y += b.reshape((1, co) + (1,) * len(out))
    return y, (cols if keep_cols else None)


def _conv_backward(g, x, w, cols, stride, padding, dilation, groups, need):
    xp = get_array_module(g)
    n, c = x.shape[:2]
    co = w.shape[0]
    kernel, out = w.shape[2:], g.shape[2:]
    g2 = g.reshape(n, groups, co // groups, -1)
    gx = gw = gb = None
    if need[2]:
        gb = g.sum(axis=(0,) + tuple(range(2, g.ndim)))
    if need[1]:
        if cols is None:
            cols = _columns(_pad(x, padding), kernel, stride, dilation, out, groups)
        gw = xp.matmul(g2, cols.swapaxes(-1, -2)).sum(axis=0).reshape(w.shape)
    if need[0]:
        wm = w.reshape(groups, co // groups, -1)
        dcols = xp.matmul(wm.swapaxes(-1, -2)[None], g2)
        padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
        gx = _crop(_col2im(dcols, c, padded, kernel, stride, dilation, out), padding,
                   x.shape[2:])
    return gx, gw, gb


def _full_size(in_sizes, kernel, stride, dilation, output_padding):
    return tuple((i - 1) * s + d * (k - 1) + 1 + op
                 for i, k, s, d, op in zip(in_sizes, kernel, stride, dilation, output_padding))


def _conv_transpose_forward(x, w, b, stride, padding, dilation, groups, output_padding):
    xp = get_array_module(x)
    n, cin = x.shape[:2]
    cog, kernel = w.shape[1], w.shape[2:]
    xm = x.reshape(n, groups, cin // groups, -1)
    wm = w.reshape(groups, cin // groups, -1)
    dcols = xp.matmul(wm.swapaxes(-1, -2)[None], xm)          # (N, G, Cog*K, I)
    full = _full_size(x.shape[2:], kernel, stride, dilation, output_padding)
    acc = _col2im(dcols, cog * groups, full, kernel, stride, dilation, x.shape[2:])
    sizes = tuple(f - 2 * p for f, p in zip(full, padding))
    y = _crop(acc, padding, sizes)
    if b is not None:
        y += b.reshape((1, -1) + (1,) * len(sizes))
    return y


def _conv_transpose_backward(g, x, w, stride, padding, dilation, groups, need):
    xp = get_array_module(g)
    n, cin = x.shape[:2]
    kernel = w.shape[2:]
    gcols = _columns(_pad(g, padding), kernel, stride, dilation, x.shape[2:], groups)
    wm = w.reshape(groups, cin // groups, -1)
    gx = gw = gb = None
    if need[0]:
        gx = xp.matmul(wm[None], gcols).reshape(x.shape)
    if need[1]:
        xm = x.reshape(n, groups, cin // groups, -1)
        gw = xp.matmul(xm, gcols.swapaxes(-1, -2)).sum(axis=0).reshape(w.shape)
    if need[2]:
        gb = g.sum(axis=(0,) + tuple(range(2, g.ndim)))
    return gx, gw, gb


# ---------------------------------------------------------------- the node
class ConvolutionBackward0(Node):
    """Backward of ``conv3d`` / ``conv_transpose3d`` (``transposed`` says which); keeps the
    forward's columns for the weight gradient. No double backward."""

    __slots__ = ("input", "weight", "cols", "stride", "padding", "dilation", "transposed",
                 "output_padding", "groups", "bias_sym_sizes_opt")
    _saved_names = ("input", "weight")

    def _release_saved(self):
        Node._release_saved(self)
        self.cols = None

    def backward(self, g):
        if _state.enabled:
            raise RuntimeError(_DOUBLE_BACKWARD.format(op=self.name()))
        need = (self.needs(0), self.needs(1), self.needs(2))
        x = self.unpack(self.input)._data
        w = self.unpack(self.weight)._data
        if self.transposed:
            gx, gw, gb = _conv_transpose_backward(g._data, x, w, self.stride, self.padding,
                                                  self.dilation, self.groups, need)
        else:
            gx, gw, gb = _conv_backward(g._data, x, w, self.cols, self.stride, self.padding,
                                        self.dilation, self.groups, need)
        return tuple(make(a) if a is not None else None for a in (gx, gw, gb))


def _link(input, weight, bias, r, cols, stride, padding, dilation, transposed, output_padding,
          groups):
    n = ConvolutionBackward0()
    n.input, n.weight, n.cols = SavedTensor(input), SavedTensor(weight), cols
    n.stride, n.padding, n.dilation = stride, padding, dilation
    n.transposed, n.output_padding, n.groups = transposed, output_padding, groups
    n.bias_sym_sizes_opt = list(bias._data.shape) if bias is not None else None
    link(n, (input, weight, bias), r)


# ---------------------------------------------------------------- the functional ops
def _check_tensors(name, input, weight, nd):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"weight should have {nd + 2} dimensions for {name}, but got weight "
                           f"of size {_size_str(weight._data.shape)}")


def _check_groups(groups, weight, channels, input, transposed):
    ws, xs = _size_str(weight._data.shape), _size_str(input._data.shape)
    lead = "Given transposed=1, " if transposed else f"Given groups={groups}, "
    if weight._data.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{ws}] instead")
    if input._data.shape[1] != channels:
        raise RuntimeError(f"{lead}weight of size {ws}, expected input{xs} to have {channels} "
                           f"channels, but got {input._data.shape[1]} channels instead")


def _check_bias(bias, weight, count, transposed):
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != count):
        lead = "Given transposed=1, weight" if transposed else "Given weight"
        raise RuntimeError(f"{lead} of size {_size_str(weight._data.shape)}, expected bias to "
                           f"be 1-dimensional with {count} elements, but got bias of size "
                           f"{_size_str(bias._data.shape)} instead")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input, as
    ``torch.nn.functional.conv3d``; ``padding`` may be ints, ``'valid'`` or ``'same'``."""
    nd, name = 3, "conv3d"
    _check_tensors(name, input, weight, nd)
    if input._data.ndim != nd + 2:
        return _unbatched(conv3d, input, nd, name, weight, bias, stride, padding, dilation,
                          groups)
    _check_dtypes(input, weight, bias)
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    groups = int(groups)
    kernel = tuple(weight._data.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            left, extra = _same_padding(kernel, dilation)
            if any(extra):
                from ._pad import pad as _pad_op
                spec = []
                for e in reversed(extra):
                    spec += [0, e]
                input = _pad_op(input, spec)
            padding = left
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, nd, "padding")
    _check_common(stride, padding, dilation, groups)
    _check_groups(groups, weight, weight._data.shape[1] * groups, input, False)
    _check_bias(bias, weight, weight._data.shape[0], False)
    padded = tuple(s + 2 * p for s, p in zip(input._data.shape[2:], padding))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                           "actual input size")
    grad = needs_grad(input, weight, bias)
    out, cols = _conv_forward(input._data, weight._data, bias._data if bias is not None
                              else None, stride, padding, dilation, groups,
                              keep_cols=grad and weight._requires_grad)
    r = make(out)
    if grad:
        _link(input, weight, bias, r, cols, stride, padding, dilation, False, (0,) * nd, groups)
    return r


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 3-D convolution (the adjoint of ``conv3d``), as
    ``torch.nn.functional.conv_transpose3d``; weight is (C_in, C_out/groups, kd, kh, kw)."""
    nd, name = 3, "conv_transpose3d"
    _check_tensors(name, input, weight, nd)
    if input._data.ndim != nd + 2:
        return _unbatched(conv_transpose3d, input, nd, name, weight, bias, stride, padding,
                          output_padding, groups, dilation)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    _check_dtypes(input, weight, bias)
    stride, padding = _tuple(stride, nd, "stride"), _tuple(padding, nd, "padding")
    output_padding = _tuple(output_padding, nd, "output_padding")
    dilation, groups = _tuple(dilation, nd, "dilation"), int(groups)
    _check_common(stride, padding, dilation, groups, output_padding)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                + " ".join(f"output_padding_{a}: {v}" for a, v in zip(_AXES, output_padding))
                + " " + " ".join(f"stride_{a}: {v}" for a, v in zip(_AXES, stride))
                + " " + " ".join(f"dilation_{a}: {v}" for a, v in zip(_AXES, dilation)))
    _check_groups(groups, weight, weight._data.shape[0], input, True)
    _check_bias(bias, weight, weight._data.shape[1] * groups, True)
    kernel = tuple(weight._data.shape[2:])
    full = _full_size(input._data.shape[2:], kernel, stride, dilation, output_padding)
    outs = tuple(f - 2 * p for f, p in zip(full, padding))
    if any(o <= 0 for o in outs):
        raise RuntimeError(f"Given input size per channel: "
                           f"({' x '.join(map(str, input._data.shape[2:]))}). Calculated output "
                           f"size per channel: ({' x '.join(map(str, outs))}). Output size is "
                           "too small")
    r = make(_conv_transpose_forward(input._data, weight._data, bias._data if bias is not None
                                     else None, stride, padding, dilation, groups,
                                     output_padding))
    if needs_grad(input, weight, bias):
        _link(input, weight, bias, r, None, stride, padding, dilation, True, output_padding,
              groups)
    return r


_AXES = ("depth", "height", "width")
