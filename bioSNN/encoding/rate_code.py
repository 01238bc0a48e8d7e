"""The seed projects' deterministic rate code: receptive-field potential -> regular spike train.

For each input with potential ``pot`` (seeds_spec 2.3):

.. math::

    f = \\mathrm{clip}\\Big(f_0 + (f_1 - f_0)\\,\\frac{\\mathrm{pot} - v_0}{v_1 - v_0},\\; f_0, f_1\\Big),
    \\qquad p = \\lceil 600 / f \\rceil,

with the seed's constants ``(v_0, v_1) = (-1.069, 2.781)`` and ``(f_0, f_1) = (1, 20)``. (The seed calls
``v_0, v_1`` the extremes of the potential over MNIST; over the MNIST test set the training-kernel
potential spans -2.48..4.00, so the clipping is active.)
The input spikes at steps ``p, 2p, 3p, ... <= T`` when ``pot > 0`` and never otherwise; step 0 is always
silent. Since ``f <= 20``, ``p >= 30``: with ``T = 70`` no input spikes before step 30 and none more
than twice, as in the seed's SAR spike files.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arrays import check_steps, flatten_samples, to_numpy
from .spike_trains import SpikeTrains
from ..errors import InputError

__all__ = ["rate_code", "rate_periods", "POTENTIAL_RANGE", "FREQUENCY_RANGE", "PERIOD_NUMERATOR"]

#: Potentials mapped onto the ends of the frequency range (seeds_spec 2.3).
POTENTIAL_RANGE = (-1.069, 2.781)
#: Frequencies (in the seed's "Hz units") at the ends of the potential range.
FREQUENCY_RANGE = (1.0, 20.0)
#: Period numerator: ``p = ceil(PERIOD_NUMERATOR / f)`` steps.
PERIOD_NUMERATOR = 600.0


def rate_periods(potentials: Any, *, potential_range: tuple[float, float] = POTENTIAL_RANGE,
                 frequency_range: tuple[float, float] = FREQUENCY_RANGE,
                 period_numerator: float = PERIOD_NUMERATOR) -> np.ndarray:
    """Spike period ``p`` in steps of each input (``0`` for inputs that never spike, ``pot <= 0``).

    Example:
        >>> rate_periods(np.array([-1.0, 0.0, 0.5, 2.781, 10.0])).tolist()
        [0, 0, 69, 30, 30]
    """
    pot = to_numpy(potentials, "potentials").astype(np.float64, copy=False)
    if pot.size and not np.all(np.isfinite(pot)):
        raise InputError("potentials contain NaN or infinite values")
    f = np.interp(pot, potential_range, frequency_range)  # np.interp clips outside the range
    period = np.ceil(period_numerator / f).astype(np.int64)
    return np.where(pot > 0, period, 0)


def rate_code(potentials: Any, T: int, *, dt: Any = 1e-3, potential_range: tuple[float, float] = POTENTIAL_RANGE,
              frequency_range: tuple[float, float] = FREQUENCY_RANGE,
              period_numerator: float = PERIOD_NUMERATOR) -> SpikeTrains:
    """Deterministic rate code of receptive-field potentials (see the module docstring).

    Args:
        potentials: ``[N, H, W]`` or ``[N, n_in]`` potentials (first axis: samples), e.g. from
            :func:`~bioSNN.encoding.receptive_field`; numpy or torch.
        T: last step; the trains have ``T + 1`` rows.
        dt: the time step (quantity or seconds), stored in the result; the code itself counts steps.

    Returns:
        :class:`SpikeTrains` ``[N, T + 1, n_in]`` (``image_shape = (H, W)`` for images).

    Example:
        >>> from bioSNN.encoding import receptive_field
        >>> img = np.zeros((1, 6, 6), np.uint8); img[0, 2:4, 2:4] = 255
        >>> trains = rate_code(receptive_field(img), T=70)
        >>> trains.shape, np.nonzero(trains.dense()[0, :, 14])[0].tolist()
        ((1, 71, 36), [34, 68])
    """
    T = check_steps(T)
    flat, image_shape = flatten_samples(to_numpy(potentials, "potentials"), "potentials")
    n = flat.shape[0]
    period = rate_periods(flat, potential_range=potential_range,
                          frequency_range=frequency_range, period_numerator=period_numerator)
    dense = np.zeros((n, T + 1, period.shape[1]), dtype=bool)
    sample, inp = np.nonzero(period)
    p = period[sample, inp]
    most = T // int(p.min()) if p.size else 0  # spikes of the fastest input
    for multiple in range(1, most + 1):
        t = multiple * p
        keep = t <= T
        dense[sample[keep], t[keep], inp[keep]] = True
    provenance = {"encoder": "rate_code", "T": T, "potential_range": list(potential_range),
                  "frequency_range": list(frequency_range), "period_numerator": period_numerator}
    return SpikeTrains.from_dense(dense, dt, image_shape=image_shape, provenance=provenance)
