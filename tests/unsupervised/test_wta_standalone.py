"""The seed WTA network compiled (cpp_standalone): runs of a fixed number of images, given the
spikes, weights and thresholds as run arguments, learn and record exactly what the runtime network does."""

import numpy as np
import pytest
from brian2 import NumpyCodeObject

from bioSNN.encoding import SpikeTrains
from bioSNN.errors import InputError
from bioSNN.unsupervised.wta import WTAConfig, WTANetwork
from bioSNN.unsupervised.wta_standalone import compiled_wta, pack_input_bits


def _trains(n=7, n_in=40, steps=71, seed=0):
    dense = np.random.default_rng(seed).random((n, steps, n_in)) < 0.06
    dense[:, 0] = False  # step 0 without input, as the encoders write it
    dense[4] = False  # a silent image: no winner
    return SpikeTrains.from_dense(dense, 1e-3)


def test_input_bits_round_trip():
    spikes = np.random.default_rng(1).random((5, 70)) < 0.3
    words = pack_input_bits(spikes)
    i = np.arange(70)
    back = (words[:, i // 31] / 2.0 ** (i % 31)).astype(np.int64) % 2 == 1  # the input group's threshold
    assert words.shape == (5, 3) and np.array_equal(back, spikes)


@pytest.mark.slow  # one build each; the preset test below runs the compiled network in CI
@pytest.mark.parametrize("threshold", ["fixed", "per_image"])
def test_compiled_wta_learns_and_records_exactly_as_runtime(tmp_path, threshold):
    trains = _trains()
    config = WTAConfig(n_neurons=3, P_th_mV=3.0, D_mV=0.3, threshold=threshold, threshold_scale=0.6, seed=2)
    runtime = WTANetwork(config, trains.n_in, trains.steps, trains.dt_seconds, codeobj_class=NumpyCodeObject)
    expected = [runtime.present(trains, learning=True), runtime.present(trains[:5], learning=True)]
    expected_rec = runtime.present(trains, learning=False, record_v=True)
    with compiled_wta(config, trains.n_in, trains.steps, trains.dt_seconds, tmp_path / "build",
                      images_per_run=3) as net:  # 7 images: runs of 3, 3 and 1 (+ 2 silent pads)
        got = [net.present(trains, learning=True), net.present(trains[:5], learning=True)]
        got_rec = net.present(trains, learning=False, record_v=True)
        weights = net.weights_mV
        with pytest.raises(InputError, match="weights must be"):
            net.weights_mV = np.zeros((3, 2))
    for e, g in zip(expected + [expected_rec], got + [got_rec]):
        assert np.array_equal(e["winner"], g["winner"]) and np.array_equal(e["event_step"], g["event_step"])
    assert (expected[0]["winner"] >= 0).sum() >= 4 and expected[0]["winner"][4] == -1  # a run that could differ
    assert not np.allclose(runtime.weights_mV, WTANetwork.initial_weights_mV(config, trains.n_in))
    np.testing.assert_allclose(weights, runtime.weights_mV, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_rec["v"], expected_rec["v"], rtol=0, atol=1e-9)
    assert got_rec["v"].shape == (7, 3, 70)



def test_wta_preset_trains_and_evaluates_compiled_as_on_runtime(tmp_path):
    """``train_wta`` / ``evaluate_wta`` with ``backend="cpp_standalone"`` (built once into out/standalone,
    chunks of 4 images as runs): the runtime's weights, assignment, guidance and accuracy."""
    from bioSNN.unsupervised.artifacts import load_network
    from bioSNN.unsupervised.guidance import Guidance
    from bioSNN.unsupervised.pipeline import evaluate_wta, train_wta

    from .test_wta import toy_trains

    trains = toy_trains()
    config = WTAConfig(n_neurons=3, D_mV=0.1, threshold="per_image", threshold_scale=0.5)
    results = {}
    for backend in ("numpy", "cpp_standalone"):
        out = tmp_path / backend
        metrics = train_wta(trains, out, config=config, epochs=2, chunk=4, backend=backend, progress=False)
        results[backend] = (metrics, load_network(out), Guidance.load(out / "guidance.npz"),
                            evaluate_wta(out, trains))
    (m_rt, net_rt, g_rt, e_rt), (m_c, net_c, g_c, e_c) = results["numpy"], results["cpp_standalone"]
    assert (tmp_path / "cpp_standalone" / "standalone" / "main").is_file() and e_c["accuracy"] == e_rt["accuracy"]
    assert m_rt["images_without_winner"] < len(trains) - 3  # winners, so learning that could differ
    assert not np.allclose(net_rt.arrays["w_mV"], WTANetwork.initial_weights_mV(config, trains.n_in))
    np.testing.assert_allclose(net_c.arrays["w_mV"], net_rt.arrays["w_mV"], rtol=0, atol=1e-12)
    assert np.array_equal(net_c.assignments, net_rt.assignments)
    assert m_c["train_accuracy"] == m_rt["train_accuracy"] and m_c["backend"] == "cpp_standalone"
    np.testing.assert_allclose(g_c.traces, g_rt.traces, rtol=0, atol=1e-9)
