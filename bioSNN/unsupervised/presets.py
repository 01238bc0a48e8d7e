"""The STDP networks ``biosnn unsupervised`` and ``biosnn evaluate`` know, registered with their
metadata: what input they take, their own flags, and how to train and score them from those flags.

Adding a preset is one module that defines ``PRESET = Preset(...)`` (next to its network and training
code) plus one line in :data:`PRESET_MODULES`; the command line reads everything else from here.

Example:
    >>> sorted(presets())
    ['diehl_cook', 'wta']
    >>> presets()["wta"].input, presets()["diehl_cook"].default_neurons
    ('spikes', 100)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable

__all__ = ["Preset", "PRESET_MODULES", "presets"]

#: the modules that define a ``PRESET``, the registration: names in :mod:`bioSNN.unsupervised`, or full
#: dotted paths (a preset of your own, outside bioSNN)
PRESET_MODULES: tuple[str, ...] = ("diehl_cook", "wta")


@dataclass(frozen=True)
class Preset:
    """One STDP network as the command line sees it.

    ``input``: ``"images"`` (the network draws its own Poisson input from images: ``--dataset``, with a
    ``--val-fraction`` hold-out) or ``"spikes"`` (labelled spike trains: ``--spikes`` or ``--dataset``
    encoded with the seed's rf-rate code). ``flags``: ``(flag, argparse keyword arguments)`` of the
    options only this preset takes; their values reach ``train`` as ``options`` (by argparse dest,
    None when not given). ``train(inputs, out, *, options, val, n_neurons, seed, epochs, slice, shuffle,
    backend, cuda, resume, overwrite, progress) -> metrics`` writes the run folder; ``evaluate(directory,
    inputs, *, backend, cuda, progress, draws) -> result`` (with ``n_test`` and ``accuracy``) scores it.
    ``draws``: whether evaluation takes ``--draws``. A preset that reads spike trains stores their
    number of rows as ``steps`` in its ``network.npz`` meta, so that evaluation encodes alike.
    """

    name: str
    description: str
    input: str
    default_neurons: int
    train: Callable[..., dict[str, Any]]
    evaluate: Callable[..., dict[str, Any]]
    flags: tuple[tuple[str, dict[str, Any]], ...] = field(default_factory=tuple)
    draws: bool = False

    @property
    def dests(self) -> tuple[str, ...]:
        """The argparse destinations of :attr:`flags`."""
        return tuple(kwargs.get("dest", flag.lstrip("-").replace("-", "_")) for flag, kwargs in self.flags)


def presets() -> dict[str, Preset]:
    """Every registered preset by name (imports the preset modules: Brian2)."""
    out = {}
    for module in PRESET_MODULES:
        preset = import_module(module if "." in module else f"{__package__}.{module}").PRESET
        out[preset.name] = preset
    return out
