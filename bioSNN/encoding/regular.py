"""Regular (deterministic) rate code: every input is an integrate-and-fire neuron driven by its intensity.

Input ``i`` charges by :math:`p_i = x_i \\, r_{max} \\, dt` per step from an empty start and spikes, losing
one unit, whenever its charge reaches 1. It spikes in step ``t = 1..T`` exactly when

.. math::  \\lfloor t \\, p_i \\rfloor > \\lfloor (t - 1) \\, p_i \\rfloor,

so it fires :math:`\\lfloor T p_i \\rfloor` spikes at regular intervals of :math:`1 / p_i` steps. The
trains carry the mean rate of :func:`~bioSNN.encoding.poisson` without its sampling noise: over ``T``
steps the counts quantise the intensity into ``T + 1`` levels, where Poisson counts scatter by
:math:`\\sqrt{T p (1 - p)}`. No random numbers are drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .poisson import rate_per_step
from .spike_trains import SpikeTrains

__all__ = ["regular"]

#: Charges within this of an integer count as reaching it (``0.1 * 10`` is 0.9999999999999999 in floats).
_ROUNDING = 1e-9


def regular(intensity: Any, T: int, dt: Any = 1e-3, max_rate: Any = 1000.0) -> SpikeTrains:
    """Regular spike trains at rate ``intensity * max_rate`` (see the module docstring).

    Args:
        intensity: ``[N, H, W]`` or ``[N, n_in]`` values in ``[0, 1]`` (first axis: samples); numpy
            or torch.
        T: last step; trains have ``T + 1`` rows, row 0 silent.
        dt: time step (quantity or seconds).
        max_rate: rate at intensity 1 (quantity or Hz; default 1000 Hz: one spike per 1 ms step);
            ``max_rate * dt`` must not exceed 1.

    Example:
        >>> trains = regular(np.array([[1.0, 0.5, 0.25, 0.0]]), T=8)      # 1 ms steps, 1000 Hz
        >>> trains.dense()[0].astype(int).T.tolist()
        [[0, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 0, 1, 0, 1, 0, 1], [0, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0]]
    """
    T, dt_s, rate, per_step, image_shape = rate_per_step(intensity, T, dt, max_rate)
    per_step = per_step.astype(np.float64, copy=False)
    steps = np.arange(T + 1, dtype=np.float64)[:, None]
    dense = np.zeros((per_step.shape[0], T + 1, per_step.shape[1]), dtype=bool)
    for k in range(per_step.shape[0]):  # one sample at a time: float work bounded by [T + 1, n_in]
        charge = np.floor(steps * per_step[k] + _ROUNDING)
        dense[k, 1:] = charge[1:] > charge[:-1]
    provenance = {"encoder": "regular", "T": T, "max_rate_hz": rate}
    return SpikeTrains.from_dense(dense, dt_s, image_shape=image_shape, provenance=provenance)
