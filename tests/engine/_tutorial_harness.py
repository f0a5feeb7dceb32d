"""Run one tutorial program on torch and on the engine and compare what it observed.

A program is a function ``program(torch, rec)`` whose body is tutorial code: the module it
receives is named ``torch``, so the body reads as the tutorial does. It reports what the
tutorial prints or checks through ``rec(key, value)``; the harness runs it with the real
torch first, then with the engine, and compares the two records key by key (tensors
numerically and by dtype, text exactly, numbers with a tolerance).

Random draws differ between the two libraries, so a program passes the values that must
agree through ``rec.same(tensor)`` (torch's draw is replayed on the engine) and the initial
weights of a model through ``rec.sync(model)`` (torch's state_dict, through numpy, loaded
into the engine's model with ``load_state_dict``).
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import torch

import engine

torch.set_num_threads(1)

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class Record:
    """What one run of a program observed, plus the values shared between the two runs."""

    def __init__(self, lib, shared):
        self.lib = lib
        self.items = {}
        self._shared = shared
        self._i = 0

    @property
    def is_torch(self):
        return self.lib is torch

    def __call__(self, key, value):
        assert key not in self.items, f"key {key!r} recorded twice"
        self.items[key] = plain(value)
        return value

    def _next(self):
        i = self._i
        self._i += 1
        return i

    def same(self, t):
        """torch: remember ``t``; engine: return torch's value as an engine tensor instead
        (same dtype and requires_grad)."""
        i = self._next()
        if self.is_torch:
            self._shared.append(t.detach().numpy().copy())
            return t
        arr = self._shared[i]
        assert tuple(t.shape) == arr.shape, f"same(): shape {tuple(t.shape)} vs {arr.shape}"
        out = engine.tensor(arr.copy(), dtype=t.dtype)
        return out.requires_grad_(t.requires_grad)

    def sync(self, model):
        """torch: remember ``model``'s state_dict; engine: load torch's into ``model``."""
        i = self._next()
        if self.is_torch:
            self._shared.append({k: v.detach().numpy().copy()
                                 for k, v in model.state_dict().items()})
            return model
        sd = {k: engine.from_numpy(v.copy()) for k, v in self._shared[i].items()}
        res = model.load_state_dict(sd)
        assert not res.missing_keys and not res.unexpected_keys, res
        return model


def plain(v):
    """A value from either library as plain Python/numpy, tagged with its kind."""
    if isinstance(v, (engine.Tensor, torch.Tensor)):
        a = np.array(v.detach().cpu().numpy() if isinstance(v, torch.Tensor)
                     else v.detach().numpy())
        return ("tensor", a)
    if isinstance(v, (engine.Size, torch.Size)):
        return ("size", type(v).__name__, tuple(v))
    if isinstance(v, (engine.dtype, torch.dtype)):
        return ("dtype", str(v))
    if isinstance(v, (engine.device, torch.device)):
        return ("device", str(v))
    if isinstance(v, dict):
        return ("dict", tuple((k, plain(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(plain(x) for x in v))
    if isinstance(v, (bool, np.bool_)):
        return ("bool", bool(v))
    if isinstance(v, (int, np.integer)):
        return ("int", int(v))
    if isinstance(v, (float, np.floating)):
        return ("float", float(v))
    if isinstance(v, str):
        return ("str", v)
    if v is None:
        return ("none",)
    raise TypeError(f"cannot record a {type(v).__name__}")


def assert_same(ours, theirs, key, rtol, atol):
    """Compare one recorded value of the engine's run (``ours``) with torch's."""
    assert ours[0] == theirs[0], f"{key}: engine gave a {ours[0]}, torch a {theirs[0]}"
    kind = ours[0]
    if kind == "tensor":
        a, b = ours[1], theirs[1]
        assert a.shape == b.shape, f"{key}: shape {a.shape} vs torch {b.shape}"
        assert a.dtype == b.dtype, f"{key}: dtype {a.dtype} vs torch {b.dtype}"
        if a.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b, err_msg=key)
        else:
            scale = max(1.0, float(np.max(np.abs(b[np.isfinite(b)]), initial=0.0)))
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=key)
    elif kind == "float":
        assert np.isclose(ours[1], theirs[1], rtol=rtol, atol=atol), \
            f"{key}: {ours[1]} vs torch {theirs[1]}"
    elif kind == "str":
        assert_same_text(ours[1], theirs[1], key, rtol, atol)
    elif kind in ("list", "tuple", "dict"):
        assert len(ours[1]) == len(theirs[1]), f"{key}: length {len(ours[1])} vs " \
                                               f"{len(theirs[1])}"
        for j, (x, y) in enumerate(zip(ours[1], theirs[1])):
            if kind == "dict":
                assert x[0] == y[0], f"{key}: key {x[0]!r} vs torch {y[0]!r}"
                x, y, j = x[1], y[1], x[0]
            assert_same(x, y, f"{key}[{j!r}]", rtol, atol)
    else:
        assert ours == theirs, f"{key}: engine {ours} vs torch {theirs}"


def assert_same_text(a, b, key="text", rtol=1e-4, atol=1e-5):
    """Equal text, except that the numbers in it may differ within the tolerance (and in
    their last printed digit): printed losses of float32 computations."""
    if a == b:
        return
    pa, pb = _NUMBER.split(a), _NUMBER.split(b)
    na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
    assert pa == pb and len(na) == len(nb), f"{key}: text differs\nengine: {a!r}\ntorch:  {b!r}"
    for x, y in zip(na, nb):
        fx, fy = float(x), float(y)
        digits = x.split(".")[1] if "." in x and "e" not in x.lower() else ""
        last = 10.0 ** -len(digits) if digits else 0.0
        assert abs(fx - fy) <= atol + rtol * abs(fy) + 1.01 * last, \
            f"{key}: number {x} vs torch {y}\nengine: {a!r}\ntorch:  {b!r}"


def run_both(program, *, rtol=1e-4, atol=1e-5, capture=False):
    """Run ``program`` on torch then on the engine; compare the records (and, with
    ``capture``, everything the program printed). Returns (engine record, torch record)."""
    shared = []
    records = {}
    printed = {}
    for lib in (torch, engine):
        rec = Record(lib, shared)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf) if capture else contextlib.nullcontext():
            program(lib, rec)
        records[lib] = rec
        printed[lib] = buf.getvalue()
    ours, theirs = records[engine], records[torch]
    assert list(ours.items) == list(theirs.items), "the runs recorded different keys"
    for key in theirs.items:
        assert_same(ours.items[key], theirs.items[key], key, rtol, atol)
    if capture:
        assert_same_text(printed[engine], printed[torch], "printed output", rtol, atol)
    return ours, theirs


def node_names(t, depth=3):
    """``grad_fn`` names down ``next_functions`` (None where no edge), as nested tuples."""
    node = t.grad_fn if hasattr(t, "grad_fn") else t

    def walk(n, d):
        if n is None:
            return None
        name = n.name().replace("torch::autograd::", "")
        if d == 0:
            return name
        return (name, tuple(walk(nx, d - 1) for nx, _ in n.next_functions))

    return walk(node, depth)


def strip_addresses(text):
    """Node and object reprs carry memory addresses: drop them."""
    return re.sub(r" at 0x[0-9a-f]+", "", text)
