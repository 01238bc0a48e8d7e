"""Supervised checkpoints: one ``torch.save`` file, written atomically.

``<out>/checkpoint.pt`` (resume) and ``<out>/model.pt`` (the trained network, no optimizer) hold a dict:

================ ===========================================================================
key              content
================ ===========================================================================
format, version  ``"bioSNN.SupervisedCheckpoint"``, 1
spec             the network's JSON spec (architecture, sizes, dt, neuron models as dicts)
fingerprint      fingerprint of the output neuron model (checked against guidance files)
state_dict       the network's weights
readout          ``{"assignments": [n_out], "n_classes", "class_names"}``
meta             loss spec, training config, data and guidance provenance
progress         ``{"epoch", "batch", "step"}``: where training stands (next batch to run)
history          per-epoch metrics so far
optimizer, scheduler, rng   only in ``checkpoint.pt``: what exact resumption needs
================ ===========================================================================

Everything in them is tensors and plain data (dicts, lists, tuples, strings, numbers, ``None``):
:func:`load_checkpoint` reads with ``torch.load(..., weights_only=True)``, which rebuilds only such
values and never imports or calls anything a file names, so loading a checkpoint (``biosnn evaluate``,
``--resume``, ``plot``) cannot run code. A file holding anything else is refused with a
:class:`~bioSNN.errors.DataError`.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import Any

import torch

from ..equations.model import NeuronModel
from ..errors import DataError, ModelMismatchError
from ..fileio import atomic_path

__all__ = ["FORMAT", "VERSION", "save_checkpoint", "load_checkpoint", "load_trained"]

logger = logging.getLogger(__name__)

FORMAT = "bioSNN.SupervisedCheckpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus format and version) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, **payload}, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint, refusing files that are not one (or are newer than this bioSNN).

    Only tensors and plain data are unpickled (``weights_only=True``): a file holding other objects
    (possibly code) is refused with a :class:`~bioSNN.errors.DataError` and nothing in it runs.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:  # what the weights-only unpickler raises for anything else
        raise DataError(f"{path}: holds non-tensor objects (possibly code) and is refused: bioSNN loads only "
                        f"tensors and plain data from checkpoints ({_reason(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - any other failure means an unreadable file
        raise DataError(f"{path}: unreadable checkpoint ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{path}: not a {FORMAT} file")
    if int(data.get("version", 0)) > VERSION:
        raise DataError(f"{path}: version {data['version']} is newer than this bioSNN reads")
    model = NeuronModel.from_dict(data["spec"]["output_model"])
    if model.fingerprint() != data["fingerprint"]:
        raise DataError(f"{path}: stored output model does not match its stored fingerprint")
    return data


def _reason(exc: BaseException) -> str:
    """What torch's weights-only unpickler found, without its advice to load the file unsafely."""
    detail = str(exc).split("WeightsUnpickler error:", 1)[-1].strip()
    first = detail.splitlines()[0].split(". ")[0].strip() if detail else ""
    return first if first and len(first) < 200 else "not a plain tensor file"


def load_trained(directory: str | os.PathLike[str], map_location: Any = "cpu", *,
                 network: Any = None) -> tuple[Any, Any, dict[str, Any]]:
    """``(network in eval mode, ClassReadout, checkpoint dict)`` from a ``biosnn supervised`` folder
    (``model.pt``, else ``checkpoint.pt``). Built-in networks are rebuilt from the stored spec; a
    :class:`~bioSNN.supervised.models.UserNetwork` is passed as ``network`` (built by its own code) and
    must have the stored spec."""
    from .models import build_model
    from .readout import ClassReadout

    directory = Path(directory)
    path = directory / "model.pt"
    if not path.exists() and (directory / "checkpoint.pt").exists():
        logger.warning("%s has no model.pt (its training has not finished): using its last checkpoint.pt", directory)
        path = directory / "checkpoint.pt"
    data = load_checkpoint(path, map_location)
    if network is not None:
        if getattr(network, "spec", None) != data["spec"]:
            raise ModelMismatchError(f"{path} was written by a different network than the one given")
        net = network
    else:
        net = build_model(data["spec"])
    net.load_state_dict(data["state_dict"])
    net.eval()
    readout = ClassReadout(data["readout"]["assignments"], data["readout"]["n_classes"])
    return net, readout, data
