"""Latency code: one spike per active input at the step of the formula."""

import math

import numpy as np
import pytest
from brian2 import ms

from bioSNN.encoding import latency, latency_steps
from bioSNN.errors import InputError


def test_linear_formula():
    x = np.random.default_rng(0).uniform(size=(2, 30))
    x[0, :3] = [0.0, 1.0, 0.2]
    T = 40
    trains = latency(x, T, threshold=0.1)
    dense = trains.dense()
    for k in range(2):
        for i in range(30):
            times = np.flatnonzero(dense[k, :, i]).tolist()
            if x[k, i] <= 0.1:
                assert times == []
            else:
                scaled = (x[k, i] - 0.1) / 0.9
                assert times == [1 + round((T - 1) * (1 - scaled))]


def test_log_mode_matches_rc_charging_time():
    x = np.array([[0.3, 0.5, 0.9, 0.2]])
    steps = latency_steps(x, T=30, mode="log", threshold=0.2, tau=5 * ms, dt=1 * ms)
    expected = [1 + math.floor(5 * math.log(v / (v - 0.2))) for v in (0.3, 0.5, 0.9)]
    assert steps[0, :3].tolist() == expected and steps[0, 3] == 0


def test_log_mode_drops_late_spikes():
    steps = latency_steps(np.array([0.2000001]), T=10, mode="log", threshold=0.2, tau=5 * ms, dt=1 * ms)
    assert steps.tolist() == [0]


def test_errors():
    with pytest.raises(InputError, match="needs a threshold"):
        latency_steps(np.array([0.5]), 10, mode="log", tau=1 * ms)
    with pytest.raises(InputError, match="needs tau"):
        latency_steps(np.array([0.5]), 10, mode="log", threshold=0.1)
    with pytest.raises(InputError, match="unknown latency mode"):
        latency_steps(np.array([0.5]), 10, mode="exp")
    with pytest.raises(InputError, match="threshold must lie"):
        latency_steps(np.array([0.5]), 10, threshold=1.0)
