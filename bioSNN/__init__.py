"""bioSNN: Brian2 STDP networks and PyTorch gradient training driven by one neuron-model definition."""

__version__ = "0.1.0"
