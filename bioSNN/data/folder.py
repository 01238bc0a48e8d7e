"""Users' own images: ``<root>/<class>/<image>`` in PNG, JPEG, BMP or TIFF, read as 8-bit grayscale."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, MissingDataError
from .geometry import center_crop, resize
from .imageset import ImageSet, read_stack

__all__ = ["load_image_folder", "IMAGE_SUFFIXES"]

#: File name endings read as images (case-insensitive); other files are ignored.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def _read_gray(path: Path, size: int | None, crop: int | None = None) -> np.ndarray:
    """One image as ``uint8 [H, W]``: colour -> PIL ``"L"`` luma, 16-bit -> top 8 bits, then the central
    ``crop x crop`` window, then resize."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if 0 in img.size:
                    raise DataError(f"{path}: image of {img.size[1]} x {img.size[0]} pixels (rows x columns): "
                                    "it needs at least one row and column")
                gray = _decode(path, img)
    except DataError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"{path}: image too large to read safely ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for truncated or corrupt images
        raise DataError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from exc
    if crop is not None:
        if crop > min(gray.shape):
            raise DataError(f"{path}: crop {crop} is larger than the image ({gray.shape[0]} x {gray.shape[1]})")
        gray = np.ascontiguousarray(center_crop(gray, crop))
    if size is None:
        return gray
    return np.clip(np.rint(resize(gray, size)), 0, 255).astype(np.uint8)


def _decode(path: Path, img: Any) -> np.ndarray:
    """The pixels of an open PIL image as ``uint8 [H, W]``."""
    if img.mode.startswith("I;16"):
        return (np.asarray(img, dtype=np.uint16) >> 8).astype(np.uint8)
    if img.mode in ("I", "F"):
        raise DataError(f"{path}: {img.mode!r} (32-bit) images are not read; save it as 8 or 16 bits")
    return np.asarray(img.convert("L"), dtype=np.uint8)


def load_image_folder(root: str | os.PathLike[str], *, size: int | None = None, crop: int | None = None,
                      split: str | None = None, progress: bool = False) -> ImageSet:
    """Read ``<root>/<class>/<image>`` (with ``split``: ``<root>/<split>/<class>/<image>``) as
    ``uint8 [N, H, W]`` grayscale.

    ``split`` names a sub-folder of ``root`` (e.g. ``"train"``, ``"test"``) and is recorded in the
    set's ``source``; a missing ``<root>/<split>`` is an error, so a test split is never read from a
    training folder. ``crop`` keeps the central ``crop x crop`` window of every image before ``size``
    resizes it (chips of different sizes, e.g. MSTAR's ten classes, become comparable).

    Classes are the sub-folder names in sorted order; images within a class in sorted file order.
    Colour images become luma (PIL ``"L"``), 16-bit images keep their top 8 bits. All images must have
    the same size unless ``size`` resizes them (bilinear) to ``size x size``. Unreadable files and
    mixed sizes raise :class:`~bioSNN.errors.DataError` naming the files.

    Example:
        >>> import tempfile; from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> for cls in ("cat", "dog"):
        ...     (root / cls).mkdir()
        ...     Image.new("L", (4, 3), 200).save(root / cls / "a.png")
        >>> data = load_image_folder(root)
        >>> data.images.shape, data.class_names, data.labels.tolist()
        ((2, 3, 4), ('cat', 'dog'), [0, 1])
    """
    top = Path(root)
    root = top if split is None else top / split
    if not root.is_dir():
        if split is not None and top.is_dir():
            raise MissingDataError(f"{root}: no {split!r} folder in {top} (a folder data set with splits is laid "
                                   "out as <root>/<split>/<class>/<image>)")
        raise MissingDataError(f"{root}: image folder not found")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{root}: no class sub-folders (expected <root>/<class>/<image>)")
    files: list[tuple[int, Path]] = []
    for label, name in enumerate(classes):
        found = sorted(p for p in (root / name).iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise DataError(f"{root / name}: no images ({', '.join(IMAGE_SUFFIXES)})")
        files += [(label, p) for p in found]
    images = read_stack([p for _, p in files], lambda p: _read_gray(p, size, crop), desc="read images", unit="img",
                        progress=progress, hint="resize them with --size N (size=N in Python)")
    labels = np.asarray([label for label, _ in files])
    return ImageSet(images, labels, tuple(classes), tuple(str(p) for _, p in files),
                    {"reader": "folder", "root": str(top), "split": split, "crop": crop, "size": size})
