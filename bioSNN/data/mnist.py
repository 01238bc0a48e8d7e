"""MNIST from the four original IDX files (gzip-compressed or not)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError, MissingDataError
from .idx import read_idx
from .imageset import ImageSet

__all__ = ["load_mnist", "MNIST_FILES", "MNIST_CLASSES"]

#: split -> (images file, labels file), as named in the official distribution.
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


def _find(root: Path, name: str) -> Path:
    for candidate in (root / f"{name}.gz", root / name):
        if candidate.is_file():
            return candidate
    raise DataError(f"{root}: neither {name}.gz nor {name} found (MNIST IDX files expected)")


def load_mnist(root: str | os.PathLike[str], split: str = "train") -> ImageSet:
    """Read MNIST ``split`` (``"train"``: 60,000 images, ``"test"``: 10,000) from IDX files in ``root``.

    Returns an :class:`ImageSet` with ``images`` ``uint8 [N, 28, 28]`` and ``labels`` ``int64 [N]``.
    Magic numbers (2051 images, 2049 labels), the data length against the header and the image/label
    counts are checked; a truncated or corrupt file raises :class:`~bioSNN.errors.DataError` naming it.

    Example:
        >>> mnist = load_mnist("../shared/data/mnist", "test")    # doctest: +SKIP
        >>> mnist.images.shape, mnist.labels[:5].tolist()         # doctest: +SKIP
        ((10000, 28, 28), [7, 2, 1, 0, 4])
    """
    if split not in MNIST_FILES:
        raise DataError(f"unknown MNIST split {split!r}; use one of {sorted(MNIST_FILES)}")
    root = Path(root)
    if not root.is_dir():
        raise MissingDataError(f"{root}: MNIST folder not found")
    image_path, label_path = (_find(root, name) for name in MNIST_FILES[split])
    images = read_idx(image_path, expect_magic=_IMAGES_MAGIC)
    labels = read_idx(label_path, expect_magic=_LABELS_MAGIC)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{image_path}: expected uint8 [N, rows, cols], got {images.dtype} {images.shape}")
    if 0 in images.shape[1:]:
        raise DataError(f"{image_path}: images of {images.shape[1]} x {images.shape[2]} pixels (rows x columns): "
                        "every image needs at least one row and column")
    if labels.shape != (images.shape[0],):
        raise DataError(f"{label_path}: {labels.shape[0]} labels for {images.shape[0]} images in {image_path}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{label_path}: label {labels.max()} outside 0..9")
    return ImageSet(images, labels.astype(np.int64), MNIST_CLASSES, tuple(range(len(labels))),
                    {"reader": "mnist", "root": str(root), "split": split})
