"""``repr`` of tensors in PyTorch's style: ``tensor([[1., 2.],\n        [3., 4.]],
requires_grad=True)``, 4 decimals or scientific notation chosen as PyTorch chooses."""

from __future__ import annotations

import numpy as np

from . import backend

_THRESHOLD = 1000
_EDGE = 3


def _float_formatter(values):
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite == np.round(finite)) and \
            (finite.size == 0 or np.abs(finite).max() < 1e8):
        fmt = lambda v: _special(v) or f"{v:.0f}."  # noqa: E731
    else:
        nz = np.abs(finite[finite != 0])
        sci = nz.size > 0 and (nz.max() >= 1e8 or nz.min() < 1e-4 or nz.max() / nz.min() > 1000)
        if sci:
            fmt = lambda v: _special(v) or f"{v:.4e}"  # noqa: E731
        else:
            fmt = lambda v: _special(v) or f"{v:.4f}"  # noqa: E731
    return fmt


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _summary_values(a):
    if a.size <= _THRESHOLD:
        return a.reshape(-1)
    idx = tuple(np.r_[0:min(_EDGE, s), max(s - _EDGE, _EDGE):s] for s in a.shape)
    return a[np.ix_(*idx)].reshape(-1) if a.ndim else a.reshape(-1)


def array_body(a):
    if a.dtype.kind == "f":
        fmt = _float_formatter(_summary_values(a).astype(np.float64))
    elif a.dtype.kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    else:
        fmt = lambda v: str(int(v))  # noqa: E731
    sample = _summary_values(a)
    width = max((len(fmt(v)) for v in sample), default=1)
    return np.array2string(
        a, separator=", ", prefix="tensor(", threshold=_THRESHOLD, edgeitems=_EDGE,
        max_line_width=80, formatter={"all": lambda v: fmt(v).rjust(width)})


def tensor_repr(t, name="tensor"):
    a = t._data
    if backend.is_cuda_array(a):
        a = a.get()
    if a.size == 0 and a.ndim == 1:
        body = "[]"
    elif a.size == 0:
        body = "[]"
    else:
        body = array_body(a)
    suffix = []
    if a.size == 0 and a.ndim != 1:
        suffix.append(f"size={tuple(a.shape)}")
    dev = t.device
    if dev.type != "cpu":
        suffix.append(f"device='{dev}'")
    from .dtypes import get_default_dtype
    if a.dtype not in (get_default_dtype().np, np.int64, np.bool_) or \
            (a.size == 0 and a.dtype != get_default_dtype().np):
        suffix.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    tail = "".join(", " + s for s in suffix)
    return f"{name}({body}{tail})"
