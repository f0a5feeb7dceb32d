"""``repr`` of tensors in PyTorch's style: ``tensor([[1., 2.],\n        [3., 4.]],
requires_grad=True)``.

The rules are PyTorch's (``torch/_tensor_str.py``), reimplemented on numpy: one formatter
for the whole tensor, chosen from its non-zero finite values (integral floats print as
``1.``; scientific notation when max/min > 1000, max > 1e8 or min < 1e-4; else 4
decimals), every element padded to the widest; more than 1000 elements are summarised
to 3 at each edge; rows wrap at 80 columns.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend

THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
PRECISION = 4


class _Formatter:
    """Chooses int/fixed/scientific mode and the common width from ``values`` (1-d)."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in values.tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        vals = values.astype(np.float64)
        nz = vals[np.isfinite(vals) & (vals != 0)]
        if nz.size == 0:
            return
        absv = np.abs(nz)
        lo, hi = float(absv.min()), float(absv.max())
        self.int_mode = bool(np.all(nz == np.ceil(nz)))
        items = nz.tolist()
        if self.int_mode:
            if hi / lo > 1000.0 or hi > 1.0e8:
                self.sci_mode = True
                self.max_width = max(len(f"{v:.{PRECISION}e}") for v in items)
            else:
                self.max_width = max(len(f"{v:.0f}") + 1 for v in items)
        elif hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
            self.sci_mode = True
            self.max_width = max(len(f"{v:.{PRECISION}e}") for v in items)
        else:
            self.max_width = max(len(f"{v:.{PRECISION}f}") for v in items)

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{PRECISION}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements that will be shown (edges only when summarising), flattened."""
    if a.ndim == 0:
        return a.reshape(-1)
    if a.shape[0] > 2 * EDGEITEMS:
        rows = list(range(EDGEITEMS)) + list(range(a.shape[0] - EDGEITEMS, a.shape[0]))
    else:
        rows = range(a.shape[0])
    if a.ndim == 1:
        return a[list(rows)]
    return np.concatenate([_summarized(a[i]) for i in rows]) if len(rows) else a.reshape(-1)


def _vector_str(a, indent, summarize, fmt):
    per_line = max(1, int(math.floor((LINEWIDTH - indent) / (fmt.width() + 2))))
    vals = a.tolist()
    if summarize and len(vals) > 2 * EDGEITEMS:
        data = ([fmt.format(v) for v in vals[:EDGEITEMS]] + [" ..."]
                + [fmt.format(v) for v in vals[-EDGEITEMS:]])
    else:
        data = [fmt.format(v) for v in vals]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    n = a.shape[0]
    if summarize and n > 2 * EDGEITEMS:
        parts = ([_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)]
                 + ["..."]
                 + [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(n - EDGEITEMS, n)])
    else:
        parts = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def array_body(a: np.ndarray, indent: int = 7) -> str:
    """The bracketed values of ``a`` as PyTorch prints them (``indent`` = len('tensor('))."""
    if a.size == 0:
        return "[]"
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    summarize = a.size > THRESHOLD
    fmt = _Formatter(_summarized(a) if summarize else a.reshape(-1), a.dtype.kind == "f")
    return _tensor_str(a, indent, summarize, fmt)


def tensor_repr(t, name="tensor"):
    from .dtypes import get_default_dtype
    a = t._data
    if backend.is_cuda_array(a):
        a = a.get()
    suffix = []
    dev = t.device
    if dev.type != "cpu":
        suffix.append(f"device='{dev}'")
    default = get_default_dtype().np
    if a.size == 0:
        if a.ndim != 1:
            suffix.append(f"size={tuple(a.shape)}")
        if a.dtype != default:
            suffix.append(f"dtype={t.dtype}")
    elif a.dtype not in (default, np.int64, np.bool_):
        suffix.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    indent = len(name) + 1
    return _add_suffixes(f"{name}(" + array_body(a, indent), suffix, indent)


def _add_suffixes(text, suffixes, indent):
    """Append ``, suffix`` items, moving one to a new line when it would pass 80 columns."""
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > LINEWIDTH:
            out.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            out.append(", " + s)
            last += len(s) + 2
    out.append(")")
    return "".join(out)
