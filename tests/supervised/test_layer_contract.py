"""NeuronLayer as a PyTorch module: Norse's (spikes, state) contract, streaming, nn.Sequential, pickling, dtypes."""

import copy
import io

import pytest
import torch
from torch import nn
from brian2 import ms

from bioSNN.equations import library
from bioSNN.errors import InputError
from bioSNN.supervised.layers import NeuronLayer, OverTime


def _drive(T=30, B=3, n=5, seed=0, scale=8.0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(T, B, n, generator=g, dtype=torch.float64) * scale


@pytest.mark.parametrize("model,scale", [(library.lif_delta(), 8.0), (library.seed_wta_if(t_image=20 * ms, t_ref=4 * ms), 60.0),
                                         (library.lif_exp_synapse(), 0.3)], ids=["lif_delta", "seed_wta_if", "lif_exp_synapse"])
def test_two_half_calls_equal_one_call(model, scale):
    """Streaming: the state returned by one call continues the run exactly (time and refractoriness too)."""
    layer = NeuronLayer(model, 1 * ms, 5, dtype=torch.float64)
    d = _drive(scale=scale)
    whole, end = layer(d)
    first, state = layer(d[:13])
    second, state2 = layer(d[13:], state)
    assert whole.sum() > 0
    assert torch.equal(torch.cat([first, second]), whole)
    assert state2.timestep == end.timestep == 30
    for name in end.inner._fields:
        assert torch.equal(getattr(end.inner, name), getattr(state2.inner, name))
    v = torch.cat([layer.run(d[:13]).recorded["v"], layer.run(d[13:], state).recorded["v"]])
    assert torch.equal(v, layer.run(d).recorded["v"])


def test_gradients_flow_through_the_carried_state():
    """Truncated BPTT: a loss on the second half reaches the first half's drive through the state."""
    layer = NeuronLayer(library.lif_exp_synapse(), 1 * ms, 5, dtype=torch.float64)
    d = _drive(scale=0.3).requires_grad_()
    _, state = layer(d[:10])
    out = layer.run(d[10:], state)
    out.recorded["v"].sum().backward()
    assert d.grad[:10].abs().sum() > 0


def test_sequential_of_several_spiking_layers_trains():
    torch.manual_seed(0)
    lif = library.lif_delta()
    net = nn.Sequential(OverTime(nn.Conv2d(1, 4, 3, padding=1)), NeuronLayer(lif, 1 * ms, (4, 6, 6), return_state=False),
                        nn.Flatten(2), nn.Linear(144, 16), NeuronLayer(lif, 1 * ms, 16, return_state=False),
                        nn.Linear(16, 3))
    x = (torch.rand(12, 4, 1, 6, 6) < 0.5).float() * 30
    out = net(x)
    assert out.shape == (12, 4, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_whole_module_pickles_and_deepcopies_to_identical_outputs():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(6, 5), NeuronLayer(library.lif_delta(), 1 * ms, 5, trainable=("v_th",),
                                                     return_state=False))
    x = torch.rand(20, 2, 6) * 10
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert torch.equal(loaded(x), net(x))
    assert torch.equal(copy.deepcopy(net)(x), net(x))


def test_double_and_to_dtype_follow_the_module():
    layer = NeuronLayer(library.lif_delta(), 1 * ms, 5, trainable=("v_th",))
    d = _drive()
    layer.double()
    out = layer(d)
    assert out.spikes.dtype == out.recorded["v"].dtype == out.state.v.dtype == torch.float64
    assert layer.trainable["v_th"].dtype == torch.float64
    layer.to(torch.float32)
    assert layer(d.float()).recorded["v"].dtype == torch.float32


def test_batch_first_is_asked_for_and_a_mismatched_state_is_refused():
    layer = NeuronLayer(library.lif_delta(), 1 * ms, 5, dtype=torch.float64)
    d = _drive(T=30, B=3)
    ref = layer(d).spikes
    bf = NeuronLayer(library.lif_delta(), 1 * ms, 5, dtype=torch.float64, batch_first=True)
    assert torch.equal(bf(d.transpose(0, 1)).spikes, ref.transpose(0, 1))
    _, state = layer(d[:10])
    with pytest.raises(InputError, match="batch-first"):
        layer(d.transpose(0, 1), state)
    with pytest.raises(InputError, match="time first"):
        layer(torch.zeros(3, 4))
