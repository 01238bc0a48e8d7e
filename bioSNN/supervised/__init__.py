"""PyTorch training guided by membrane-potential signals.

Layers whose neurons come from a :class:`~bioSNN.equations.NeuronModel` (:class:`NeuronLayer`,
by default the model stored in the guidance file), networks from the seed's bilayer to a spiking
ResNet-19 (:mod:`~bioSNN.supervised.models`), guidance/rate/cross-entropy losses
(:mod:`~bioSNN.supervised.losses`), and a :class:`Trainer` with checkpoints, exact resume and DDP.
``biosnn supervised`` and ``biosnn evaluate`` run them from the command line.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "NeuronLayer": "layers", "LayerOutput": "layers", "OverTime": "layers", "ThresholdBatchNorm": "layers",
    "over_time": "layers", "set_backend": "layers",
    "NetworkOutput": "models", "GuidedBilayer": "models", "SpikingMLP": "models", "SpikingConvNet": "models",
    "SpikingResNet19": "models", "UserNetwork": "models", "build_model": "models", "ARCHITECTURES": "models",
    "ClassReadout": "readout", "LossSpec": "losses", "compute_loss": "losses",
    "SupervisedSplit": "data", "load_split": "data", "TrainConfig": "trainer", "Trainer": "trainer",
    "evaluate_split": "trainer", "load_trained": "checkpoint",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
