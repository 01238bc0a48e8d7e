"""The ``biosnn`` command line."""

import json
import subprocess
import sys

from bioSNN.cli import main


def test_help_runs_as_console_script():
    out = subprocess.run([sys.executable, "-m", "bioSNN.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "verify" in out.stdout


def test_models_lists_library(capsys):
    assert main(["models"]) == 0
    assert "seed_wta_if" in capsys.readouterr().out


def test_show_prints_loadable_json(capsys):
    from bioSNN.equations import NeuronModel, library

    assert main(["show", "diehl_cook_excitatory"]) == 0
    model = NeuronModel.from_dict(json.loads(capsys.readouterr().out))
    assert model == library.diehl_cook_excitatory()


def test_verify_writes_report(tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["verify", "--model", "lif_exp_synapse", "--steps", "400", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["lif_exp_synapse"]["ok"] is True
    assert report["lif_exp_synapse"]["float64"]["spikes"]["identical"] is True
    assert "all models agree" in capsys.readouterr().out


def test_unknown_model_is_a_usage_error(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["show", "nope"])
    assert exc.value.code == 2
