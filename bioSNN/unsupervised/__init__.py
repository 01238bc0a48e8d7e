"""Brian2 STDP networks that learn without labels and emit guidance signals.

Available: the Diehl & Cook (2015) preset on Brian2's runtime targets (``cython``, ``numpy``):
:func:`~bioSNN.unsupervised.training.train` (sliced, checkpointed, exactly resumable),
:func:`~bioSNN.unsupervised.training.record` (spike counts and membrane traces with plasticity off),
:mod:`~bioSNN.unsupervised.assignment` (label assignment and vote), :class:`Guidance` (the guidance
file) and :func:`~bioSNN.unsupervised.pipeline.train_diehl_cook` / ``evaluate`` behind
``biosnn unsupervised`` and ``biosnn evaluate``. Not yet: the seed project's ``wta`` preset and the
``cpp_standalone`` / ``cuda_standalone`` backends (issue 4 continues).
"""

from .assignment import accuracy, assign_labels, predict
from .diehl_cook import DiehlCookConfig, DiehlCookState
from .guidance import Guidance
from .stdp import STDPRule, diehl_cook_stdp
from .training import record, train

__all__ = ["DiehlCookConfig", "DiehlCookState", "Guidance", "STDPRule", "diehl_cook_stdp", "train", "record",
           "assign_labels", "predict", "accuracy"]
