"""Learned input weights as images: one tile per output neuron, reshaped to the input's pixel grid."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..fileio import atomic_path

__all__ = ["weight_tiles", "save_weight_image"]


def weight_tiles(w: np.ndarray, image_shape: Sequence[int], columns: int | None = None) -> np.ndarray:
    """Arrange ``w`` (``[n_in, N]``) as a mosaic: tile ``k`` is ``w[:, k]`` reshaped to ``image_shape``,
    separated by one-pixel NaN gaps (drawn as background).

    Example:
        >>> weight_tiles(np.arange(8.0).reshape(4, 2), (2, 2)).shape
        (2, 5)
    """
    w = np.asarray(w, dtype=np.float64)
    h, wd = (int(s) for s in image_shape)
    if w.ndim != 2 or w.shape[0] != h * wd:
        raise InputError(f"weights must be [n_in = {h * wd}, N], got {w.shape}")
    n = w.shape[1]
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    mosaic = np.full((rows * (h + 1) - 1, columns * (wd + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, columns)
        mosaic[r * (h + 1): r * (h + 1) + h, c * (wd + 1): c * (wd + 1) + wd] = w[:, k].reshape(h, wd)
    return mosaic


def save_weight_image(path: str | os.PathLike[str], w: np.ndarray, image_shape: Sequence[int], *,
                      title: str = "") -> Path:
    """Save the mosaic of :func:`weight_tiles` (PNG, PDF or SVG by the file's suffix), atomically.

    Uses a private matplotlib ``Figure``: the caller's pyplot state and backend are left alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mosaic = weight_tiles(w, image_shape)
    fig = Figure(figsize=(6, 6 * mosaic.shape[0] / max(mosaic.shape[1], 1) + 0.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(mosaic), cmap="viridis", interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="weight")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", bbox_inches="tight", dpi=150)
    return path
