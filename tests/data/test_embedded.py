"""The MNIST subset shipped in the package: what its docstring says, and reproducible from the source."""

import numpy as np

from bioSNN.data import build_mnist_subset, load_mnist, load_mnist_subset
from bioSNN.data.embedded import SUBSET_PER_CLASS, subset_path


def test_shipped_subset_contents():
    for split, per_class in SUBSET_PER_CLASS.items():
        data = load_mnist_subset(split)
        assert data.images.dtype == np.uint8 and data.images.shape == (10 * per_class, 28, 28)
        assert np.bincount(data.labels).tolist() == [per_class] * 10
        assert list(data.records) == sorted(data.records)
        assert data.source["reader"] == "mnist-subset"  # the name load_images reads it by (later stages re-read it)
    assert subset_path().stat().st_size < 1.5e6


def test_subset_is_first_images_of_each_digit(mnist_root):
    for split, per_class in SUBSET_PER_CLASS.items():
        full, sub = load_mnist(mnist_root, split), load_mnist_subset(split)
        index = np.asarray(sub.records)
        assert np.array_equal(full.images[index], sub.images) and np.array_equal(full.labels[index], sub.labels)
        for digit in range(10):
            assert np.array_equal(index[sub.labels == digit], np.flatnonzero(full.labels == digit)[:per_class])


def test_rebuild_matches_shipped_file(mnist_root, tmp_path):
    rebuilt = build_mnist_subset(mnist_root, tmp_path / "subset.npz")
    with np.load(rebuilt) as a, np.load(subset_path()) as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            assert np.array_equal(a[name], b[name]), name
