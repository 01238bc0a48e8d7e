"""Snapshots of a network's input weights during training, for receptive-field figures over time.

File format (``weights_history.npz``, numpy-readable; version 1), written by the unsupervised
trainers after every checkpoint slice and by the supervised trainer after every epoch:

=========== ========================= ========================================================
member      dtype / shape             meaning
=========== ========================= ========================================================
steps       int64 [S]                 when each snapshot was taken, in ``meta["step_name"]``
                                      units (``examples`` seen, or ``epoch``); 0 = initial
w           float32 [S, n_in, k]      input weights of the first ``k`` neurons (``k <= 16``)
image_shape int64 [2]                 pixel grid of the inputs (``[0, 0]`` if unknown)
meta        str (JSON)                format, version, step_name, unit of ``w``, source
=========== ========================= ========================================================

At most ``max_snapshots`` (default 25) are kept: when a new one would exceed it, the snapshots
nearest to ``max_snapshots`` evenly spaced steps between the first and the newest are kept (those
two always stay), so long runs keep a file of bounded size with snapshots spread over the whole run. A snapshot at a step already recorded (a resumed
run redoing work) replaces that one and every later one.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import DataError, InputError
from .fileio import READ_ERRORS, atomic_savez

__all__ = ["WeightHistory", "append_snapshot", "load_weight_history", "square_shape", "FILENAME", "MAX_NEURONS"]

FORMAT = "bioSNN.WeightHistory"
VERSION = 1
logger = logging.getLogger(__name__)

FILENAME = "weights_history.npz"
#: neurons kept per snapshot
MAX_NEURONS = 16


def square_shape(n_in: int) -> tuple[int, int] | None:
    """``(side, side)`` when ``n_in`` inputs fill a square image, else ``None``."""
    side = int(round(np.sqrt(n_in)))
    return (side, side) if side * side == n_in else None


@dataclass(frozen=True)
class WeightHistory:
    """The contents of a ``weights_history.npz``."""

    steps: np.ndarray
    w: np.ndarray
    image_shape: tuple[int, ...] | None
    step_name: str
    unit: str
    source: str = ""


def load_weight_history(path: str | os.PathLike[str]) -> WeightHistory:
    """Read a weight-history file (see the module docstring), with clear errors for bad files."""
    path = Path(path)
    if path.is_dir():
        path = path / FILENAME
    try:
        with np.load(path, allow_pickle=False) as z:
            steps, w, shape = z["steps"], z["w"], z["image_shape"]
            meta = json.loads(str(z["meta"]))
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no weight history (written while training since bioSNN 0.1)") from exc
    except READ_ERRORS as exc:
        raise DataError(f"{path}: unreadable weight history, corrupt or truncated ({exc})") from exc
    if meta.get("format") != FORMAT or w.ndim != 3 or len(steps) != len(w):
        raise DataError(f"{path}: not a bioSNN weight history")
    grid = tuple(int(s) for s in shape if s != 1)  # (1, 28, 28) -> (28, 28)
    image_shape = grid if len(grid) == 2 and int(np.prod(grid)) == w.shape[1] else None
    return WeightHistory(steps, w, image_shape, meta["step_name"], meta["unit"], meta.get("source", ""))


def append_snapshot(path: str | os.PathLike[str], step: int, w: Any, *, image_shape: Sequence[int] | None,
                    step_name: str, unit: str, source: str = "", max_snapshots: int = 25) -> Path:
    """Add the weights ``w`` (``[n_in, N]``) taken at ``step`` to the history at ``path`` (atomically).

    Example:
        >>> import tempfile
        >>> p = tempfile.mkdtemp() + "/weights_history.npz"
        >>> for k in range(4):
        ...     _ = append_snapshot(p, k, np.full((4, 2), k), image_shape=(2, 2), step_name="epoch", unit="1",
        ...                         max_snapshots=3)
        >>> load_weight_history(p).steps.tolist()
        [0, 1, 3]
    """
    w = np.asarray(w, dtype=np.float32)
    if w.ndim != 2:
        raise InputError(f"weights must be [n_in, N], got shape {w.shape}")
    w = w[:, :MAX_NEURONS]
    path = Path(path)
    steps: list[int] = []
    snaps: list[np.ndarray] = []
    old = None
    if path.exists():
        try:
            old = load_weight_history(path)
        except DataError as exc:  # a by-product of training: never worth failing (or redoing) a run for
            logger.warning("%s; starting a new weight history there (earlier snapshots are lost)", exc)
    if old is not None:
        if old.w.shape[1:] == w.shape and old.step_name == step_name:
            keep = old.steps < step
            steps, snaps = old.steps[keep].tolist(), list(old.w[keep])
            image_shape = image_shape if image_shape is not None else old.image_shape
    steps.append(int(step))
    snaps.append(w)
    if len(steps) > max(max_snapshots, 2):
        at = np.asarray(steps, dtype=np.float64)
        targets = np.linspace(at[0], at[-1], max(max_snapshots, 2))
        idx = sorted({int(np.argmin(np.abs(at - t))) for t in targets} | {0, len(steps) - 1})
        steps, snaps = [steps[i] for i in idx], [snaps[i] for i in idx]
    shape = np.asarray(image_shape if image_shape is not None else (0, 0), dtype=np.int64)
    meta = {"format": FORMAT, "version": VERSION, "step_name": step_name, "unit": unit, "source": source}
    return atomic_savez(path, compress=True, steps=np.asarray(steps, dtype=np.int64), w=np.stack(snaps), image_shape=shape,
                        meta=np.asarray(json.dumps(meta)))
