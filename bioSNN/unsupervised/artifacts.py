"""A trained unsupervised network on disk: ``network.npz``, ``config.json`` and ``metrics.json``.

``network.npz`` (numpy-readable) always holds ``assignments`` ``int64 [n_out]`` (class of each output
neuron, -1 if it never responded), ``class_names`` ``str [C]`` and ``meta`` (JSON: ``preset``, the
network ``config``, the output neuron ``model`` dict as it runs when recording and its
``fingerprint``), plus the preset's learned arrays:

* ``diehl_cook``: ``w`` ``float64 [n_input, N]``, ``delay_ms`` ``[n_input, N]``, ``theta`` ``[N]`` (volts);
  ``meta`` also has ``data`` (the training images' ``source``: reader, crop, size, scaling and the
  validation ``holdout``, so that evaluation reads new images the same way) and ``draws`` (Poisson
  draws summed per image by the read-out);
* ``wta``: ``w_mV`` ``float64 [n_input, N]``; ``meta`` also has ``steps`` and ``dt_seconds`` of the
  spike trains it was built for.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..equations.model import NeuronModel, check_same_model
from ..errors import DataError
from ..fileio import READ_ERRORS, atomic_savez, atomic_write_json

__all__ = ["SavedNetwork", "save_network", "load_network", "check_finite"]

logger = logging.getLogger(__name__)

FORMAT = "bioSNN.UnsupervisedNetwork"


@dataclass
class SavedNetwork:
    """The contents of ``network.npz``."""

    preset: str
    arrays: dict[str, np.ndarray]
    assignments: np.ndarray
    class_names: tuple[str, ...]
    model: NeuronModel
    meta: dict[str, Any] = field(default_factory=dict)

    def require_model(self, expect_model: NeuronModel, where: str | os.PathLike[str]) -> None:
        """Refuse a network that ran another neuron model than ``expect_model``."""
        check_same_model(self.model, expect_model, str(where))


def save_network(directory: str | os.PathLike[str], saved: SavedNetwork, *, metrics: dict[str, Any] | None = None,
                 run_config: dict[str, Any] | None = None) -> Path:
    """Write ``network.npz`` (and ``config.json`` / ``metrics.json`` when given) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {**saved.meta, "format": FORMAT, "version": 1, "preset": saved.preset, "model": saved.model.to_dict(),
            "fingerprint": saved.model.fingerprint()}
    atomic_savez(directory / "network.npz", compress=True, **saved.arrays,
                 assignments=np.asarray(saved.assignments, dtype=np.int64), class_names=np.asarray(saved.class_names),
                 meta=np.asarray(json.dumps(meta, sort_keys=True, default=str)))
    if run_config is not None:
        atomic_write_json(directory / "config.json", run_config)
    if metrics is not None:
        atomic_write_json(directory / "metrics.json", metrics)
    return directory / "network.npz"


def check_finite(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> None:
    """Refuse learned arrays holding NaN or infinite values (a corrupt file or a diverged run), naming ``path``."""
    for name, value in arrays.items():
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            raise DataError(f"{path}: {name} holds {bad} NaN or infinite values (corrupt file or diverged training)")


def load_network(directory: str | os.PathLike[str], expect_model: NeuronModel | None = None) -> SavedNetwork:
    """Read ``directory/network.npz``; with ``expect_model``, refuse a network that ran another neuron model."""
    path = Path(directory) / "network.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise DataError(f"{path}: not a {FORMAT} file")
            arrays = {k: z[k] for k in z.files if k not in ("meta", "assignments", "class_names")}
            assignments, names = z["assignments"], tuple(z["class_names"].tolist())
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{directory}: no network.npz (not a folder written by biosnn unsupervised)") from None
    except READ_ERRORS as exc:
        raise DataError(f"{path}: unreadable network file, corrupt or truncated ({exc})") from exc
    model = NeuronModel.from_dict(meta["model"])
    if model.fingerprint() != meta["fingerprint"]:
        raise DataError(f"{path}: stored model does not match its stored fingerprint")
    check_finite(path, arrays)
    saved = SavedNetwork(meta["preset"], arrays, assignments, names, model, meta)
    if expect_model is not None:
        saved.require_model(expect_model, path)
    return saved


def trained_backend(directory: str | os.PathLike[str]) -> str:
    """The Brian2 backend a network folder was trained on (its ``config.json``), the default for
    evaluating it: ``"cython"`` when the folder does not say; ``cuda_standalone`` becomes
    ``cpp_standalone`` where brian2cuda cannot be imported (same code, compiled for the CPU)."""
    import importlib.util

    try:
        backend = json.loads((Path(directory) / "config.json").read_text()).get("backend") or "cython"
    except (OSError, ValueError, AttributeError):
        backend = "cython"
    if backend == "cuda_standalone" and importlib.util.find_spec("brian2cuda") is None:
        logger.warning("%s was trained on cuda_standalone; brian2cuda is not installed here: "
                       "evaluating on cpp_standalone", directory)
        backend = "cpp_standalone"
    return str(backend)
