"""A reader for the real MNIST files (IDX format), for ``samples/lenet.py --mnist DIR``.

The IDX format (LeCun's MNIST page): a big-endian header, then the raw data.

- bytes 0-1: zero; byte 2: element type (``0x08`` = unsigned byte); byte 3: number of
  dimensions. Read as one big-endian int32 this is the *magic number*: 2051 (``0x0803``)
  for image files (3 dims: count, rows, columns), 2049 (``0x0801``) for label files
  (1 dim: count).
- then one big-endian uint32 per dimension;
- then ``prod(dims)`` unsigned bytes, row-major. Nothing may follow.

Files may be plain or gzip-compressed (as they are distributed: ``*.gz``). Every check
that fails raises :class:`IdxFormatError` (a ``ValueError``) naming the file and what
is wrong with it, so a truncated download or a swapped file is reported as such instead
of surfacing later as a reshape error or a nonsense accuracy.

MNIST images are 28x28; :func:`load_mnist` pads them with zeros to the 32x32 LeNet-5
takes (2 pixels on each side, as in the original LeNet-5 paper) and scales them to 0..1.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from samples.digits import LENET_SIZE, ImageSplit

__all__ = ["IdxFormatError", "IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "read_idx_images",
           "read_idx_labels", "find_mnist_file", "load_mnist", "pad_to"]

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_GZIP_SIGNATURE = b"\x1f\x8b"

#: The four files of MNIST, by part; each may also end in ``.gz``.
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class IdxFormatError(ValueError):
    """An IDX file is missing, truncated, corrupted or not the kind expected."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip signature."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IdxFormatError(path, "no such file") from None
    except OSError as exc:
        raise IdxFormatError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if raw[:2] != _GZIP_SIGNATURE:
        if path.suffix == ".gz":
            raise IdxFormatError(path, "named .gz but is not gzip-compressed "
                                       f"(starts with bytes {raw[:4].hex(' ') or 'nothing'})")
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise IdxFormatError(path, "gzip stream ends early: the file is truncated "
                                   "(an interrupted download?)") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise IdxFormatError(path, f"corrupted gzip data ({exc})") from None


def read_idx(path, expected_magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes; return a uint8 array of its dimensions.

    Checks the magic number against ``expected_magic``, and the data length against
    the product of the dimensions (too short: truncated; too long: trailing garbage).
    """
    path = Path(path)
    data = _read_bytes(path)
    kind = {IMAGES_MAGIC: "image", LABELS_MAGIC: "label"}.get(expected_magic, "IDX")
    if len(data) < 4:
        raise IdxFormatError(path, f"only {len(data)} bytes: too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        hint = ""
        if magic == IMAGES_MAGIC:
            hint = " (this is an image file)"
        elif magic == LABELS_MAGIC:
            hint = " (this is a label file)"
        raise IdxFormatError(
            path, f"magic number {magic} (0x{magic:08x}), expected {expected_magic} "
                  f"(0x{expected_magic:08x}) for an IDX {kind} file{hint}")
    ndim = data[3]  # the magic's low byte; its third byte (0x08, unsigned bytes) matched too
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxFormatError(path, f"header declares {ndim} dimensions but the file has "
                                   f"only {len(data)} bytes: truncated")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header_len + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        shape = "x".join(map(str, dims))
        if len(data) < expected:
            problem = (f"truncated: dimensions {shape} need {expected} bytes, "
                       f"the file has {len(data)}")
        else:
            problem = (f"{len(data) - expected} unexpected bytes after the data "
                       f"(dimensions {shape} need {expected} bytes, the file has {len(data)})")
        raise IdxFormatError(path, problem)
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)


def read_idx_images(path) -> np.ndarray:
    """An IDX image file (magic 2051) as a uint8 array ``(count, rows, columns)``."""
    return read_idx(path, IMAGES_MAGIC)


def read_idx_labels(path) -> np.ndarray:
    """An IDX label file (magic 2049) as an int64 array ``(count,)`` of digits 0..9."""
    labels = read_idx(path, LABELS_MAGIC)
    if labels.size and labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise IdxFormatError(path, f"label {int(labels[bad])} at index {bad}: "
                                   "MNIST labels are digits 0..9")
    return labels.astype(np.int64)


def find_mnist_file(directory, stem: str) -> Path:
    """``DIR/stem`` or ``DIR/stem.gz`` (also the ``train-images.idx3-ubyte`` spelling)."""
    directory = Path(directory)
    dotted = stem.replace("-idx", ".idx")
    candidates = [stem, stem + ".gz", dotted, dotted + ".gz"]
    for name in candidates:
        if (directory / name).is_file():
            return directory / name
    raise IdxFormatError(directory / stem, "not found; looked for "
                         + ", ".join(candidates) + f" in {directory}")


def pad_to(images: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad ``(N, H, W)`` images, centred, to ``(N, size, size)``."""
    n, h, w = images.shape
    if h > size or w > size:
        raise ValueError(f"images of {h}x{w} do not fit in {size}x{size}")
    top, left = (size - h) // 2, (size - w) // 2
    out = np.zeros((n, size, size), dtype=images.dtype)
    out[:, top:top + h, left:left + w] = images
    return out


def _load_part(directory, images_stem: str, labels_stem: str):
    images_path = find_mnist_file(directory, images_stem)
    labels_path = find_mnist_file(directory, labels_stem)
    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    if images.shape[0] != labels.shape[0]:
        raise IdxFormatError(labels_path, f"{labels.shape[0]} labels but "
                             f"{os.path.basename(images_path)} holds {images.shape[0]} images")
    if images.shape[1] > LENET_SIZE or images.shape[2] > LENET_SIZE:
        raise IdxFormatError(images_path, f"images are {images.shape[1]}x{images.shape[2]}; "
                             f"LeNet-5 takes at most {LENET_SIZE}x{LENET_SIZE} (MNIST is 28x28)")
    padded = pad_to(images, LENET_SIZE).astype(np.float32) / np.float32(255.0)
    return padded[:, None, :, :], labels


def load_mnist(directory) -> ImageSplit:
    """The four MNIST files in ``directory``, as float32 ``(N, 1, 32, 32)`` images in 0..1."""
    directory = Path(directory)
    if not directory.is_dir():
        raise IdxFormatError(directory, "is not a directory (--mnist expects the folder "
                                        "holding the four MNIST IDX files)")
    train_x, train_y = _load_part(directory, MNIST_FILES["train_images"], MNIST_FILES["train_labels"])
    test_x, test_y = _load_part(directory, MNIST_FILES["test_images"], MNIST_FILES["test_labels"])
    return ImageSplit(train_x, train_y, test_x, test_y)
