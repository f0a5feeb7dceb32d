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


# Limits that keep a crafted file from costing more than the data it would load.
MAX_INDEX_BYTES = 64 << 20   # the JSON structure of a checkpoint (a large state dict is ~1 MB)
MAX_DEPTH = 200              # nesting of dicts/lists/tuples in the index
_CHUNK = 1 << 20             # members are inflated and copied in pieces of this size
_DEFLATE_MAX_RATIO = 1100    # deflate cannot expand one byte into more than ~1032


def _open_zip(f, name):
    """``(zipfile, file object, size in bytes)`` without reading the checkpoint whole (a path is
    opened, a seekable stream used as it is; only an unseekable stream is read into memory)."""
    if hasattr(f, "read"):
        fh = f if getattr(f, "seekable", lambda: False)() else io.BytesIO(f.read())
        start = fh.tell()
        head = fh.read(8)
        fh.seek(start)
    else:
        fh = open(os.fspath(f), "rb")
        start = 0
        head = fh.read(8)
        fh.seek(0)
    if len(head) == 0:
        raise CheckpointError(f"{name}: the file is empty (0 bytes); not an engine checkpoint")
    if head[:1] == b"\x80":
        raise CheckpointError(f"{name}: this is a Python pickle, not an engine checkpoint; "
                              "engine.load never unpickles (re-save the state dict with "
                              "engine.save)")
    if head[:4] != b"PK\x03\x04":
        raise CheckpointError(f"{name}: not an engine checkpoint (no zip header; the file "
                              f"starts with {head!r})")
    try:
        size = fh.seek(0, 2) - start
        fh.seek(start)
        return zipfile.ZipFile(fh), fh, size
    except zipfile.BadZipFile as e:
        raise CheckpointError(f"{name}: the checkpoint is truncated or corrupted ({e})") from None


def _read_index(z, size, name):
    """The parsed ``checkpoint.json``, refused before inflating if it declares itself huge and
    refused by :class:`CheckpointError` (not ``RecursionError``) if nested too deep."""
    info = z.getinfo(_INDEX)
    _check_member_size(info, size, name, "the checkpoint index")
    if info.file_size > MAX_INDEX_BYTES:
        raise CheckpointError(f"{name}: the checkpoint index declares {info.file_size} bytes, "
                              f"more than the {MAX_INDEX_BYTES} an index may have")
    try:
        with z.open(info) as m:
            raw = m.read(MAX_INDEX_BYTES + 1)
        if len(raw) > MAX_INDEX_BYTES:
            raise CheckpointError(f"{name}: the checkpoint index inflates past "
                                  f"{MAX_INDEX_BYTES} bytes")
        return json.loads(raw)
    except RecursionError:
        raise CheckpointError(f"{name}: the checkpoint index is nested too deeply "
                              f"(more than {MAX_DEPTH} levels)") from None
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise CheckpointError(f"{name}: the checkpoint index is unreadable ({e})") from None


def _npy_header(m):
    """(shape, dtype, header length) of an ``.npy`` stream, read without allocating data."""
    version = np.lib.format.read_magic(m)
    reader = {(1, 0): np.lib.format.read_array_header_1_0,
              (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if reader is None:
        raise ValueError(f"unsupported .npy format version {version}")
    shape, fortran, dtype = reader(m, max_header_size=10000)
    if fortran:
        raise ValueError("Fortran-ordered arrays are not written by engine.save")
    if dtype.hasobject:
        raise ValueError("object arrays would need unpickling")
    return shape, dtype


def _check_member_size(info, size, name, what):
    """Refuse a member whose declared inflated size cannot be true of the bytes it occupies
    (a forged central directory), or a compression method engine.save never writes."""
    if info.compress_type == zipfile.ZIP_STORED:
        possible = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        possible = info.compress_size * _DEFLATE_MAX_RATIO + 1024
    else:
        raise CheckpointError(f"{name}: {what} uses zip compression method "
                              f"{info.compress_type}; engine checkpoints are stored or deflated")
    if info.file_size > possible or info.compress_size > size:
        raise CheckpointError(f"{name}: {what} declares {info.file_size} bytes, more than its "
                              f"{info.compress_size} bytes in the file can hold")


def _read_array(z, size, i, meta, name):
    """Tensor ``i``: its header checked against the index and against the member's declared
    size before anything is allocated, then inflated in bounded chunks straight into the
    result, refusing any byte beyond what the shape needs."""
    member = f"arrays/{i}.npy"
    try:
        info = z.getinfo(member)
    except KeyError:
        raise CheckpointError(f"{name}: tensor #{i} is missing ({member} not in the file)") \
            from None
    _check_member_size(info, size, name, f"tensor #{i}")
    try:
        want_dtype, want_shape = np.dtype(meta["dtype"]), [int(s) for s in meta["shape"]]
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{name}: the index entry of tensor #{i} is malformed ({e!r})") \
            from None
    try:
        with z.open(info) as m:
            shape, dtype = _npy_header(m)
            header = m.tell() if m.seekable() else None
            if dtype.str != want_dtype.str or list(shape) != want_shape:
                raise CheckpointError(f"{name}: tensor #{i} has dtype {dtype.str} shape "
                                      f"{list(shape)}, the index says {want_dtype.str} "
                                      f"{want_shape}")
            nbytes = math.prod(shape) * dtype.itemsize
            declared = info.file_size - (header if header is not None else 0)
            if declared != nbytes:
                raise CheckpointError(f"{name}: tensor #{i} declares {info.file_size} bytes "
                                      f"in the zip, its shape {list(shape)} of {dtype.str} "
                                      f"needs {nbytes} bytes of data")
            out = np.empty(shape, dtype)
            view = out.reshape(-1).view(np.uint8)
            done = 0
            while done < nbytes:
                got = m.readinto(view[done:done + _CHUNK])
                if not got:
                    raise CheckpointError(f"{name}: tensor #{i} ends after {done} of "
                                          f"{nbytes} bytes")
                done += got
            if m.read(1):
                raise CheckpointError(f"{name}: tensor #{i} holds more data than its shape "
                                      f"{list(shape)} of {dtype.str} ({nbytes} bytes)")
            return out
    except CheckpointError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise CheckpointError(f"{name}: tensor #{i} is corrupted ({e})") from None


def load(f, map_location=None, weights_only=True, **_ignored):
    """Read a checkpoint written by :func:`save`; tensors land on ``map_location``.

    A crafted or damaged file is refused with :class:`CheckpointError` naming the file and
    the problem, and costs no more memory than the data it declares (sizes, shapes and
    nesting are checked before anything is inflated or allocated)."""
    name = os.fspath(f) if not hasattr(f, "read") else getattr(f, "name", "<stream>")
    z, fh, size = _open_zip(f, name)
    try:
        return _load_from(z, size, name, map_location)
    finally:
        z.close()
        if fh is not f:
            fh.close()


def _load_from(z, size, name, map_location):
    names = set(z.namelist())
    if _INDEX not in names:
        if any(n.endswith("data.pkl") for n in names):
            raise CheckpointError(f"{name}: this is a torch.save file (a zip holding a pickle); "
                                  "engine.load never unpickles — load it with torch and save "
                                  "the tensors with engine.save")
        raise CheckpointError(f"{name}: a zip file without {_INDEX}; not an engine checkpoint")
    index = _read_index(z, size, name)
    if not isinstance(index, dict) or index.get("magic") != MAGIC:
        raise CheckpointError(f"{name}: not an engine checkpoint (wrong magic)")
    if not isinstance(index.get("version", 0), int) or index.get("version", 0) > VERSION:
        raise CheckpointError(f"{name}: written by a newer format version "
                              f"{index.get('version')}; this engine reads up to {VERSION}")
    metas = index.get("arrays")
    if not isinstance(metas, list):
        raise CheckpointError(f"{name}: the checkpoint index lists no arrays")
    cache = {}

    def array(i):
        if not isinstance(i, int) or not 0 <= i < len(metas):
            raise CheckpointError(f"{name}: the index refers to tensor #{i!r}, which it does "
                                  f"not list (it lists {len(metas)})")
        if i not in cache:
            cache[i] = _read_array(z, size, i, metas[i], name)
        return cache[i]

    tensors = {}

    def dec(node, depth):
        if depth > MAX_DEPTH:
            raise CheckpointError(f"{name}: the checkpoint index is nested too deeply "
                                  f"(more than {MAX_DEPTH} levels)")
        t = node.get("t")
        if t == "tensor":
            i = node["id"]
            if i not in tensors:
                arr = array(i)
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
            return array(node["id"])
        if t == "value":
            return node["v"]
        if t == "int":
            return int(node["v"])
        if t == "float":
            return float(node["v"])
        if t in ("dict", "odict"):
            d = OrderedDict() if t == "odict" else {}
            for k, v in node["items"]:
                d[dec(k, depth + 1)] = dec(v, depth + 1)
            return d
        if t == "list":
            return [dec(v, depth + 1) for v in node["items"]]
        if t == "tuple":
            return tuple(dec(v, depth + 1) for v in node["items"])
        raise CheckpointError(f"{name}: unknown entry type {t!r} in the checkpoint index")

    try:
        return dec(index["tree"], 0)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as e:
        raise CheckpointError(f"{name}: the checkpoint index is malformed ({e!r})") from None
