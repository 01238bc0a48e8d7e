"""Data sets by name, as 8-bit images ready for the encoders (what ``biosnn encode --dataset`` reads)."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Sequence

from ..errors import DataError
from .embedded import load_mnist_subset
from .folder import load_image_folder
from .imageset import ImageSet
from .mnist import load_mnist
from .mstar import load_mstar, to_uint8

__all__ = ["load_images", "IMAGE_DATASETS"]

#: names accepted by :func:`load_images`.
IMAGE_DATASETS = ("mnist", "mnist-subset", "mstar", "folder")


def load_images(dataset: str, root: str | os.PathLike[str] | None = None, split: str = "train", *,
                classes: Sequence[str] | None = None, crop: int | None = None, size: int | None = None,
                scaling: str = "enhanced", progress: bool = False) -> ImageSet:
    """``uint8 [N, H, W]`` images of a named data set.

    ``"mnist"`` (IDX files in ``root``), ``"mnist-subset"`` (shipped, no ``root``), ``"mstar"``
    (Phoenix chips under ``root/split/<class>``, converted with :func:`to_uint8` ``scaling``; ``classes``,
    ``crop`` and ``size`` apply) and ``"folder"`` (``root/<split>/<class>/<image>``, or ``root/<class>/<image>`` as the training split
    alone; ``crop`` and ``size`` apply).

    Example:
        >>> data = load_images("mnist-subset", split="test")
        >>> data.images.shape, data.images.dtype.name
        ((1000, 28, 28), 'uint8')
    """
    if dataset not in IMAGE_DATASETS:
        raise DataError(f"unknown dataset {dataset!r}; use one of {IMAGE_DATASETS}")
    if dataset == "mnist-subset":
        return load_mnist_subset(split)
    if root is None:
        raise DataError(f"dataset {dataset!r} needs a root folder")
    if dataset == "mnist":
        return load_mnist(root, split)
    if dataset == "folder":
        from pathlib import Path

        # <root>/<split>/<class>/<image>; a bare <root>/<class>/<image> is one (training) set only
        has_split = (Path(root) / split).is_dir() or split != "train"
        return load_image_folder(root, size=size, crop=crop, split=split if has_split else None, progress=progress)
    chips = load_mstar(root, split, classes, crop=crop, size=size, progress=progress)
    return replace(chips, images=to_uint8(chips.images, scaling), source={**chips.source, "scaling": scaling})
