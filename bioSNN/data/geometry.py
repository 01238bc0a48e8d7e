"""Image geometry shared by the readers: central crop and bilinear resize."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["center_crop", "resize"]


def center_crop(images: np.ndarray, size: int) -> np.ndarray:
    """The central ``size x size`` window of ``[..., H, W]`` images (offset ``(H - size) // 2``).

    Example:
        >>> center_crop(np.arange(16).reshape(4, 4), 2).tolist()
        [[5, 6], [9, 10]]
    """
    h, w = images.shape[-2:]
    if not 0 < size <= min(h, w):
        raise InputError(f"crop size {size} must lie in 1..{min(h, w)} for {h} x {w} images")
    top, left = (h - size) // 2, (w - size) // 2
    return images[..., top:top + size, left:left + size]


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of ``[..., H, W]`` images to ``size x size`` (PIL in float32 mode ``"F"``).

    Returns float32; 8-bit callers round and clip the result themselves.
    """
    from PIL import Image

    if size < 1:
        raise InputError(f"resize size must be positive, got {size}")
    out = np.empty(images.shape[:-2] + (size, size), dtype=np.float32)
    flat_in = images.reshape(-1, *images.shape[-2:]).astype(np.float32)
    flat_out = out.reshape(-1, size, size)
    for i, img in enumerate(flat_in):
        flat_out[i] = np.asarray(Image.fromarray(img, mode="F").resize((size, size), Image.BILINEAR))
    return out
