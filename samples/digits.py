"""The default data set of the LeNet sample: scikit-learn's real handwritten digits at 32x32.

``sklearn.datasets.load_digits`` ships inside scikit-learn (no network): 1,797 scans of
digits written by 43 people, each reduced by its authors to an 8x8 grid of counts 0..16.
The PyTorch tutorial's LeNet-5 expects 32x32 inputs (the size LeCun's LeNet-5 was built
for), so every 8x8 image is scaled up 4x by **bilinear interpolation with half-pixel
centres** (the convention of PIL and ``F.interpolate(..., mode='bilinear',
align_corners=False)``; see :func:`resize_bilinear`) after dividing by 16, giving float32
values in 0..1.

The train/test split is stratified by class and deterministic (a fixed seed), so every
run and every test sees the same 1,437 training and 360 test images (with the default
20% test fraction).

Only numpy and scikit-learn are used here: the samples' data does not depend on the
engine, and the engine does not depend on scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImageSplit", "resize_bilinear", "load_digits_8x8", "load_digits_32",
           "stratified_split"]

#: Side of the images LeNet-5 takes.
LENET_SIZE = 32


@dataclass(frozen=True)
class ImageSplit:
    """Images and labels, split into a training and a test part.

    Images are float32 arrays of shape ``(N, 1, H, W)`` (values 0..1), labels int64
    arrays of shape ``(N,)`` with values 0..9.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    @property
    def image_shape(self) -> tuple:
        return tuple(self.train_images.shape[1:])

    def __repr__(self) -> str:  # arrays would print thousands of numbers
        return (f"ImageSplit(train={len(self.train_labels)}, test={len(self.test_labels)}, "
                f"image_shape={self.image_shape})")


def _interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix of 1-D linear interpolation with half-pixel centres.

    Output pixel ``o`` samples the input at ``(o + 0.5) * n_in / n_out - 0.5``, clamped
    to ``[0, n_in - 1]`` (edge pixels are repeated, not faded to black); each row holds
    the two weights of its neighbouring input pixels and sums to 1.
    """
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, lo), 1.0 - frac)
    np.add.at(matrix, (rows, hi), frac)
    return matrix


def resize_bilinear(images: np.ndarray, size: int | tuple) -> np.ndarray:
    """Resize ``(..., H, W)`` images to ``size`` (an int or ``(h, w)``) bilinearly.

    Bilinear interpolation is separable: one interpolation matrix for the rows and one
    for the columns, applied as ``R @ image @ C.T`` to every image at once. Constant
    images stay constant and the value range cannot grow (every output is a convex
    combination of inputs). Returns float32.
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"resize_bilinear needs (..., H, W) images, got shape {images.shape}")
    out_h, out_w = (size, size) if isinstance(size, int) else tuple(size)
    in_h, in_w = images.shape[-2:]
    rows = _interpolation_matrix(in_h, out_h)
    cols = _interpolation_matrix(in_w, out_w)
    resized = rows @ images.astype(np.float64) @ cols.T
    return resized.astype(np.float32)


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int):
    """Indices ``(train, test)`` with each class split in the same proportion.

    Deterministic for a given ``seed``: each class's indices are shuffled by a
    ``numpy.random.default_rng(seed)`` generator and its first ``round(n * fraction)``
    go to the test part. Both index arrays come back sorted.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        rng.shuffle(members)
        n_test = int(round(len(members) * test_fraction))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_digits_8x8() -> tuple:
    """The raw scikit-learn digits: float32 images ``(1797, 8, 8)`` in 0..1 and int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    return images, bunch.target.astype(np.int64)


def load_digits_32(test_fraction: float = 0.2, seed: int = 0) -> ImageSplit:
    """The digits scaled to 32x32 (``(N, 1, 32, 32)`` float32, 0..1), split train/test."""
    images, labels = load_digits_8x8()
    images = resize_bilinear(images, LENET_SIZE)[:, None, :, :]
    train, test = stratified_split(labels, test_fraction, seed)
    return ImageSplit(np.ascontiguousarray(images[train]), labels[train],
                      np.ascontiguousarray(images[test]), labels[test])
