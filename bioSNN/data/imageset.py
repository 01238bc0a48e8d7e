"""The in-memory result of every image reader: images, integer labels, class names, per-image records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import DataError, InputError

__all__ = ["ImageSet", "read_stack"]


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Labelled images as read from disk.

    Attributes:
        images: ``[N, H, W]`` array (``uint8`` for MNIST and image folders, ``float32`` magnitudes for
            MSTAR; see :func:`bioSNN.data.to_uint8`).
        labels: ``int64 [N]``, indices into ``class_names``.
        class_names: the name of each class index.
        records: one metadata entry per image (``ChipInfo`` for MSTAR, the source path for folders,
            the index in the source file for MNIST).
        source: where the images came from (reader, root, split), stored as provenance in spike files.

    Example:
        >>> import numpy as np
        >>> s = ImageSet(np.zeros((2, 4, 4), np.uint8), np.array([0, 1]), ("a", "b"), (0, 1))
        >>> len(s), s[1:].labels.tolist()
        (2, [1])
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    records: tuple[Any, ...]
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        images, labels = np.asarray(self.images), np.asarray(self.labels)
        if images.ndim != 3:
            raise InputError(f"images must be [N, H, W], got shape {images.shape}")
        if 0 in images.shape[1:]:
            raise InputError(f"images must have at least one row and column, got shape {images.shape}")
        if labels.shape != (images.shape[0],):
            raise InputError(f"labels must be [N] = [{images.shape[0]}], got shape {labels.shape}")
        if len(self.records) != images.shape[0]:
            raise InputError(f"{len(self.records)} records for {images.shape[0]} images")
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise InputError(f"labels must lie in 0..{len(self.class_names) - 1}")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels.astype(np.int64, copy=False))
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        object.__setattr__(self, "records", tuple(self.records))

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: slice | Sequence[int] | np.ndarray) -> "ImageSet":
        """A subset (slice, index list or boolean mask), keeping class names and source."""
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        return ImageSet(self.images[idx], self.labels[idx], self.class_names,
                        tuple(self.records[i] for i in idx), dict(self.source))

    def class_counts(self) -> dict[str, int]:
        """Number of images per class name."""
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(n) for name, n in zip(self.class_names, counts)}


def read_stack(paths: Sequence[Path], read: Callable[[Path], np.ndarray], *, desc: str, unit: str,
               progress: bool = False, hint: str = "") -> np.ndarray:
    """Read one image per path with ``read`` and stack them, with an optional progress bar.

    Images of different sizes raise :class:`~bioSNN.errors.DataError` naming the two files.
    """
    from ..progress import progress_bar

    images: list[np.ndarray] = []
    with progress_bar(len(paths), desc, unit, enabled=progress) as bar:
        for path in paths:
            image = read(path)
            if images and image.shape != images[0].shape:
                raise DataError(f"mixed image sizes: {path} is {image.shape[0]} x {image.shape[1]} (rows x columns), "
                                f"{paths[0]} is {images[0].shape[0]} x {images[0].shape[1]}"
                                + (f"; {hint}" if hint else ""))
            images.append(image)
            bar.update(1)
    return np.stack(images)
