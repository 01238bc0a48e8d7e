"""NeuronLayer runs a model's generated step: Brian2's traces to float precision, units, trainable parameters."""

import numpy as np
import pytest
import torch
from torch import nn
from brian2 import mV, ms

from bioSNN.equations import library, simulate, torch_step
from bioSNN.equations.torch_step import BACKENDS, FUSED_STEPS
from bioSNN.errors import InputError, ModelError
from bioSNN.supervised.layers import NeuronLayer, ThresholdBatchNorm, set_backend, threshold_gap


@pytest.mark.parametrize("model,dt,w_mV", [(library.lif_delta(), 1 * ms, 4.0),
                                           (library.seed_wta_if(t_image=20 * ms, t_ref=4 * ms), 1 * ms, 12.0)],
                         ids=["lif_delta", "seed_wta_if"])
def test_layer_reproduces_brian2(model, dt, w_mV):
    rng = np.random.default_rng(3)
    x = rng.random((120, 12)) < 0.25
    w = rng.uniform(-0.3, 1.0, (12, 4)) * w_mV  # mV
    ref = simulate(model, x, w * mV, dt, backend="brian2")
    layer = NeuronLayer(model, dt, 4, dtype=torch.float64)
    drive = torch.as_tensor(x, dtype=torch.float64)[:, None, :] @ torch.as_tensor(w)
    out = layer(drive)
    v = out.recorded["v"][:, 0].numpy()  # mV
    assert ref["spikes"].sum() > 3
    np.testing.assert_allclose(v, ref["v"] / 1e-3, atol=1e-9 * np.ptp(ref["v"] / 1e-3))
    np.testing.assert_array_equal(out.spikes[:, 0].numpy() != 0, ref["spikes"])


@pytest.mark.parametrize("model,trainable,mean_mV,min_spikes", [
    (library.lif_delta(), ("v_th",), 2.0, 50),
    pytest.param(library.seed_wta_if(t_image=20 * ms, t_ref=4 * ms), (), 20.0, 3,  # WTA: one winner per sample
                 marks=pytest.mark.slow)],
    ids=["lif_delta", "seed_wta_if"])
def test_compiled_backend_matches_eager(model, trainable, mean_mV, min_spikes, monkeypatch):
    """The fast path is pinned to the reference: same spikes, traces and gradients (drive and parameters)."""
    monkeypatch.setattr(torch_step, "BPTT_STEPS", 5)  # "bptt": five compiled chunks of 5 steps
    torch.manual_seed(0)
    drive = torch.randn(FUSED_STEPS + 5, 3, 2, 4, 4) * abs(mean_mV) * 3 + mean_mV
    results = []
    for backend in BACKENDS:  # "fused": one chunk of FUSED_STEPS steps, then the rest step by step
        layer = nn.Sequential(NeuronLayer(model, 1 * ms, (2, 4, 4), trainable=trainable))
        assert set_backend(layer, backend) == 1 and layer[0].step.backend == backend
        d = drive.detach().clone().requires_grad_(True)
        out = layer[0](d)
        (out.spikes.sum() + out.recorded["v"].pow(2).mean()).backward()
        grads = [d.grad] + [p.grad for p in layer.parameters()]
        results.append((out.spikes.detach(), out.recorded["v"].detach(), grads))
    (s0, v0, g0), *fast = results
    assert min_spikes <= s0.sum() < s0.numel() / 2
    for s1, v1, g1 in fast:
        torch.testing.assert_close(s1, s0, rtol=0, atol=0)
        torch.testing.assert_close(v1, v0, rtol=1e-6, atol=1e-5)  # mV
        for a, b in zip(g1, g0):
            assert b.abs().sum() > 0
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def _coba_two_pathways():
    from tests.equations.models_for_tests import coba_two_pathways

    return coba_two_pathways(1 * ms)


def _boolean_refractory():
    from tests.equations.models_for_tests import BOOLEAN_REFRACTORY

    return BOOLEAN_REFRACTORY


# model, trainable, record, drive (mean, sd) per pathway, detach_reset, batch sizes of the three calls (the second
# continues the first), dtype (float64: compiled and eager kernels round transcendental functions differently, and
# a float32 gradient that sums terms of both signs shows it)
BPTT_CASES = {
    "lif_delta": (library.lif_delta, ("v_th",), ("v",), {"input": (3.0, 6.0)}, False, (3, 3, 2), torch.float32),
    "lif_exp_synapse": (library.lif_exp_synapse, ("v_th", "tau_m"), ("v", "I"), {"input": (0.6, 1.0)}, True,
                        (3, 3, 3), torch.float64),
    "boolean_refractory": (_boolean_refractory, ("v_th",), ("v", "h"), {"input": (8.0, 8.0)}, True, (2, 2, 2),
                           torch.float64),
    "coba_two_pathways": (_coba_two_pathways, ("El",), ("v", "ge"), {"exc": (15.0, 15.0), "inh": (5.0, 5.0)}, False,
                          (2, 2, 2), torch.float64),
}


@pytest.mark.parametrize("case", list(BPTT_CASES))
def test_bptt_backend_matches_eager(case, monkeypatch):
    """``"bptt"`` (compiled chunks, a backward pass of its own) is pinned to ``"eager"``: spikes, traces, final
    state and gradients (every drive, the start state, trainable parameters), over a run of T not a multiple of
    the chunk (the short last chunk has its own compiled pair), a continued run, refractoriness, resets of
    several variables, gradients through the reset, two pathways, and a batch size that changes."""
    monkeypatch.setattr(torch_step, "BPTT_STEPS", 2)  # small chunks compile quickly: runs of 3 = 2 + 1
    make, trainable, record, drive_spec, detach, batches, dtype = BPTT_CASES[case]
    model = make()
    results = {}
    for backend in ("eager", "bptt"):
        layer = NeuronLayer(model, 0.5 * ms, 4, trainable=trainable, record=record, backend=backend,
                            detach_reset=detach, dtype=dtype)
        gen = torch.Generator().manual_seed(0)
        out, state = [], None
        for k, (T, batch) in enumerate(zip((4, 3, 2), batches)):  # a run, its continuation, a fresh run
            drives = {p: (torch.randn(T, batch, 4, generator=gen, dtype=dtype) * sd + mean).requires_grad_(True)
                      for p, (mean, sd) in drive_spec.items()}
            res = layer(drives if len(drives) > 1 else drives["input"], state if k == 1 else None)
            loss = res.spikes.sum() + sum(v.pow(2).mean() * 1e-3 for v in res.recorded.values())
            loss = loss + sum(x.float().pow(2).mean() * 1e-3 for x in res.state.inner if x.is_floating_point())
            loss.backward()
            start = [x for x in state.inner if x.requires_grad] if k == 1 else []
            # the next call continues from here, differentiable in the float variables (not in times: float64 always)
            inner = (x.detach().requires_grad_(layer.step.state_dtype(f) == dtype and x.is_floating_point())
                     for f, x in zip(res.state.inner._fields, res.state.inner))
            state = type(res.state)(type(res.state.inner)(*inner), res.state.timestep)
            out.append([res.spikes.detach(), *(v.detach() for v in res.recorded.values()),
                        *(x.detach() for x in res.state.inner), *(x.grad for x in start),
                        *(d.grad for d in drives.values()), *(p.grad.clone() for p in layer.trainable.values())])
            layer.zero_grad()
        results[backend] = out
    spikes = sum(int(call[0].sum()) for call in results["eager"])
    assert 5 <= spikes < sum(call[0].numel() for call in results["eager"]) / 2
    for ref, got in zip(results["eager"], results["bptt"]):
        torch.testing.assert_close(got[0], ref[0], rtol=0, atol=0)
        tol = 1e-5 if dtype == torch.float32 else 1e-10
        for a, b in zip(got[1:], ref[1:]):
            scale = max(1.0, float(b.abs().max())) if b.is_floating_point() else 0.0
            torch.testing.assert_close(a, b, rtol=tol, atol=tol * scale)
    grads = results["eager"][1][-(len(drive_spec) + len(trainable) + 1):]  # the start state's first, then drives...
    assert all(float(g.abs().sum()) > 0 for g in grads)


def test_unknown_backend_and_half_precision_compile_are_refused():
    with pytest.raises(InputError, match="backend must be one of"):
        NeuronLayer(library.lif_delta(), 1 * ms, 3, backend="cupy")
    with pytest.raises(InputError, match="float32 or float64 state"):
        NeuronLayer(library.lif_delta(), 1 * ms, 3, dtype=torch.bfloat16, backend="compile")


def test_every_layer_of_a_network_is_compiled():
    """Layers of one model share its generated code; each must still run compiled graphs of its own
    (torch.compile keeps a bounded cache per code object and silently falls back to eager beyond it),
    with and without gradients, here at three time steps (constants of their graphs)."""
    from torch._dynamo.utils import counters

    net = nn.Sequential(*[NeuronLayer(library.lif_delta(), (k + 1) * 0.5 * ms, 3) for k in range(3)])
    assert set_backend(net, "compile") == 3 and "backend=compile" in repr(net[0])
    counters.clear()
    drive = torch.full((3, 2, 3), 12.0, requires_grad=True)
    for layer in net:
        layer(drive)
        with torch.no_grad():
            layer(drive)
    assert counters["stats"]["unique_graphs"] >= 6


def test_trainable_threshold_and_time_constant_get_gradients():
    layer = NeuronLayer(library.lif_delta(), 1 * ms, 6, trainable=("v_th", "tau_m"))
    assert layer.trainable["v_th"].detach().tolist() == pytest.approx([-55.0] * 6)
    assert layer.trainable["tau_m"].detach().tolist() == pytest.approx([10.0] * 6)
    out = layer(torch.full((30, 2, 6), 2.0))
    out.spikes.sum().backward()
    assert layer.trainable["v_th"].grad.abs().sum() > 0
    assert layer.trainable["tau_m"].grad.abs().sum() > 0


def test_lower_threshold_means_more_spikes():
    drive = torch.full((40, 1, 2), 1.5)
    layer = NeuronLayer(library.lif_delta(), 1 * ms, 2, trainable=("v_th",))
    with torch.no_grad():
        layer.trainable["v_th"].copy_(torch.tensor([-55.0, -60.0]))
    counts = layer(drive).spikes.sum(0)[0]
    assert counts[1] > counts[0]


def test_bad_inputs_are_named():
    layer = NeuronLayer(library.lif_delta(), 1 * ms, (2, 3))
    with pytest.raises(InputError, match="drive must be"):
        layer(torch.zeros(5, 1, 6))
    with pytest.raises(ModelError, match="not a parameter"):
        NeuronLayer(library.lif_delta(), 1 * ms, 3, trainable=("theta",))
    with pytest.raises(InputError, match="cannot record"):
        NeuronLayer(library.lif_delta(), 1 * ms, 3, record=("ge",))


def test_tdbn_normalises_over_time_batch_and_space():
    bn = ThresholdBatchNorm(3, scale=threshold_gap(library.lif_delta()), alpha=0.5)
    y = bn(torch.randn(4, 5, 3, 6, 6) * 7 + 2).detach()
    per_channel = y.transpose(0, 2).reshape(3, -1)
    assert per_channel.mean(1).abs().max() < 1e-4
    assert per_channel.std(1, unbiased=False).sub(5.0).abs().max() < 1e-2  # alpha * V_th = 0.5 * 10 mV
    assert threshold_gap(library.seed_wta_if()) == pytest.approx(80.0)
    assert threshold_gap(library.diehl_cook_excitatory()) == 1.0  # conductance drive: no voltage gap


def test_uncentred_norm_keeps_silent_input_silent():
    bn = ThresholdBatchNorm(3, scale=10.0, center=False)
    x = torch.randn(4, 5, 3, 6, 6)
    x[:2] = 0.0  # two silent steps
    y = bn(x).detach()
    assert torch.all(y[:2] == 0)
    rms = y[2:].transpose(0, 2).reshape(3, -1).pow(2).mean(1).sqrt()
    assert torch.allclose(rms, torch.full((3,), 10.0 * (2 ** 0.5)), rtol=1e-3)  # half the entries were zero
    bn.eval()
    assert torch.all(bn(torch.zeros(2, 1, 3, 2, 2)) == 0)
