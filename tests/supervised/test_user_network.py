"""A network the user wrote (nn.Sequential of Conv, Linear and NeuronLayers) gets what bioSNN networks get:
training, guidance checks, exact resume, evaluation, loading and plots."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from bioSNN.equations import library  # noqa: E402
from bioSNN.errors import InputError, ModelMismatchError  # noqa: E402
from bioSNN.plotting.artifacts import curves_figure  # noqa: E402
from bioSNN.supervised import ClassReadout, LossSpec, NeuronLayer, OverTime, TrainConfig, Trainer, UserNetwork  # noqa: E402
from bioSNN.supervised.checkpoint import load_trained  # noqa: E402
from bioSNN.supervised.trainer import evaluate_split  # noqa: E402

from .helpers import DT, toy_guidance, toy_split  # noqa: E402


def _user_net():
    torch.manual_seed(0)
    lif, out = library.lif_delta(), library.seed_wta_if()
    net = UserNetwork.from_sequential(nn.Sequential(
        nn.Unflatten(2, (1, 3, 4)), OverTime(nn.Conv2d(1, 2, 3, padding=1, bias=False)),
        NeuronLayer(lif, DT, (2, 3, 4), return_state=False), nn.Flatten(2),
        nn.Linear(24, 8), NeuronLayer(lif, DT, 8, return_state=False),
        nn.Linear(8, 2), NeuronLayer(out, DT, 2)), n_in=12)
    with torch.no_grad():  # drives of a few mV per input spike, as the bioSNN networks' tdBN gives
        for m in net.body.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                m.weight.uniform_(-4.0, 12.0)
    return net


def _trainer(tmp_path, name, epochs=4):
    config = TrainConfig(epochs=epochs, batch_size=8, lr=0.02, progress=False)
    return Trainer(_user_net(), LossSpec.parse("0.1*huber-guidance+ce-rate"), ClassReadout.identity(2), toy_split(),
                   tmp_path / name, config=config, test=toy_split(seed=1), guidance=toy_guidance())


def test_user_network_trains_resumes_exactly_evaluates_and_plots(tmp_path):
    straight = _trainer(tmp_path, "a")
    metrics = straight.fit()
    assert metrics["history"][-1]["loss"] < metrics["history"][0]["loss"]
    first = _trainer(tmp_path, "b")
    assert not first.fit(max_steps=9)["complete"]
    again = _trainer(tmp_path, "b")
    again.fit(resume=True)
    for (k, a), (_, b) in zip(straight.net.state_dict().items(), again.net.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    net, readout, data = load_trained(tmp_path / "a", network=_user_net())
    result = evaluate_split(net, toy_split(seed=1), readout, decision="potential")
    assert result["accuracy"] == pytest.approx(metrics["history"][-1]["test_accuracy"])
    assert len(curves_figure([tmp_path / "a", tmp_path / "b"]).axes) >= 2   # same settings: one band
    other = Trainer(_user_net(), LossSpec.parse("ce-rate"), ClassReadout.identity(2), toy_split(), tmp_path / "c",
                    config=TrainConfig(epochs=1, batch_size=8, progress=False))
    other.fit()
    with pytest.raises(InputError, match="different runs"):
        curves_figure([tmp_path / "a", tmp_path / "c"])
    with pytest.raises(InputError, match="own code"):
        load_trained(tmp_path / "a")
    other = UserNetwork.from_sequential(nn.Sequential(nn.Linear(12, 2), NeuronLayer(library.seed_wta_if(), DT, 2)))
    with pytest.raises(ModelMismatchError, match="different network"):
        load_trained(tmp_path / "a", network=other)


def test_an_unwrapped_module_is_refused_with_the_way_out(tmp_path):
    with pytest.raises(InputError, match="UserNetwork"):
        Trainer(nn.Linear(3, 2), LossSpec.parse("ce-rate"), ClassReadout.identity(2), toy_split(), tmp_path / "x")
    with pytest.raises(InputError, match="NeuronLayer"):
        UserNetwork.from_sequential(nn.Sequential(nn.Linear(3, 2)))
