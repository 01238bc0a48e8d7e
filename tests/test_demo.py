"""``biosnn demo --quick``: the whole pipeline on the shipped subset, every figure written."""

import json

import pytest

from bioSNN.cli import main
from bioSNN.demo import FIGURE_NAMES, DemoConfig


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--out", str(root / "run"), "--figures", str(root / "figures"),
                 "--no-progress"]) == 0
    return root


def test_demo_writes_every_artifact_and_figure(demo):
    run = demo / "run"
    summary = json.loads((run / "summary.json").read_text())
    quick = DemoConfig.quick()
    assert summary["config"]["stdp_neurons"] == quick.stdp_neurons
    for name in FIGURE_NAMES:
        assert (demo / "figures" / f"{name}.pdf").read_bytes().startswith(b"%PDF"), name
        assert (demo / "figures" / f"{name}.png").read_bytes().startswith(b"\x89PNG"), name
    assert (run / "stdp" / "guidance.npz").exists() and (run / "spikes" / "train.npz").exists()
    for seed in quick.seeds:
        assert (run / f"supervised-seed{seed}" / "model.pt").exists()
    commands = [s["command"].split()[1] for s in summary["steps"]]
    assert commands[:4] == ["encode", "encode", "unsupervised", "evaluate"]
    assert commands.count("plot") == len(FIGURE_NAMES)


def test_demo_accuracies_are_the_recorded_ones(demo):
    run = demo / "run"
    summary = json.loads((run / "summary.json").read_text())
    stdp = json.loads((run / "stdp" / "metrics.json").read_text())
    assert summary["stdp_test_accuracy"] == stdp["evaluations"]["mnist-subset/test/100"]["accuracy"]
    for seed, acc in zip(DemoConfig.quick().seeds, summary["supervised_test_accuracy"]):
        metrics = json.loads((run / f"supervised-seed{seed}" / "metrics.json").read_text())
        assert acc == metrics["final"]["test_accuracy"] and 0 <= acc <= 1
    # the two seeds are two different runs (the band in the curves figure is real)
    h = [json.loads((run / f"supervised-seed{s}" / "metrics.json").read_text())["history"] for s in (0, 1)]
    assert [r["loss"] for r in h[0]] != [r["loss"] for r in h[1]]
