"""Exceptions raised by :mod:`bioSNN.equations`.

Every error names the model, statement or argument at fault so that a user can act on it.
"""

from __future__ import annotations


class ModelError(ValueError):
    """A :class:`~bioSNN.equations.NeuronModel` is malformed (unknown variable, missing or
    dimensionally wrong parameter, equations that the chosen method cannot integrate, ...)."""


class InputError(ValueError):
    """Arguments given to a simulation are unusable (shape, dtype, NaN, non-positive ``dt``)."""


class ModelMismatchError(ValueError):
    """Two artifacts were produced with different neuron models or time steps."""
