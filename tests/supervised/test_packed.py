"""Bit-packed input spikes: the same values and gradients as dense ones, in less memory."""

import numpy as np
import pytest
import torch
from brian2 import ms

from bioSNN.equations import library
from bioSNN.errors import InputError
from bioSNN.supervised import ClassReadout, GuidedBilayer, LossSpec, SpikingConvNet, SpikingMLP, TrainConfig, Trainer
from bioSNN.supervised.packed import CHUNK_STEPS, PackedSpikes, pack_spikes, spike_linear

from .helpers import toy_split


def test_pack_round_trip_and_linear_gradient():
    x = (torch.rand(CHUNK_STEPS + 7, 3, 21) < 0.3).float()  # two chunks, inputs not a multiple of 8
    p = pack_spikes(x)
    assert p.bits.shape == (CHUNK_STEPS + 7, 3, 3) and torch.equal(p.dense(), x)
    assert float(p.mean()) == pytest.approx(float(x.mean()))
    w1 = torch.randn(5, 21, dtype=torch.float64, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_(True)
    g = torch.randn(CHUNK_STEPS + 7, 3, 5, dtype=torch.float64)
    (spike_linear(p, w1) * g).sum().backward()
    (torch.nn.functional.linear(x.double(), w2) * g).sum().backward()
    torch.testing.assert_close(w1.grad, w2.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: GuidedBilayer(12, 2, dynamics="seed"),
    lambda: GuidedBilayer(12, 2, output_model=library.lif_delta(), w_init=8.0),
    lambda: SpikingMLP(12, 2, hidden=(6,), output_model=library.lif_delta(), dt=1 * ms)],
    ids=["bilayer-seed", "bilayer-lif", "mlp"])
def test_networks_give_the_same_output_from_packed_input(make):
    torch.manual_seed(0)
    net = make().eval()
    x = (torch.rand(16, 4, 12) < 0.4).float()
    a, b = net(x), net(pack_spikes(x))
    torch.testing.assert_close(a.v, b.v, rtol=1e-6, atol=1e-5)
    assert torch.equal(a.spikes, b.spikes)


def test_trainer_trains_on_packed_batches(tmp_path):
    """Packed batches come straight from the stored bits and train to the same weights as dense ones."""
    split = toy_split()
    x, _, _ = split.batch(np.arange(5), packed=True)
    assert isinstance(x, PackedSpikes) and torch.equal(x.dense(), split.batch(np.arange(5))[0])
    weights = []
    for packed in (False, True):
        torch.manual_seed(0)
        net = SpikingMLP(12, 2, hidden=(6,), output_model=library.lif_delta(), dt=1 * ms)
        config = TrainConfig(epochs=2, batch_size=8, lr=0.01, progress=False, packed_input=packed)
        Trainer(net, LossSpec.parse("ce-rate"), ClassReadout.identity(2), split, tmp_path / str(packed), config=config).fit()
        weights.append(net.linears[0].weight.detach().clone())
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-5, atol=1e-6)
    conv = SpikingConvNet((1, 3, 4), 2, channels=(2,), dt=1 * ms)
    with pytest.raises(InputError, match="packed_input"):
        Trainer(conv, LossSpec.parse("ce-rate"), ClassReadout.identity(2), split, tmp_path / "c",
                config=TrainConfig(packed_input=True, progress=False))
    with pytest.raises(InputError, match="takes dense spikes"):
        conv(pack_spikes((torch.rand(3, 1, 12) < 0.5).float()))
