"""Brian2 STDP networks that learn without labels and emit guidance signals.

Presets on Brian2's runtime targets (``cython``, ``numpy``): Diehl & Cook (2015)
(:mod:`~bioSNN.unsupervised.diehl_cook`) and the seed SAR project's winner-take-all network
(:class:`~bioSNN.unsupervised.wta.WTANetwork`). For Diehl & Cook:
:func:`~bioSNN.unsupervised.training.train` (sliced, checkpointed, exactly resumable),
:func:`~bioSNN.unsupervised.training.record` (spike counts and membrane traces with plasticity off),
:mod:`~bioSNN.unsupervised.assignment` (label assignment and vote), :class:`Guidance` (the guidance
file) and :func:`~bioSNN.unsupervised.pipeline.train_diehl_cook` / ``evaluate`` behind
``biosnn unsupervised`` and ``biosnn evaluate`` (``train_wta`` / ``evaluate_wta`` for the seed network).
Diehl & Cook training also runs compiled (:func:`~bioSNN.unsupervised.standalone.train_standalone`,
``--backend cpp_standalone``). Not yet: ``cuda_standalone`` (issue 4 continues).
"""

from .assignment import accuracy, assign_labels, predict
from .diehl_cook import DiehlCookConfig, DiehlCookState
from .guidance import Guidance
from .stdp import STDPRule, diehl_cook_stdp
from .training import record, train
from .wta import WTAConfig, WTANetwork

__all__ = ["DiehlCookConfig", "DiehlCookState", "Guidance", "STDPRule", "diehl_cook_stdp", "train", "record",
           "assign_labels", "predict", "accuracy",
           "WTAConfig", "WTANetwork"]
