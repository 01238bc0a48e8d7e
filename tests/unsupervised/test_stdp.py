"""The Diehl & Cook trace rule on one synapse, against its formula."""

import math

import numpy as np
import pytest
from brian2 import Network, NumpyCodeObject, SpikeGeneratorGroup, Synapses, ms

from bioSNN.unsupervised.stdp import diehl_cook_stdp


def run_pair(pre_times, post_times, w0=0.5, plastic=1.0, **params):
    rule = diehl_cook_stdp(**params)
    pre = SpikeGeneratorGroup(1, [0] * len(pre_times), np.asarray(pre_times) * ms, dt=0.5 * ms)
    post = SpikeGeneratorGroup(1, [0] * len(post_times), np.asarray(post_times) * ms, dt=0.5 * ms)
    s = Synapses(pre, post, "w : 1\nplastic : 1 (shared)\n" + rule.model, on_pre=rule.on_pre, on_post=rule.on_post,
                 namespace=dict(rule.parameters), dt=0.5 * ms, codeobj_class=NumpyCodeObject)
    s.connect()
    s.w = w0
    s.plastic = plastic
    Network(pre, post, s).run(40 * ms, namespace={})
    return float(s.w[0])


def test_depression_then_triplet_potentiation():
    """post at 5 ms, pre at 10 ms (depression by nu_pre * x_post1), post at 15 ms (potentiation by
    nu_post * x_pre * x_post2 before the spike)."""
    nu_pre, nu_post = 0.0001, 0.01
    expected = 0.5 - nu_pre * math.exp(-5 / 20) + nu_post * math.exp(-5 / 20) * math.exp(-10 / 40)
    assert run_pair([10], [5, 15]) == pytest.approx(expected, rel=1e-12)


def test_first_post_spike_alone_does_not_potentiate():
    # no earlier post spike: x_post2 before the spike is 0, so pre-before-post does not change w
    assert run_pair([10], [15]) == pytest.approx(0.5, abs=0)


def test_signs_and_bounds():
    assert run_pair([10], [5]) < 0.5  # pre after post: depression
    assert run_pair([12], [5, 15], nu_post=1.0) == 1.0  # clipped at w_max
    assert run_pair([10], [5, 15], plastic=0.0) == 0.5  # recording mode: frozen


def test_a_user_rule_trains_the_network():
    """A pair-based rule written by the user replaces the default; its traces are found and reset."""
    from brian2 import NumpyCodeObject

    from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
    from bioSNN.unsupervised.stdp import STDPRule
    from bioSNN.unsupervised.training import train

    rule = STDPRule(model="dapre/dt = -apre/(20*ms) : 1 (event-driven)\ndapost/dt = -apost/(20*ms) : 1 (event-driven)",
                    on_pre="apre += 1; w = clip(w - plastic * 0.001 * apost, 0, 1)",
                    on_post="apost += 1; w = clip(w + plastic * 0.01 * apre, 0, 1)", name="pair")
    assert rule.state_variables == ("apost", "apre")
    config = DiehlCookConfig(n_neurons=3, present_ms=100, rest_ms=50, slice_examples=2, w_total=8.0)
    rates = np.full((2, 16), 60.0)
    state = train(config, rates, rule=rule, progress=False, codeobj_class=NumpyCodeObject)
    assert not np.allclose(state.w, DiehlCookState.initial(config, 16).w)
