"""The file layout of Jiankun-chen/Supervised-SNN-with-GD (seeds_spec 1.2), read and written.

::

    <root>/Train/Spikes/<k>.npy   (n_input, T + 1)  0/1, column t = time t, column 0 silent
    <root>/Train/Labels/<k>.npy   (n_out, T)        guidance potential in mV at t = 1..T
    <root>/Test/...

Files are float64 ``.npy`` (the project's current version) or joblib ``.pkl`` (its first version).
Spike rows are pixels in row-major order. A ``Labels`` file is matched to the ``Spikes`` file with the
same relative path and name, as the project's loader does. The project derives each sample's class
from the guidance (the output neuron whose trace has the largest sum); :func:`read_seed_layout` does
the same (the intended ``argmax`` rule, seeds_spec 1.8) and stores it as the spike trains' labels.

``.pkl`` files are pickles, and reading a pickle can run code that the file names. They are refused
(:class:`~bioSNN.errors.DataError`, before any file is read) unless the caller passes
``trust_pickle=True`` (``--trust-pickle`` on the command line); ``.npy`` files are read with
``allow_pickle=False`` and need no trust. To drop the flag, convert once: read with
``trust_pickle=True`` and write the split again with :func:`write_seed_layout` (``fmt="npy"``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Sequence

import numpy as np

from ..arrays import to_numpy
from ..encoding.spike_trains import SpikeTrains
from ..errors import DataError, InputError, MissingDataError
from ..fileio import atomic_dir

__all__ = ["SeedSplit", "read_seed_layout", "write_seed_layout", "SEED_SPLITS"]

#: split name -> folder name used by the seed project.
SEED_SPLITS = {"train": "Train", "test": "Test"}
_SUFFIXES = (".npy", ".pkl")


@dataclass(frozen=True, eq=False)
class SeedSplit:
    """One split of a seed-layout folder.

    Attributes:
        spikes: the spike trains, ``[N, T + 1, n_input]``, labelled with the winner of each guidance.
        guidance: ``float32 [N, n_out, T]`` in mV, or ``None`` when the split has no ``Labels`` folder.
        names: relative file name of each sample (without suffix), in reading order.
    """

    spikes: SpikeTrains
    guidance: np.ndarray | None
    names: tuple[str, ...]


def _split_folder(split: str) -> str:
    """``"train"`` -> ``"Train"``, ``"test"`` -> ``"Test"``; other names are folder names as given."""
    return SEED_SPLITS.get(split.lower(), split)


def _split_dir(root: Path, split: str) -> Path:
    folder = _split_folder(split)
    for candidate in (root / folder, root / folder.lower(), root / split):
        if candidate.is_dir():
            return candidate
    raise MissingDataError(f"{root / folder}: seed-layout split folder not found")


def _natural_key(rel: Path) -> list[Any]:
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", rel.as_posix())]


def _listing(folder: Path) -> dict[Path, Path]:
    """relative path without suffix -> file, for every .npy/.pkl below ``folder``."""
    found: dict[Path, Path] = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in _SUFFIXES and not path.name.startswith("."):
            rel = path.relative_to(folder).with_suffix("")
            if rel in found:
                raise DataError(f"{path}: both {found[rel].name} and {path.name} exist; keep one")
            found[rel] = path
    return found


def _refuse_pickle(path: Path, more: int = 0) -> None:
    others = f" (and {more} more .pkl file{'s' if more > 1 else ''})" if more else ""
    raise DataError(f"{path}{others}: a pickle (.pkl) file, and reading a pickle can run code stored in it, so it is "
                    "refused; if you trust these files pass --trust-pickle (command line) or trust_pickle=True "
                    "(Python), or convert them to .npy")


def _load_array(path: Path) -> np.ndarray:
    """One array; ``.pkl`` files only after :func:`read_seed_layout` has checked the trust flag."""
    try:
        if path.suffix == ".pkl":
            import joblib

            value = joblib.load(path)
        else:
            value = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy and joblib raise many types for corrupt files
        raise DataError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    arr = np.asarray(value)
    if arr.ndim != 2 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{path}: expected a 2-d numeric array, got {arr.dtype} {arr.shape}")
    return arr


def read_seed_layout(root: str | os.PathLike[str], split: str = "train", *, dt: Any = 1e-3,
                     image_shape: Sequence[int] | None = None, trust_pickle: bool = False) -> SeedSplit:
    """Read ``<root>/<Split>/{Spikes,Labels}`` (``.npy``, or joblib ``.pkl`` with ``trust_pickle``).

    Args:
        root: the folder holding ``Train/`` and ``Test/``.
        split: ``"train"`` or ``"test"`` (mapped to ``Train``/``Test``) or a folder name.
        dt: the time step of one column (the seed used 1 ms).
        image_shape: pixel grid of the inputs; default: square if ``n_input`` is a perfect square.
        trust_pickle: read ``.pkl`` files (pickles can run code). Without it a split holding any
            ``.pkl`` file is refused with a :class:`~bioSNN.errors.DataError` before anything is read.

    Shapes must agree across files, spikes must be 0/1 and guidance finite with ``T`` columns for
    ``T + 1`` spike columns; otherwise :class:`~bioSNN.errors.DataError` names the file.

    Example:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> spikes = SpikeTrains.from_dense(np.ones((2, 4, 9), bool), dt=1e-3)
        >>> guidance = np.zeros((2, 3, 3)); guidance[0, 2] = 5.0; guidance[1, 0] = 1.0
        >>> _ = write_seed_layout(root, "train", spikes, guidance)
        >>> split = read_seed_layout(root, "train")
        >>> split.spikes.shape, split.guidance.shape, split.spikes.labels.tolist(), split.names
        ((2, 4, 9), (2, 3, 3), [2, 0], ('0', '1'))
    """
    base = _split_dir(Path(root), split)
    spikes_dir, labels_dir = base / "Spikes", base / "Labels"
    if not spikes_dir.is_dir():
        raise DataError(f"{spikes_dir}: folder not found")
    spike_files = _listing(spikes_dir)
    label_files = _listing(labels_dir) if labels_dir.is_dir() else None
    if label_files is not None and set(spike_files) - set(label_files):
        extra = sorted(set(spike_files) - set(label_files), key=_natural_key)
        raise DataError(f"{spikes_dir}: {len(extra)} spike file(s) without a guidance file in {labels_dir}, e.g. "
                        f"{spike_files[extra[0]].name}")
    keys = sorted(label_files if label_files is not None else spike_files, key=_natural_key)
    if not keys:
        raise DataError(f"{labels_dir if label_files is not None else spikes_dir}: no .npy or .pkl files")
    if not trust_pickle:
        used = [spike_files[k] for k in keys if k in spike_files]
        used += [label_files[k] for k in keys] if label_files is not None else []
        pickles = [p for p in used if p.suffix == ".pkl"]
        if pickles:
            _refuse_pickle(pickles[0], len(pickles) - 1)
    dense: list[np.ndarray] = []
    guidance: list[np.ndarray] = []
    for key in keys:
        if key not in spike_files:
            raise DataError(f"{label_files[key]}: no matching spike file {spikes_dir / key}.npy/.pkl")
        path = spike_files[key]
        s = _load_array(path)
        if dense and s.shape != dense[0].shape[::-1]:
            raise DataError(f"{path}: spikes of shape {s.shape}, earlier files have {dense[0].shape[::-1]}")
        if not np.all((s == 0) | (s == 1)):
            raise DataError(f"{path}: spike array is not binary (0/1)")
        dense.append(s.T.astype(bool))
        if label_files is not None:
            gpath = label_files[key]
            g = _load_array(gpath)
            if g.shape[1] != s.shape[1] - 1:
                raise DataError(f"{gpath}: guidance has {g.shape[1]} columns; its spikes {path} have "
                                f"{s.shape[1]} (T + 1), so {s.shape[1] - 1} expected")
            if guidance and g.shape != guidance[0].shape:
                raise DataError(f"{gpath}: guidance of shape {g.shape}, earlier files have {guidance[0].shape}")
            if not np.all(np.isfinite(g)):
                raise DataError(f"{gpath}: guidance contains NaN or infinite values")
            guidance.append(g.astype(np.float32))
    n_input = dense[0].shape[1]
    if image_shape is None:
        side = int(round(np.sqrt(n_input)))
        image_shape = (side, side) if side * side == n_input else None
    g_arr = np.stack(guidance) if guidance else None
    labels = None if g_arr is None else g_arr.sum(axis=2).argmax(axis=1)
    provenance = {"reader": "seed_layout", "root": str(root), "split": split,
                  "labels": "argmax over output neurons of the guidance summed over time" if labels is not None else None}
    trains = SpikeTrains.from_dense(np.stack(dense), dt, labels=labels, image_shape=image_shape, provenance=provenance)
    return SeedSplit(trains, g_arr, tuple(k.as_posix() for k in keys))


def _guidance_mv(guidance: Any) -> np.ndarray:
    from brian2 import mV
    from brian2.units.fundamentalunits import Quantity, get_dimensions

    if isinstance(guidance, Quantity):
        if get_dimensions(guidance) is not get_dimensions(mV):
            raise InputError(f"guidance must be a voltage, got {get_dimensions(guidance)}")
        return np.asarray(guidance / mV, dtype=np.float64)
    return to_numpy(guidance, "guidance").astype(np.float64)


def _check_names(names: Sequence[str] | None, n: int) -> list[str]:
    """Sample file names: relative paths without ``..``, empty or hidden parts (the reader skips those)."""
    if names is None:
        return [str(k) for k in range(n)]
    names = [str(k) for k in names]
    if len(names) != n or len(set(names)) != n:
        raise InputError(f"names must be {n} distinct strings")
    for name in names:
        parts = PurePosixPath(name).parts
        if "\\" in name or not parts or PurePosixPath(name).is_absolute() or any(
                p in ("", "..") or p.startswith(".") for p in parts):
            raise InputError(f"bad sample name {name!r}: use relative paths without '..' or hidden parts")
    return names


def _save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npy":
        np.save(path, array, allow_pickle=False)
    else:
        import joblib

        joblib.dump(array, path)


def write_seed_layout(root: str | os.PathLike[str], split: str, spikes: SpikeTrains, guidance: Any = None, *,
                      fmt: str = "npy", overwrite: bool = False, names: Sequence[str] | None = None) -> Path:
    """Write ``spikes`` (and ``guidance``, ``[N, n_out, T]`` in mV or a voltage quantity) in the seed layout.

    Files are float64 ``<k>.npy`` (``fmt="npy"``) or joblib ``<k>.pkl`` (``fmt="pkl"``), ``k = 0..N-1``
    unless ``names`` are given. The split folder is built next to its destination and renamed into
    place, so a failure leaves no partial folder; an existing split is replaced only with ``overwrite``.
    Returns the split folder.
    """
    if fmt not in ("npy", "pkl"):
        raise InputError(f"fmt must be 'npy' or 'pkl', got {fmt!r}")
    if not isinstance(spikes, SpikeTrains):
        raise InputError("spikes must be a SpikeTrains (e.g. SpikeTrains.from_dense(array, dt))")
    n = spikes.n_samples
    g = None
    if guidance is not None:
        g = _guidance_mv(guidance)
        if g.shape[:1] != (n,) or g.ndim != 3 or g.shape[2] != spikes.T:
            raise InputError(f"guidance must be [N={n}, n_out, T={spikes.T}] in mV, got shape {g.shape}")
        if not np.all(np.isfinite(g)):
            raise InputError("guidance contains NaN or infinite values")
    names = _check_names(names, n)
    dest = Path(root) / _split_folder(split)
    if dest.exists() and not overwrite:
        raise InputError(f"{dest} exists; give --overwrite (overwrite=True in Python) to replace it")
    with atomic_dir(dest, overwrite=overwrite) as tmp:
        for k, name in enumerate(names):
            _save(tmp / "Spikes" / f"{name}.{fmt}", spikes.dense(k)[0].T.astype(np.float64))
            if g is not None:
                _save(tmp / "Labels" / f"{name}.{fmt}", g[k])
    return dest
