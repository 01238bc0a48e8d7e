"""Evaluations recorded in a trained folder's ``metrics.json``: one key format, one writer, one reader.

An evaluation is stored under ``metrics["evaluations"][key]`` with ``key = "dataset/split/n"``, plus
``"/drawsK"`` when every sample was presented as K independent draws; ``metrics["latest_evaluation"]``
names the most recent one. ``biosnn evaluate`` and ``evaluate_supervised(..., record=True)`` write them
through :func:`record_evaluation`; plots and the demo read them through :func:`evaluation`.

Example:
    >>> key = EvaluationKey("mnist", "test", 10000, draws=4)
    >>> str(key), EvaluationKey.parse(str(key)) == key, key.label
    ('mnist/test/10000/draws4', True, 'mnist, test (10000 samples, 4 draws)')
    >>> EvaluationKey.parse("runs/mstar-test.npz/test/587").dataset
    'runs/mstar-test.npz'

"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DataError, InputError

__all__ = ["EvaluationKey", "record_evaluation", "read_metrics", "evaluation"]

METRICS_FILE = "metrics.json"
#: the most independent draws per sample an evaluation takes (``--draws``; every draw is encoded and
#: held in memory, or simulated, in full)
MAX_DRAWS = 1000
#: the most memory the encoded draws of an evaluation may take (bytes); more is refused before encoding
MAX_DRAW_BYTES = 8 * 2**30


@dataclass(frozen=True)
class EvaluationKey:
    """Which data an evaluation scored: data set name (or spike file), split, sample count and draws
    per sample."""

    dataset: str
    split: str
    n: int
    draws: int = 1

    def __post_init__(self) -> None:
        if "/" in self.split or not self.dataset:
            raise InputError(f"an evaluation needs a data set name and a split without '/', got {self.dataset!r}, "
                             f"{self.split!r}")
        if int(self.n) < 0 or int(self.draws) < 1:
            raise InputError(f"an evaluation needs n >= 0 and draws >= 1, got n={self.n}, draws={self.draws}")

    def __str__(self) -> str:
        return f"{self.dataset}/{self.split}/{int(self.n)}" + (f"/draws{int(self.draws)}" if self.draws > 1 else "")

    @classmethod
    def parse(cls, key: str) -> "EvaluationKey":
        """The key written by :meth:`__str__` (``dataset/split/n[/drawsK]``)."""
        parts = str(key).split("/")  # read from the right: a data set may be a file path
        draws = 1
        if len(parts) >= 4 and parts[-1].startswith("draws") and parts[-1][5:].isdigit():
            draws = int(parts.pop()[5:])
        if len(parts) < 3 or not parts[-1].isdigit():
            raise DataError(f"{key!r} is not an evaluation key (dataset/split/n[/drawsK])")
        return cls("/".join(parts[:-2]), parts[-2], int(parts[-1]), draws)

    @property
    def label(self) -> str:
        """Words for a figure title."""
        drawn = f", {self.draws} draws" if self.draws > 1 else ""
        return f"{self.dataset}, {self.split} ({self.n} samples{drawn})"


def read_metrics(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """``directory/metrics.json`` (``{}`` when there is none); an unreadable one is a DataError naming it."""
    path = Path(directory) / METRICS_FILE
    if not path.exists():
        return {}
    from .fileio import READ_ERRORS

    try:
        metrics = json.loads(path.read_text())
    except READ_ERRORS as exc:
        raise DataError(f"{path}: unreadable ({exc}); move it aside to record evaluations afresh") from exc
    if not isinstance(metrics, dict):
        raise DataError(f"{path}: not a metrics file (a JSON object expected)")
    return metrics


def record_evaluation(directory: str | os.PathLike[str], key: EvaluationKey, result: dict[str, Any]) -> None:
    """Add ``result`` under ``evaluations[str(key)]`` of ``directory/metrics.json`` and name it the
    ``latest_evaluation`` (written atomically; other entries kept)."""
    from .fileio import atomic_write_json

    metrics = read_metrics(directory)
    metrics.setdefault("evaluations", {})[str(key)] = result
    metrics["latest_evaluation"] = str(key)  # the file's keys are sorted: this says which came last
    atomic_write_json(Path(directory) / METRICS_FILE, metrics)


def evaluation(metrics: dict[str, Any], key: EvaluationKey | None = None, *,
               needs: str | None = None) -> tuple[EvaluationKey, dict[str, Any]]:
    """``(key, result)`` of the evaluation ``key`` in ``metrics``, by default the latest one (among those
    holding ``needs``, e.g. ``"confusion"``)."""
    stored = {k: v for k, v in metrics.get("evaluations", {}).items() if needs is None or needs in v}
    if key is not None:
        if str(key) not in stored:
            raise DataError(f"no evaluation {key} recorded (have: {sorted(stored) or 'none'})")
        return key, stored[str(key)]
    if not stored:
        raise DataError("no evaluation recorded" + (f" with a {needs}" if needs else ""))
    latest = metrics.get("latest_evaluation")
    name = latest if latest in stored else sorted(stored)[-1]
    return EvaluationKey.parse(name), stored[name]
