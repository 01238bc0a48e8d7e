"""Poisson (Bernoulli per step) rate codes, with rates in physical units, and the Diehl & Cook input.

Each input ``i`` of sample ``k`` spikes in step ``t = 1..T`` independently with probability

.. math::  P(s_i(t) = 1) = r_i \\, dt, \\qquad r_i = x_i \\cdot r_{max},

where ``x_i`` in ``[0, 1]`` is the intensity. Diehl & Cook (2015) drive each pixel at ``pixel / 8 *
intensity`` Hz with ``intensity = 2`` (``pixel / 4`` Hz, at most 63.75 Hz): :func:`diehl_cook` is
:func:`poisson` with ``x = pixel / 255`` and ``r_max = 255 / 8 * intensity`` Hz.

Sample ``k`` draws from ``numpy.random.default_rng([seed, first_index + k])``, so the trains do not
depend on how a data set is split into chunks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..quantities import as_rate, as_time
from ..arrays import check_images, check_steps, flatten_samples
from .spike_trains import SpikeTrains

__all__ = ["poisson", "diehl_cook", "scaled_to_total", "DIEHL_COOK_INTENSITY", "DEFAULT_MAX_RATE"]

#: Diehl & Cook's default input intensity: pixel / 8 * 2 Hz.
DIEHL_COOK_INTENSITY = 2.0
#: Default rate at intensity 1, in Hz: Diehl & Cook's rate of a white pixel (255 / 8 * 2).
DEFAULT_MAX_RATE = 255.0 / 8.0 * DIEHL_COOK_INTENSITY


def poisson(intensity: Any, T: int, dt: Any = 1e-3, max_rate: Any = DEFAULT_MAX_RATE, *, seed: int = 0,
            first_index: int = 0) -> SpikeTrains:
    """Bernoulli spike trains with rate ``intensity * max_rate`` (see the module docstring).

    Args:
        intensity: ``[N, H, W]`` or ``[N, n_in]`` values in ``[0, 1]`` (first axis: samples); numpy
            or torch.
        T: last step; trains have ``T + 1`` rows, row 0 silent.
        dt: time step (quantity or seconds).
        max_rate: rate at intensity 1 (quantity or Hz); ``max_rate * dt`` must not exceed 1.
        seed: seed of the random streams.
        first_index: index of the first sample in the whole data set (for chunked encoding).

    Example:
        >>> from brian2 import ms, Hz
        >>> trains = poisson(np.full((1, 1000), 0.5), T=200, dt=1 * ms, max_rate=100 * Hz, seed=1)
        >>> rate = trains.counts()[0] / (1000 * 200 * 1e-3)   # spikes per input per second
        >>> bool(abs(rate - 50) < 2)
        True
    """
    T, dt_s, rate, prob, image_shape = rate_per_step(intensity, T, dt, max_rate)
    n = prob.shape[0]
    dense = np.zeros((n, T + 1, prob.shape[1]), dtype=bool)
    for k in range(n):
        rng = np.random.default_rng([int(seed), int(first_index) + k])
        dense[k, 1:] = rng.random((T, prob.shape[1])) < prob[k]
    provenance = {"encoder": "poisson", "T": T, "max_rate_hz": rate, "seed": int(seed)}
    return SpikeTrains.from_dense(dense, dt_s, image_shape=image_shape, provenance=provenance)


def rate_per_step(intensity: Any, T: int, dt: Any, max_rate: Any) -> tuple[int, float, float, np.ndarray, Any]:
    """Checked inputs of a rate code: ``(T, dt in s, max_rate in Hz, spike probability per step
    [N, n_in] = intensity * max_rate * dt, image shape)``; refuses ``max_rate * dt > 1`` and
    intensities outside ``[0, 1]`` or not finite."""
    T = check_steps(T)
    dt_s, rate = as_time(dt), as_rate(max_rate, "max_rate")
    if rate * dt_s > 1:
        raise InputError(f"max_rate * dt = {rate * dt_s:g} > 1: a step cannot hold more than one spike; "
                         "lower max_rate or dt")
    x = check_images(intensity, "intensity", upper=1.0, hint="scale intensities to [0, 1], e.g. images / 255")
    flat, image_shape = flatten_samples(x, "intensity")
    return T, dt_s, rate, flat * (rate * dt_s), image_shape


def scaled_to_total(images: Any, total: float | None) -> np.ndarray:
    """``float64 [N, n_pixels]``: each image flattened and, with ``total``, scaled so that its pixels
    sum to ``total`` (``pixel * total / sum``; an all-zero image stays zero). The one rule for the
    Diehl & Cook network's rates and for :func:`diehl_cook` spike trains.

    Example:
        >>> scaled_to_total(np.array([[[8, 24]]]), 64).tolist()
        [[16.0, 48.0]]
    """
    flat = np.asarray(images).reshape(len(images), -1).astype(np.float64)
    if not np.all(np.isfinite(flat)) or (flat < 0).any():
        raise InputError("images must be finite and non-negative to be read as rates")
    if total is None:
        return flat
    if not (np.isfinite(total) and total > 0):
        raise InputError(f"input_total must be a positive number, got {total}")
    sums = flat.sum(axis=1, keepdims=True)
    return flat * np.divide(float(total), sums, out=np.zeros_like(sums), where=sums > 0)


def diehl_cook(images: Any, T: int, dt: Any = 0.5e-3, *, intensity: float = DIEHL_COOK_INTENSITY, seed: int = 0,
               first_index: int = 0, input_total: float | None = None) -> SpikeTrains:
    """Diehl & Cook's input: 8-bit ``images`` as Poisson trains at ``pixel / 8 * intensity`` Hz.

    Their network presents each image for 350 ms at ``dt = 0.5 ms`` (``T = 700``) and raises
    ``intensity`` by 1 when the excitatory layer fires fewer than 5 spikes. With ``input_total``
    each image is first scaled so that its pixels sum to it (:func:`scaled_to_total`), as
    ``DiehlCookConfig(input_total=...)`` does for the network.

    Example:
        >>> trains = diehl_cook(np.full((1, 28, 28), 255, np.uint8), T=700, seed=0)
        >>> rate = float(trains.counts()[0]) / (784 * 0.35)    # spikes per pixel per second
        >>> bool(abs(rate - 63.75) < 1.5)                     # 63.75 Hz, within 3 standard errors
        True
    """
    if not intensity > 0:
        raise InputError(f"intensity must be positive, got {intensity}")
    x = check_images(images, "images", upper=255.0, hint="8-bit images expected")
    if input_total is None:
        trains = poisson(x / 255.0, T, dt, max_rate=255.0 / 8.0 * intensity, seed=seed, first_index=first_index)
    else:  # rates over the largest rate a step can hold, so no chunk's own maximum enters the result
        ceiling = 1.0 / as_time(dt)
        rates = scaled_to_total(x, input_total).reshape(x.shape) / 8.0 * intensity
        if rates.max(initial=0.0) > ceiling:
            raise InputError(f"input_total {input_total:g} drives a pixel above 1 / dt = {ceiling:g} Hz")
        trains = poisson(rates / ceiling, T, dt, max_rate=ceiling, seed=seed, first_index=first_index)
    trains.provenance.update(encoder="diehl_cook", intensity=intensity, input_total=input_total)
    return trains
