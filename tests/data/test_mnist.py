"""MNIST reader: the real files (counts, label histograms) and corrupt copies."""

import shutil

import numpy as np
import pytest

from bioSNN.data import load_mnist, write_idx
from bioSNN.errors import DataError

# Label histograms of the official MNIST files.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("split,n,counts", [("train", 60000, TRAIN_COUNTS), ("test", 10000, TEST_COUNTS)])
def test_real_mnist(mnist_root, split, n, counts):
    data = load_mnist(mnist_root, split)
    assert data.images.shape == (n, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int64 and data.labels.shape == (n,)
    assert np.bincount(data.labels).tolist() == counts
    assert data.images.max() == 255 and data.images.min() == 0


def test_first_test_labels(mnist_root):
    assert load_mnist(mnist_root, "test").labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def _fake_mnist(root, n_images=4, n_labels=4):
    write_idx(root / "t10k-images-idx3-ubyte.gz", np.zeros((n_images, 28, 28), np.uint8))
    write_idx(root / "t10k-labels-idx1-ubyte", np.arange(n_labels, dtype=np.uint8))


def test_unzipped_files_accepted(tmp_path):
    _fake_mnist(tmp_path)
    data = load_mnist(tmp_path, "test")
    assert data.labels.tolist() == [0, 1, 2, 3]


def test_count_mismatch(tmp_path):
    _fake_mnist(tmp_path, n_images=4, n_labels=3)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: 3 labels for 4 images"):
        load_mnist(tmp_path, "test")


def test_swapped_files_rejected_by_magic(tmp_path):
    _fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(DataError, match="magic number is 2051"):
        load_mnist(tmp_path, "test")


def test_truncated_real_copy(mnist_root, tmp_path):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_root / name, tmp_path / name)
    raw = (tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(raw[: len(raw) - 1000])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist(tmp_path, "test")


def test_missing_files(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path, "train")
    with pytest.raises(DataError, match="unknown MNIST split"):
        load_mnist(tmp_path, "validation")
