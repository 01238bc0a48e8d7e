"""Input checks shared by the encoders: numpy or torch in, float64 numpy out, clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["to_numpy", "check_images", "check_steps"]


def to_numpy(x: Any, what: str) -> np.ndarray:
    """``x`` (numpy array, torch tensor on any device, or nested sequence) as a numpy array."""
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be an array, got {type(x).__name__}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"{what} must be numeric, got dtype {arr.dtype}")
    return arr


def check_images(x: Any, what: str, *, min_ndim: int = 2, upper: float | None = None, hint: str = "") -> np.ndarray:
    """``x`` as float64, refusing NaN/inf, negative values, values above ``upper`` and too few dims."""
    arr = to_numpy(x, what)
    if arr.ndim < min_ndim:
        raise InputError(f"{what} must have at least {min_ndim} dimensions, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if arr.size == 0:
        return arr
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} contains NaN or infinite values")
    low, high = float(arr.min()), float(arr.max())
    if low < 0:
        raise InputError(f"{what} must be non-negative, found {low:g}")
    if upper is not None and high > upper:
        raise InputError(f"{what} must not exceed {upper:g}, found {high:g}" + (f": {hint}" if hint else ""))
    return arr


def check_steps(T: Any) -> int:
    """``T`` as a positive int (the last step at which an input may spike)."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise InputError(f"T must be a positive integer number of steps, got {T!r}")
    if T <= 0:
        raise InputError(f"T must be positive, got {T}")
    return int(T)
