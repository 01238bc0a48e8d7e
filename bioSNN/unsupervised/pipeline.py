"""The unsupervised stage end to end (what ``biosnn unsupervised`` and ``biosnn evaluate`` run).

``train_diehl_cook``: STDP training on images (checkpointed, resumable), then with plasticity off:
spike counts on the last ``n_assign`` training images -> neuron-to-class assignment, and membrane
traces of ``guidance_per_class`` images per class -> guidance templates. Writes ``network.npz``,
``guidance.npz``, ``config.json`` and ``metrics.json`` into the output folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from brian2 import NumpyCodeObject

from .. import __version__
from ..data.imageset import ImageSet
from ..errors import InputError
from .artifacts import TrainedNetwork, load_network, save_network
from .assignment import accuracy, assign_labels, predict
from .diehl_cook import DiehlCookConfig, excitatory_model
from .guidance import Guidance
from .training import record, train

__all__ = ["train_diehl_cook", "evaluate", "BACKENDS", "codeobj_class"]

#: Backends available today (Brian2 runtime targets).
BACKENDS = ("cython", "numpy")


def codeobj_class(backend: str) -> Any:
    """The Brian2 code-object class of a runtime ``backend``."""
    if backend == "numpy":
        return NumpyCodeObject
    if backend == "cython":
        from brian2.codegen.runtime.cython_rt import CythonCodeObject

        return CythonCodeObject
    raise InputError(f"unknown backend {backend!r}; available: {', '.join(BACKENDS)} (cpp_standalone and "
                     "cuda_standalone are not implemented yet)")


def rates_of(images: np.ndarray) -> np.ndarray:
    """Diehl & Cook's input rates at intensity 1 (Hz): ``pixel / 8``, flattened per image."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float64) / 8.0


def _guidance_examples(labels: np.ndarray, n_classes: int, per_class: int) -> np.ndarray:
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(n_classes)]))


def train_diehl_cook(train_set: ImageSet, out: str | os.PathLike[str], *, config: DiehlCookConfig,
                     n_train: int | None = None, n_assign: int = 10000, guidance_per_class: int = 10,
                     backend: str = "cython", resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train, assign and record guidance; write the artifacts into ``out``. Returns the metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cls = codeobj_class(backend)
    n_train = len(train_set) if n_train is None else min(n_train, len(train_set))
    if n_train < 1:
        raise InputError("n_train must be at least 1")
    rates = rates_of(train_set.images[:n_train])
    start = time.perf_counter()
    state = train(config, rates, checkpoint=out / "checkpoint.npz", resume=resume, progress=progress,
                  codeobj_class=cls)
    train_seconds = time.perf_counter() - start
    assign_idx = np.arange(max(0, n_train - n_assign), n_train)
    n_classes = len(train_set.class_names)
    counts = record(config, rates[assign_idx], state, progress=progress, codeobj_class=cls).counts
    assignments = assign_labels(counts, train_set.labels[assign_idx], n_classes)
    train_acc = accuracy(predict(counts, assignments, n_classes), train_set.labels[assign_idx])
    chosen = assign_idx[_guidance_examples(train_set.labels[assign_idx], n_classes, guidance_per_class)]
    traces = record(config, rates[chosen], state, traces=True, progress=progress, codeobj_class=cls).traces
    labels = train_set.labels[chosen]
    templates = np.stack([traces[labels == c].mean(axis=0) if (labels == c).any()
                          else np.zeros(traces.shape[1:], np.float32) for c in range(n_classes)])
    model = excitatory_model(False)
    encoder = {"encoder": "diehl-cook", "rate": "pixel / 8 * intensity Hz", "intensity": config.intensity,
               "present_ms": config.present_ms, "rest_ms": config.rest_ms, "source": dict(train_set.source)}
    Guidance(templates, assignments, train_set.class_names, config.dt_ms * 1e-3, model, traces, labels,
             encoder, config.to_dict()).save(out / "guidance.npz")
    metrics = {"bioSNN": __version__, "backend": backend, "n_train": n_train, "train_seconds": train_seconds,
               "train_examples_per_second": n_train / train_seconds if train_seconds > 0 else None,
               "n_assign": len(assign_idx), "assignment_set_accuracy": train_acc,
               "neurons_per_class": np.bincount(assignments[assignments >= 0], minlength=n_classes).tolist(),
               "silent_neurons": int((assignments < 0).sum())}
    run_config = {"preset": "diehl_cook", "config": config.to_dict(), "n_train": n_train, "n_assign": n_assign,
                  "guidance_per_class": guidance_per_class, "backend": backend, "data": dict(train_set.source)}
    save_network(out, TrainedNetwork(config, state, assignments, train_set.class_names, model),
                  metrics=metrics, run_config=run_config)
    return metrics


def evaluate(directory: str | os.PathLike[str], test_set: ImageSet, *, backend: str = "cython",
             progress: bool = True) -> dict[str, Any]:
    """Accuracy of a trained network's spike-count vote on ``test_set`` (plasticity off)."""
    trained = load_network(directory)
    if tuple(test_set.class_names) != trained.class_names:
        raise InputError(f"test classes {test_set.class_names} differ from the network's {trained.class_names}")
    start = time.perf_counter()
    counts = record(trained.config, rates_of(test_set.images), trained.state, progress=progress,
                    codeobj_class=codeobj_class(backend)).counts
    predicted = predict(counts, trained.assignments, len(trained.class_names))
    return {"accuracy": accuracy(predicted, test_set.labels), "n_test": len(test_set),
            "seconds": time.perf_counter() - start, "data": dict(test_set.source)}
