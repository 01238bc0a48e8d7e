"""Presets are registered with their metadata: a new one is one module plus one registration line, and
the command line takes its flags, refuses them for other presets and dispatches to it."""

import json

import pytest

from bioSNN.cli import main
from bioSNN.unsupervised import presets as registry


@pytest.fixture
def with_toy(monkeypatch):
    monkeypatch.setattr(registry, "PRESET_MODULES", (*registry.PRESET_MODULES, "tests.unsupervised.toy_preset"))


def test_a_preset_of_ones_own_is_one_module_and_one_line(with_toy, tmp_path, capsys):
    assert set(registry.presets()) == {"diehl_cook", "wta", "toy"}
    out = tmp_path / "toy"
    assert main(["unsupervised", "--preset", "toy", "--dataset", "mnist-subset", "--gain", "2.5",
                 "--val-fraction", "0.2", "--out", str(out), "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["gain"] == 2.5 and metrics["n_val"] > 0 and metrics["n_images"] > metrics["n_val"]
    capsys.readouterr()
    assert main(["unsupervised", "--preset", "wta", "--dataset", "mnist-subset", "--gain", "1",
                 "--out", str(tmp_path / "w")]) == 2
    assert "--gain does not apply to --preset wta" in capsys.readouterr().err
    assert main(["unsupervised", "--preset", "toy", "--dataset", "mnist-subset", "--timer-rate", "1",
                 "--out", str(tmp_path / "t")]) == 2
    assert "--timer-rate does not apply to --preset toy" in capsys.readouterr().err


def test_the_shipped_presets_are_registered_with_their_metadata():
    table = registry.presets()
    assert table["diehl_cook"].input == "images" and table["diehl_cook"].draws
    assert table["wta"].input == "spikes" and not table["wta"].draws
    assert "neuron_model" in table["diehl_cook"].dests and "depression" in table["wta"].dests
