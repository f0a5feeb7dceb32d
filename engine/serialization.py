"""``engine.save`` / ``engine.load``: checkpoints that never unpickle.

A checkpoint is a zip file holding ``checkpoint.json`` (a magic string, a format version
and the object's structure: dicts, lists, tuples, numbers, strings, tensors) and one
``.npy`` file per tensor, written and read with ``allow_pickle=False``. Anything else —
a pickle (``torch.save`` writes one inside its zip), random bytes, a truncated file — is
refused with an error naming the file and the problem.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

MAGIC = "autograd-viz engine checkpoint"
VERSION = 1
_INDEX = "checkpoint.json"


class CheckpointError(RuntimeError):
    """A file that is not a readable engine checkpoint."""


def _c_contiguous(a):
    """C-contiguous copy if needed (``np.ascontiguousarray`` would make 0-d arrays 1-d)."""
    return a if a.flags["C_CONTIGUOUS"] else a.copy()


def save(obj, f) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays, numbers, strings)."""
    arrays = []
    seen = {}

    def enc(x):
        if isinstance(x, Tensor):
            key = id(x)
            if key not in seen:
                seen[key] = len(arrays)
                arr = x._data.get() if hasattr(x._data, "get") and not isinstance(
                    x._data, np.ndarray) else x._data
                arrays.append(_c_contiguous(arr))
            return {"t": "tensor", "id": seen[key], "requires_grad": bool(x.requires_grad),
                    "parameter": type(x).__name__ == "Parameter"}
        if isinstance(x, np.ndarray):
            arrays.append(_c_contiguous(x))
            return {"t": "ndarray", "id": len(arrays) - 1}
        if x is None or isinstance(x, (bool, str)):
            return {"t": "value", "v": x}
        if isinstance(x, (int, np.integer)):
            return {"t": "int", "v": int(x)}
        if isinstance(x, (float, np.floating)):
            v = float(x)
            return {"t": "float", "v": v if math.isfinite(v) else repr(v)}
        if isinstance(x, dict):
            return {"t": "odict" if isinstance(x, OrderedDict) else "dict",
                    "items": [[enc(k), enc(v)] for k, v in x.items()]}
        if isinstance(x, (list, tuple)):
            return {"t": "list" if isinstance(x, list) else "tuple", "items": [enc(v) for v in x]}
        hint = ""
        if callable(getattr(x, "state_dict", None)):
            # torch.save(model, PATH) pickles the whole module; we never pickle
            hint = (f" (a whole {type(x).__name__} would need pickling: save its "
                    "state_dict() instead and load it with load_state_dict())")
        raise TypeError(f"engine.save cannot store an object of type {type(x).__name__}; "
                        "checkpoints hold tensors, arrays, numbers, strings, None and "
                        f"dicts/lists/tuples of them{hint}")

    tree = enc(obj)
    index = {"magic": MAGIC, "version": VERSION, "tree": tree,
             "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]}
    target = f if hasattr(f, "write") else open(os.fspath(f), "wb")
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr(_INDEX, json.dumps(index))
            for i, a in enumerate(arrays):
                buf = io.BytesIO()
                np.save(buf, a, allow_pickle=False)
                z.writestr(f"arrays/{i}.npy", buf.getvalue())
    finally:
        if target is not f:
            target.close()


def load(f, map_location=None, weights_only=True, **_ignored):
    """Read a checkpoint written by :func:`save`; tensors land on ``map_location``."""
    name = os.fspath(f) if not hasattr(f, "read") else getattr(f, "name", "<stream>")
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open(os.fspath(f), "rb") as fh:
            data = fh.read()
    if len(data) == 0:
        raise CheckpointError(f"{name}: the file is empty (0 bytes); not an engine checkpoint")
    if data[:1] == b"\x80":
        raise CheckpointError(f"{name}: this is a Python pickle, not an engine checkpoint; "
                              "engine.load never unpickles (re-save the state dict with "
                              "engine.save)")
    if data[:4] != b"PK\x03\x04":
        raise CheckpointError(f"{name}: not an engine checkpoint (no zip header; the file "
                              f"starts with {data[:8]!r})")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = set(z.namelist())
    except zipfile.BadZipFile as e:
        raise CheckpointError(f"{name}: the checkpoint is truncated or corrupted ({e})") from None
    if _INDEX not in names:
        if any(n.endswith("data.pkl") for n in names):
            raise CheckpointError(f"{name}: this is a torch.save file (a zip holding a pickle); "
                                  "engine.load never unpickles — load it with torch and save "
                                  "the tensors with engine.save")
        raise CheckpointError(f"{name}: a zip file without {_INDEX}; not an engine checkpoint")
    try:
        index = json.loads(z.read(_INDEX))
    except (ValueError, zipfile.BadZipFile, OSError) as e:
        raise CheckpointError(f"{name}: the checkpoint index is unreadable ({e})") from None
    if index.get("magic") != MAGIC:
        raise CheckpointError(f"{name}: not an engine checkpoint (wrong magic)")
    if index.get("version", 0) > VERSION:
        raise CheckpointError(f"{name}: written by a newer format version "
                              f"{index.get('version')}; this engine reads up to {VERSION}")
    cache = {}

    def array(i):
        if i not in cache:
            try:
                raw = z.read(f"arrays/{i}.npy")
                a = np.load(io.BytesIO(raw), allow_pickle=False)
            except (KeyError, ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
                raise CheckpointError(f"{name}: tensor #{i} is missing or corrupted ({e})") \
                    from None
            meta = index["arrays"][i]
            if a.dtype.str != meta["dtype"] or list(a.shape) != meta["shape"]:
                raise CheckpointError(f"{name}: tensor #{i} has dtype {a.dtype.str} shape "
                                      f"{list(a.shape)}, the index says {meta['dtype']} "
                                      f"{meta['shape']}")
            cache[i] = a
        return cache[i]

    tensors = {}

    def dec(node):
        t = node.get("t")
        if t == "tensor":
            i = node["id"]
            if i not in tensors:
                arr = array(i).copy()
                if node.get("parameter"):
                    from .nn.parameter import Parameter
                    x = Parameter(Tensor._make(arr), requires_grad=node.get("requires_grad", True))
                else:
                    x = Tensor._make(arr)
                    x._requires_grad = bool(node.get("requires_grad")) and arr.dtype.kind == "f"
                if map_location is not None and str(map_location) != "cpu":
                    x = x.to(map_location)
                tensors[i] = x
            return tensors[i]
        if t == "ndarray":
            return array(node["id"]).copy()
        if t == "value":
            return node["v"]
        if t == "int":
            return int(node["v"])
        if t == "float":
            v = node["v"]
            return float(v) if not isinstance(v, str) else float(v)
        if t in ("dict", "odict"):
            d = OrderedDict() if t == "odict" else {}
            for k, v in node["items"]:
                d[dec(k)] = dec(v)
            return d
        if t == "list":
            return [dec(v) for v in node["items"]]
        if t == "tuple":
            return tuple(dec(v) for v in node["items"])
        raise CheckpointError(f"{name}: unknown entry type {t!r} in the checkpoint index")

    try:
        return dec(index["tree"])
    except (KeyError, TypeError, IndexError) as e:
        raise CheckpointError(f"{name}: the checkpoint index is malformed ({e!r})") from None
