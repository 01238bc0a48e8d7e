"""Guidance signals: membrane potentials of a converged network's output layer, per class and sample.

File format (``guidance.npz``, numpy-readable; version 1):

============= ================================ ===================================================
member        dtype / shape                    meaning
============= ================================ ===================================================
templates     float32 [n_classes, n_out, T]    trace of each class, mV (Diehl & Cook: mean over
                                               the recorded samples; wta: one representative)
traces        float32 [N, n_out, T] (opt.)     per-sample traces, mV
labels        int64 [N] (opt.)                 class of each per-sample trace
assignments   int64 [n_out]                    class of each output neuron (-1: none)
class_names   str [n_classes]
meta          str (JSON)                       format, version, dt_seconds, first_step, stride, encoder
                                               settings, network config, the neuron ``model`` dict
                                               and its ``fingerprint``
============= ================================ ===================================================

Row ``k`` of a trace is the membrane potential at the *end* of step ``first_step + k * stride`` of
the presentation (the bioSNN time convention; ``stride`` 1 unless the traces were subsampled), ``k = 0 .. T - 1``: ``first_step`` is 0 for Diehl & Cook
and 1 for the seed network, whose step 0 carries no input (seeds_spec 6.2: guidance at t = 1..T).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..equations.model import NeuronModel, check_same_model
from ..errors import DataError, InputError
from ..fileio import READ_ERRORS, atomic_savez

__all__ = ["Guidance", "FORMAT", "VERSION", "read_header", "dt_fingerprint", "check_time_step"]

FORMAT = "bioSNN.Guidance"
VERSION = 1


def read_header(z: Any, path: Path, fmt: str, version: int) -> tuple[dict[str, Any], NeuronModel]:
    """``(meta, model)`` of an open guidance-like ``.npz`` ``z``: its JSON ``meta`` checked to be of
    format ``fmt``, no newer than ``version``, and to hold a neuron model that matches its fingerprint
    (a :class:`~bioSNN.errors.DataError` otherwise). One rule for every file that carries a model."""
    meta = json.loads(str(z["meta"]))
    if meta.get("format") != fmt:
        raise DataError(f"{path}: not a {fmt} file")
    if int(meta["version"]) > version:
        raise DataError(f"{path}: version {meta['version']} is newer than this bioSNN reads")
    model = NeuronModel.from_dict(meta["model"])
    if model.fingerprint() != meta["fingerprint"]:
        raise DataError(f"{path}: stored model does not match its stored fingerprint")
    dt = meta.get("dt_seconds")
    if not isinstance(dt, (int, float)) or not (np.isfinite(dt) and dt > 0):
        raise DataError(f"{path}: stored dt_seconds {dt!r} is not a positive time step")
    if "dt_fingerprint" in meta and meta["dt_fingerprint"] != dt_fingerprint(meta["fingerprint"], dt):
        raise DataError(f"{path}: stored dt_seconds {dt!r} does not match its fingerprint (the file was edited or "
                        "is corrupt)")
    return meta, model


def dt_fingerprint(model_fingerprint: str, dt_seconds: float) -> str:
    """SHA-256 of a model fingerprint and a time step: guidance files store it so that their ``dt``, which
    the model's fingerprint does not cover, is checked too.

    Example:
        >>> dt_fingerprint("abc", 1e-3) == dt_fingerprint("abc", 0.001) != dt_fingerprint("abc", 5e-4)
        True
    """
    return hashlib.sha256(f"{model_fingerprint}:{float(dt_seconds)!r}".encode()).hexdigest()


def check_time_step(dt_seconds: Any, what: str = "dt_seconds") -> float:
    """``dt_seconds`` as a positive, finite float (:class:`~bioSNN.errors.InputError` otherwise)."""
    try:
        dt = float(dt_seconds)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a time step in seconds, got {dt_seconds!r}") from None
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"{what} must be positive and finite, got {dt_seconds!r}")
    return dt


@dataclass(frozen=True, eq=False)
class Guidance:
    """Per-class templates (and optional per-sample traces) of output-layer potentials, in mV.

    Example:
        >>> import tempfile
        >>> from bioSNN.equations import library
        >>> g = Guidance(np.zeros((2, 3, 5), np.float32), np.array([0, 1, -1]), ("a", "b"), 1e-3,
        ...              library.seed_wta_if())
        >>> path = g.save(tempfile.mkdtemp() + "/guidance.npz")
        >>> Guidance.load(path, expect_model=library.seed_wta_if()).templates.shape
        (2, 3, 5)
    """

    templates: np.ndarray
    assignments: np.ndarray
    class_names: tuple[str, ...]
    dt_seconds: float
    model: NeuronModel
    traces: np.ndarray | None = None
    labels: np.ndarray | None = None
    encoder: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    first_step: int = 0
    stride: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "dt_seconds", check_time_step(self.dt_seconds))
        if self.first_step < 0 or self.stride < 1:
            raise InputError(f"first_step must be >= 0 and stride >= 1, got {self.first_step} and {self.stride}")
        t = np.asarray(self.templates, dtype=np.float32)
        if t.ndim != 3 or t.shape[0] != len(self.class_names):
            raise InputError(f"templates must be [n_classes={len(self.class_names)}, n_out, T], got {t.shape}")
        if not np.all(np.isfinite(t)):
            raise InputError("templates contain NaN or infinite values")
        object.__setattr__(self, "templates", t)
        a = np.asarray(self.assignments, dtype=np.int64)
        if a.shape != (t.shape[1],):
            raise InputError(f"assignments must be [n_out={t.shape[1]}], got {a.shape}")
        object.__setattr__(self, "assignments", a)
        if self.traces is not None:
            tr = np.asarray(self.traces, dtype=np.float32)
            if tr.ndim != 3 or tr.shape[1:] != t.shape[1:]:
                raise InputError(f"traces must be [N, {t.shape[1]}, {t.shape[2]}], got {tr.shape}")
            if self.labels is None or np.asarray(self.labels).shape != (tr.shape[0],):
                raise InputError("per-sample traces need one label each")
            object.__setattr__(self, "traces", tr)
            object.__setattr__(self, "labels", np.asarray(self.labels, dtype=np.int64))
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))

    @property
    def T(self) -> int:
        return int(self.templates.shape[2])

    def per_sample(self, labels: Sequence[int] | None = None) -> np.ndarray:
        """``[N, n_out, T]`` targets: the recorded traces, or the class templates of ``labels``."""
        if labels is None:
            if self.traces is None:
                raise InputError("no per-sample traces stored: pass labels to use the class templates")
            return self.traces
        return self.templates[np.asarray(labels, dtype=np.int64)]

    def check_model(self, model: NeuronModel, dt_seconds: float | None = None) -> None:
        """Raise :class:`~bioSNN.errors.ModelMismatchError` unless ``model`` (and ``dt``) are the ones
        that produced this guidance."""
        check_same_model(self.model, model, "guidance", made_dt=self.dt_seconds, used_dt=dt_seconds)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the ``.npz`` described in the module docstring, atomically."""
        meta = {"format": FORMAT, "version": VERSION, "dt_seconds": self.dt_seconds, "first_step": self.first_step,
                "stride": self.stride,
                "time": "row k = end of step first_step + k * stride of the presentation", "units": "mV",
                "encoder": self.encoder, "network": self.network, "model": self.model.to_dict(),
                "fingerprint": self.model.fingerprint(),
                "dt_fingerprint": dt_fingerprint(self.model.fingerprint(), self.dt_seconds)}
        arrays: dict[str, Any] = {"templates": self.templates, "assignments": self.assignments,
                                  "class_names": np.asarray(self.class_names),
                                  "meta": np.asarray(json.dumps(meta, sort_keys=True, default=str))}
        if self.traces is not None:
            arrays.update(traces=self.traces, labels=self.labels)
        return atomic_savez(path, compress=True, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, expect_model: NeuronModel | None = None,
             expect_dt: float | None = None) -> "Guidance":
        """Read a guidance file; with ``expect_model``/``expect_dt``, refuse one made otherwise."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta, model = read_header(z, path, FORMAT, VERSION)
                guidance = cls(z["templates"], z["assignments"], tuple(z["class_names"].tolist()),
                               float(meta["dt_seconds"]), model,
                               z["traces"] if "traces" in z.files else None,
                               z["labels"] if "labels" in z.files else None, meta.get("encoder", {}),
                               meta.get("network", {}), int(meta.get("first_step", 0)), int(meta.get("stride", 1)))
        except DataError:
            raise
        except READ_ERRORS as exc:
            raise DataError(f"{path}: unreadable guidance file, corrupt or truncated ({exc})") from exc
        if expect_model is not None:
            guidance.check_model(expect_model, expect_dt)
        elif expect_dt is not None:
            guidance.check_model(guidance.model, expect_dt)
        return guidance
