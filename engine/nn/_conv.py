"""Convolutions: ``conv1d``, ``conv2d``, ``conv_transpose2d`` and their ``ConvolutionBackward0``.

All three run on one 2-D kernel (a 1-D convolution is a 2-D one over a height of 1): im2col
as one strided copy, then one BLAS GEMM per group (see ``_im2col.py`` for the layout).
Backward: grad_input by a GEMM plus col2im, grad_weight by one GEMM against the columns kept
from the forward pass, grad_bias by a sum. A transposed convolution is the same pair read the
other way round (its forward is a conv's input-gradient, its input-gradient a conv).

As in PyTorch, a batched call builds a single ``ConvolutionBackward0`` whose
``next_functions`` are (input, weight, bias); an unbatched input is unsqueezed first and the
result squeezed (``SqueezeBackward1`` over it); ``padding='same'`` with an even kernel pads the
input on one side first (``ConstantPadNdBackward0``).
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _state
from ..autograd.node import Node, SavedTensor, link
from ..ops._core import make, needs_grad
from ..ops import shape as _shape
from ..tensor import Tensor
from ..backend import get_array_module
from ..ops._parallel import batch_bounds, parallel_for
from ._im2col import (batch_last_for, col2im, conv_out_size, from_layout, grouped_mm, im2col,
                      release, scratch, to_layout)

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "ConvolutionBackward0"]

_DOUBLE_BACKWARD = (
    "{op}: double backward (create_graph=True through a convolution) is not supported by "
    "engine: its gradients are computed by array kernels, not by differentiable ops")


# ---------------------------------------------------------------- argument handling
def _tuple(value, n, name):
    """``value`` as an n-tuple of ints (an int is repeated), with PyTorch's error."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a tuple of ints, not bool")
    if isinstance(value, int):
        return (value,) * n
    try:
        t = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, not "
                        f"{type(value).__name__}") from None
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(t)}")
    return t


def _size_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half"}


def _type_name(dt):
    return _TYPE_NAMES.get(str(dt), str(dt))


def _check_dtypes(x, w, b):
    """Same dtype and device for input, weight and bias, with PyTorch's messages."""
    xd, wd = x._data.dtype, w._data.dtype
    if xd != wd:
        raise RuntimeError(f"expected scalar type {_type_name(xd)} but found {_type_name(wd)}")
    if xd.kind != "f":
        raise RuntimeError(f"convolution expects floating point tensors, got {x.dtype}")
    if b is not None and b._data.dtype != xd:
        raise RuntimeError(f"Input type ({_type_name(xd).lower()}) and bias type "
                           f"({_type_name(b._data.dtype).lower()}) should be the same")
    if type(x._data) is not type(w._data) or (b is not None and
                                              type(b._data) is not type(x._data)):
        from ..ops._core import check_same_device
        check_same_device(x, w)
        if b is not None:
            check_same_device(x, b)


def _check_common(stride, padding, dilation, groups, output_padding=None):
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if output_padding is not None and any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")


def _same_padding(kernel, dilation):
    """PyTorch's split of 'same' padding: the left pads, and the extra right pads."""
    left, extra = [], []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        left.append(total // 2)
        extra.append(total - 2 * (total // 2))
    return tuple(left), tuple(extra)


# ---------------------------------------------------------------- array kernels
#: Bytes of im2col columns per chunk of images. Batch first (wide images): about half of a
#: core's L2 cache, so that a chunk's columns are written, multiplied and (in backward) read
#: again while still cached. Batch last (narrow images, runs as long as the chunk has
#: images): larger, or the copies move runs too short to be fast. Measured on LeNet's two
#: convolutions at batch 64 and 256 (one thread, fwd+bwd): conv1 (batch first) best at
#: 256-512 KB, 1.4-1.6x faster than unchunked; conv2 (batch last) best at 2-4 MB, 1.1-1.3x.
CHUNK_BYTES = 512 << 10
CHUNK_BYTES_BATCH_LAST = 4 << 20
#: Below this many bytes of columns in all, a convolution stays on one thread.
PARALLEL_BYTES = 1 << 20


def _image_chunks(xp, n, per_image, ow):
    """(bounds, batch_last): the batch of ``n`` images cut into chunks of at most the
    layout's chunk bytes of columns, and into at least one chunk per thread when the work
    is worth spreading; the layout is batch last for narrow images (``batch_last_for``)."""
    bl = batch_last_for(n, ow)
    if xp is not np:
        return [0, n], bl
    bounds = batch_bounds(n, per_image, CHUNK_BYTES_BATCH_LAST if bl else CHUNK_BYTES,
                          PARALLEL_BYTES)
    return bounds, bl and batch_last_for(n // (len(bounds) - 1), ow)   # the smallest chunk


def _conv_forward(x, w, b, stride, padding, dilation, groups, keep_cols):
    """(N, C, H, W) * (Co, C/G, kh, kw) -> (N, Co, OH, OW); also what the weight gradient
    needs again (the columns, per chunk), when ``keep_cols``.

    With one group the batch is cut into chunks (``_image_chunks``) that run as tasks on
    the engine's pool: each copies its images' columns (im2col), multiplies them by the
    weight (one GEMM) and writes its slice of the output with the bias added."""
    if groups != 1:
        return _conv_forward_grouped(x, w, b, stride, padding, dilation, groups, keep_cols)
    xp = get_array_module(x)
    n, c, h, wd = x.shape
    co, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh = conv_out_size(h, kh, sh, 2 * ph, dh)
    ow = conv_out_size(wd, kw, sw, 2 * pw, dw)
    k = c * kh * kw
    bounds, bl = _image_chunks(xp, n, k * oh * ow * x.itemsize, ow)
    parts = len(bounds) - 1
    w2 = w.reshape(co, k)
    out = xp.empty((n, co, oh, ow), dtype=x.dtype)
    kept = [None] * parts if keep_cols else None

    def task(i):
        lo, hi = bounds[i], bounds[i + 1]
        cols = _columns(x[lo:hi], bl, kh, kw, stride, padding, dilation, oh, ow)
        y = xp.matmul(w2, cols, out=scratch((co, cols.shape[1]), x.dtype, xp))
        from_layout(y.reshape((co, oh, ow, hi - lo) if bl else (co, hi - lo, oh, ow)), bl, b,
                    out=out[lo:hi])
        release(y)
        if kept is not None:
            kept[i] = cols
        else:
            release(cols)

    parallel_for(task, parts)
    return out, ((bounds, bl, kept) if keep_cols else None)


def _conv_forward_grouped(x, w, b, stride, padding, dilation, groups, keep_cols):
    """``_conv_forward`` for several groups: one batched GEMM over the whole batch."""
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh = conv_out_size(h, kh, sh, 2 * ph, dh)
    ow = conv_out_size(wd, kw, sw, 2 * pw, dw)
    bl = batch_last_for(n, ow)
    cols = _columns(x, bl, kh, kw, stride, padding, dilation, oh, ow)
    y = grouped_mm(w.reshape(co, cg * kh * kw), cols, groups)
    out = from_layout(y.reshape((co, oh, ow, n) if bl else (co, n, oh, ow)), bl, b)
    if not keep_cols:
        release(cols)
        return out, None
    return out, ([0, n], bl, [cols])


def _columns(x, bl, kh, kw, stride, padding, dilation, oh, ow):
    """The im2col matrix (C*kh*kw, pixels) of the input, in layout ``bl`` (a new array the
    caller owns and may release)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xt, owned = to_layout(x, bl, ph, ph, pw, pw)
    if kh == 1 and kw == 1 and sh == 1 and sw == 1 and owned:
        return xt.reshape(xt.shape[0], -1)          # a 1x1 conv's columns are the input
    cols = im2col(xt, bl, kh, kw, sh, sw, dh, dw, oh, ow)
    if owned:
        release(xt)
    return cols


def _conv_backward(g, x, w, kept, stride, padding, dilation, groups, need):
    """Gradients (input, weight, bias) of ``_conv_forward`` for output gradient ``g``;
    ``kept`` = (chunk bounds, layout, columns per chunk) from the forward pass, or None to
    recompute the columns. Chunk by chunk on the pool, as the forward pass: the chunk's
    output gradient as a (Co, pixels) matrix, its share of the weight gradient (one GEMM
    against its columns; the shares are summed in chunk order, so the result does not
    depend on which thread ran what), its columns' gradient (one GEMM) summed back into
    its images' input gradient (col2im)."""
    xp = get_array_module(g)
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh, ow = g.shape[2], g.shape[3]
    k = cg * kh * kw
    if kept is not None:
        bounds, bl, cols_kept = kept
    else:
        bounds, bl = _image_chunks(xp, n, c * kh * kw * oh * ow * g.itemsize, ow) \
            if groups == 1 else ([0, n], batch_last_for(n, ow))
        cols_kept = None
    parts = len(bounds) - 1
    w2 = w.reshape(co, k)
    gx = xp.empty(x.shape, dtype=g.dtype) if need[0] else None
    gw_parts = [None] * parts
    gb_parts = [None] * parts
    crop = (ph, pw, h, wd) if (ph or pw) else None

    def task(i):
        lo, hi = bounds[i], bounds[i + 1]
        gt, gowned = to_layout(g[lo:hi], bl)
        g2 = gt.reshape(co, -1)                     # copies when gt is a (view) transpose
        if need[2]:
            gb_parts[i] = g2.sum(axis=1)
        if need[1]:
            cols = cols_kept[i] if cols_kept is not None else _columns(
                x[lo:hi], bl, kh, kw, stride, padding, dilation, oh, ow)
            # (cols @ g2.T).T: the same product as g2 @ cols.T, 1.7x faster for LeNet's conv2
            gw_parts[i] = (cols @ g2.T).T if groups == 1 else grouped_mm(g2, cols, groups,
                                                                           trans_b=True)
            if cols_kept is None:
                release(cols)
        if need[0]:
            dcols = scratch((c * kh * kw, g2.shape[1]), g.dtype, xp) if groups == 1 else None
            dcols = grouped_mm(w2, g2, groups, trans_a=True, out=dcols)
            acc = col2im(dcols, bl, c, h + 2 * ph, wd + 2 * pw, kh, kw, sh, sw, dh, dw, oh, ow)
            release(dcols)
            from_layout(acc, bl, crop=crop, out=gx[lo:hi])
            release(acc)
        if gowned:
            release(gt)

    parallel_for(task, parts)
    gw = _sum_parts(gw_parts).reshape(w.shape) if need[1] else None
    gb = _sum_parts(gb_parts) if need[2] else None
    return gx, gw, gb


def _sum_parts(parts):
    """The chunks' shares summed in chunk order (a fixed order: reproducible results)."""
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def _conv_transpose_forward(x, w, b, stride, padding, dilation, groups, output_padding):
    """(N, Cin, H, W) with weight (Cin, Cout/G, kh, kw) -> (N, Cout, OH, OW): the input
    gradient of a convolution, i.e. a GEMM then col2im."""
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw), (oph, opw) = stride, padding, dilation, output_padding
    hp = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    wp = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    bl = batch_last_for(n, wd)
    xt, owned = to_layout(x, bl)
    x2 = xt.reshape(cin, n * h * wd)
    xp = get_array_module(x)
    dcols = scratch((cog * kh * kw, x2.shape[1]), x.dtype, xp) if groups == 1 else None
    dcols = grouped_mm(w.reshape(cin, cog * kh * kw), x2, groups, trans_a=True, out=dcols)
    if owned:
        release(xt)
    acc = col2im(dcols, bl, cog * groups, hp, wp, kh, kw, sh, sw, dh, dw, h, wd)
    release(dcols)
    out = from_layout(acc, bl, b, crop=(ph, pw, hp - 2 * ph, wp - 2 * pw))
    release(acc)
    return out


def _conv_transpose_backward(g, x, w, stride, padding, dilation, groups, need):
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    bl = batch_last_for(n, wd)
    gt, gowned = to_layout(g, bl, ph, ph, pw, pw)
    gcols = im2col(gt, bl, kh, kw, sh, sw, dh, dw, h, wd)    # (Cout*kh*kw, pixels)
    if gowned:
        release(gt)
    gx = gw = gb = None
    if need[0]:
        y = grouped_mm(w.reshape(cin, cog * kh * kw), gcols, groups)
        gx = from_layout(y.reshape((cin, h, wd, n) if bl else (cin, n, h, wd)), bl)
    if need[1]:
        xt, owned = to_layout(x, bl)
        gw = grouped_mm(xt.reshape(cin, n * h * wd), gcols, groups,
                        trans_b=True).reshape(w.shape)
        if owned:
            release(xt)
    if need[2]:
        gb = g.sum(axis=(0, 2, 3))
    release(gcols)
    return gx, gw, gb


# ---------------------------------------------------------------- the node
class ConvolutionBackward0(Node):
    """Backward of ``conv1d`` / ``conv2d`` / ``conv_transpose2d`` (``transposed`` says which).

    Saves ``input`` and ``weight`` as PyTorch does, plus the forward's im2col columns
    (a private array, dropped when the graph is freed) so that grad_weight is a single GEMM
    without redoing im2col. Double backward is not supported: the gradients are computed
    by array kernels, and asking for ``create_graph=True`` through this node raises.
    """

    __slots__ = ("input", "weight", "cols", "stride", "padding", "dilation", "transposed",
                 "output_padding", "groups", "bias_sym_sizes_opt", "nd", "geom")
    _saved_names = ("input", "weight")

    def _release_saved(self):
        Node._release_saved(self)
        kept, self.cols = self.cols, None
        if kept is not None and kept[2] is not None:
            release(*kept[2])

    def backward(self, g):
        if _state.enabled:
            raise RuntimeError(_DOUBLE_BACKWARD.format(op=self.name()))
        need = (self.needs(0), self.needs(1), self.needs(2))
        x = self.unpack(self.input)._data
        w = self.unpack(self.weight)._data
        ga = g._data
        if self.nd == 1:
            x = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
            w = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
            ga = ga.reshape(ga.shape[0], ga.shape[1], 1, ga.shape[2])
        stride, padding, dilation, _ = self.geom
        if self.transposed:
            gx, gw, gb = _conv_transpose_backward(ga, x, w, stride, padding, dilation,
                                                  self.groups, need)
        else:
            gx, gw, gb = _conv_backward(ga, x, w, self.cols, stride, padding, dilation,
                                        self.groups, need)
        if self.nd == 1:
            if gx is not None:
                gx = gx.reshape(gx.shape[0], gx.shape[1], gx.shape[3])
            if gw is not None:
                gw = gw.reshape(gw.shape[0], gw.shape[1], gw.shape[3])
        return (make(gx) if gx is not None else None, make(gw) if gw is not None else None,
                make(gb) if gb is not None else None)


def _build_node(input, weight, bias, out, cols, stride, padding, dilation, transposed,
                output_padding, groups, nd):
    """Wire a ConvolutionBackward0; the geometry arguments are the 2-D ones the kernels
    used, the node's public fields show the op's own (``nd``-long) tuples as PyTorch does."""
    n = ConvolutionBackward0()
    n.input = SavedTensor(input)
    n.weight = SavedTensor(weight)
    n.cols = cols
    n.geom = (stride, padding, dilation, output_padding)
    n.stride, n.padding, n.dilation = stride[-nd:], padding[-nd:], dilation[-nd:]
    n.transposed, n.output_padding, n.groups = transposed, output_padding[-nd:], groups
    n.bias_sym_sizes_opt = list(bias._data.shape) if bias is not None else None
    n.nd = nd
    link(n, (input, weight, bias), out)
    return n


# ---------------------------------------------------------------- the functional ops
def _unbatched(fn, input, nd, name, *args, **kwargs):
    """Run ``fn`` on ``input`` with a batch of one, as PyTorch does (unsqueeze / squeeze)."""
    if input._data.ndim == nd + 1:
        return _shape.squeeze(fn(_shape.unsqueeze(input, 0), *args, **kwargs), 0)
    raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                       f"{name}, but got input of size: {_size_str(input._data.shape)}")


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd):
    name = f"conv{nd}d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input._data.ndim != nd + 2:
        return _unbatched(_convnd, input, nd, name, weight, bias, stride, padding, dilation,
                          groups, nd)
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"weight should have {nd + 2} dimensions for {name}, but got "
                           f"weight of size {_size_str(weight._data.shape)}")
    _check_dtypes(input, weight, bias)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    groups = int(groups)
    ksize = tuple(weight._data.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            _check_common(stride, (0,) * nd, dilation, groups)
            left, extra = _same_padding(ksize, dilation)
            if any(extra):
                from ._pad import pad as _pad
                spec = []
                for e in reversed(extra):
                    spec += [0, e]
                input = _pad(input, spec)
            padding = left
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, nd, "padding")
    _check_common(stride, padding, dilation, groups)
    co, cg = weight._data.shape[0], weight._data.shape[1]
    c = input._data.shape[1]
    if co % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_size_str(weight._data.shape)}]"
                           " instead")
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_size_str(weight._data.shape)}, "
                           f"expected input{_size_str(input._data.shape)} to have {cg * groups} "
                           f"channels, but got {c} channels instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != co):
        raise RuntimeError(f"Given weight of size {_size_str(weight._data.shape)}, expected bias to be "
                           f"1-dimensional with {co} elements, but got bias of size "
                           f"{_size_str(bias._data.shape)} instead")
    spatial = tuple(input._data.shape[2:])
    padded = tuple(s + 2 * p for s, p in zip(spatial, padding))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ksize, dilation))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                           "actual input size")
    x, w = input._data, weight._data
    if nd == 1:
        x = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
        w = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
    grad = needs_grad(input, weight, bias)
    out, cols = _conv_forward(x, w, bias._data if bias is not None else None, stride, padding,
                              dilation, groups, keep_cols=grad and weight._requires_grad)
    if nd == 1:
        out = out.reshape(out.shape[0], out.shape[1], out.shape[3])
    r = make(out)
    if grad:
        _build_node(input, weight, bias, r, cols, stride, padding, dilation, False,
                    (0,) * 2, groups, nd)
    return r


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W) input, as ``torch.nn.functional.conv2d``;
    ``padding`` may be an int, a pair, ``'valid'`` or ``'same'`` (stride 1 only)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L) input, as ``torch.nn.functional.conv1d``."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1)


_AXES = ("height", "width")


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation,
                      nd):
    name = f"conv_transpose{nd}d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input._data.ndim != nd + 2:
        return _unbatched(_conv_transposend, input, nd, name, weight, bias, stride, padding,
                          output_padding, groups, dilation, nd)
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"weight should have {nd + 2} dimensions for {name}, but got "
                           f"weight of size {_size_str(weight._data.shape)}")
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    _check_dtypes(input, weight, bias)
    stride = _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    output_padding = _tuple(output_padding, nd, "output_padding")
    dilation = _tuple(dilation, nd, "dilation")
    groups = int(groups)
    _check_common(stride, padding, dilation, groups, output_padding)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                + " ".join(f"output_padding_{a}: {v}" for a, v in zip(_AXES[-nd:], output_padding))
                + " " + " ".join(f"stride_{a}: {v}" for a, v in zip(_AXES[-nd:], stride))
                + " " + " ".join(f"dilation_{a}: {v}" for a, v in zip(_AXES[-nd:], dilation)))
    cin, cog = weight._data.shape[0], weight._data.shape[1]
    if input._data.shape[1] != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {_size_str(weight._data.shape)}, "
                           f"expected input{_size_str(input._data.shape)} to have {cin} channels, but "
                           f"got {input._data.shape[1]} channels instead")
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_size_str(weight._data.shape)}]"
                           " instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != cog * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {_size_str(weight._data.shape)}, "
                           f"expected bias to be 1-dimensional with {cog * groups} elements, "
                           f"but got bias of size {_size_str(bias._data.shape)} instead")
    spatial = tuple(input._data.shape[2:])
    ksize = tuple(weight._data.shape[2:])
    outs = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
                 zip(spatial, stride, padding, dilation, ksize, output_padding))
    if any(o <= 0 for o in outs):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, spatial))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, outs))}). Output size is too small")
    x, w = input._data, weight._data
    if nd == 1:
        x = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
        w = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
        output_padding = (0,) + output_padding
    out = _conv_transpose_forward(x, w, bias._data if bias is not None else None, stride,
                                  padding, dilation, groups, output_padding)
    if nd == 1:
        out = out.reshape(out.shape[0], out.shape[1], out.shape[3])
    r = make(out)
    if needs_grad(input, weight, bias):
        _build_node(input, weight, bias, r, None, stride, padding, dilation, True,
                    output_padding, groups, nd)
    return r



def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 2-D convolution (the adjoint of ``conv2d``), as
    ``torch.nn.functional.conv_transpose2d``; weight is (C_in, C_out/groups, kh, kw)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 2)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 1-D convolution, as ``torch.nn.functional.conv_transpose1d``."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 1)

