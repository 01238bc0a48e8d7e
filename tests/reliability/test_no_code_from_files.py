"""No file that bioSNN reads can run code: crafted pickles are refused before anything in them runs.

Each crafted file, when unpickled the ordinary way, creates a marker file (checked as a control, so the
tests would fail if the payload were harmless or the loaders unpickled it); bioSNN must refuse it and
the marker must not appear.
"""

import itertools
import pickle

import joblib
import numpy as np
import pytest
import torch

from bioSNN.cli import main
from bioSNN.data import read_seed_layout
from bioSNN.errors import DataError
from bioSNN.supervised.checkpoint import FORMAT, VERSION, load_checkpoint, save_checkpoint


class MakesMarker:
    """Unpickling this calls ``open(path, "w")``: a stand-in for arbitrary code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _payload(extra=None):
    from bioSNN.supervised import GuidedBilayer

    net = GuidedBilayer(4, 2)
    meta = {"train": {"decision": "potential", "seed": 0}}
    if extra is not None:
        meta["note"] = extra
    return {"spec": net.spec, "fingerprint": net.output_model.fingerprint(), "state_dict": net.state_dict(),
            "readout": {"assignments": [0, 1], "n_classes": 2, "class_names": ["a", "b"]}, "meta": meta,
            "progress": {"epoch": 1, "batch": 0, "step": 1}, "history": []}


def _crafted_checkpoint(path, marker):
    torch.save({"format": FORMAT, "version": VERSION, **_payload(MakesMarker(marker))}, path)
    return path


def test_crafted_payload_really_runs_code_when_unpickled(tmp_path):
    """Control: the crafted files of the tests below do run code under an ordinary unpickler."""
    marker = tmp_path / "control-marker"
    torch.load(_crafted_checkpoint(tmp_path / "model.pt", marker), weights_only=False)
    assert marker.exists()
    marker.unlink()
    with open(tmp_path / "0.pkl", "wb") as fh:
        pickle.dump(MakesMarker(marker), fh)
    joblib.load(tmp_path / "0.pkl")
    assert marker.exists()


def test_load_checkpoint_refuses_code_and_reads_the_same_file_without_it(tmp_path):
    marker = tmp_path / "marker"
    path = _crafted_checkpoint(tmp_path / "model.pt", marker)
    with pytest.raises(DataError, match=r"model\.pt: holds non-tensor objects \(possibly code\) and is refused"):
        load_checkpoint(path)
    assert not marker.exists()
    clean = save_checkpoint(tmp_path / "clean.pt", _payload())
    assert load_checkpoint(clean)["meta"]["train"]["seed"] == 0


def test_evaluate_cli_refuses_a_crafted_model(tmp_path, capsys):
    marker = tmp_path / "marker"
    folder = tmp_path / "run"
    folder.mkdir()
    _crafted_checkpoint(folder / "model.pt", marker)
    assert main(["evaluate", str(folder), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "model.pt" in err and "refused" in err and "possibly code" in err
    assert not marker.exists()


@pytest.mark.parametrize("schedule, optimizer", itertools.product(["none", "cosine", "step:1:0.5", "exp:0.9"],
                                                                  ["adam", "sgd"]))
def test_resume_checkpoints_hold_only_tensors_and_plain_data(tmp_path, schedule, optimizer):
    """What the trainer saves (optimizer, scheduler and RNG states included) loads with weights_only."""
    from bioSNN.equations import library
    from bioSNN.supervised import ClassReadout, LossSpec, SpikingMLP, TrainConfig, Trainer

    from ..supervised.helpers import toy_split

    net = SpikingMLP(12, 2, hidden=(4,), output_model=library.lif_delta())
    config = TrainConfig(epochs=2, batch_size=8, lr=0.05, progress=False, schedule=schedule, optimizer=optimizer,
                         momentum=0.9)
    trainer = Trainer(net, LossSpec.parse("ce-rate"), ClassReadout.identity(2), toy_split(n=16, steps=6),
                      tmp_path, config=config, val=toy_split(n=8, steps=6, seed=2))
    trainer.fit(max_steps=3)  # stops inside epoch 2: a checkpoint after a scheduler step
    data = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert {"optimizer", "scheduler", "rng", "best"} <= set(data)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["progress"]["step"] == 3


# ------------------------------------------------------------------------------------------- seed layout
def _seed_layout(root, spikes_value, spikes_suffix="pkl", labels_value=None):
    """``root/Train/{Spikes,Labels}/0.*``: spikes as given (pickled with joblib, or raw bytes), valid labels."""
    (root / "Train" / "Spikes").mkdir(parents=True)
    (root / "Train" / "Labels").mkdir(parents=True)
    path = root / "Train" / "Spikes" / f"0.{spikes_suffix}"
    if spikes_suffix == "npy":
        np.save(path, spikes_value, allow_pickle=False)
    else:
        joblib.dump(spikes_value, path)
    labels = np.zeros((2, 4)) if labels_value is None else labels_value
    if isinstance(labels, MakesMarker):
        joblib.dump(labels, root / "Train" / "Labels" / "0.pkl")
    else:
        np.save(root / "Train" / "Labels" / "0.npy", labels, allow_pickle=False)
    return root


def _spikes():
    s = np.zeros((9, 5))
    s[3, 2] = 1
    return s


def test_seed_pickles_are_refused_without_trust(tmp_path):
    marker = tmp_path / "marker"
    root = _seed_layout(tmp_path / "evil", MakesMarker(marker))
    with pytest.raises(DataError, match=r"0\.pkl.*can run code.*--trust-pickle.*trust_pickle=True"):
        read_seed_layout(root, "train")
    assert not marker.exists()
    # a pickle among the guidance files is refused as well, before any file is read
    other = _seed_layout(tmp_path / "evil-labels", _spikes(), "npy", labels_value=MakesMarker(marker))
    with pytest.raises(DataError, match=r"Labels.0\.pkl.*can run code"):
        read_seed_layout(other, "train")
    assert not marker.exists()


def test_seed_pickles_are_read_with_trust(tmp_path):
    root = _seed_layout(tmp_path / "benign", _spikes())
    with pytest.raises(DataError, match="can run code"):
        read_seed_layout(root, "train")
    split = read_seed_layout(root, "train", trust_pickle=True)
    assert split.spikes.shape == (1, 5, 9) and split.names == ("0",)
    assert split.spikes.dense(0)[0][2, 3]


def test_encode_and_supervised_cli_refuse_seed_pickles_without_the_flag(tmp_path, capsys):
    marker = tmp_path / "marker"
    evil = _seed_layout(tmp_path / "evil", MakesMarker(marker))
    out = tmp_path / "out.npz"
    assert main(["encode", "--dataset", "seed", "--root", str(evil), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "0.pkl" in err and "can run code" in err and "--trust-pickle" in err
    assert main(["supervised", "--dataset", "seed", "--root", str(evil), "--out", str(tmp_path / "run"),
                 "--no-progress"]) == 2
    assert "can run code" in capsys.readouterr().err
    assert not marker.exists() and not out.exists()
    benign = _seed_layout(tmp_path / "benign", _spikes())
    assert main(["encode", "--dataset", "seed", "--root", str(benign), "--trust-pickle", "--out", str(out),
                 "--no-progress"]) == 0
    assert out.exists()
    assert main(["encode", "--dataset", "mnist-subset", "--trust-pickle", "--out", str(out)]) == 2
    assert "applies to --dataset seed only" in capsys.readouterr().err


def test_supervised_and_evaluate_read_trusted_seed_pickles_only_with_the_flag(tmp_path, capsys):
    import json

    from bioSNN.data import write_seed_layout

    from ..supervised.helpers import toy_guidance, toy_split

    split = toy_split(n=12, steps=8)
    targets = np.stack([toy_guidance(steps=8).templates[y] for y in split.labels]).astype(np.float64)
    for name in ("train", "test"):
        write_seed_layout(tmp_path / "seed", name, split.trains, targets, fmt="pkl")
    out = tmp_path / "out"
    args = ["supervised", "--dataset", "seed", "--root", str(tmp_path / "seed"), "--model", "guided-bilayer",
            "--loss", "huber-guidance", "--epochs", "1", "--batch-size", "4", "--out", str(out), "--no-progress"]
    assert main(args) == 2 and "--trust-pickle" in capsys.readouterr().err
    assert main([*args, "--trust-pickle"]) == 0
    assert json.loads((out / "config.json").read_text())["data"]["trust_pickle"] is True
    capsys.readouterr()
    # the record in the folder grants nothing: evaluating reads the pickles again, so it needs the flag again
    assert main(["evaluate", str(out), "--no-progress"]) == 2
    assert "can run code" in capsys.readouterr().err
    assert main(["evaluate", str(out), "--no-progress", "--trust-pickle"]) == 0
    assert "accuracy" in capsys.readouterr().out
