"""Users' own images: ``<root>/<class>/<image>`` in PNG, JPEG, BMP or TIFF, read as 8-bit grayscale."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .imageset import ImageSet

__all__ = ["load_image_folder", "IMAGE_SUFFIXES"]

#: File name endings read as images (case-insensitive); other files are ignored.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def load_image_folder(root: str | os.PathLike[str], *, size: int | None = None, progress: bool = False) -> ImageSet:
    """Read ``<root>/<class>/<image>`` as ``uint8 [N, H, W]`` grayscale (PIL ``"L"`` conversion).

    Classes are the sub-folder names in sorted order; images within a class in sorted file order.
    All images must have the same size unless ``size`` resizes them (bilinear) to ``size x size``.
    Unreadable files and mixed sizes raise :class:`~bioSNN.errors.DataError` naming the files.

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
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found")
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
    iterator: Any = files
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(files, unit="img", desc="read images")
    images: list[np.ndarray] = []
    first: Path | None = None
    for _, path in iterator:
        try:
            with Image.open(path) as img:
                gray = img.convert("L")
                if size is not None:
                    gray = gray.resize((size, size), Image.BILINEAR)
                arr = np.asarray(gray, dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise DataError(f"{path}: cannot read image ({exc})") from exc
        if images and arr.shape != images[0].shape:
            raise DataError(f"mixed image sizes: {path} is {arr.shape[1]} x {arr.shape[0]} (W x H), {first} is "
                            f"{images[0].shape[1]} x {images[0].shape[0]}; pass size= to resize")
        first = first or path
        images.append(arr)
    labels = np.asarray([label for label, _ in files])
    return ImageSet(np.stack(images), labels, tuple(classes), tuple(str(p) for _, p in files),
                    {"reader": "folder", "root": str(root), "size": size})
