"""Writing small IDX files (the MNIST format) for the tests, header by hand as the spec says."""

from __future__ import annotations

import gzip

import numpy as np

from samples.mnist import IMAGES_MAGIC, LABELS_MAGIC


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file's bytes for a uint8 array (header written by hand, as the spec says)."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path, array, magic, compress=False):
    data = idx_bytes(array, magic)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def make_images(n, size=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, size, size), dtype=np.uint8)


def make_labels(n, seed=0):
    return np.random.default_rng(seed).integers(0, 10, size=n, dtype=np.uint8)


def write_mnist_dir(directory, n_train=6, n_test=4, compress=False):
    suffix = ".gz" if compress else ""
    parts = {
        "train-images-idx3-ubyte": (make_images(n_train, seed=1), IMAGES_MAGIC),
        "train-labels-idx1-ubyte": (make_labels(n_train, seed=2), LABELS_MAGIC),
        "t10k-images-idx3-ubyte": (make_images(n_test, seed=3), IMAGES_MAGIC),
        "t10k-labels-idx1-ubyte": (make_labels(n_test, seed=4), LABELS_MAGIC),
    }
    for name, (array, magic) in parts.items():
        write_idx(directory / (name + suffix), array, magic, compress)
    return {name: array for name, (array, _) in parts.items()}
