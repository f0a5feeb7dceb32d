"""Arrays <-> bytes for the session file: raw little-endian bytes plus a dtype string and a shape.

Never pickle: a session file may come from anyone, and unpickling runs code. An array is stored
as ``(dtype, shape, data)`` where ``dtype`` is a NumPy dtype string from :data:`ALLOWED_DTYPES`
(``'<f4'``, ``'|b1'``, ...), ``shape`` a tuple of non-negative ints, and ``data`` the C-order
bytes. Decoding checks the dtype against the allow-list and that the byte count equals
``prod(shape) * itemsize`` before :func:`numpy.frombuffer` touches the bytes.
"""

from __future__ import annotations

import json
import math

import numpy as np

__all__ = ["ALLOWED_DTYPES", "ArrayDecodeError", "encode_array", "decode_array",
           "encode_shape", "decode_shape", "narrow_counts"]

#: dtype strings a session may hold: plain little-endian numbers and booleans, nothing with
#: objects, pointers, strings, structured fields or byte order surprises.
ALLOWED_DTYPES = frozenset({
    "|b1",
    "|i1", "<i2", "<i4", "<i8",
    "|u1", "<u2", "<u4", "<u8",
    "<f2", "<f4", "<f8",
    "<c8", "<c16",
})


class ArrayDecodeError(ValueError):
    """Stored bytes do not form the array their dtype and shape describe (the reader adds the
    file name and wraps this in a ``CorruptSessionError``)."""


def encode_array(array) -> tuple[str, tuple[int, ...], bytes]:
    """Return ``(dtype, shape, data)`` for a NumPy array (or anything ``np.asarray`` takes).

    Big-endian input is converted to little-endian; a dtype outside :data:`ALLOWED_DTYPES`
    (objects, strings, datetimes, structured) raises ``TypeError``.
    """
    arr = np.asarray(array)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    dtype = arr.dtype.str
    if dtype not in ALLOWED_DTYPES:
        raise TypeError(f"cannot store an array of dtype {arr.dtype} (allowed: bool, integer, "
                        f"float and complex numbers)")
    return dtype, tuple(int(n) for n in arr.shape), np.ascontiguousarray(arr).tobytes()


def decode_array(data: bytes, dtype: str, shape) -> np.ndarray:
    """Rebuild an array from :func:`encode_array`'s output, validating everything first.

    Returns a writable array that owns its memory (a copy of ``data``).
    """
    if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
        raise ArrayDecodeError(f"dtype {dtype!r} is not an allowed array dtype")
    shape = tuple(shape)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ArrayDecodeError(f"shape {shape!r} is not a tuple of non-negative integers")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ArrayDecodeError(f"array data is {type(data).__name__}, not bytes")
    itemsize = np.dtype(dtype).itemsize
    expected = math.prod(shape) * itemsize
    if len(data) != expected:
        raise ArrayDecodeError(f"array of dtype {dtype} and shape {shape} needs {expected} bytes, "
                               f"found {len(data)}")
    return np.frombuffer(bytearray(data), dtype=dtype).reshape(shape)


def encode_shape(shape) -> str:
    """A shape as compact JSON text, e.g. ``'[6,1,5,5]'``."""
    return json.dumps([int(n) for n in shape], separators=(",", ":"))


def decode_shape(text) -> tuple[int, ...]:
    """Parse :func:`encode_shape` text; anything but a list of non-negative ints raises."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ArrayDecodeError(f"shape {text!r} is not valid JSON") from exc
    if not isinstance(value, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value):
        raise ArrayDecodeError(f"shape {text!r} is not a list of non-negative integers")
    return tuple(value)


def narrow_counts(counts: np.ndarray) -> np.ndarray:
    """The smallest unsigned dtype that holds non-negative integer ``counts`` exactly.

    Histogram counts are int64 in memory but mostly small; storing them as uint8/16/32 keeps a
    histogram row a few hundred bytes. The reader widens them back to int64.
    """
    top = int(counts.max()) if counts.size else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return counts.astype(dtype)
    return counts.astype(np.uint64)
