"""Networks: shapes, the seed's as-coded integrator, spec round trip, input checks."""

import numpy as np
import pytest
import torch
from brian2 import ms

from bioSNN.equations import library
from bioSNN.errors import InputError
from bioSNN.supervised.models import (GuidedBilayer, SpikingConvNet, SpikingMLP, SpikingResNet19, build_model,
                                      interpolate_steps)


def _spikes(T=12, B=3, n=16, p=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, n, generator=g) < p).float()


def test_seed_dynamics_is_the_seed_integrator():
    """seeds_spec 1.6: P(0) = 0, P(t) = P(t-1) + W x(t) - var_D, unconditional leak, no input at t = 0."""
    net = GuidedBilayer(16, 3, dynamics="seed", leak=0.005)
    x = _spikes()
    x[0] = 1.0  # step 0 input is never integrated by the seed (T_ref[j] < t fails at t = 0)
    out = net(x)
    W = net.weight.detach().numpy().T  # stored [n_out, n_in]
    P = np.zeros((3, 3))
    expected = [P.copy()]
    for t in range(1, 12):
        P = P + x[t].numpy() @ W - 0.005
        expected.append(P.copy())
    np.testing.assert_allclose(out.v.detach().numpy(), np.stack(expected), rtol=1e-5, atol=1e-5)
    assert out.times.tolist() == list(range(12))


def test_seed_interpolation_matches_numpy_interp():
    x = _spikes(T=8, B=1, n=4)
    times = torch.linspace(0, 7, 101)
    got = interpolate_steps(x, times)[:, 0].numpy()
    for i in range(4):
        np.testing.assert_allclose(got[:, i], np.interp(times.numpy(), np.arange(8), x[:, 0, i].numpy()), atol=1e-6)
    out = GuidedBilayer(4, 3, dynamics="seed", interpolate=100)(x)
    assert out.v.shape == (101, 1, 3) and float(out.times[-1]) == pytest.approx(7.0)


def test_model_dynamics_use_the_output_model():
    net = GuidedBilayer(16, 3, dynamics="model", w_init=20.0)
    out = net(_spikes(T=60, p=0.5))
    assert net.neurons.model.name == "seed_wta_if"
    v = out.v.detach()
    assert torch.isclose(v, torch.tensor(-500.0)).any(), "losers of the WTA are set to P_in"
    assert out.spikes.sum() >= 1


@pytest.mark.parametrize("make", [
    lambda: SpikingMLP(16, 4, hidden=(8, 8), dt=1 * ms, trainable=("v_th",)),
    lambda: SpikingConvNet((1, 4, 4), 4, channels=(2, 3), fc=(5,), dt=1 * ms),
    lambda: SpikingResNet19((4, 4), 4, stem=2, widths=(2, 3, 4), blocks=(1, 1, 1), fc=6, dt=1 * ms),
    lambda: GuidedBilayer(16, 4, output_model=library.lif_delta(), dt=1 * ms),
], ids=["mlp", "convnet", "resnet19", "bilayer"])
def test_networks_run_backprop_and_rebuild(make):
    net = make()
    out = net(_spikes())
    assert out.v.shape == (12, 3, 4) and out.spikes.shape == (12, 3, 4)
    (out.v.sum() + out.spikes.sum()).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    clone = build_model(net.spec)
    clone.load_state_dict(net.state_dict())
    clone.eval(), net.eval()
    torch.testing.assert_close(clone(_spikes(seed=5)).v, net(_spikes(seed=5)).v)


def test_bad_input_is_named():
    net = SpikingMLP(16, 2, hidden=(4,))
    with pytest.raises(InputError, match="n_in = 16"):
        net(_spikes(n=15))
    with pytest.raises(InputError, match=r"\[T, batch, n_in\]"):
        net(torch.zeros(5, 16))
    x = _spikes()
    x[2, 0, 3] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        net(x)
    with pytest.raises(InputError, match="interpolate"):
        GuidedBilayer(4, 3, dynamics="model", interpolate=100)


def test_deep_models_can_end_in_the_seed_integrator():
    net = SpikingConvNet((1, 4, 4), 3, channels=(2,), dt=1 * ms, output_dynamics="seed", leak=0.01, center=False)
    x = _spikes(n=16)
    x[0] = 0.0
    out = net(x)
    drive = out.v[1:] - out.v[:-1] + 0.01  # the integrator adds the readout drive minus the leak
    assert torch.all(out.v[0] == 0) and out.spikes.sum() == 0
    assert net.output is None and build_model(net.spec).output_dynamics == "seed"
    assert torch.isfinite(drive).all()
    with pytest.raises(InputError, match="output_dynamics"):
        SpikingMLP(4, 2, output_dynamics="linear")
