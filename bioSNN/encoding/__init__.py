"""Images -> spike trains.

Every encoder is a pure function of its inputs (numpy arrays or torch tensors, batched over the first
axis) and returns a :class:`SpikeTrains` of ``T + 1`` rows whose row 0 is silent:

* :func:`receptive_field` then :func:`rate_code`: the seed projects' deterministic code (``"rf-rate"``);
* :func:`poisson` (rates in physical units) and :func:`diehl_cook` (pixel / 4 Hz);
* :func:`regular`: the noise-free rate code (each input an integrate-and-fire neuron);
* :func:`latency`: one spike per input, brighter earlier.

:func:`encode_images` runs any of them over a whole data set in chunks, optionally streaming to a file.
"""

from .latency import latency, latency_steps
from .pipeline import ENCODERS, encode_images
from .poisson import diehl_cook, poisson
from .rate_code import rate_code, rate_periods
from .receptive_field import kernel, receptive_field
from .regular import regular
from .spike_trains import SpikeTrains, SpikeTrainsWriter

__all__ = [
    "SpikeTrains", "SpikeTrainsWriter", "receptive_field", "kernel", "rate_code", "rate_periods",
    "poisson", "diehl_cook", "regular", "latency", "latency_steps", "encode_images", "ENCODERS",
]
