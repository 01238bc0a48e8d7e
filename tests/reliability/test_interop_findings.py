"""Findings of issue 32's reliability pass: each was a silent wrong result or a traceback before its fix."""

import json

import numpy as np
import pytest
from brian2 import mV, ms

from bioSNN.equations import NeuronModel
from bioSNN.errors import DataError, ModelError


def test_a_declared_constant_without_a_value_is_refused():
    """`tau_m : second (constant)` without a value started at 0 s: the neurons never fired, exit 0."""
    eqs = "dv/dt = (v_rest - v)/tau_m : volt\ntau_m : second (constant)"
    with pytest.raises(ModelError, match="declares 'tau_m' as constant but gives no value"):
        NeuronModel(eqs, threshold="v > -50*mV", reset="v = -65*mV", parameters={"v_rest": -65 * mV})
    with_value = NeuronModel(eqs, threshold="v > -50*mV", reset="v = -65*mV",
                             parameters={"v_rest": -65 * mV}, initial={"tau_m": np.array([10, 20]) * ms})
    assert np.allclose(np.asarray(with_value.initial["tau_m"]), [0.01, 0.02])
    with pytest.raises(ModelError, match="as constant but gives no value"):  # the JSON path too
        d = with_value.to_dict()
        d["initial"].pop("tau_m")
        NeuronModel.from_dict(json.loads(json.dumps(d)))


def test_the_supervised_cli_refuses_such_a_hidden_model(tmp_path, capsys):
    from bioSNN.cli import main

    eqs = "dv/dt = (v_rest - v)/tau_m : volt\ntau_m : second (constant)"
    d = NeuronModel(eqs, threshold="v > -50*mV", reset="v = -65*mV", parameters={"v_rest": -65 * mV},
                    initial={"tau_m": 10 * ms, "v": -65 * mV}).to_dict()
    d["initial"].pop("tau_m")
    (tmp_path / "m.json").write_text(json.dumps(d))
    code = main(["supervised", "--dataset", "mnist-subset", "--hidden-model", str(tmp_path / "m.json"),
                 "--model", "spiking-mlp", "--epochs", "1", "--limit", "8", "--no-progress", "--out",
                 str(tmp_path / "run")])
    assert code == 2 and "as constant but gives no value" in capsys.readouterr().err


def _small_graph():
    import torch
    from torch import nn

    from bioSNN.equations import library
    from bioSNN.nir import export
    from bioSNN.supervised import NeuronLayer

    seq = nn.Sequential(nn.Linear(6, 3), NeuronLayer(library.lif_delta(), 1 * ms, 3))
    with torch.no_grad():
        seq[0].weight.fill_(6.0)
    return export(seq, input_shape=6)


@pytest.mark.parametrize("field,value", [("weight", np.nan), ("bias", np.inf), ("weight", "text")])
def test_nir_weights_that_are_not_finite_numbers_are_refused(field, value):
    pytest.importorskip("nir")
    from bioSNN.errors import NIRShapeError
    from bioSNN.nir import load

    graph = _small_graph()
    affine = next(n for n in graph.nodes.values() if type(n).__name__ == "Affine")
    arr = np.asarray(getattr(affine, field), dtype=object if isinstance(value, str) else np.float64).copy()
    arr.flat[0] = value
    setattr(affine, field, arr)
    with pytest.raises(NIRShapeError, match=f"{field} (has NaN or infinite values|is not numeric)"):
        load(graph)


def test_nir_load_takes_any_positive_dt_quantity():
    """`load(graph, dt=1*second)` was refused as a bare number after its own conversion."""
    pytest.importorskip("nir")
    from brian2 import second

    from bioSNN.nir import load

    graph = _small_graph()
    graph.metadata = {}  # a graph that does not record its dt (a foreign one)
    for node in graph.nodes.values():
        if hasattr(node, "metadata"):
            node.metadata = {}
    net = load(graph, dt=1 * second)
    assert net.dt == 1.0


def test_to_brian2_takes_a_graph_a_file_and_a_float32_network(tmp_path):
    """It failed with 'mat1 and mat2 must have the same dtype' unless given load(...).double()."""
    pytest.importorskip("nir")
    import torch

    from bioSNN.nir import load, to_brian2, write

    graph = _small_graph()
    write(tmp_path / "g.nir", graph)
    x = np.zeros((5, 6))
    x[1, :2] = 1
    reference = load(graph).double()
    expected = reference(torch.as_tensor(x)[:, None]).spikes[:, 0].detach().numpy().astype(bool)
    f32 = load(graph)
    for source in (graph, tmp_path / "g.nir", f32):
        spikes = to_brian2(source).run(x).spikes
        assert (next(iter(spikes.values())) == expected).all() and expected.sum() > 0
    assert next(f32.parameters()).dtype == torch.float32  # the caller's network is left as it was


@pytest.mark.parametrize("argv", [["evaluate", "X", "--draws", "1000000000"],
                                  ["unsupervised", "--dataset", "mnist-subset", "--draws", "5000", "--out", "X"]])
def test_draws_are_bounded_on_the_command_line(argv, capsys, tmp_path):
    """`evaluate --draws 1000000000` ran for minutes, growing in memory, until killed."""
    from bioSNN.cli import main

    argv = [str(tmp_path / a) if a == "X" else a for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "must be >= 1 and <= 1000" in capsys.readouterr().err


def test_draws_are_bounded_by_memory_before_encoding(tmp_path, monkeypatch):
    from bioSNN.errors import InputError
    from bioSNN.supervised.pipeline import evaluate_supervised, train_supervised
    from bioSNN.supervised.trainer import TrainConfig

    train_supervised("mnist-subset", None, tmp_path / "run", model="spiking-mlp", loss="ce-membrane",
                     config=TrainConfig(epochs=1, batch_size=8, seed=0, progress=False), architecture={"hidden": [8]},
                     T=5, val_fraction=0.0, limit=16, test_limit=8)
    import bioSNN.evaluations as ev

    monkeypatch.setattr(ev, "MAX_DRAW_BYTES", 1000)
    with pytest.raises(InputError, match="would hold .* GiB"):
        evaluate_supervised(tmp_path / "run", split="test", limit=8, draws=100)
    with pytest.raises(InputError, match="at most 1000"):
        evaluate_supervised(tmp_path / "run", split="test", limit=8, draws=1001)


@pytest.mark.parametrize("field,value,match", [("on_pre", "v += w +* 2", "on_pre of model 'lif_delta' does not parse"),
                                               ("threshold", "v >", "threshold of model 'lif_delta' does not parse"),
                                               ("parameters", {"v_th": "-55 mV"}, "not a serialised quantity"),
                                               ("parameters", {"v_th": {"si": 1.0, "dim": [1, 2]}},
                                                "not a serialised quantity")])
def test_malformed_model_json_is_a_model_error(field, value, match, tmp_path, capsys):
    """These were SyntaxError / ValueError tracebacks; on the command line now exit 2, one line."""
    from bioSNN.cli import main
    from bioSNN.equations import library

    d = library.lif_delta().to_dict()
    d[field] = {**d["parameters"], **value} if field == "parameters" else value
    with pytest.raises(ModelError, match=match):
        NeuronModel.from_dict(d)
    (tmp_path / "m.json").write_text(json.dumps(d))
    assert main(["show", str(tmp_path / "m.json")]) == 2
    assert match.split(" of ")[0] in capsys.readouterr().err


def test_deeply_nested_json_files_are_named_errors(tmp_path, capsys):
    from bioSNN.cli import main
    from bioSNN.evaluations import read_metrics

    deep = "[" * 200000 + "]" * 200000
    (tmp_path / "m.json").write_text(deep)
    assert main(["show", str(tmp_path / "m.json")]) == 2
    assert "unreadable neuron model file" in capsys.readouterr().err
    (tmp_path / "metrics.json").write_text(deep)
    with pytest.raises(DataError, match="metrics.json: unreadable"):
        read_metrics(tmp_path)
    with pytest.raises(ModelError, match="nested too deeply"):
        NeuronModel.from_dict(deep)


def test_a_graph_without_its_input_edges_is_named_as_such():
    """It was reported as having '2 Input and 2 Output nodes'."""
    pytest.importorskip("nir")
    from bioSNN.errors import NIRFormatError
    from bioSNN.nir import load

    graph = _small_graph()
    first = next(k for k, n in graph.nodes.items() if type(n).__name__ == "Input")
    graph.edges = [e for e in graph.edges if e[0] != first]
    with pytest.raises(NIRFormatError, match="no edge leads into"):
        load(graph)


def test_a_trainable_record_of_the_wrong_length_is_named():
    pytest.importorskip("nir")
    from bioSNN.errors import NIRShapeError
    from bioSNN.nir import load
    from bioSNN.nir.neurons import METADATA_KEY

    graph = _small_graph()
    node = next(n for n in graph.nodes.values() if type(n).__name__ in ("LIF", "IF"))
    record = json.loads(node.metadata[METADATA_KEY])
    record["trainable"] = {"v_th": [0.01, 0.02]}  # 3 neurons
    node.metadata[METADATA_KEY] = json.dumps(record)
    with pytest.raises(NIRShapeError, match="2 trainable 'v_th' values for 3 neurons"):
        load(graph)
