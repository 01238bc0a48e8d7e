"""Scoring an imported NIR network on the data of a trained run folder (:func:`evaluate_run`)."""

from __future__ import annotations

import os
from typing import Any

from .network import NIRNetwork, load

__all__ = ["evaluate_run", "scored_split"]


def evaluate_run(graph: Any, directory: str | os.PathLike[str], *, split: str = "test", limit: int | None = None,
                 dataset: str | None = None, root: Any = None, batch_size: int = 128, dtype: Any = None, progress: bool = False) -> dict[str, Any]:
    """Accuracy of the network of ``graph`` (a ``nir.NIRGraph``, a ``.nir`` file or a :class:`NIRNetwork`)
    on ``split`` of the data that the ``biosnn supervised`` folder ``directory`` was trained on, read out
    as that run reads out (its neuron -> class assignment and decision): an exported run scored again
    through NIR. ``dataset``/``root``: where the data is read from, if not where the run recorded it (as
    ``biosnn evaluate --dataset --root``). ``dtype=torch.float64`` runs the network in double precision.

    Example (``biosnn export-nir models/mnist-conv --out runs/mnist-conv.nir``, then)::

        evaluate_run("runs/mnist-conv.nir", "models/mnist-conv", limit=100)["accuracy"]
    """
    from ..supervised.checkpoint import load_trained
    from ..supervised.trainer import evaluate_split

    net = graph if isinstance(graph, NIRNetwork) else load(graph)
    if dtype is not None:
        net = net.to(dtype)
    _, readout, data = load_trained(directory)
    part, decision = scored_split(data, split=split, limit=limit, dataset=dataset, root=root, progress=progress)
    part.check_dt(net.dt)
    return evaluate_split(net, part, readout, decision=decision, batch_size=batch_size, progress=progress)


def scored_split(data: dict[str, Any], *, split: str = "test", limit: int | None = None, dataset: str | None = None,
                 root: Any = None, progress: bool = False) -> tuple[Any, str]:
    """``(split, decision)``: the data a trained run's checkpoint ``data`` scores on, and how it decides."""
    from ..supervised.pipeline import stored_split

    part = stored_split(data, dataset=dataset, root=root, split=split, limit=limit, progress=progress)
    return part, data["meta"]["train"]["decision"]
