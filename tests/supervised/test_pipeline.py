"""``evaluate_supervised``: the held-out validation split found again, and several draws of random encoders."""

import json

import numpy as np
import pytest

from bioSNN.cli import main
from bioSNN.errors import InputError
from bioSNN.supervised.checkpoint import load_trained
from bioSNN.supervised.pipeline import evaluate_supervised, stored_split, train_supervised
from bioSNN.supervised.trainer import TrainConfig, evaluate_split


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small MLP trained one epoch on 64 embedded digits (16 held out), Poisson input, T = 6."""
    out = tmp_path_factory.mktemp("mlp")
    train_supervised("mnist-subset", None, out, model="spiking-mlp", loss="ce-membrane",
                     config=TrainConfig(epochs=1, batch_size=16, lr=5e-3, progress=False),
                     architecture={"hidden": [32]}, T=6, encoder_options={"max_rate": 500.0},
                     val_fraction=0.25, limit=64, test_limit=40)
    return out


def test_val_split_is_the_held_out_one(trained):
    """Re-evaluating on ``split="val"`` gives the validation accuracy the trainer recorded: the same 16 digits."""
    metrics = json.loads((trained / "metrics.json").read_text())
    result = evaluate_supervised(trained, split="val")
    assert result["n"] == 16 and result["accuracy"] == pytest.approx(metrics["history"][-1]["val_accuracy"])
    assert metrics["best_val_epoch"] == 1  # the epoch model.pt holds
    _, _, data = load_trained(trained)
    train = stored_split(data, split="train", limit=64)
    val = stored_split(data, split="val")
    n_matching = sum(any(np.array_equal(v, t) for t in train.trains.packed) for v in val.trains.packed)
    assert n_matching == 16  # each held-out sample is one of the (first 64) training samples, encoded alike


def test_draws_are_independent_encodings_of_the_same_samples(trained):
    _, _, data = load_trained(trained)
    first, second = (stored_split(data, split="test", limit=40, draw=k) for k in (0, 1))
    assert np.array_equal(first.labels, second.labels)
    assert not np.array_equal(first.trains.packed, second.trains.packed)
    again = stored_split(data, split="test", limit=40, draw=1)
    assert np.array_equal(again.trains.packed, second.trains.packed)  # reproducible


def test_scores_sum_over_draws(trained):
    """Two copies of one draw decide as that draw alone; two draws give the recorded ``draws`` and count."""
    net, readout, data = load_trained(trained)
    test = stored_split(data, split="test", limit=40)
    single = evaluate_split(net, test, readout)
    doubled = evaluate_split(net, [test, test], readout)
    assert doubled["confusion"] == single["confusion"] and np.allclose(doubled["rates"], single["rates"])
    assert single["accuracy"] == pytest.approx(evaluate_supervised(trained, limit=40)["accuracy"])
    result = evaluate_supervised(trained, limit=40, draws=3)
    assert result["n"] == 40 and result["draws"] == 3
    with pytest.raises(InputError, match="same samples"):
        evaluate_split(net, [test, test.limit(10)], readout)


def test_draw_errors(trained, tmp_path):
    _, _, data = load_trained(trained)
    with pytest.raises(InputError, match="draws must be >= 1"):
        evaluate_supervised(trained, draws=0)
    fixed = {"meta": {**data["meta"], "data": {**data["meta"]["data"], "dataset": "spikes", "encoder": None}}}
    with pytest.raises(InputError, match="one fixed encoding"):
        stored_split(fixed, root=tmp_path, draw=1)
    regular = {"meta": {**data["meta"], "data": {**data["meta"]["data"], "encoder": "regular"}}}
    with pytest.raises(InputError, match="deterministic"):
        stored_split(regular, draw=1)
    no_val = {"meta": {**data["meta"], "data": {**data["meta"]["data"], "n_val": 0}}}
    with pytest.raises(InputError, match="without a validation split"):
        stored_split(no_val, split="val")


def test_cli_evaluate_val_with_draws(trained, capsys):
    assert main(["evaluate", str(trained), "--split", "val", "--draws", "2", "--no-progress"]) == 0
    assert "on 16 val samples, 2 draws each" in capsys.readouterr().out
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["latest_evaluation"] == "mnist-subset/val/16/draws2"
    assert metrics["evaluations"]["mnist-subset/val/16/draws2"]["draws"] == 2


def _image_folder(root, classes, n=4, size=8, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split in ("train", "test"):
        for k, cls in enumerate(classes):
            (root / split / cls).mkdir(parents=True)
            for i in range(n):
                img = (rng.random((size, size)) * 60).astype(np.uint8)
                img[:, k * 2:k * 2 + 2] = 250  # a class-specific bright stripe
                Image.fromarray(img).save(root / split / cls / f"{i}.png")


def test_supervised_trains_and_evaluates_image_folders(tmp_path):
    """--dataset folder: trained from raw image folders, evaluated from them; another folder's classes refused."""
    from bioSNN.errors import DataError

    _image_folder(tmp_path / "a", ["cat", "dog"])
    _image_folder(tmp_path / "b", ["cow", "dog"], seed=1)
    metrics = train_supervised("folder", tmp_path / "a", tmp_path / "run", model="spiking-mlp", loss="ce-membrane",
                               config=TrainConfig(epochs=1, batch_size=4, seed=0, progress=False),
                               architecture={"hidden": [8]}, T=5, val_fraction=0.0)
    assert metrics["final"]["test_accuracy"] is not None
    result = evaluate_supervised(tmp_path / "run", split="test")
    assert result["n"] == 8 and result["class_names"] == ["cat", "dog"]
    with pytest.raises(DataError, match="trained on the classes cat, dog; the folder test data has cow, dog"):
        evaluate_supervised(tmp_path / "run", root=tmp_path / "b", split="test")
