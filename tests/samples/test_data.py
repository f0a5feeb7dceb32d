"""The samples' data: scikit-learn digits at 32x32, and the MNIST IDX reader."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from samples.digits import (ImageSplit, load_digits_32, load_digits_8x8, resize_bilinear,
                            stratified_split)
from samples.mnist import (IMAGES_MAGIC, LABELS_MAGIC, IdxFormatError, find_mnist_file,
                           load_mnist, pad_to, read_idx_images, read_idx_labels)

from idx_files import idx_bytes, make_images, make_labels, write_idx, write_mnist_dir


# --- digits -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits() -> ImageSplit:
    return load_digits_32()


def test_digits_shapes_types_and_range(digits):
    assert digits.train_images.shape == (1438, 1, 32, 32)
    assert digits.test_images.shape == (359, 1, 32, 32)
    assert digits.train_images.dtype == np.float32 and digits.test_images.dtype == np.float32
    assert digits.train_labels.dtype == np.int64 and digits.test_labels.dtype == np.int64
    for images in (digits.train_images, digits.test_images):
        assert images.min() >= 0.0 and images.max() <= 1.0
        assert images.flags.c_contiguous
    assert set(np.unique(digits.train_labels)) == set(range(10))


def test_digits_split_is_disjoint_complete_and_stratified(digits):
    images, labels = load_digits_8x8()
    train, test = stratified_split(labels, 0.2, seed=0)
    assert len(np.intersect1d(train, test)) == 0
    assert len(train) + len(test) == len(labels) == 1797
    # every class is split in the same proportion (within one image of rounding)
    for cls in range(10):
        n = int((labels == cls).sum())
        assert abs(int((labels[test] == cls).sum()) - 0.2 * n) <= 1
    np.testing.assert_array_equal(digits.test_labels, labels[test])


def test_digits_are_deterministic_and_seed_dependent(digits):
    again = load_digits_32()
    np.testing.assert_array_equal(again.train_images, digits.train_images)
    np.testing.assert_array_equal(again.test_labels, digits.test_labels)
    other = load_digits_32(seed=1)
    assert not np.array_equal(other.test_labels, digits.test_labels)


def test_digits_upscaling_keeps_the_image(digits):
    """Downscaling the 32x32 image by 4x4 block means gives back (nearly) the 8x8 scan."""
    images, labels = load_digits_8x8()
    _, test = stratified_split(labels, 0.2, seed=0)
    big = digits.test_images[:, 0]
    blocks = big.reshape(len(big), 8, 4, 8, 4).mean(axis=(2, 4))
    assert np.corrcoef(blocks.ravel(), images[test].ravel())[0, 1] > 0.97


def test_resize_bilinear_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    images = rng.random((3, 8, 8), dtype=np.float32)
    ours = resize_bilinear(images, 32)
    ref = torch.nn.functional.interpolate(torch.from_numpy(images)[:, None], size=(32, 32),
                                          mode="bilinear", align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert resize_bilinear(images, (5, 11)).shape == (3, 5, 11)


def test_resize_bilinear_basic_properties():
    constant = np.full((2, 8, 8), 0.7, dtype=np.float32)
    np.testing.assert_allclose(resize_bilinear(constant, 32), 0.7, rtol=1e-6)
    # 2 -> 4 with half-pixel centres: samples at -0.25, 0.25, 0.75, 1.25 (clamped)
    ramp = np.array([[0.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(resize_bilinear(ramp, (1, 4))[0], [0.0, 0.25, 0.75, 1.0])
    with pytest.raises(ValueError, match="H, W"):
        resize_bilinear(np.zeros(5), 4)


def test_stratified_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(np.zeros(10), 1.5, seed=0)


# --- MNIST IDX files ----------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_read_idx_round_trip(tmp_path, compress):
    images, labels = make_images(5), make_labels(5)
    suffix = ".gz" if compress else ""
    img_path = write_idx(tmp_path / f"imgs{suffix}", images, IMAGES_MAGIC, compress)
    lbl_path = write_idx(tmp_path / f"lbls{suffix}", labels, LABELS_MAGIC, compress)
    got_images, got_labels = read_idx_images(img_path), read_idx_labels(lbl_path)
    np.testing.assert_array_equal(got_images, images)
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_labels.dtype == np.int64


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_load_mnist_pads_to_32_and_scales(tmp_path, compress):
    arrays = write_mnist_dir(tmp_path, compress=compress)
    split = load_mnist(tmp_path)
    assert split.train_images.shape == (6, 1, 32, 32)
    assert split.test_images.shape == (4, 1, 32, 32)
    assert split.train_images.dtype == np.float32
    expected = arrays["train-images-idx3-ubyte"].astype(np.float32) / 255.0
    np.testing.assert_allclose(split.train_images[:, 0, 2:30, 2:30], expected)
    border = split.train_images.copy()
    border[:, :, 2:30, 2:30] = 0.0
    assert not border.any(), "the 2-pixel padding must be zeros"
    np.testing.assert_array_equal(split.test_labels, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_accepts_the_dotted_spelling(tmp_path):
    write_mnist_dir(tmp_path)
    for path in list(tmp_path.iterdir()):
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    assert find_mnist_file(tmp_path, "train-images-idx3-ubyte").name == "train-images.idx3-ubyte"
    assert load_mnist(tmp_path).train_images.shape == (6, 1, 32, 32)


def assert_clear_error(excinfo, path, *fragments):
    """The error is a ValueError naming the file and saying what is wrong."""
    err = excinfo.value
    assert isinstance(err, ValueError)
    assert str(path) in str(err)
    for fragment in fragments:
        assert fragment in str(err), f"{fragment!r} not in {str(err)!r}"


def test_truncated_plain_file(tmp_path):
    path = tmp_path / "imgs"
    path.write_bytes(idx_bytes(make_images(3), IMAGES_MAGIC)[:-100])
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_images(path)
    assert_clear_error(excinfo, path, "truncated", "3x28x28", str(16 + 3 * 784))


def test_truncated_header(tmp_path):
    path = tmp_path / "imgs"
    path.write_bytes(idx_bytes(make_images(3), IMAGES_MAGIC)[:10])
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_images(path)
    assert_clear_error(excinfo, path, "truncated")


def test_truncated_gzip_file(tmp_path):
    path = tmp_path / "imgs.gz"
    path.write_bytes(gzip.compress(idx_bytes(make_images(3), IMAGES_MAGIC))[:-40])
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_images(path)
    assert_clear_error(excinfo, path, "truncated")


def test_corrupted_gzip_file(tmp_path):
    data = bytearray(gzip.compress(idx_bytes(make_images(3), IMAGES_MAGIC)))
    # flip bytes of the stored CRC-32 (the 8-byte trailer's first half)
    data[-8:-4] = bytes(b ^ 0xFF for b in data[-8:-4])
    path = tmp_path / "imgs.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_images(path)
    assert_clear_error(excinfo, path, "corrupted gzip")


def test_gz_name_without_gzip_content(tmp_path):
    path = write_idx(tmp_path / "imgs.gz", make_images(2), IMAGES_MAGIC, compress=False)
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_images(path)
    assert_clear_error(excinfo, path, "not gzip-compressed")


def test_wrong_magic_names_both_numbers(tmp_path):
    path = write_idx(tmp_path / "swapped", make_labels(4), LABELS_MAGIC)
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_images(path)  # a label file where images were expected
    assert_clear_error(excinfo, path, "2049", "2051", "label file")

    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"<html>not found</html>")
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_labels(garbage)
    assert_clear_error(excinfo, garbage, "magic number", "2049")


def test_trailing_bytes(tmp_path):
    path = tmp_path / "lbls"
    path.write_bytes(idx_bytes(make_labels(4), LABELS_MAGIC) + b"\x00\x00")
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_labels(path)
    assert_clear_error(excinfo, path, "2 unexpected bytes")


def test_label_out_of_range(tmp_path):
    path = write_idx(tmp_path / "lbls", np.array([1, 2, 12], dtype=np.uint8), LABELS_MAGIC)
    with pytest.raises(IdxFormatError) as excinfo:
        read_idx_labels(path)
    assert_clear_error(excinfo, path, "label 12 at index 2")


def test_label_and_image_counts_must_match(tmp_path):
    write_mnist_dir(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    write_idx(labels, make_labels(7), LABELS_MAGIC)
    with pytest.raises(IdxFormatError) as excinfo:
        load_mnist(tmp_path)
    assert_clear_error(excinfo, labels, "7 labels", "4 images")


def test_missing_file_and_directory(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(IdxFormatError) as excinfo:
        load_mnist(tmp_path)
    assert_clear_error(excinfo, tmp_path / "t10k-images-idx3-ubyte", "not found",
                       "t10k-images-idx3-ubyte.gz")
    with pytest.raises(IdxFormatError, match="not a directory"):
        load_mnist(tmp_path / "nowhere")


def test_images_too_large_for_lenet(tmp_path):
    write_mnist_dir(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", make_images(6, size=40), IMAGES_MAGIC)
    with pytest.raises(IdxFormatError, match="40x40"):
        load_mnist(tmp_path)


def test_pad_to_centres():
    out = pad_to(np.ones((1, 2, 2), dtype=np.uint8), 4)
    np.testing.assert_array_equal(out[0], [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]])
