"""The seed's deterministic rate code, checked against the formula of seeds_spec 2.3 one pixel at a time."""

import math

import numpy as np
import pytest

from bioSNN.encoding import rate_code, rate_periods, receptive_field
from bioSNN.errors import InputError


def reference_times(pot, T):
    """Scalar formula: f = clip-interp(pot), p = ceil(600 / f), spikes at p, 2p, ... <= T if pot > 0."""
    if pot <= 0:
        return []
    f = 1 + (pot + 1.069) * (20 - 1) / (2.781 + 1.069)
    f = min(max(f, 1.0), 20.0)
    p = math.ceil(600 / f)
    return list(range(p, T + 1, p))


@pytest.mark.parametrize("T", [70, 200])
def test_spike_times_match_formula(T):
    rng = np.random.default_rng(0)
    pot = rng.uniform(-2, 4, size=(3, 50))
    trains = rate_code(pot, T)
    dense = trains.dense()
    assert trains.shape == (3, T + 1, 50) and trains.image_shape is None
    mismatches = 0
    for k in range(3):
        for i in range(50):
            got = np.flatnonzero(dense[k, :, i]).tolist()
            mismatches += got != reference_times(pot[k, i], T)
    assert mismatches == 0


def test_periods_at_range_ends():
    assert rate_periods(np.array([2.781, 5.0, 1e-9, -0.5])).tolist() == [30, 30, math.ceil(600 / (1 + 1.069 * 19 / 3.85)), 0]


def test_seed_statistics_on_real_images(mnist_root):
    """With T = 70: no spike before step 30, at most two spikes per input, pairs at (p, 2p)."""
    from bioSNN.data import load_mnist

    images = load_mnist(mnist_root, "test").images[:200]
    dense = rate_code(receptive_field(images), 70).dense()
    first = np.argmax(dense, axis=1)[dense.any(axis=1)]
    assert first.min() >= 30
    counts = dense.sum(axis=1)
    assert counts.max() == 2
    k, i = np.nonzero(counts == 2)
    times = np.stack([np.flatnonzero(dense[a, :, b]) for a, b in zip(k[:100], i[:100])])
    assert np.array_equal(times[:, 1], 2 * times[:, 0]) and times[:, 0].max() <= 35


def test_image_shape_and_step_zero_silent():
    img = np.zeros((2, 6, 8), np.uint8); img[:, 2:4, 3:5] = 255
    trains = rate_code(receptive_field(img), 70)
    assert trains.image_shape == (6, 8) and not trains.dense()[:, 0].any()


def test_errors():
    with pytest.raises(InputError, match="T must be positive"):
        rate_code(np.zeros((1, 4)), 0)
    with pytest.raises(InputError, match="T must be a positive integer"):
        rate_code(np.zeros((1, 4)), 7.5)
    with pytest.raises(InputError, match="NaN"):
        rate_code(np.array([[np.nan, 1.0]]), 70)
    with pytest.raises(InputError, match="first axis: samples"):
        rate_code(np.zeros(4), 70)
