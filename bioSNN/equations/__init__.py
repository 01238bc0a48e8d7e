"""One neuron model, two simulators.

A :class:`NeuronModel` holds a neuron model once, in Brian2 syntax. From it
:func:`~bioSNN.equations.brian.build_layer` makes Brian2 objects and :class:`TorchStep` a batched,
differentiable PyTorch step generated from Brian2's own abstract code, so that both produce the same
membrane traces to floating-point precision (see ``tests/equations/test_equivalence.py``).
"""

from . import library
from .brian import Layer, build_layer, connect_input, weight_dimension, weight_unit
from ..errors import InputError, ModelError, ModelMismatchError
from .model import NeuronModel, PerStep
from .simulate import compare, simulate
from .surrogate import Surrogate
from .torch_step import LayerState, RunResult, TorchStep

__all__ = [
    "NeuronModel", "PerStep", "Surrogate", "TorchStep", "LayerState", "RunResult", "simulate", "compare",
    "build_layer", "connect_input", "weight_dimension", "weight_unit", "Layer", "library",
    "ModelError", "InputError", "ModelMismatchError",
]
