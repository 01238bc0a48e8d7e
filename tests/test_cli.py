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


# ---------------------------------------------------------------------------------------------- encode
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bioSNN.encoding import SpikeTrains  # noqa: E402


def test_encode_subset_then_inspect(tmp_path, capsys):
    out = tmp_path / "sub.npz"
    assert main(["encode", "--dataset", "mnist-subset", "--split", "test", "--limit", "50", "--T", "30",
                 "--no-progress", "--out", str(out)]) == 0
    trains = SpikeTrains.load(out)
    assert trains.shape == (50, 31, 784) and trains.provenance["encoder"] == "rf-rate"
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "samples     50" in text and "T = 30" in text


def test_encode_poisson_options(tmp_path):
    out = tmp_path / "p.npz"
    assert main(["encode", "--dataset", "mnist-subset", "--limit", "5", "--encoder", "poisson", "--max-rate", "100",
                 "--seed", "3", "--dt", "0.5", "--no-progress", "--out", str(out)]) == 0
    trains = SpikeTrains.load(out)
    assert trains.dt_seconds == 0.5e-3 and trains.provenance["options"] == {"max_rate": 100.0, "seed": 3}


def test_encode_errors_exit_2_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["encode", "--dataset", "mnist-subset", "--encoder", "rf-rate", "--max-rate", "5",
                 "--out", str(out)]) == 2
    assert "--max-rate does not apply to encoder 'rf-rate'" in capsys.readouterr().err
    assert main(["encode", "--dataset", "mnist", "--root", str(tmp_path), "--out", str(out)]) == 2
    assert "train-images-idx3-ubyte" in capsys.readouterr().err
    assert main(["encode", "--dataset", "mnist-subset", "--crop", "10", "--out", str(out)]) == 2
    assert "--crop does not apply to --dataset mnist-subset" in capsys.readouterr().err
    for flag in ("--T", "--limit", "--chunk-size"):
        with pytest.raises(SystemExit):
            main(["encode", "--dataset", "mnist-subset", flag, "0", "--out", str(out)])
        assert f"{flag} must be at least 1" in capsys.readouterr().err
    assert not out.exists()


def test_inspect_empty_and_foreign_files(tmp_path, capsys):
    SpikeTrains.from_dense(np.zeros((0, 3, 4), bool), 1e-3).save(tmp_path / "e.npz")
    assert main(["inspect", str(tmp_path / "e.npz")]) == 0
    assert "samples     0" in capsys.readouterr().out
    np.save(tmp_path / "x.npy", np.zeros(2))
    assert main(["inspect", str(tmp_path / "x.npy")]) == 2
    assert "not a bioSNN.SpikeTrains file" in capsys.readouterr().err


def test_encode_mstar_limit(mstar_root, tmp_path):
    out = tmp_path / "m.npz"
    assert main(["encode", "--dataset", "mstar", "--root", str(mstar_root), "--split", "test", "--classes", "T72",
                 "--crop", "64", "--limit", "4", "--no-progress", "--out", str(out)]) == 0
    trains = SpikeTrains.load(out)
    assert trains.shape == (4, 71, 4096) and trains.class_names == ("T72",)
    assert trains.provenance["source"]["scaling"] == "enhanced"


def test_export_seed_and_read_back(tmp_path, capsys):
    spikes = tmp_path / "s.npz"
    main(["encode", "--dataset", "mnist-subset", "--limit", "3", "--no-progress", "--out", str(spikes)])
    guidance = np.zeros((3, 2, 70)); guidance[:, 1] = 1.0
    np.save(tmp_path / "g.npy", guidance)
    assert main(["export-seed", str(spikes), "--root", str(tmp_path / "seed"), "--guidance",
                 str(tmp_path / "g.npy")]) == 0
    assert np.load(tmp_path / "seed" / "Train" / "Spikes" / "0.npy").shape == (784, 71)
    back = tmp_path / "back.npz"
    assert main(["encode", "--dataset", "seed", "--root", str(tmp_path / "seed"), "--out", str(back)]) == 0
    assert np.array_equal(SpikeTrains.load(back).packed, SpikeTrains.load(spikes).packed)
    assert main(["encode", "--dataset", "seed", "--root", str(tmp_path / "seed"), "--encoder", "poisson",
                 "--out", str(back)]) == 2
    assert main(["export-seed", str(spikes), "--root", str(tmp_path / "seed")]) == 2
    assert "exists" in capsys.readouterr().err


def test_encode_folder(tmp_path):
    from PIL import Image

    for cls in ("x", "y"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        Image.new("L", (10, 12), 180).save(tmp_path / "imgs" / cls / "a.png")
    out = tmp_path / "f.npz"
    assert main(["encode", "--dataset", "folder", "--root", str(tmp_path / "imgs"), "--encoder", "latency",
                 "--no-progress", "--out", str(out)]) == 0
    trains = SpikeTrains.load(out)
    assert trains.image_shape == (12, 10) and trains.labels.tolist() == [0, 1]


@pytest.mark.slow
def test_encode_full_mnist_training_set(mnist_root, tmp_path):
    """The issue's bound: all 60,000 training images (measured: about 7 s and 300 MB peak RSS)."""
    out = tmp_path / "train.npz"
    assert main(["encode", "--dataset", "mnist", "--root", str(mnist_root), "--split", "train", "--encoder",
                 "rf-rate", "--T", "70", "--no-progress", "--out", str(out)]) == 0
    trains = SpikeTrains.load(out)
    assert trains.shape == (60000, 71, 784) and np.bincount(trains.labels)[1] == 6742
