"""A neuron model the user wrote (an AdEx variant, here) is accepted wherever a library model is: the
output layer of train_supervised and the excitatory neuron of a Diehl & Cook run, from Python and from
the command line (a JSON file as ``biosnn show`` writes)."""

import json

import numpy as np
from brian2 import mV, ms

from bioSNN.cli import main
from bioSNN.equations import NeuronModel, library
from bioSNN.supervised.checkpoint import load_trained
from bioSNN.supervised.pipeline import train_supervised
from bioSNN.supervised.trainer import TrainConfig
from bioSNN.unsupervised.artifacts import load_network


def adex_diehl_cook() -> NeuronModel:
    """Diehl & Cook's conductance neuron with AdEx's exponential spike initiation and adaptation current."""
    base = library.diehl_cook_excitatory()
    return base.replace(
        name="adex_dc_test",
        equations="""
            dv/dt = ((v_rest - v) + DeltaT*exp((v - v_T)/DeltaT) + ge*(E_exc - v) + gi*(E_inh - v) - u) / tau_m
                    : volt (unless refractory)
            du/dt = (a*(v - v_rest) - u) / tau_u : volt
            dge/dt = -ge/tau_ge : 1
            dgi/dt = -gi/tau_gi : 1
            dtheta/dt = -theta/tau_theta : volt
            dtimer/dt = timer_rate : second
        """,
        reset="v = v_reset; u += b; theta += theta_plus; timer = 0*ms",
        parameters={**base.parameters, "DeltaT": 2 * mV, "v_T": -55 * mV, "a": 0.1, "tau_u": 100 * ms, "b": 0.5 * mV})


def test_user_model_as_supervised_output_layer_from_python_and_cli(tmp_path):
    adex = adex_diehl_cook()
    common = dict(model="spiking-mlp", loss="ce-rate", architecture={"hidden": [16]}, T=6, limit=32, test_limit=16,
                  encoder_options={"max_rate": 500.0}, evaluate_test=False)
    train_supervised("mnist-subset", None, tmp_path / "py", output_model=adex, population=2,
                     config=TrainConfig(epochs=1, batch_size=16, progress=False, decision="rate"), **common)
    net, _, _ = load_trained(tmp_path / "py")
    assert net.output_model == adex and net.output_layer.model == adex
    path = tmp_path / "adex.json"
    path.write_text(json.dumps(adex.to_dict()))
    assert main(["supervised", "--dataset", "mnist-subset", "--model", "spiking-mlp", "--hidden", "16",
                 "--output-model", str(path), "--population", "2", "--loss", "ce-rate", "--decision", "rate",
                 "--T", "6", "--max-rate", "500", "--limit", "32", "--no-test", "--epochs", "1",
                 "--batch-size", "16", "--no-progress", "--out", str(tmp_path / "cli")]) == 0
    assert load_trained(tmp_path / "cli")[0].output_model == adex


def test_user_model_as_diehl_cook_neuron_from_cli(tmp_path, capsys):
    adex = adex_diehl_cook()
    path = tmp_path / "adex.json"
    path.write_text(json.dumps(adex.to_dict()))
    out = tmp_path / "dc"
    assert main(["unsupervised", "--dataset", "mnist-subset", "--n-neurons", "4", "--n-train", "8", "--n-assign",
                 "8", "--guidance-per-class", "1", "--slice", "8", "--backend", "numpy", "--no-progress",
                 "--neuron-model", str(path), "--out", str(out)]) == 0
    saved = load_network(out)
    assert saved.model.name == "adex_dc_test" and "u" in saved.model.state_variables
    assert saved.model.parameters["theta_plus"] == 0 * mV   # stored as it records: theta frozen
    assert main(["evaluate", str(out), "--dataset", "mnist-subset", "--split", "test", "--limit", "10",
                 "--no-progress"]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert np.isfinite(saved.arrays["w"]).all()
