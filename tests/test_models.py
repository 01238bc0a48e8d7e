"""The trained artifacts shipped in ``models/``: readable, consistent with the code that made them,
and (slow) as accurate as their README says."""

import json
from pathlib import Path

import numpy as np
import pytest

from bioSNN.unsupervised.artifacts import load_network
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, excitatory_model
from bioSNN.unsupervised.guidance import Guidance

MODELS = Path(__file__).resolve().parents[1] / "models"


def _model_dir(name: str) -> Path:
    path = MODELS / name
    if not (path / "network.npz").is_file():
        pytest.skip(f"{path} is not shipped")
    return path


def test_mnist_dc100_is_consistent():
    path = _model_dir("mnist-dc100")
    saved = load_network(path)
    config = DiehlCookConfig(**saved.meta["config"])
    load_network(path, expect_model=excitatory_model(False, config))  # the model the code runs today
    assert config.n_neurons == 100 and saved.arrays["w"].shape == (784, 100)
    assert np.allclose(saved.arrays["w"].sum(axis=0), config.w_total)
    assert set(saved.assignments.tolist()) == set(range(10))  # every digit has neurons
    guidance = Guidance.load(path / "guidance.npz", expect_model=excitatory_model(False, config), expect_dt=0.5e-3)
    assert guidance.templates.shape == (10, 100, 700) and np.isfinite(guidance.templates).all()
    assert np.array_equal(guidance.assignments, saved.assignments)
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["n_train"] == 60000
    readme = (path / "README.md").read_text()
    assert "biosnn unsupervised --preset diehl_cook --dataset mnist" in readme


@pytest.mark.slow
def test_mnist_dc400_is_consistent():
    """Diehl & Cook at N = 400 on MNIST (issue 31): the shipped files load with today's neuron model, the
    weights keep their normalisation, the recorded test accuracy is the one its README reports."""
    path = _model_dir("mnist-dc400")
    saved = load_network(path)
    config = DiehlCookConfig(**saved.meta["config"])
    load_network(path, expect_model=excitatory_model(False, config))
    assert config.n_neurons == 400 and saved.arrays["w"].shape == (784, 400)
    assert np.allclose(saved.arrays["w"].sum(axis=0), config.w_total)
    assert set(saved.assignments[saved.assignments >= 0].tolist()) == set(range(10))
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["n_train"] == 60000
    test = metrics["evaluations"]["mnist/test/10000"]["accuracy"]
    readme = (path / "README.md").read_text()
    assert f"{100 * test:.2f} %" in readme and "biosnn unsupervised --preset diehl_cook --dataset mnist" in readme


def test_mnist_dc100_accuracy_reproduces(mnist_root):
    """Re-evaluates the shipped network on the 10,000 MNIST test images (minutes, cpp_standalone):
    the accuracy its README and metrics.json report, exactly (every run's seed is fixed)."""
    from bioSNN.data import load_mnist
    from bioSNN.unsupervised.pipeline import evaluate

    path = _model_dir("mnist-dc100")
    recorded = json.loads((path / "metrics.json").read_text())["evaluations"]
    key = "mnist/test/10000"  # written by: biosnn evaluate models/mnist-dc100 ... --backend cpp_standalone
    result = evaluate(path, load_mnist(mnist_root, "test"), backend="cpp_standalone", progress=False)
    assert result["n_test"] == 10000 and result["accuracy"] == recorded[key]["accuracy"]


def test_mstar3_wta_is_consistent():
    path = _model_dir("mstar3-wta")
    saved = load_network(path)
    assert saved.preset == "wta" and saved.class_names == ("BMP2", "BTR70", "T72")
    assert set(saved.assignments.tolist()) >= {0, 1, 2}  # every class has a neuron
    guidance = Guidance.load(path / "guidance.npz", expect_model=saved.model, expect_dt=1e-3)
    assert guidance.templates.shape[:2] == (3, saved.arrays["w_mV"].shape[1])
    for c, template in enumerate(guidance.templates):  # the seed's semantics (seeds_spec 1.3)
        winner = int(np.argmax(template[:, -1]))  # the winner ends at rest, the losers at -500 mV
        assert saved.assignments[winner] == c
        first_input = int(np.flatnonzero(np.any(template != 0, axis=0))[0])
        assert first_input > 0  # exactly zero before the first input spike
        event = int(np.flatnonzero(np.isclose(template, -500.0).any(axis=0))[0])
        losers = np.arange(len(template)) != winner
        assert np.all(template[losers, event:] == -500.0) and template[winner, event] == 0.0
    metrics = json.loads((path / "metrics.json").read_text())
    assert any("/test/587" in key for key in metrics["evaluations"])  # evaluated on every test chip
    assert "biosnn unsupervised --preset wta" in (path / "README.md").read_text()


def test_mstar3_stdp_is_consistent():
    """The STDP network that learns the SAR chips: its settings were chosen on the validation chips,
    held out by the stratified rule, and its README states the protocol and the test number it has."""
    path = _model_dir("mstar3-stdp")
    saved = load_network(path)
    config = DiehlCookConfig(**saved.meta["config"])
    load_network(path, expect_model=excitatory_model(False, config))
    assert saved.preset == "diehl_cook" and saved.class_names == ("BMP2", "BTR70", "T72")
    assert saved.arrays["w"].shape == (784, config.n_neurons) and config.input_total is not None
    assert set(saved.assignments.tolist()) >= {0, 1, 2}
    data = saved.meta["data"]
    assert data["reader"] == "mstar" and data["holdout"] == {"rule": "stratified", "fraction": 0.15, "seed": 0,
                                                              "part": "train"}
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["n_train"] == 593 and metrics["n_val"] == 105 and metrics["val_accuracy"] >= 0.851
    test = metrics["evaluations"]["mstar/test/587"]
    readme = (path / "README.md").read_text()
    assert "biosnn unsupervised --preset diehl_cook --dataset mstar" in readme and "--val-fraction 0.15" in readme
    assert f"{100 * test['accuracy']:.2f} %" in readme and f"{100 * metrics['val_accuracy']:.2f} %" in readme
    guidance = Guidance.load(path / "guidance.npz", expect_model=excitatory_model(False, config), expect_dt=0.5e-3)
    assert guidance.templates.shape == (3, config.n_neurons, 700)
    assert guidance.encoder["input_total"] == config.input_total and guidance.encoder["source"]["crop"] == 64


@pytest.mark.slow
def test_mstar3_stdp_accuracy_reproduces(mstar_root):
    """Re-evaluates the shipped STDP network on the 587 test chips and on its 105 validation chips
    (compiled, about 3 minutes): exactly the recorded accuracies, the test one >= the seed's 85.1 %."""
    from bioSNN.cli import main

    path = _model_dir("mstar3-stdp")
    metrics = json.loads((path / "metrics.json").read_text())
    import shutil, tempfile

    with tempfile.TemporaryDirectory() as tmp:  # evaluate records into metrics.json: work on a copy
        copy = Path(tmp) / "net"
        shutil.copytree(path, copy)
        for split in ("test", "val"):
            assert main(["evaluate", str(copy), "--dataset", "mstar", "--root", str(mstar_root), "--split", split,
                         "--backend", "cpp_standalone", "--no-progress"]) == 0
        again = json.loads((copy / "metrics.json").read_text())["evaluations"]
    assert again["mstar/test/587"]["accuracy"] == metrics["evaluations"]["mstar/test/587"]["accuracy"] >= 0.851
    assert again["mstar/val/105"]["accuracy"] == metrics["val_accuracy"]


def _supervised_dir(name: str) -> Path:
    path = MODELS / name
    if not (path / "model.pt").is_file():
        pytest.skip(f"{path} is not shipped")
    return path


@pytest.mark.parametrize("name,guidance", [("mstar3-guided", "mstar3-wta"), ("mnist-guided", "mnist-dc100"),
                                           ("mstar3-stdp-guided", "mstar3-stdp")])
def test_supervised_models_are_consistent(name, guidance):
    """Each shipped supervised network loads, its output layer is the model of the guidance it was
    trained with (same fingerprint and dt), and its README holds the command that made it."""
    from bioSNN.supervised.checkpoint import load_trained

    path = _supervised_dir(name)
    net, readout, data = load_trained(path)
    g = Guidance.load(MODELS / guidance / "guidance.npz")
    g.check_model(net.output_model, net.dt)
    assert data["meta"]["guidance"]["fingerprint"] == g.model.fingerprint()
    assert readout.assignments.tolist() == g.assignments.tolist()
    metrics = json.loads((path / "metrics.json").read_text())
    tested = any("/test/" in key for key in metrics.get("evaluations", {}))  # scored once after training
    assert metrics["complete"] and ("test_accuracy" in metrics["final"] or tested)
    assert f"--guidance models/{guidance}/guidance.npz" in (path / "README.md").read_text()


@pytest.mark.slow
def test_mstar3_guided_accuracy_reproduces(mstar_root, tmp_path):
    """Encodes the 587 test chips with the README's command, then re-evaluates: its metrics.json's accuracy."""
    from bioSNN.cli import main
    from bioSNN.supervised.pipeline import evaluate_supervised

    assert main(["encode", "--dataset", "mstar", "--root", str(mstar_root), "--split", "test", "--crop", "64",
                 "--no-progress", "--out", str(tmp_path / "test.npz")]) == 0
    path = _supervised_dir("mstar3-guided")
    recorded = json.loads((path / "metrics.json").read_text())["final"]["test_accuracy"]
    result = evaluate_supervised(path, root=tmp_path)
    assert result["n"] == 587 and result["accuracy"] == pytest.approx(recorded, abs=1e-9)


@pytest.mark.slow
def test_mstar3_stdp_guided_accuracy_reproduces(mstar_root):
    """Re-evaluates the per-sample-guided network on the 587 test chips, encoded on the fly as it was
    trained (about a minute): its recorded accuracy."""
    from bioSNN.supervised.pipeline import evaluate_supervised

    path = _supervised_dir("mstar3-stdp-guided")
    recorded = json.loads((path / "metrics.json").read_text())["evaluations"]["mstar/test/587"]["accuracy"]
    result = evaluate_supervised(path, root=mstar_root, split="test")
    assert result["n"] == 587 and result["accuracy"] == pytest.approx(recorded, abs=1e-9)


@pytest.mark.slow
def test_mnist_guided_accuracy_reproduces(mnist_root, tmp_path):
    """Encodes the test digits with the README's command, then re-evaluates: the recorded 98.00 %."""
    from bioSNN.cli import main
    from bioSNN.supervised.pipeline import evaluate_supervised

    assert main(["encode", "--dataset", "mnist", "--root", str(mnist_root), "--split", "test", "--encoder", "poisson",
                 "--max-rate", "2000", "--dt", "0.5", "--T", "19", "--seed", "1", "--no-progress",
                 "--out", str(tmp_path / "test.npz")]) == 0
    path = _supervised_dir("mnist-guided")
    recorded = json.loads((path / "metrics.json").read_text())["final"]["test_accuracy"]
    result = evaluate_supervised(path, root=tmp_path)
    assert result["n"] == 10000 and result["accuracy"] == pytest.approx(recorded, abs=1e-9) and recorded >= 0.98


def _test_evaluation(path: Path, dataset: str, n: int) -> dict:
    """The one recorded ``biosnn evaluate`` of ``path`` on its whole test split (with any number of draws)."""
    evaluations = json.loads((path / "metrics.json").read_text())["evaluations"]
    found = [v for k, v in evaluations.items() if k.split("/")[:3] == [dataset, "test", str(n)]]
    assert len(found) == 1, f"expected one test evaluation in {path / 'metrics.json'}, found {len(found)}"
    return found[0]


def test_mnist_conv_is_consistent():
    """The shipped convnet loads; its epoch is the best on the 6,000 held-out training digits; its one
    test evaluation uses the number of draws the README states; the README holds the commands."""
    from bioSNN.supervised.checkpoint import load_trained

    path = _supervised_dir("mnist-conv")
    net, readout, data = load_trained(path)
    assert net.architecture == "spiking-convnet"
    assert (data["meta"]["data"]["n_train"], data["meta"]["data"]["n_val"]) == (54000, 6000)
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["complete"] and len(metrics["history"]) == data["meta"]["train"]["epochs"]
    val = [h["val_accuracy"] for h in metrics["history"]]
    assert metrics["best_val_epoch"] == 1 + val.index(max(val))  # the first best on a tie
    # the re-evaluation on the validation digits finds the trainer's value for that epoch
    assert metrics["evaluations"]["mnist/val/6000"]["accuracy"] == pytest.approx(max(val), abs=1e-9)
    readme = (path / "README.md").read_text()
    assert "biosnn supervised --dataset mnist" in readme and "--val-fraction 0.1" in readme
    draws = _test_evaluation(path, "mnist", 10000)["draws"]
    assert f"biosnn evaluate runs/mnist-conv --draws {draws}" in readme


@pytest.mark.slow
def test_mnist_conv_accuracy_reproduces(mnist_root):
    """Re-draws the test digits' Poisson trains from the recorded seed and re-evaluates: the recorded
    accuracy, at least 99.3 %."""
    from bioSNN.supervised.pipeline import evaluate_supervised

    path = _supervised_dir("mnist-conv")
    recorded = _test_evaluation(path, "mnist", 10000)
    result = evaluate_supervised(path, root=mnist_root, draws=recorded["draws"])
    assert result["n"] == 10000 and result["draws"] == recorded["draws"]
    assert result["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-9) and recorded["accuracy"] >= 0.993


def test_mstar10_stdp_is_consistent():
    path = _model_dir("mstar10-stdp")
    saved = load_network(path)
    config = DiehlCookConfig(**saved.meta["config"])
    load_network(path, expect_model=excitatory_model(False, config))
    assert config.n_neurons == 400 and saved.arrays["w"].shape == (784, 400) and len(saved.class_names) == 10
    assert saved.meta["data"]["reader"] == "folder" and saved.meta["data"]["crop"] == 64
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["evaluations"]["folder/test/2425"]["accuracy"] > 0.5
    assert "--dataset folder --root ../shared/data/mstar10 --crop 64" in (path / "README.md").read_text()


def test_mstar10_hybrid_is_consistent():
    """The shipped hybrid loads as its student twin, read-out and (its decision mixes the vote in) teacher."""
    from bioSNN.runfolder import run_kind
    from bioSNN.supervised.hybrid import load_hybrid

    path = _model_dir("mstar10-hybrid")
    assert run_kind(path) == "hybrid"
    twin, readout, saved, teacher, weight = load_hybrid(path)
    assert twin.n == 400 and readout.linear.weight.shape == (10, 400) and 0 <= weight <= 1
    assert (teacher is not None) == (weight < 1)
    stdp = load_network(MODELS / "mstar10-stdp")
    if teacher is not None:
        np.testing.assert_array_equal(teacher.w.numpy(), stdp.arrays["w"].astype(np.float32))
    assert "biosnn evaluate models/mstar10-hybrid" in (path / "README.md").read_text()
