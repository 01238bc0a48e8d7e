"""``biosnn unsupervised`` / ``biosnn evaluate`` on a few shipped digits (numpy target, tiny network)."""

import json

import numpy as np
import pytest

from brian2 import mV, ms

from bioSNN.cli import main
from bioSNN.equations import library
from bioSNN.errors import ModelMismatchError
from bioSNN.unsupervised.artifacts import load_network
from bioSNN.unsupervised.guidance import Guidance
from bioSNN.weight_history import load_weight_history


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("dc")
    assert main(["unsupervised", "--dataset", "mnist-subset", "--n-neurons", "6", "--n-train", "24", "--n-assign",
                 "20", "--guidance-per-class", "1", "--slice", "12", "--backend", "numpy", "--no-progress",
                 "--out", str(out)]) == 0
    return out


def test_artifacts_written(trained):
    assert sorted(p.name for p in trained.iterdir()) == [
        "checkpoint.npz", "config.json", "guidance.npz", "metrics.json", "network.npz", "weights_history.npz"]
    net = load_network(trained)
    assert net.preset == "diehl_cook" and net.arrays["w"].shape == (784, 6) and net.assignments.shape == (6,)
    guidance = Guidance.load(trained / "guidance.npz", expect_model=net.model, expect_dt=0.5e-3)
    assert guidance.templates.shape == (10, 6, 700) and guidance.traces.shape[0] == len(guidance.labels)
    history = load_weight_history(trained)  # initial weights, then one snapshot per slice
    assert history.steps.tolist() == [0, 12, 24] and history.step_name == "examples" and history.image_shape == (28, 28)
    np.testing.assert_array_equal(history.w[-1], net.arrays["w"].astype(np.float32))
    assert not np.array_equal(history.w[0], history.w[-1])
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["n_train"] == 24 and metrics["train_examples_per_second"] > 0


def test_evaluate_records_accuracy(trained, capsys):
    assert main(["evaluate", str(trained), "--dataset", "mnist-subset", "--limit", "10", "--backend", "numpy",
                 "--no-progress"]) == 0
    assert "accuracy" in capsys.readouterr().out
    metrics = json.loads((trained / "metrics.json").read_text())
    result = metrics["evaluations"]["mnist-subset/test/10"]
    assert 0 <= result["accuracy"] <= 1 and result["n_test"] == 10


def test_network_with_other_model_refused(trained, tmp_path):
    with np.load(trained / "network.npz") as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["model"] = library.lif_exp_synapse().to_dict()
    meta["fingerprint"] = library.lif_exp_synapse().fingerprint()
    arrays["meta"] = np.asarray(json.dumps(meta))
    np.savez(tmp_path / "network.npz", **arrays)
    load_network(tmp_path)  # a consistent file of another model reads ...
    with pytest.raises(ModelMismatchError, match="made with neuron model"):  # ... but is refused where it matters
        load_network(tmp_path, expect_model=library.diehl_cook_excitatory(theta_plus=0 * mV, tau_theta=1e30 * ms))


def test_wta_cli_round_trip(tmp_path, capsys):
    """biosnn unsupervised --preset wta on encoded digits, then evaluate on the same spike trains."""
    spikes = tmp_path / "s.npz"
    assert main(["encode", "--dataset", "mnist-subset", "--limit", "12", "--no-progress", "--out", str(spikes)]) == 0
    out = tmp_path / "wta"
    assert main(["unsupervised", "--preset", "wta", "--spikes", str(spikes), "--n-neurons", "4", "--slice", "5",
                 "--backend", "numpy", "--no-progress", "--out", str(out)]) == 0
    saved = load_network(out)
    assert saved.preset == "wta" and saved.arrays["w_mV"].shape == (784, 4)
    history = load_weight_history(out)
    assert history.steps.tolist() == [0, 5, 10, 12] and history.unit == "mV"
    np.testing.assert_allclose(history.w[-1], saved.arrays["w_mV"], rtol=1e-6)
    guidance = Guidance.load(out / "guidance.npz", expect_model=saved.model, expect_dt=1e-3)
    assert guidance.traces.shape == (12, 4, 70) and guidance.templates.shape == (10, 4, 70)
    assert main(["evaluate", str(out), "--spikes", str(spikes), "--backend", "numpy"]) == 0
    assert "accuracy" in capsys.readouterr().out
    # resuming a finished run retrains nothing and gives the same weights
    w = saved.arrays["w_mV"]
    assert main(["unsupervised", "--preset", "wta", "--spikes", str(spikes), "--n-neurons", "4", "--slice", "5",
                 "--backend", "numpy", "--no-progress", "--resume", "--out", str(out)]) == 0
    assert np.array_equal(load_network(out).arrays["w_mV"], w)
    # ... but not in another order
    assert main(["unsupervised", "--preset", "wta", "--spikes", str(spikes), "--n-neurons", "4", "--slice", "5",
                 "--backend", "numpy", "--no-progress", "--resume", "--shuffle", "--out", str(out)]) == 2
    assert "shuffle: false -> true" in capsys.readouterr().err  # named by the run folder's config.json
    shuffled = tmp_path / "shuffled"
    assert main(["unsupervised", "--preset", "wta", "--spikes", str(spikes), "--n-neurons", "4", "--slice", "5",
                 "--backend", "numpy", "--no-progress", "--shuffle", "--silent-depression", "0",
                 "--threshold", "per_image", "--out", str(shuffled)]) == 0
    run = json.loads((shuffled / "config.json").read_text())
    assert run["shuffle"] is True and run["config"]["silent_depression_mV"] == 0.0
    assert run["config"]["threshold"] == "per_image"


def test_plot_weights_command(trained, tmp_path):
    out = tmp_path / "w.svg"
    assert main(["plot", "weights", str(trained), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"<?xml")
    assert main(["plot", "weights", str(trained), "--history", "--out", str(tmp_path / "h.png")]) == 0
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")


def test_templates_only_guidance_and_flag_checks(tmp_path, capsys):
    out = tmp_path / "dc"
    assert main(["unsupervised", "--dataset", "mnist-subset", "--n-neurons", "3", "--n-train", "4", "--n-assign",
                 "4", "--guidance-per-class", "1", "--slice", "4", "--backend", "numpy", "--no-progress",
                 "--no-sample-traces", "--out", str(out)]) == 0
    guidance = Guidance.load(out / "guidance.npz")
    assert guidance.traces is None and guidance.templates.shape == (10, 3, 700)
    for extra in (["--no-sample-traces", "--preset", "wta"], ["--gpu-id", "0"]):
        assert main(["unsupervised", "--dataset", "mnist-subset", "--out", str(tmp_path / "x"), *extra]) == 2
    err = capsys.readouterr().err
    assert "--no-sample-traces does not apply to --preset wta" in err
    assert "--gpu-id and --compute-capability apply to --backend cuda_standalone only" in err


def _class_folder(root, n_per_class=5, size=6):
    """Three classes of bright bars (rows, columns, diagonal) with a little noise."""
    from PIL import Image

    rng = np.random.default_rng(0)
    patterns = [np.zeros((size, size)), np.zeros((size, size)), np.eye(size)]
    patterns[0][size // 2] = 1
    patterns[1][:, size // 2] = 1
    for c, pattern in enumerate(patterns):
        (root / f"c{c}").mkdir(parents=True)
        for k in range(n_per_class):
            img = np.clip(pattern * 230 + rng.integers(0, 25, (size, size)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / f"c{c}" / f"{k}.png")
    return root


def test_validation_hold_out_shuffle_and_input_total(tmp_path, capsys):
    """--val-fraction trains on the rest, scores the hold-out as evaluate --split val does, and the run
    records what the evaluation needs (hold-out, input_total) so that it is found again."""
    images = _class_folder(tmp_path / "imgs")
    out = tmp_path / "dc"
    args = ["unsupervised", "--dataset", "folder", "--root", str(images), "--n-neurons", "4", "--epochs", "1",
            "--shuffle", "--val-fraction", "0.2", "--input-total", "4000", "--draws", "2", "--guidance-per-class", "1",
            "--slice", "8", "--backend", "numpy", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_train"] == 12 and metrics["n_val"] == 3 and 0 <= metrics["val_accuracy"] <= 1
    run = json.loads((out / "config.json").read_text())
    assert run["shuffle"] is True and run["config"]["input_total"] == 4000 and run["draws"] == 2
    assert run["data"]["holdout"] == {"rule": "stratified", "fraction": 0.2, "seed": 0, "part": "train"}
    capsys.readouterr()
    assert main(["evaluate", str(out), "--dataset", "folder", "--root", str(images), "--split", "val",
                 "--backend", "numpy", "--no-progress"]) == 0
    assert f"accuracy {metrics['val_accuracy']:.4f} on 3 val samples, 2 draws each" in capsys.readouterr().out
    assert json.loads((out / "metrics.json").read_text())["evaluations"]["folder/val/3/draws2"]["draws"] == 2
    # a resumed run in another order is refused (the schedule differs), the same order retrains nothing
    assert main([a for a in args if a != "--shuffle"] + ["--resume"]) == 2
    assert "shuffle: true -> false" in capsys.readouterr().err  # named by the run folder's config.json
    w = load_network(out).arrays["w"]
    assert main(args + ["--resume"]) == 0
    assert np.array_equal(load_network(out).arrays["w"], w)


def test_val_split_needs_a_hold_out(trained, capsys):
    assert main(["evaluate", str(trained), "--dataset", "mnist-subset", "--split", "val", "--backend", "numpy",
                 "--no-progress"]) == 2
    assert "trained without a validation hold-out" in capsys.readouterr().err
