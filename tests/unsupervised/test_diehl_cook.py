"""Diehl & Cook network: controller logic, exact resume from checkpoints, refusal of mismatches,
and the assignment/vote read-out. Small inputs and the numpy target keep it fast."""

import json

import numpy as np
import pytest
from brian2 import NumpyCodeObject

from bioSNN.errors import ModelMismatchError
from bioSNN.unsupervised.assignment import accuracy, assign_labels, predict
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState, build_network, controller_state
from bioSNN.unsupervised.training import load_checkpoint, record_counts, train

CFG = DiehlCookConfig(n_neurons=4, present_ms=100, rest_ms=50, slice_examples=2, w_total=8.0, seed=3)


@pytest.fixture(scope="module")
def rates():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(6, 16)).astype(float) / 8.0 * 6  # 16 bright inputs


def test_resume_gives_the_uninterrupted_weights(tmp_path, rates):
    whole = train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject)
    ckpt = tmp_path / "ckpt.npz"
    train(CFG, rates, checkpoint=ckpt, progress=False, codeobj_class=NumpyCodeObject, stop_after=2)
    assert load_checkpoint(ckpt).examples_done == 2
    resumed = train(CFG, rates, checkpoint=ckpt, resume=True, progress=False, codeobj_class=NumpyCodeObject)
    assert np.array_equal(whole.w, resumed.w) and np.array_equal(whole.theta, resumed.theta)
    assert not np.allclose(whole.w, DiehlCookState.initial(CFG, 16).w)  # it did learn
    assert np.allclose(whole.w.sum(axis=0), CFG.w_total, rtol=0.05)  # normalised before each example


def test_stop_only_at_slice_boundaries_and_state_shapes(tmp_path, rates):
    from bioSNN.errors import InputError

    with pytest.raises(InputError, match="multiple of slice_examples"):
        train(CFG, rates, checkpoint=tmp_path / "c.npz", stop_after=3, progress=False, codeobj_class=NumpyCodeObject)
    wrong = DiehlCookState.initial(CFG, 9)
    with pytest.raises(InputError, match=r"state.w has shape \(9, 4\); 16 inputs and 4 neurons need \(16, 4\)"):
        build_network(CFG, rates, wrong, learning=False, codeobj_class=NumpyCodeObject)


def test_checkpoint_mismatches_refused(tmp_path, rates):
    ckpt = tmp_path / "ckpt.npz"
    train(CFG, rates, checkpoint=ckpt, progress=False, codeobj_class=NumpyCodeObject, stop_after=2)
    with pytest.raises(ModelMismatchError, match="other training data"):
        train(CFG, rates[::-1].copy(), checkpoint=ckpt, resume=True, progress=False, codeobj_class=NumpyCodeObject)
    with np.load(ckpt) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["model_fingerprint"] = "0" * 64
    arrays["meta"] = np.asarray(json.dumps(meta))
    np.savez(ckpt, **arrays)
    with pytest.raises(ModelMismatchError, match="made with neuron model 000000000000"):
        load_checkpoint(ckpt)


def test_silent_example_is_repeated_with_more_intensity():
    config = DiehlCookConfig(n_neurons=2, present_ms=100, rest_ms=50, max_intensity=4.0, slice_examples=10)
    rates = np.zeros((2, 9))  # black images: nobody fires, so each is shown at intensity 2, 3 and 4
    # six presentations: example 0 at 2, 3, 4 (two repeats), example 1 at 2, 3 (two repeats), 4 (running)
    built = build_network(config, rates, DiehlCookState.initial(config, 9), learning=False,
                          codeobj_class=NumpyCodeObject)
    built.net.run(6 * config.example_ms * 1e-3 * __import__("brian2").second, namespace={})
    ctrl = controller_state(built)
    assert ctrl["repeats"] == 4 and ctrl["idx"] == 1 and ctrl["intensity"] == 4.0


def test_controller_idles_once_it_reaches_stop_idx():
    """A compiled run longer than its examples must neither repeat nor skip past its last example."""
    config = DiehlCookConfig(n_neurons=2, present_ms=100, rest_ms=50, max_intensity=4.0, slice_examples=10)
    built = build_network(config, np.zeros((3, 9)), DiehlCookState.initial(config, 9), learning=False,
                          codeobj_class=NumpyCodeObject)
    built.controller.stop_idx = 1
    built.net.run(12 * config.example_ms * 1e-3 * __import__("brian2").second, namespace={})
    ctrl = controller_state(built)  # example 0 shown at intensity 2, 3, 4, then nine idle presentations
    assert ctrl["idx"] == 1 and ctrl["repeats"] == 2 and ctrl["on"] == 0 and ctrl["intensity"] == 2.0


def test_record_counts_map_to_examples(rates):
    state = train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject)
    counts = record_counts(CFG, rates, state, progress=False, codeobj_class=NumpyCodeObject)
    assert counts.shape == (6, 4) and counts.sum() > 0
    assert np.all(counts.sum(axis=1) >= CFG.min_spikes)  # kept presentations reached the minimum


def test_assignment_and_vote():
    counts = np.array([[9, 0, 1], [8, 1, 0], [0, 7, 6], [1, 9, 5]])
    labels = np.array([0, 0, 1, 1])
    assignments = assign_labels(counts, labels, 3)
    assert assignments.tolist() == [0, 1, 1]
    assert predict(counts, assignments, 3).tolist() == [0, 0, 1, 1]
    assert accuracy(predict(counts, assignments, 3), labels) == 1.0
    assert assign_labels(np.zeros((2, 2)), np.array([0, 1]), 2).tolist() == [-1, -1]


def test_traces_follow_the_counts(rates):
    from bioSNN.unsupervised.training import record

    state = train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject)
    rec = record(CFG, rates[:3], state, traces=True, progress=False, codeobj_class=NumpyCodeObject)
    assert rec.traces.shape == (3, 4, int(CFG.present_ms / CFG.dt_ms)) and rec.traces.dtype == np.float32
    assert np.all(rec.traces < -30) and np.all(rec.traces > -110)  # mV, within the model's range
    assert np.array_equal(rec.counts, record_counts(CFG, rates[:3], state, progress=False,
                                                    codeobj_class=NumpyCodeObject))  # same seeds, same run
    # each counted spike is one reset during the presentation: a run of steps at exactly v_reset = -65 mV
    # (held by the 5 ms refractoriness); spikes in the rest are not counted. A run already under way at
    # the first step is a spike of that step or one just before the presentation.
    at_reset = np.isclose(rec.traces, -65.0, rtol=0, atol=1e-9)
    resets = (at_reset[..., 1:] & ~at_reset[..., :-1]).sum(axis=2)
    assert rec.counts.sum() > 0
    assert np.all((rec.counts == resets) | ((rec.counts == resets + 1) & at_reset[..., 0]))


@pytest.mark.parametrize("timer_rate, block_ms", [(100.0, 5.0), (0.1, 50.0)])
def test_timer_rate_sets_the_spike_block(timer_rate, block_ms):
    """The original's timer (Brian 1 numerics, rate 100) leaves only the 5 ms refractoriness; the
    Brian2 ports' reading (0.1) blocks 50 ms after every spike."""
    from brian2 import Network, SpikeMonitor, mV, ms

    from bioSNN.equations import library
    from bioSNN.equations.brian import build_layer

    group = build_layer(library.diehl_cook_excitatory(timer_rate=timer_rate), 1, 0.5 * ms, name="exc_timer",
                        codeobj_class=NumpyCodeObject)
    group.v = -65 * mV
    group.theta = 0 * mV
    group.run_regularly("ge = 5", when="start", codeobj_class=NumpyCodeObject)  # a strong constant drive
    spikes = SpikeMonitor(group, codeobj_class=NumpyCodeObject)
    Network(group, spikes).run(400 * ms, namespace={})
    isi = np.diff(np.asarray(spikes.t / ms))
    assert len(isi) >= 5 and block_ms <= isi.min() <= block_ms + 1.0


def test_users_own_excitatory_model(tmp_path, rates):
    """A user's NeuronModel drives the network; its checkpoints are refused for another model."""
    from brian2 import mV

    from bioSNN.equations import library
    from bioSNN.errors import InputError

    mine = library.diehl_cook_excitatory(theta_plus=0.5 * mV, tau_m=50 * __import__("brian2").ms)
    ckpt = tmp_path / "mine.npz"
    learned = train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject, neuron=mine, checkpoint=ckpt,
                    stop_after=2)
    default = train(CFG, rates[:2], progress=False, codeobj_class=NumpyCodeObject)
    assert not np.allclose(learned.theta, default.theta)  # ten times the theta increment
    with pytest.raises(ModelMismatchError, match="made with neuron model"):
        train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject, checkpoint=ckpt, resume=True)
    resumed = train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject, neuron=mine, checkpoint=ckpt,
                    resume=True)
    assert np.array_equal(resumed.w, train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject,
                                           neuron=mine).w)
    counts = record_counts(CFG, rates, resumed, progress=False, codeobj_class=NumpyCodeObject)
    assert counts.shape == (6, 4)
    with pytest.raises(InputError, match=r"lacks \['ge', 'gi', 'theta'\]"):
        build_network(CFG, rates, resumed, learning=True, neuron=library.lif_exp_synapse(),
                      codeobj_class=NumpyCodeObject)
