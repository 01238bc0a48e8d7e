"""A trained unsupervised network on disk: ``network.npz``, ``config.json`` and ``metrics.json``.

``network.npz`` (numpy-readable): ``w`` ``float64 [n_input, N]`` (input -> excitatory weights),
``delay_ms`` ``[n_input, N]``, ``theta`` ``[N]`` (volts), ``assignments`` ``int64 [N]`` (class of each
neuron, -1 if it never fired), ``class_names`` ``str [C]`` and ``meta`` (JSON: preset, network config,
the excitatory ``model`` dict as it runs when recording, its ``fingerprint``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..equations.model import NeuronModel
from ..errors import DataError, ModelMismatchError
from ..fileio import atomic_path, atomic_write_json
from .diehl_cook import DiehlCookConfig, DiehlCookState, excitatory_model

__all__ = ["TrainedNetwork", "save_network", "load_network"]

FORMAT = "bioSNN.UnsupervisedNetwork"


@dataclass
class TrainedNetwork:
    """A trained Diehl & Cook network and its read-out."""

    config: DiehlCookConfig
    state: DiehlCookState
    assignments: np.ndarray
    class_names: tuple[str, ...]
    model: NeuronModel


def save_network(directory: str | os.PathLike[str], trained: TrainedNetwork, *, metrics: dict[str, Any] | None = None,
                 run_config: dict[str, Any] | None = None) -> Path:
    """Write ``network.npz`` (and ``config.json`` / ``metrics.json`` when given) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "version": 1, "preset": "diehl_cook", "config": trained.config.to_dict(),
            "model": trained.model.to_dict(), "fingerprint": trained.model.fingerprint()}
    with atomic_path(directory / "network.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, w=trained.state.w, delay_ms=trained.state.delay_ms, theta=trained.state.theta,
                                assignments=np.asarray(trained.assignments, dtype=np.int64),
                                class_names=np.asarray(trained.class_names),
                                meta=np.asarray(json.dumps(meta, sort_keys=True)))
    if run_config is not None:
        atomic_write_json(directory / "config.json", run_config)
    if metrics is not None:
        atomic_write_json(directory / "metrics.json", metrics)
    return directory / "network.npz"


def load_network(directory: str | os.PathLike[str]) -> TrainedNetwork:
    """Read ``directory/network.npz``; refuse a network whose neuron model is not this bioSNN's."""
    path = Path(directory) / "network.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise DataError(f"{path}: not a {FORMAT} file")
            state = DiehlCookState(z["w"], z["delay_ms"], z["theta"])
            assignments, names = z["assignments"], tuple(z["class_names"].tolist())
    except DataError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: unreadable network file ({exc})") from exc
    model = NeuronModel.from_dict(meta["model"])
    expected = excitatory_model(False)
    if model.fingerprint() != expected.fingerprint() or meta["fingerprint"] != expected.fingerprint():
        raise ModelMismatchError(f"{path}: trained with neuron model {meta['fingerprint'][:12]}, this bioSNN "
                                 f"runs {expected.fingerprint()[:12]}")
    return TrainedNetwork(DiehlCookConfig(**meta["config"]), state, assignments, names, model)
