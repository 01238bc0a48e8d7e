"""Poisson code: rates within statistical bounds, seeds, chunk invariance, units."""

import numpy as np
import pytest
from brian2 import Hz, ms, mV

from bioSNN.encoding import diehl_cook, poisson
from bioSNN.errors import InputError


def test_rates_within_binomial_bounds():
    intensity = np.tile(np.linspace(0, 1, 11), (4, 1))  # 4 samples x 11 levels
    T, dt, max_rate = 2000, 0.5 * ms, 80 * Hz
    trains = poisson(intensity, T, dt, max_rate, seed=7)
    counts = trains.dense()[:, 1:].sum(axis=(0, 1))  # per input level, over samples and steps
    trials = 4 * T
    p = intensity[0] * 80 * 0.5e-3
    sd = np.sqrt(trials * p * (1 - p))
    assert np.all(np.abs(counts - trials * p) <= 4 * sd + 1e-9)
    assert counts[0] == 0 and not trains.dense()[:, 0].any()


def test_seed_reproducible_and_chunk_invariant():
    x = np.random.default_rng(0).uniform(size=(6, 20))
    whole = poisson(x, 50, seed=3)
    again = poisson(x, 50, seed=3)
    parts = [poisson(x[:2], 50, seed=3), poisson(x[2:], 50, seed=3, first_index=2)]
    assert np.array_equal(whole.packed, again.packed)
    assert np.array_equal(whole.packed, np.concatenate([p.packed for p in parts]))
    assert not np.array_equal(whole.packed, poisson(x, 50, seed=4).packed)


def test_units_and_limits():
    x = np.full((1, 3), 0.5)
    a = poisson(x, 100, dt=1 * ms, max_rate=100 * Hz, seed=1)
    b = poisson(x, 100, dt=1e-3, max_rate=100.0, seed=1)  # plain numbers are SI
    assert np.array_equal(a.packed, b.packed) and a.dt_seconds == 1e-3
    with pytest.raises(InputError, match="max_rate \\* dt = 2 > 1"):
        poisson(x, 10, dt=10 * ms, max_rate=200 * Hz)
    with pytest.raises(InputError, match="max_rate must have the dimension"):
        poisson(x, 10, max_rate=5 * mV)
    with pytest.raises(InputError, match="must not exceed 1.*images / 255"):
        poisson(np.full((1, 3), 255.0), 10)
    with pytest.raises(InputError, match="non-negative"):
        poisson(np.full((1, 3), -0.1), 10)


def test_diehl_cook_rate_is_pixel_over_four():
    images = np.full((3, 10, 10), 128, np.uint8)
    trains = diehl_cook(images, T=4000, dt=0.5 * ms, seed=0)
    rate = trains.counts().sum() / (300 * 4000 * 0.5e-3)
    expected = 128 / 4  # Hz, intensity 2
    p, n = expected * 0.5e-3, 300 * 4000
    assert abs(rate - expected) <= 4 * np.sqrt(n * p * (1 - p)) / (300 * 2.0)
    assert trains.provenance["encoder"] == "diehl_cook" and trains.image_shape == (10, 10)
