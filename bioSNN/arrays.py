"""Array inputs from users: numpy or torch in, numpy out, clear errors (shared by readers and encoders)."""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["to_numpy", "check_images", "check_steps", "flatten_samples", "digest"]


def to_numpy(x: Any, what: str) -> np.ndarray:
    """``x`` (numpy array, torch tensor on any device, or nested sequence) as a numpy array."""
    torch = sys.modules.get("torch")  # a tensor exists only if torch is imported; don't import it here
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
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


def flatten_samples(x: np.ndarray, what: str) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """``[N, ...]`` -> ``[N, n_in]``, and the per-sample shape when it is an image (2 or more axes).

    Works for ``N = 0``.
    """
    if x.ndim < 2:
        raise InputError(f"{what} must be [N, H, W] or [N, n_in] (first axis: samples), got shape {x.shape}")
    n_in = int(np.prod(x.shape[1:]))
    return x.reshape(x.shape[0], n_in), (tuple(x.shape[1:]) if x.ndim > 2 else None)


def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's shape and bytes (C order): identifies training data in checkpoints.

    Example:
        >>> digest(np.zeros(3)) == digest(np.zeros(3)) != digest(np.zeros(4))
        True
    """
    arr = np.ascontiguousarray(array)
    return hashlib.sha256(repr(arr.shape).encode() + arr.tobytes()).hexdigest()
