"""One neuron model, two simulators.

A :class:`NeuronModel` holds a neuron model once, in Brian2 syntax. From it
:func:`~bioSNN.equations.brian.build_layer` makes Brian2 objects and :class:`TorchStep` a batched,
differentiable PyTorch step generated from Brian2's own abstract code, so that both produce the same
membrane traces to floating-point precision (see ``tests/equations/test_equivalence.py``).
"""

from ..lazy import lazy_exports
from . import library
from .brian import Layer, build_layer, connect_input, weight_dimension, weight_unit
from ..errors import InputError, ModelError, ModelMismatchError
from .model import NeuronModel, PerStep

# The torch side is imported on first use (PEP 562): the Brian2 side (and brian2cuda machines
# without torch) can use models without loading torch.
_TORCH_EXPORTS = {"compare": "simulation", "simulate": "simulation", "Surrogate": "surrogate",
                  "LayerState": "torch_step", "RunResult": "torch_step", "TorchStep": "torch_step"}

__all__ = [
    "NeuronModel", "PerStep", "Surrogate", "TorchStep", "LayerState", "RunResult", "simulate", "compare",
    "build_layer", "connect_input", "weight_dimension", "weight_unit", "Layer", "library",
    "ModelError", "InputError", "ModelMismatchError",
]

__getattr__ = lazy_exports(__name__, _TORCH_EXPORTS)
