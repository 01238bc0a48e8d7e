"""Regular rate code: exact counts and intervals, the Poisson code's mean rate, units and errors."""

import numpy as np
import pytest
from brian2 import Hz, ms

from bioSNN.encoding import poisson, regular
from bioSNN.errors import InputError


def test_counts_are_floor_of_charge_and_intervals_regular():
    x = np.random.default_rng(0).uniform(size=(5, 40))
    T = 37
    dense = regular(x, T).dense()
    assert not dense[:, 0].any()
    np.testing.assert_array_equal(dense.sum(1), np.floor(T * x))
    for k, i in [(0, 3), (2, 17), (4, 39)]:
        steps = np.nonzero(dense[k, :, i])[0]
        if len(steps) > 2:  # intervals differ by at most one step around 1 / p
            gaps = np.diff(steps)
            assert gaps.max() - gaps.min() <= 1 and abs(gaps.mean() - 1 / x[k, i]) < 1


def test_exact_fractions_spike_on_time():
    # 0.1 * 10 is 0.9999999999999999 in floats: the tenth step must still spike
    dense = regular(np.array([[0.1, 0.2, 1.0, 0.0]]), 10).dense()[0]
    assert np.nonzero(dense[:, 0])[0].tolist() == [10]
    assert np.nonzero(dense[:, 1])[0].tolist() == [5, 10]
    assert dense[1:, 2].all() and not dense[:, 3].any()


def test_same_mean_rate_as_poisson_without_its_noise():
    x = np.full((50, 200), 0.3)
    reg, poi = regular(x, 100).counts(), poisson(x, 100, max_rate=1000 * Hz, seed=1).counts()
    assert np.all(reg == 200 * 30)  # every sample: 30 spikes in each of its 200 inputs
    assert abs(poi.mean() - reg.mean()) < 4 * poi.std() / np.sqrt(len(poi)) and poi.std() > 0


def test_units_and_errors():
    x = np.full((1, 3), 0.5)
    a, b = regular(x, 40, dt=0.5 * ms, max_rate=400 * Hz), regular(x, 40, dt=0.5e-3, max_rate=400.0)
    assert np.array_equal(a.packed, b.packed) and a.dt_seconds == 5e-4 and a.counts()[0] == 3 * 4
    with pytest.raises(InputError, match="max_rate \\* dt = 2 > 1"):
        regular(x, 10, dt=1 * ms, max_rate=2000 * Hz)
    with pytest.raises(InputError, match="scale intensities"):
        regular(np.full((1, 3), 255.0), 10)
    with pytest.raises(InputError, match="NaN"):
        regular(np.array([[np.nan, 0.1]]), 10)
