"""Latency (time-to-first-spike) code: each input spikes once, brighter inputs earlier.

``mode="linear"``: an input of intensity ``x`` in ``(threshold, 1]`` spikes at step

.. math::  t(x) = 1 + \\mathrm{round}\\big((T - 1)(1 - x')\\big), \\qquad x' = \\frac{x - \\theta}{1 - \\theta},

so ``x = 1`` spikes at step 1 and ``x -> threshold`` at step ``T``. ``mode="log"`` uses the charging time
of an RC circuit driven by ``x`` to the threshold ``theta`` (as in snnTorch's ``latency``):
``t(x) = 1 + floor(tau / dt * ln(x / (x - theta)))``, dropping spikes later than ``T``. Inputs at or
below ``threshold`` never spike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..quantities import as_time
from ..arrays import check_images, check_steps, flatten_samples
from .spike_trains import SpikeTrains

__all__ = ["latency", "latency_steps"]


def latency_steps(intensity: Any, T: int, *, mode: str = "linear", threshold: float = 0.0, tau: Any = None,
                  dt: Any = 1e-3) -> np.ndarray:
    """Spike step of each input (``0`` means no spike); see the module docstring.

    Example:
        >>> latency_steps(np.array([0.0, 0.25, 0.5, 1.0]), T=5).tolist()
        [0, 4, 3, 1]
    """
    T = check_steps(T)
    if not 0 <= threshold < 1:
        raise InputError(f"threshold must lie in [0, 1), got {threshold}")
    x = check_images(intensity, "intensity", min_ndim=1, upper=1.0, hint="scale intensities to [0, 1]")
    active = x > threshold
    if mode == "linear":
        scaled = (x - threshold) / (1 - threshold)
        step = 1 + np.round((T - 1) * (1 - scaled)).astype(np.int64)
    elif mode == "log":
        if threshold <= 0:
            raise InputError("mode='log' needs a threshold > 0 (the RC circuit's firing threshold)")
        if tau is None:
            raise InputError("mode='log' needs tau, the RC time constant")
        ratio = as_time(tau, "tau", bare_limit=None) / as_time(dt)
        with np.errstate(divide="ignore", invalid="ignore"):
            delay = ratio * np.log(x / np.where(active, x - threshold, 1.0))
        step = 1 + np.floor(np.where(active, delay, 0)).astype(np.int64)
        active &= step <= T
    else:
        raise InputError(f"unknown latency mode {mode!r}; use 'linear' or 'log'")
    return np.where(active, step, 0)


def latency(intensity: Any, T: int, dt: Any = 1e-3, *, mode: str = "linear", threshold: float = 0.0,
            tau: Any = None) -> SpikeTrains:
    """Latency code of ``intensity`` (``[N, H, W]`` or ``[N, n_in]`` in ``[0, 1]``): one spike per input.

    Example:
        >>> trains = latency(np.array([[0.0, 0.5, 1.0]]), T=11)
        >>> [np.nonzero(trains.dense()[0, :, i])[0].tolist() for i in range(3)]
        [[], [6], [1]]
    """
    x = check_images(intensity, "intensity", upper=1.0, hint="scale intensities to [0, 1], e.g. images / 255")
    flat, image_shape = flatten_samples(x, "intensity")
    step = latency_steps(flat, T, mode=mode, threshold=threshold, tau=tau, dt=dt)
    dense = np.arange(check_steps(T) + 1)[None, :, None] == np.where(step > 0, step, -1)[:, None, :]
    provenance = {"encoder": "latency", "T": int(T), "mode": mode, "threshold": threshold,
                  "tau_s": None if tau is None else as_time(tau, "tau", bare_limit=None)}
    return SpikeTrains.from_dense(dense, dt, image_shape=image_shape, provenance=provenance)
