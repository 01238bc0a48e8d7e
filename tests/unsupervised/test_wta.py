"""The seed WTA network: its STDP window rule and silent-pixel depression against the formulas of
seeds_spec 2.7, and guidance traces with the semantics of 1.3."""

import math

import numpy as np
import pytest
from brian2 import NumpyCodeObject, mV

from bioSNN.encoding import SpikeTrains
from bioSNN.errors import InputError
from bioSNN.unsupervised.wta import WTAConfig, WTANetwork


def one_image(spikes_at):
    dense = np.zeros((1, 71, 5), bool)
    for inp, step in spikes_at.items():
        dense[0, step, inp] = True
    return SpikeTrains.from_dense(dense, 1e-3)


@pytest.mark.parametrize("depression", ["intended", "as_coded"])
def test_window_rule_and_silent_depression(depression):
    config = WTAConfig(n_neurons=2, P_th_mV=1.5, D_mV=0.0, depression=depression)
    w0 = np.array([[1.2, 0.0], [0.5, 0.0], [0.8, 0.0], [0.3, 0.0], [0.7, 0.0]])
    net = WTANetwork(config, n_in=5, steps=71, dt_s=1e-3, weights_mV=w0, codeobj_class=NumpyCodeObject)
    # input 1 at 25 (5 steps before the post spike), input 0 at 30 (makes neuron 0 fire at 30),
    # input 4 at 31 (|d| = 1: ignored), input 2 at 35 (5 steps after), input 3 silent
    result = net.present(one_image({1: 25, 0: 30, 4: 31, 2: 35}), learning=True)
    assert result["winner"].tolist() == [0] and result["event_step"].tolist() == [30]
    w = net.weights_mV
    bound = -1.2 if depression == "intended" else 1.2
    expected = w0.copy()
    expected[1, 0] = 0.5 + 0.02 * 0.3 * math.exp(-5 / 10) * (2.0 - 0.5)
    expected[2, 0] = 0.8 - 0.02 * 0.8 * math.exp(-5 / 10) * (0.8 - bound)
    expected[3, 0] = 0.3 - 0.06
    assert np.allclose(w, expected, rtol=0, atol=1e-12)
    if depression == "as_coded":
        assert w[2, 0] > 0.8  # the seed's sign slip: "depression" raises weights below |w_min|


def test_recording_is_frozen_and_shows_seed_semantics():
    config = WTAConfig(n_neurons=3, P_th_mV=1.5, D_mV=0.25)
    w0 = np.zeros((5, 3)); w0[0] = [1.0, 0.6, 0.2]; w0[1] = [1.2, 0.6, -0.4]
    net = WTANetwork(config, n_in=5, steps=71, dt_s=1e-3, weights_mV=w0, codeobj_class=NumpyCodeObject)
    r = net.present(one_image({0: 30, 1: 31}), learning=False, record_v=True)
    assert np.array_equal(net.weights_mV, w0)
    v = r["v"][0]  # [3, 70], t = 1..70
    t_star = r["event_step"][0]
    assert r["winner"][0] == 0 and t_star == 31
    assert np.all(v[:, : 30 - 1] == 0)  # exactly zero before the first input (t < 30)
    assert v[0, 29] == pytest.approx(1.0 - 0.25) and v[1, 29] == pytest.approx(0.6 - 0.25)
    assert np.all(v[0, t_star - 1:] == 0)  # winner reset and held (refractory to the end)
    assert np.all(v[1:, t_star - 1:] == -500)  # losers at P_in, frozen


def test_trains_must_match_the_network():
    net = WTANetwork(WTAConfig(n_neurons=2), n_in=5, steps=71, dt_s=1e-3, codeobj_class=NumpyCodeObject)
    with pytest.raises(InputError, match="built for 71/5"):
        net.present(SpikeTrains.from_dense(np.zeros((1, 50, 5), bool), 1e-3), learning=False)
    with pytest.raises(InputError, match="depression"):
        WTAConfig(depression="reversed")


def toy_trains():
    """9 samples, 3 classes, 16 inputs: regular trains like the seed's code (one or two spikes per input
    from step 30)."""
    rng = np.random.default_rng(1)
    dense = np.zeros((9, 71, 16), bool)
    for k in range(9):
        for i in rng.choice(16, 10, replace=False):
            p = int(rng.integers(30, 36))
            dense[k, p::p, i] = True
    return SpikeTrains.from_dense(dense, 1e-3, labels=np.arange(9) % 3, class_names=("a", "b", "c"))


def test_interrupted_training_resumes_to_the_same_weights(tmp_path, monkeypatch):
    from bioSNN.unsupervised.pipeline import train_wta

    trains = toy_trains()
    config = WTAConfig(n_neurons=3, P_th_mV=3.0, D_mV=0.1)
    train_wta(trains, tmp_path / "whole", config=config, epochs=2, chunk=4, backend="numpy", progress=False)
    calls = {"n": 0}
    original = WTANetwork.present

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # second chunk of the second epoch
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WTANetwork, "present", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_wta(trains, tmp_path / "cut", config=config, epochs=2, chunk=4, backend="numpy", progress=False)
    monkeypatch.setattr(WTANetwork, "present", original)
    train_wta(trains, tmp_path / "cut", config=config, epochs=2, chunk=4, backend="numpy", progress=False, resume=True)
    from bioSNN.unsupervised.artifacts import load_network

    whole, cut = load_network(tmp_path / "whole"), load_network(tmp_path / "cut")
    assert np.array_equal(whole.arrays["w_mV"], cut.arrays["w_mV"])
    assert not np.allclose(whole.arrays["w_mV"], WTANetwork.initial_weights_mV(config, 16))  # it learned


def test_per_image_threshold_follows_the_input_peak():
    """seeds_spec 2.5: P_th = (most input spikes in one step) / 3, so a faint image can still win."""
    dense = np.zeros((2, 20, 6), bool)
    dense[0, 10, :6] = True  # six inputs at once: threshold 2 mV
    dense[1, 10, :3] = True  # three: threshold 1 mV
    trains = SpikeTrains.from_dense(dense, 1e-3)
    weights = np.zeros((6, 2))
    weights[:, 0] = 1.0  # neuron 0 gets 1 mV per input spike
    fixed = WTANetwork(WTAConfig(n_neurons=2, P_th_mV=4.0, D_mV=0.0), 6, 20, 1e-3, weights_mV=weights,
                       codeobj_class=NumpyCodeObject)
    assert fixed.present(trains, learning=False)["winner"].tolist() == [0, -1]  # 3 mV never beats 4 mV
    per_image = WTANetwork(WTAConfig(n_neurons=2, D_mV=0.0, threshold="per_image"), 6, 20, 1e-3,
                           weights_mV=weights, codeobj_class=NumpyCodeObject)
    assert per_image.image_thresholds_mV(trains).tolist() == [2.0, 1.0]
    result = per_image.present(trains, learning=False)
    assert result["winner"].tolist() == [0, 0] and result["event_step"].tolist() == [10, 10]
    assert np.isclose(float(per_image.layer.th[0] / mV), 1.0)  # the last image's threshold
    with pytest.raises(InputError, match="threshold must be 'fixed' or 'per_image'"):
        WTAConfig(threshold="adaptive")


def test_users_own_output_model():
    from bioSNN.equations import library

    config = WTAConfig(n_neurons=2, D_mV=0.0)
    mine = library.seed_wta_if(P_th=2 * mV, D=0 * mV, t_image=20e-3 * __import__("brian2").second)
    dense = np.zeros((1, 20, 6), bool)
    dense[0, 10, :3] = True
    weights = np.zeros((6, 2))
    weights[:, 1] = 1.0
    net = WTANetwork(config, 6, 20, 1e-3, weights_mV=weights, model=mine, codeobj_class=NumpyCodeObject)
    assert net.present(SpikeTrains.from_dense(dense, 1e-3), learning=False)["winner"].tolist() == [1]
    with pytest.raises(InputError, match=r"lacks \['inhibited', 'th', 'wta_done'\]"):
        WTANetwork(config, 6, 20, 1e-3, model=library.lif_exp_synapse())
