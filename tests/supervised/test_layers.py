"""NeuronLayer runs a model's generated step: Brian2's traces to float precision, units, trainable parameters."""

import numpy as np
import pytest
import torch
from torch import nn
from brian2 import mV, ms

from bioSNN.equations import library, simulate
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
def test_compiled_backend_matches_eager(model, trainable, mean_mV, min_spikes):
    """The fast path is pinned to the reference: same spikes, traces and gradients (drive and parameters)."""
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
