"""Brian2 STDP networks that learn without labels and emit guidance signals.

Presets on Brian2's runtime targets (``cython``, ``numpy``): Diehl & Cook (2015)
(:mod:`~bioSNN.unsupervised.diehl_cook`) and the seed SAR project's winner-take-all network
(:class:`~bioSNN.unsupervised.wta.WTANetwork`). For Diehl & Cook:
:func:`~bioSNN.unsupervised.training.train` (sliced, checkpointed, exactly resumable),
:func:`~bioSNN.unsupervised.training.record` (spike counts and membrane traces with plasticity off),
:mod:`~bioSNN.unsupervised.assignment` (label assignment and vote), :class:`Guidance` (the guidance
file) and :func:`~bioSNN.unsupervised.pipeline.train_diehl_cook` / ``evaluate`` behind
``biosnn unsupervised`` and ``biosnn evaluate`` (``train_wta`` / ``evaluate_wta`` for the seed network).
Both also run compiled (``--backend cpp_standalone`` or ``cuda_standalone``, configured by
:mod:`~bioSNN.unsupervised.backends`): Diehl & Cook training, spike counts and membrane traces
(:func:`~bioSNN.unsupervised.standalone.train_standalone`, ``record_standalone``), and the WTA
network's training and recording (:mod:`~bioSNN.unsupervised.wta_standalone`).
"""

from ..lazy import lazy_exports

# Public names -> defining submodule. Imported on first use (PEP 562), so that light submodules such
# as ``backends`` (read by the CLI) do not pull in Brian2 networks and torch.
_EXPORTS = {
    "accuracy": "assignment", "assign_labels": "assignment", "predict": "assignment",
    "DiehlCookConfig": "diehl_cook", "DiehlCookState": "diehl_cook", "Guidance": "guidance",
    "STDPRule": "stdp", "diehl_cook_stdp": "stdp", "record": "training", "train": "training",
    "WTAConfig": "wta", "WTANetwork": "wta",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
