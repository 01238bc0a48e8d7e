"""NIR (Neuromorphic Intermediate Representation) export and import: bioSNN networks to and from
snnTorch, Norse, SpikingJelly, Sinabs, Lava and neuromorphic hardware, and NIR graphs to Brian2.

* :func:`export` (a bioSNN network -> ``nir.NIRGraph``), :func:`write` / :func:`read` (``.nir`` files);
* :func:`load` (a graph -> :class:`NIRNetwork`, a PyTorch module);
* :func:`to_brian2` (a graph or :class:`NIRNetwork` -> :class:`Brian2Network`, the same network in Brian2).

How NIR's continuous-time ODEs are read and written: :mod:`bioSNN.nir.neurons`. Needs ``pip install nir``
(the ``nir`` extra).
"""

from .brian import Brian2Network, to_brian2
from .export import export
from .evaluate import evaluate_run
from .network import NIRNetwork, graph_record, load, read, write

__all__ = ["export", "load", "read", "write", "NIRNetwork", "graph_record", "to_brian2", "Brian2Network", "evaluate_run"]
