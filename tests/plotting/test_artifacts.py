"""``biosnn plot``: figures from the files the stages write, and clear errors for the wrong ones."""

import json

import numpy as np
import pytest

from bioSNN.cli import main
from bioSNN.encoding import SpikeTrains
from bioSNN.errors import DataError, InputError
from bioSNN.plotting.artifacts import confusion_figure, membrane_figure, network_response, raster_figure
from tests.supervised.helpers import toy_guidance, toy_split


@pytest.fixture(scope="module")
def supervised_dir(tmp_path_factory):
    """A guided bilayer with the seed WTA output model, trained 2 epochs on 3 x 4 'images'."""
    root = tmp_path_factory.mktemp("toy")
    for name, seed in (("train", 0), ("test", 1)):
        split = toy_split(n=24, steps=16, seed=seed)
        t = split.trains
        SpikeTrains(t.packed, t.n_in, t.dt_seconds, t.labels, t.class_names, (3, 4), {}).save(root / f"{name}.npz")
    toy_guidance().save(root / "guidance.npz")
    out = root / "run"
    assert main(["supervised", "--dataset", "spikes", "--root", str(root), "--guidance", str(root / "guidance.npz"),
                 "--model", "guided-bilayer", "--loss", "huber-guidance+ce-membrane", "--rows", "all", "--epochs", "2",
                 "--batch-size", "8", "--lr", "0.05", "--out", str(out), "--no-progress"]) == 0
    return out


def test_membrane_of_a_trained_network_brian2_equals_torch(supervised_dir):
    r = network_response(supervised_dir, sample=3)
    assert r.overlay is not None and r.v.shape == r.overlay.shape == (16, 2)
    assert np.abs(r.v - r.overlay).max() < 1e-8  # volts: float32 torch against float64 Brian2
    assert r.input_spikes.shape == (16, 12) and r.image_shape == (3, 4)
    fig = membrane_figure(supervised_dir, sample=3)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "v (mV)" and "Brian2 vs torch" in ax.get_title()
    assert len([l for l in ax.lines if l.get_linestyle() == "--"]) == 2


def test_raster_panels(supervised_dir, tmp_path):
    fig = raster_figure(supervised_dir, sample=0)
    assert [a.get_title().split(" (")[0] for a in fig.axes if a.get_title()] == ["input: first spike", "input", "output"]
    spikes = tmp_path / "s.npz"
    SpikeTrains.load(supervised_dir.parent / "test.npz").save(spikes)
    fig = raster_figure(spikes, sample=1)
    assert [a.get_title().split(" (")[0] for a in fig.axes if a.get_title()] == ["input: first spike", "input"]


def test_every_supervised_figure_through_the_cli(supervised_dir, tmp_path, capsys):
    assert main(["plot", "confusion", str(supervised_dir), "--out", str(tmp_path / "c.png")]) == 2
    assert "run `biosnn evaluate" in capsys.readouterr().err
    assert main(["evaluate", str(supervised_dir), "--no-progress"]) == 0
    for kind, extra in (("membrane", []), ("raster", []), ("confusion", []), ("rates", []), ("curves", []),
                        ("weights", []), ("weights", ["--history"]), ("guidance", [])):
        artifact = supervised_dir.parent / "guidance.npz" if kind == "guidance" else supervised_dir
        out = tmp_path / f"{kind}{len(extra)}"
        assert main(["plot", kind, str(artifact), *extra, "--out", str(out)]) == 0, kind
        assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
        assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    history = np.load(supervised_dir / "weights_history.npz")
    assert history["steps"].tolist() == [0, 1, 2] and history["w"].shape == (3, 12, 2)
    fig = confusion_figure(supervised_dir)
    assert fig.axes[0].get_xlabel() == "predicted class" and len(fig.axes[0].texts) == 4
    assert main(["plot", "curves", str(supervised_dir), str(supervised_dir), "--out", str(tmp_path / "c2.svg")]) == 0
    assert (tmp_path / "c2.svg").read_bytes().startswith(b"<?xml")


def test_wrong_artifacts_are_named(supervised_dir, tmp_path, capsys):
    assert main(["plot", "membrane", str(tmp_path / "missing"), "--out", str(tmp_path / "m.png")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["plot", "membrane", str(tmp_path), "--out", str(tmp_path / "m.png")]) == 2
    assert "neither a supervised" in capsys.readouterr().err
    assert main(["plot", "guidance", str(tmp_path), "--out", str(tmp_path / "g.png")]) == 2
    assert main(["plot", "raster", str(supervised_dir), "--sample", "99", "--out", str(tmp_path / "r.png")]) == 2
    assert "out of range" in capsys.readouterr().err
    npz = tmp_path / "x.npz"
    np.savez(npz, a=np.zeros(2))
    assert main(["plot", "membrane", str(npz), "--out", str(tmp_path / "m.png")]) == 2
    assert "not a network folder" in capsys.readouterr().err
    assert main(["plot", "weights", str(supervised_dir), "--history", "--shape", "5x5", "--out", str(tmp_path / "w.png")]) == 2
    assert "does not hold the 12 inputs" in capsys.readouterr().err
    for bad in (["--shape", "28,28"], ["--neurons", "a"], ["--neurons", "-1"]):
        with pytest.raises(SystemExit) as exc:
            main(["plot", "weights", str(supervised_dir), *bad, "--out", str(tmp_path / "w.png")])
        assert exc.value.code == 2
    capsys.readouterr()
    assert main(["plot", "curves", str(supervised_dir), "--history", "--out", str(tmp_path / "c.png")]) == 2
    assert "--history does not apply to biosnn plot curves" in capsys.readouterr().err
    assert main(["plot", "guidance", "a", "b", "--out", str(tmp_path / "g.png")]) == 2
    assert "takes one artifact" in capsys.readouterr().err
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "metrics.json").write_text("{broken")
    with pytest.raises(DataError, match="unreadable"):
        confusion_figure(tmp_path / "x")
    assert not list(tmp_path.glob("*.png"))  # nothing half-written


def test_library_model_and_wta_folder_membranes(tmp_path):
    fig = membrane_figure("seed_wta_if")
    assert "max |difference|" in fig.axes[0].get_title()
    with pytest.raises(DataError, match="not a library model"):
        membrane_figure("no_such_model")
    spikes = tmp_path / "s.npz"
    assert main(["encode", "--dataset", "mnist-subset", "--limit", "6", "--no-progress", "--out", str(spikes)]) == 0
    out = tmp_path / "wta"
    assert main(["unsupervised", "--preset", "wta", "--spikes", str(spikes), "--n-neurons", "3", "--slice", "3",
                 "--backend", "numpy", "--no-progress", "--out", str(out)]) == 0
    with pytest.raises(InputError, match="give --spikes"):
        network_response(out)
    r = network_response(out, spikes=str(spikes), sample=2)
    assert np.abs(r.v - r.overlay).max() < 1e-12 and r.classes.shape == (3,)
    guidance = json.loads((out / "config.json").read_text())
    assert guidance["preset"] == "wta"
