"""A small real MNIST subset shipped inside the package, so the demo runs with no data at hand.

``bioSNN/data/resources/mnist_subset.npz`` holds the **first 500 images of each digit** of the official
MNIST training file (5,000 images) and the **first 100 of each digit** of the official test file (1,000
images), in their original order, as ``uint8 [N, 28, 28]`` with ``int64`` labels and the index of each
image in its source file. It is about 1 MB. :func:`build_mnist_subset` rebuilds it from the official IDX
files (the test suite checks that the shipped file equals a rebuild from ``../shared/data/mnist``), and
its ``provenance`` member records the SHA-256 of the source files.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fileio import READ_ERRORS
from .imageset import ImageSet
from .mnist import MNIST_CLASSES, MNIST_FILES, _find, load_mnist

__all__ = ["load_mnist_subset", "build_mnist_subset", "SUBSET_PER_CLASS", "subset_path"]

#: images per digit in the shipped subset, by split.
SUBSET_PER_CLASS = {"train": 500, "test": 100}


def subset_path() -> Path:
    """Where the shipped subset lives inside the installed package."""
    return Path(str(resources.files("bioSNN.data") / "resources" / "mnist_subset.npz"))


def load_mnist_subset(split: str = "train") -> ImageSet:
    """The shipped MNIST subset (see the module docstring): 5,000 ``train`` or 1,000 ``test`` images.

    Example:
        >>> train = load_mnist_subset("train")
        >>> train.images.shape, train.images.dtype, set(train.class_counts().values())
        ((5000, 28, 28), dtype('uint8'), {500})
    """
    if split not in SUBSET_PER_CLASS:
        raise DataError(f"unknown split {split!r}; use one of {sorted(SUBSET_PER_CLASS)}")
    path = subset_path()
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels, index = z[f"{split}_images"], z[f"{split}_labels"], z[f"{split}_index"]
            provenance = json.loads(str(z["provenance"]))
    except READ_ERRORS as exc:
        raise DataError(f"{path}: shipped MNIST subset missing or corrupt ({exc}); reinstall bioSNN") from exc
    return ImageSet(images, labels, MNIST_CLASSES, tuple(int(i) for i in index),
                    {"reader": "mnist-subset", "split": split, "source_sha256": provenance["sha256"]})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_mnist_subset(mnist_root: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Rebuild the subset file from the official MNIST IDX files in ``mnist_root`` (atomically)."""
    from ..fileio import atomic_savez

    arrays: dict[str, np.ndarray] = {}
    sha: dict[str, str] = {}
    for split, per_class in SUBSET_PER_CLASS.items():
        data = load_mnist(mnist_root, split)
        index = np.sort(np.concatenate([np.flatnonzero(data.labels == d)[:per_class] for d in range(10)]))
        arrays[f"{split}_images"] = data.images[index]
        arrays[f"{split}_labels"] = data.labels[index]
        arrays[f"{split}_index"] = index.astype(np.int64)
        for name in MNIST_FILES[split]:
            path = _find(Path(mnist_root), name)
            sha[path.name] = _sha256(path)
    arrays["provenance"] = np.asarray(json.dumps({
        "source": "MNIST (LeCun, Cortes, Burges), official IDX files",
        "selection": {s: f"first {n} images of each digit, source order" for s, n in SUBSET_PER_CLASS.items()},
        "sha256": sha}, sort_keys=True))
    out = Path(out) if out is not None else subset_path()
    return atomic_savez(out, compress=True, **arrays)
