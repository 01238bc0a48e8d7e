"""NIR export and import: exact round trips through bioSNN, Brian2 twins, snnTorch graphs, named errors."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from brian2 import ms
from torch import nn

nir = pytest.importorskip("nir")

from bioSNN.equations import library  # noqa: E402
from bioSNN.errors import NIRFormatError, NIRShapeError, UnsupportedNIRError, InputError  # noqa: E402
from bioSNN.nir import export, load, read, to_brian2, write  # noqa: E402
from bioSNN.nir.neurons import METADATA_KEY  # noqa: E402
from bioSNN.supervised import NeuronLayer, SpikingConvNet, SpikingMLP, SpikingResNet19  # noqa: E402
from bioSNN.supervised.models import UserNetwork  # noqa: E402


def _settled(net: nn.Module, x: torch.Tensor) -> nn.Module:
    """``net`` in evaluation mode after one training-mode pass, so tdBN's running statistics are not trivial."""
    net.train()
    with torch.no_grad():
        net(x)
    return net.eval()


def _spikes(T: int, B: int, n: int, p: float = 0.3) -> torch.Tensor:
    return (torch.rand(T, B, n) < p).float()


@pytest.fixture
def convnet() -> SpikingConvNet:
    net = SpikingConvNet((1, 8, 8), 3, channels=(4,), fc=(10,), dt=1 * ms, output_dynamics="seed")
    return _settled(net, _spikes(6, 16, 64))


def test_mlp_round_trip_is_exact_through_a_file(tmp_path):
    net = _settled(SpikingMLP(20, 4, hidden=(16,), output_model=library.lif_delta(), dt=1 * ms), _spikes(10, 16, 20))
    with torch.no_grad():
        net.readout.weight.mul_(10)
    path = write(tmp_path / "mlp.nir", export(net))
    again = load(read(path))
    x = _spikes(12, 5, 20)
    with torch.no_grad():
        a, b = again(x), net(x)
    assert a.spikes.sum() > 0
    assert torch.equal(a.spikes, b.spikes) and torch.equal(a.v, b.v)
    kinds = [type(n).__name__ for n in read(path).nodes.values()]
    assert kinds.count("LIF") == 2 and "Scale" in kinds  # the output gain is a node of its own


def test_convnet_round_trip_max_pool_and_seed_integrator(convnet):
    graph = export(convnet)
    kinds = {k: type(v).__name__ for k, v in graph.nodes.items()}
    assert kinds["sumpool0"] == "SumPool2d" and kinds["threshold0"] == "Threshold" and kinds["integrator0"] == "I"
    x = _spikes(6, 4, 64)
    with torch.no_grad():
        a, b = load(graph)(x), convnet(x)
        hidden = load(graph).node_outputs(x)["neurons0"]
    assert hidden.sum() > 0
    assert torch.equal(a.v, b.v)  # the seed integrator and its leak come back exactly


def test_user_network_with_trained_thresholds_round_trips():
    lif = library.lif_delta()
    body = nn.Sequential(nn.Linear(12, 8), NeuronLayer(lif, 1 * ms, 8, trainable=("v_th",), return_state=False),
                         nn.Linear(8, 3))
    net = UserNetwork(body, NeuronLayer(lif, 1 * ms, 3), n_in=12).eval()
    with torch.no_grad():
        body[0].weight.mul_(20)
        nn.init.uniform_(body[2].weight, 0, 8)
        body[1].trainable["v_th"].copy_(torch.linspace(-60, -50, 8))
    graph = export(net)
    assert np.allclose(graph.nodes["neurons0"].v_threshold, np.linspace(-60, -50, 8) + 65)
    x = _spikes(15, 4, 12)
    with torch.no_grad():
        a, b = load(graph)(x), net(x)
    assert a.spikes.sum() > 0 and torch.equal(a.spikes, b.spikes) and torch.equal(a.v, b.v)


def test_edited_graph_runs_its_own_parameters(caplog):
    seq = nn.Sequential(nn.Linear(4, 2), NeuronLayer(library.lif_delta(), 1 * ms, 2))
    graph = export(seq, input_shape=4)
    graph.nodes["neurons0"].v_threshold = np.array([1.0, 2.0])  # edited after export: bioSNN's record is stale
    with caplog.at_level(logging.WARNING, logger="bioSNN"):
        net = load(graph)
    assert "differ from the bioSNN model" in caplog.text
    model = net.layers["neurons0"].model
    assert model.name.startswith("nir_LIF") and float(model.parameters.get("v_th", 0)) == 0 or "v_th" in model.initial


def test_brian2_twin_gives_the_same_spikes_and_decisions(convnet):
    net = load(export(convnet)).double()
    b2 = to_brian2(net)
    x = _spikes(6, 3, 64)
    with torch.no_grad():
        outs = net.node_outputs(x.double())
    total = 0
    for j in range(3):
        r = b2.run(x[:, j])
        for name, s in r.spikes.items():
            ref = outs[name][:, j].reshape(6, -1).numpy().astype(bool)
            assert np.array_equal(s, ref), name
            total += int(s.sum())
        ref_v = outs[net._last + ".v"][:, j].reshape(6, -1).numpy()
        # Brian2 runs NIR's plain integrator: the seed's leak only lowers every output alike
        assert np.allclose(r.v - ref_v, convnet.leak * np.arange(6)[:, None], atol=1e-9)
        assert r.v.sum(0).argmax() == ref_v.sum(0).argmax()
    assert total > 0


def test_brian2_twin_of_an_mlp_matches_membrane_traces():
    net = SpikingMLP(10, 3, hidden=(8,), output_model=library.lif_delta(), dt=1 * ms, center=False)
    with torch.no_grad():
        net.linears[0].weight.mul_(5)
        net.readout.weight.mul_(5)
    net = load(export(net.eval())).double()
    x = _spikes(20, 1, 10, 0.5)
    with torch.no_grad():
        out = net(x.double())
    r = to_brian2(net).run(x[:, 0])
    assert np.allclose(r.v, out.v[:, 0].numpy(), rtol=1e-12, atol=1e-12)
    assert np.array_equal(r.spikes["neurons1"], out.spikes[:, 0].numpy().astype(bool))


def _snntorch_net():
    snn = pytest.importorskip("snntorch")
    pytest.importorskip("nirtorch")

    def leaky(n, beta):
        return snn.Leaky(beta=torch.full((n,), beta), threshold=torch.ones(n), init_hidden=True, reset_mechanism="zero")

    net = nn.Sequential(nn.Linear(12, 8), leaky(8, 0.9), nn.Linear(8, 3), leaky(3, 0.8))
    with torch.no_grad():
        net[0].weight.mul_(4)
        net[2].weight.mul_(4)
    return snn, net


def _run_snntorch(snn, module, x):
    from snntorch import utils

    utils.reset(module)
    out = []
    for t in range(x.shape[0]):
        o = module(x[t])
        out.append(o[0] if isinstance(o, tuple) else o)
    return torch.stack(out)


def test_snntorch_graph_imports_and_runs_in_brian2():
    snn, net = _snntorch_net()
    from snntorch.export_nir import export_to_nir
    from snntorch.import_nir import import_from_nir

    graph = export_to_nir(net, torch.randn(12))
    x = _spikes(30, 6, 12, 0.4)
    with torch.no_grad():
        reference = _run_snntorch(snn, import_from_nir(graph), x)  # snnTorch running its own graph
    with pytest.raises(InputError, match="give dt"):
        load(graph)
    ours = load(graph, dt=1e-4, discretisation="input-first")
    with torch.no_grad():
        spikes = ours(x).spikes
    assert reference.sum() > 0 and torch.equal(spikes, reference)
    net64 = ours.double()
    b2 = to_brian2(net64)
    with torch.no_grad():
        outs = net64.node_outputs(x.double())
    last = net64._last
    for j in range(3):
        assert np.array_equal(b2.run(x[:, j]).spikes[last], outs[last][:, j].numpy().astype(bool))
    # Brian2's own schedule (threshold before input, exact leak) reads the same graph otherwise
    with torch.no_grad():
        brian_schedule = load(graph, dt=1e-4)(x).spikes
    assert not torch.equal(brian_schedule, reference)


# ------------------------------------------------------------------ errors
def test_unsupported_models_and_networks_are_refused_by_name():
    with pytest.raises(UnsupportedNIRError, match="refractoriness"):
        export(nn.Sequential(nn.Linear(3, 2), NeuronLayer(library.lif_delta().replace(refractory=2 * ms), 1 * ms, 2)),
               input_shape=3)
    with pytest.raises(UnsupportedNIRError, match="lif_exp_synapse.*state variables"):
        export(nn.Sequential(nn.Linear(3, 2), NeuronLayer(library.lif_exp_synapse(), 1 * ms, 2)), input_shape=3)
    with pytest.raises(UnsupportedNIRError, match="GELU"):
        export(nn.Sequential(nn.Linear(3, 2), nn.GELU(), NeuronLayer(library.lif_delta(), 1 * ms, 2)), input_shape=3)
    with pytest.raises(UnsupportedNIRError, match="SpikingResNet19"):
        export(SpikingResNet19((1, 8, 8), 2, stem=4, widths=(4, 4, 4), blocks=(1, 1, 1), fc=4).eval())
    with pytest.raises(InputError, match="evaluation mode"):
        export(SpikingMLP(4, 2, hidden=(3,)))


def _graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _lif(n):
    return nir.LIF(tau=np.full(n, 0.01), r=np.full(n, 10.0), v_leak=np.zeros(n), v_threshold=np.ones(n))


def test_unsupported_nodes_and_recurrence_are_refused():
    io = {"input": nir.Input({"input": np.array([3])}), "output": nir.Output({"output": np.array([2])})}
    cuba = nir.CubaLIF(tau_syn=np.full(2, 0.005), tau_mem=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2),
                       v_threshold=np.ones(2))
    g = _graph({**io, "fc": nir.Linear(np.ones((2, 3))), "cuba": cuba}, [("input", "fc"), ("fc", "cuba"), ("cuba", "output")])
    with pytest.raises(UnsupportedNIRError, match="'cuba' is a CubaLIF"):
        load(g, dt=1e-3)
    loop = _graph({**io, "fc": nir.Linear(np.ones((2, 3))), "lif": _lif(2), "rec": nir.Linear(np.eye(2))},
                  [("input", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")])
    with pytest.raises(UnsupportedNIRError, match="recurrent"):
        load(loop, dt=1e-3)


def test_wrong_shapes_are_named():
    io = {"input": nir.Input({"input": np.array([3])}), "output": nir.Output({"output": np.array([2])})}
    bad_bias = _graph({**io, "fc": nir.Affine(np.ones((2, 3)), np.zeros(5)), "lif": _lif(2)},
                      [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    with pytest.raises(NIRShapeError, match="'fc'.*bias"):
        load(bad_bias, dt=1e-3)
    bad_weight = _graph({**io, "fc": nir.Linear(np.ones((2, 4))), "lif": _lif(2)},
                        [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    with pytest.raises(NIRShapeError, match="'fc'.*takes 4 inputs"):
        load(bad_weight, dt=1e-3)
    lif = _lif(2)
    lif.v_threshold = np.ones(3)  # set after construction, past NIR's own check
    bad_lif = _graph({**io, "fc": nir.Linear(np.ones((2, 3))), "lif": lif}, [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    with pytest.raises(NIRShapeError, match="'lif'.*different shapes"):
        load(bad_lif, dt=1e-3)


def test_malformed_and_missing_files_are_named(tmp_path):
    with pytest.raises(NIRFormatError, match="no such NIR file"):
        read(tmp_path / "absent.nir")
    junk = tmp_path / "junk.nir"
    junk.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(NIRFormatError, match="junk.nir"):
        load(junk)
    seq = nn.Sequential(nn.Linear(4, 2), NeuronLayer(library.lif_delta(), 1 * ms, 2))
    good = write(tmp_path / "good.nir", export(seq, input_shape=4))
    cut = tmp_path / "cut.nir"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(NIRFormatError, match="cut.nir"):
        read(cut)


def test_graph_records_dt_and_convention():
    graph = export(nn.Sequential(nn.Linear(4, 2), NeuronLayer(library.lif_delta(), 0.5 * ms, 2)), input_shape=4)
    record = json.loads(graph.metadata[METADATA_KEY])
    assert record["dt"] == pytest.approx(5e-4) and "threshold before input" in record["convention"]
    lif = graph.nodes["neurons0"]
    assert np.allclose(lif.tau, 0.01) and np.allclose(lif.r * 5e-4 / lif.tau, 1.0)  # a spike of weight w adds w
    assert np.allclose(lif.v_leak, 0) and np.allclose(lif.v_threshold, 10) and np.allclose(lif.v_reset, 0)


def test_cli_exports_a_trained_run_and_scores_it_back(tmp_path, capsys):
    from bioSNN.cli import main

    run = tmp_path / "run"
    assert main(["supervised", "--dataset", "mnist-subset", "--model", "spiking-convnet", "--channels", "4", "--fc", "16",
                 "--encoder", "poisson", "--max-rate", "1000", "--T", "4", "--dynamics", "seed", "--loss", "ce-membrane",
                 "--epochs", "1", "--batch-size", "32", "--limit", "128", "--test-limit", "64", "--out", str(run)]) == 0
    capsys.readouterr()
    out = tmp_path / "net.nir"
    assert main(["export-nir", str(run), "--out", str(out), "--check", "64"]) == 0
    text = capsys.readouterr().out
    assert "SumPool2d" in text and "Threshold" in text
    line = next(t for t in text.splitlines() if t.startswith("first 64"))
    as_trained, read_back = [float(w) for w in line.replace("%", "").split() if w.replace(".", "").isdigit()][1:3]
    assert as_trained == read_back
    assert main(["export-nir", str(tmp_path / "nothing"), "--out", str(out)]) == 2


def _many_samples_match(convnet, target):
    net = load(export(convnet)).double()
    x = _spikes(6, 4, 64)
    with torch.no_grad():
        outs = net.node_outputs(x.double())
    results = to_brian2(net).run_many(x.transpose(0, 1), target=target)  # [samples, T, n_in], one simulation
    assert len(results) == 4
    for j, r in enumerate(results):
        for name, s in r.spikes.items():
            assert np.array_equal(s, outs[name][:, j].reshape(6, -1).numpy().astype(bool)), (j, name)
    assert sum(int(s.sum()) for r in results for s in r.spikes.values()) > 0


def test_many_samples_in_one_brian2_run(convnet):
    _many_samples_match(convnet, "numpy")


@pytest.mark.slow
def test_many_samples_on_cpp_standalone(convnet):
    from brian2 import get_device

    _many_samples_match(convnet, "cpp_standalone")
    assert type(get_device()).__name__ == "RuntimeDevice"  # switched back


def test_imported_network_fine_tunes_in_the_trainer(tmp_path):
    """A NIR network meets the Trainer's protocol: it trains (weights move, loss falls) and evaluates."""
    from bioSNN.supervised import ClassReadout, LossSpec, TrainConfig, Trainer
    from tests.supervised.helpers import toy_split

    lif = library.lif_delta()
    seq = nn.Sequential(nn.Linear(12, 8), NeuronLayer(lif, 1 * ms, 8, return_state=False), nn.Linear(8, 2),
                        NeuronLayer(lif, 1 * ms, 2))
    with torch.no_grad():
        for m in seq:
            if isinstance(m, nn.Linear):
                m.weight.uniform_(-4.0, 12.0)
    net = load(export(seq, input_shape=12))
    before = net.maps["affine0"].weight.detach().clone()
    trainer = Trainer(net, LossSpec.parse("ce-rate"), ClassReadout.identity(2), toy_split(), tmp_path / "run",
                      config=TrainConfig(epochs=3, batch_size=8, lr=0.02, progress=False), test=toy_split(seed=1))
    history = trainer.fit()["history"]
    assert history[-1]["loss"] < history[0]["loss"]
    assert not torch.equal(net.maps["affine0"].weight.detach(), before)


def test_pooling_threshold_passes_gradients_straight_through(convnet):
    net = load(export(convnet))
    x = _spikes(6, 2, 64)
    out = net(x)
    with torch.no_grad():
        assert torch.equal(out.v, convnet(x).v)  # the values are untouched
    out.v.sum().backward()
    assert net.maps["conv0"].weight.grad.abs().sum() > 0  # reached the conv before the pooling
