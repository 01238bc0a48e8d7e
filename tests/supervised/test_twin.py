"""The torch twin of a Diehl & Cook network is pinned to the Brian2 network it was generated from."""

import numpy as np
import pytest
import torch

from bioSNN.errors import InputError, ModelMismatchError
from bioSNN.supervised.twin import DiehlCookTwin, PoissonSource, RecordedSource, load_twin, present
from bioSNN.unsupervised.backends import codeobj_class
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
from bioSNN.unsupervised.training import record


def random_network(seed: int, n_in: int = 40, n: int = 10, **config):
    """A randomly generated network: weights scaled per neuron, thetas spread, so that some neurons
    fire often, some rarely and some examples are shown again (fewer than min_spikes spikes)."""
    rng = np.random.default_rng(seed)
    config = DiehlCookConfig(n_neurons=n, present_ms=30, rest_ms=20, tick_ms=10, slice_examples=10, seed=seed,
                             **config)
    state = DiehlCookState.initial(config, n_in)
    state.w *= 3 * rng.random((1, n))
    state.theta = state.theta + rng.random(n) * 5e-3
    rates = rng.random((25, n_in)) * 60
    return config, state, rates


@pytest.fixture(scope="module")
def brian2_recording():
    config, state, rates = random_network(1)
    rec = record(config, rates, state, traces=True, progress=False, codeobj_class=codeobj_class("numpy"),
                 input_spikes=True, trace_dtype=np.float64)
    return config, state, rates, rec


def test_twin_reproduces_brian2_numpy(brian2_recording):
    """Fed Brian2's input spikes: every presentation decided alike, identical spike counts, potentials
    within 1e-9 of their range over >= 20 whole presentations (float64, numpy target)."""
    config, state, rates, rec = brian2_recording
    n_presentations = sum(len(c) for c in rec.presentations)
    assert n_presentations >= 20 and n_presentations > len(rates)  # some examples were shown again
    twin = DiehlCookTwin(config, state)
    res = present(twin, len(rates), RecordedSource(rec.presentations, twin.n_in), traces=True,
                  trace_dtype=np.float64)
    assert rec.counts.sum() > 50
    np.testing.assert_array_equal(res.counts, rec.counts)
    shows = np.bincount([p.example for c in rec.presentations for p in c], minlength=len(rates))
    np.testing.assert_array_equal(res.shows, shows)
    span = np.ptp(rec.traces)
    np.testing.assert_allclose(res.traces, rec.traces, rtol=0, atol=1e-9 * span)


def test_recorded_source_refuses_a_departed_run(brian2_recording):
    config, state, rates, rec = brian2_recording
    twin = DiehlCookTwin(config, state)
    chains = [list(c) for c in rec.presentations]
    chains[1] = chains[1][:-1]  # Brian2's last presentation lost: the twin asks for one more
    with pytest.raises(ModelMismatchError, match="departed"):
        present(twin, len(rates), RecordedSource(chains, twin.n_in))
    chains = [list(c) for c in rec.presentations]
    chains[2] = chains[2] + [chains[2][-1]]  # Brian2 showed one more: the twin leaves it unused
    with pytest.raises(ModelMismatchError, match="departed"):
        present(twin, len(rates), RecordedSource(chains, twin.n_in))


def test_own_draws_are_seeded_and_vote_like_brian2(brian2_recording):
    """With its own Poisson draws the twin is reproducible per seed and fires like Brian2 on average."""
    config, state, rates, rec = brian2_recording
    twin = DiehlCookTwin(config, state)
    runs = [present(twin, len(rates), PoissonSource(rates, dt=config.dt_ms * 1e-3, seed=s)).counts
            for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    total = rec.counts.sum()
    assert abs(runs[0].sum() - total) < 0.3 * total


def test_forward_contract_continues_in_flight_spikes():
    """Norse's contract: two calls of T/2 steps equal one of T, delayed spikes arriving across the cut."""
    config, state, rates = random_network(2)
    twin = DiehlCookTwin(config, state)
    assert twin.max_delay > 0
    x = (torch.rand(80, 3, twin.n_in, dtype=torch.float64) < 0.08).double()
    whole, _ = twin(x)
    first, s = twin(x[:37])
    second, _ = twin(x[37:], s)
    assert whole.spikes.sum() > 0
    assert torch.equal(torch.cat([first.spikes, second.spikes]), whole.spikes)
    assert torch.equal(torch.cat([first.v, second.v]), whole.v)


def test_gradients_reach_weights_theta_and_inhibition():
    config, state, rates = random_network(3)
    twin = DiehlCookTwin(config, state, dtype=torch.float32, trainable=("w", "theta", "inh_to_exc"))
    x = (torch.rand(60, 4, twin.n_in) < 0.1).float()
    out, _ = twin(x)
    (out.spikes.sum() + out.v.mean()).backward()
    for name in ("w", "theta", "inh_to_exc"):
        grad = getattr(twin, name).grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name


def test_named_errors():
    config, state, rates = random_network(4)
    twin = DiehlCookTwin(config, state)
    with pytest.raises(InputError, match="input spikes must be"):
        twin(torch.zeros(5, 2, twin.n_in + 1, dtype=torch.float64))
    with pytest.raises(InputError, match="NaN"):
        twin(torch.full((5, 2, twin.n_in), float("nan"), dtype=torch.float64))
    with pytest.raises(InputError, match="trainable"):
        DiehlCookTwin(config, state, trainable=("tau_m",))
    bad = DiehlCookState(state.w.copy(), state.delay_ms, state.theta)
    bad.w[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        DiehlCookTwin(config, bad)
    with pytest.raises(InputError, match="reset"):
        present(twin, 2, PoissonSource(rates, dt=5e-4), reset="never")
    from bioSNN.unsupervised.diehl_cook import excitatory_model

    with pytest.raises(ModelMismatchError, match="plasticity off"):
        DiehlCookTwin(config, state, neuron=excitatory_model(True, config))


def test_load_twin_from_a_shipped_folder():
    twin, saved = load_twin("models/mstar3-stdp")
    assert twin.n == 400 and twin.n_in == 784
    np.testing.assert_array_equal(twin.w.detach().numpy(), saved.arrays["w"])
    assert twin.exc_model.fingerprint() == saved.model.fingerprint()
    with pytest.raises(InputError, match="diehl_cook"):
        load_twin("models/mstar3-wta")


@pytest.mark.parametrize("threshold", ["fixed", "per_image"])
def test_wta_twin_reproduces_brian2_numpy(threshold):
    """The wta preset: same winners, event steps and potentials (within 1e-9 of their range) as the
    Brian2 network with plasticity off, over 30 presentations of a random network."""
    from bioSNN.encoding.spike_trains import SpikeTrains
    from bioSNN.supervised.twin import WTATwin
    from bioSNN.unsupervised.wta import WTAConfig, WTANetwork

    rng = np.random.default_rng(5)
    cfg = WTAConfig(n_neurons=4, seed=1, threshold=threshold)
    n, steps, n_in = 30, 71, 30
    x = rng.random((n, steps, n_in)) < rng.uniform(0, 0.35, (n, 1, n_in))  # a pattern per image
    x[:, 0] = False
    net = WTANetwork(cfg, n_in, steps, 1e-3, codeobj_class=codeobj_class("numpy"))
    net.weights_mV = net.weights_mV * 4.0
    trains = SpikeTrains.from_dense(x, 1e-3)
    twin = WTATwin(cfg, net.weights_mV, steps=steps, dt_s=1e-3)
    ref = net.present(trains, learning=False, record_v=True)
    out = twin.present(trains)
    assert (ref["winner"] >= 0).sum() >= 10 and len(set(ref["winner"].tolist())) >= 3
    np.testing.assert_array_equal(out["winner"], ref["winner"])
    np.testing.assert_array_equal(out["event_step"], ref["event_step"])
    np.testing.assert_allclose(out["v"], ref["v"], rtol=0, atol=1e-9 * np.ptp(ref["v"]) + 1e-4)  # ref: float32


def test_load_wta_twin_refuses_a_diehl_cook_folder():
    from bioSNN.supervised.twin import load_wta_twin

    with pytest.raises(InputError, match="not a wta"):
        load_wta_twin("models/mstar3-stdp")


@pytest.mark.slow
def test_twin_reproduces_the_shipped_mstar3_vote(mstar_root):
    """Fed the input spikes Brian2's cpp_standalone recording saw, the twin gives every test chip the same
    spike counts, hence the shipped 96.59 % (about 6 minutes)."""
    import tempfile

    from bioSNN.data import load_images
    from bioSNN.supervised.data import image_options
    from bioSNN.unsupervised.assignment import accuracy, predict
    from bioSNN.unsupervised.pipeline import rates_of
    from bioSNN.unsupervised.standalone import record_standalone

    twin, saved = load_twin("models/mstar3-stdp")
    data = load_images("mstar", mstar_root, "test", **image_options(saved.meta["data"]))
    rates = rates_of(data.images, twin.config.input_total)
    state = DiehlCookState(saved.arrays["w"], saved.arrays["delay_ms"], saved.arrays["theta"])
    with tempfile.TemporaryDirectory() as tmp:
        rec = record_standalone(twin.config, rates, state, tmp, neuron=saved.model, input_spikes=True, progress=False)
    res = present(twin, len(rates), RecordedSource(rec.presentations, twin.n_in), reset="run")
    np.testing.assert_array_equal(res.counts, rec.counts)
    assert accuracy(predict(res.counts, saved.assignments, 3), data.labels) == pytest.approx(0.9659284497444633)
