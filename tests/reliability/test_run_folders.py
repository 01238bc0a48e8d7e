"""Run folders that protect themselves: a non-empty ``--out`` needs ``--resume`` or ``--overwrite``, a
resumed run must ask for the recorded settings, and ``OUT/.lock`` keeps a second writer out."""

import json
import logging
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from bioSNN.cli import main
from bioSNN.errors import DataError, InputError, RunFolderError, RunLockedError
from bioSNN.runfolder import guard_run_folder, prepare_run_folder, run_lock, setting_differences
from bioSNN.supervised.pipeline import train_supervised
from bioSNN.supervised.trainer import TrainConfig
from bioSNN.weight_history import load_weight_history

from ..supervised.helpers import toy_split


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """``train.npz`` / ``test.npz`` of a two-class toy problem (16 samples, 8 steps, 12 inputs)."""
    folder = tmp_path_factory.mktemp("spikes")
    for name, seed in (("train", 0), ("test", 1)):
        toy_split(n=16, steps=8, seed=seed).trains.save(folder / f"{name}.npz")
    return folder


def _cli(root, out, *extra):
    return main(["supervised", "--dataset", "spikes", "--root", str(root), "--model", "spiking-mlp", "--hidden", "8",
                 "--loss", "ce-membrane", "--epochs", "1", "--batch-size", "8", "--no-progress", *extra,
                 "--out", str(out)])


def _api(root, out, **kw):
    kw.setdefault("config", TrainConfig(epochs=1, batch_size=8, progress=False))
    return train_supervised("spikes", root, out, model="spiking-mlp", architecture={"hidden": [8]}, loss="ce-membrane",
                            **kw)


def _visible(folder):
    return sorted(p.name for p in folder.iterdir())


def test_non_empty_out_needs_resume_or_overwrite(root, tmp_path, capsys):
    out = tmp_path / "run"
    assert _cli(root, out) == 0
    assert ".lock" not in _visible(out)
    capsys.readouterr()
    assert _cli(root, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "--resume" in err and "--overwrite" in err
    # --overwrite starts afresh: one initial and one trained snapshot, not the old run's appended to
    assert _cli(root, out, "--overwrite") == 0
    assert load_weight_history(out).steps.tolist() == [0, 1]
    assert not any(name.startswith(".") for name in _visible(out))  # no lock, no set-aside old run
    # --resume continues it (more epochs may be asked for)
    assert _cli(root, out, "--resume", "--epochs", "2") == 0
    assert len(json.loads((out / "metrics.json").read_text())["history"]) == 2
    assert _cli(root, out, "--resume", "--overwrite") == 2
    assert "give one of them" in capsys.readouterr().err


def test_api_refuses_and_overwrite_keeps_foreign_files(root, tmp_path, caplog):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="not empty") as info:
        _api(root, out)
    assert isinstance(info.value, InputError)
    with caplog.at_level(logging.WARNING, logger="bioSNN.runfolder"):
        _api(root, out, overwrite=True)
    assert "notes.txt" in caplog.text  # left in place, and said so
    assert (out / "notes.txt").read_text() == "mine" and (out / "model.pt").exists()
    stray = tmp_path / "no-checkpoint"
    stray.mkdir()
    (stray / "metrics.json").write_text("{}")
    with pytest.raises(RunFolderError, match="no checkpoint.pt to resume from"):
        _api(root, stray, resume=True)


def test_failed_overwrite_puts_the_old_run_back(root, tmp_path):
    out = tmp_path / "run"
    _api(root, out)
    before = (out / "model.pt").read_bytes()
    with pytest.raises(DataError):
        _api(tmp_path / "nowhere", out, overwrite=True)  # fails before writing anything
    assert (out / "model.pt").read_bytes() == before
    assert _visible(out) == sorted(["checkpoint.pt", "config.json", "metrics.json", "model.pt", "weights_history.npz"])


@pytest.mark.parametrize("flags, named", [(["--lr", "0.01"], "train.lr: 0.001 -> 0.01"),
                                          (["--seed", "3"], "train.seed: 0 -> 3"),
                                          (["--loss", "ce-rate"], "loss.terms"),
                                          (["--hidden", "6"], "spec.")])
def test_resume_with_other_settings_is_refused(root, tmp_path_factory, capsys, flags, named):
    out = tmp_path_factory.mktemp("resume")
    assert _cli(root, out) == 0
    capsys.readouterr()
    assert _cli(root, out, "--resume", *flags) == 2
    err = capsys.readouterr().err
    assert named in err and str(out) in err and "recorded -> now" in err


def test_setting_differences_is_pure_and_specific():
    old = {"data": {"dataset": "mnist", "T": 8, "options": {"max_rate": 500.0}}, "train": {"epochs": 4, "lr": 1e-3},
           "spec": {"hidden": [32, 16]}}
    new = {"data": {"dataset": "mnist", "T": 8, "options": {"max_rate": 250.0}}, "train": {"epochs": 6, "lr": 1e-3},
           "spec": {"hidden": (32, 16)}, "extra": 1}
    keys = ["data", "train.epochs", "train.lr", "spec", "data.labelled"]
    assert setting_differences(old, new, keys, may_grow=["train.epochs"]) == ["data.options.max_rate: 500.0 -> 250.0"]
    assert setting_differences(new, old, keys, may_grow=["train.epochs"]) == [
        "data.options.max_rate: 250.0 -> 500.0", "train.epochs: 6 -> 4"]
    assert setting_differences(old, new, ["train.epochs"]) == ["train.epochs: 4 -> 6"]
    assert setting_differences(old, {**new, "data": {**new["data"], "labelled": {"per_class": 1}}}, ["data.labelled"]) \
        == ['data.labelled: (none) -> {"per_class": 1}']
    assert old["spec"]["hidden"] == [32, 16] and new["spec"]["hidden"] == (32, 16)  # inputs untouched


def _write_lock(folder, **record):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".lock").write_text(json.dumps({"host": socket.gethostname(), "started": "then", **record}))


def test_a_held_lock_refuses_a_second_writer(root, tmp_path, capsys):
    out = tmp_path / "run"
    _write_lock(out, pid=os.getppid())  # a live process on this host
    held = (out / ".lock").read_text()
    assert _cli(root, out) == 2
    err = capsys.readouterr().err
    assert "being written by process" in err and str(os.getppid()) in err
    with pytest.raises(RunLockedError):
        _api(root, out)
    _write_lock(out / "elsewhere", pid=1, host="another-host")  # cannot be checked from here: refused
    with pytest.raises(RunLockedError, match="another-host"):
        _api(root, out / "elsewhere")
    assert (out / ".lock").read_text() == held  # left to its owner
    with run_lock(tmp_path / "x"):  # the same process, twice: refused too
        with pytest.raises(RunLockedError):
            with prepare_run_folder(tmp_path / "x"):
                pass


def test_a_stale_lock_is_taken_over(root, tmp_path, caplog):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process now
    out = tmp_path / "run"
    _write_lock(out, pid=gone.pid)
    with caplog.at_level(logging.WARNING, logger="bioSNN.runfolder"):
        _api(root, out)
    assert "taking over" in caplog.text and f"process {gone.pid}" in caplog.text
    assert not (out / ".lock").exists() and (out / "model.pt").exists()
    # an unreadable lock (a writer killed while creating it) is stale once it is old
    garbled = tmp_path / "garbled"
    garbled.mkdir()
    (garbled / ".lock").write_text("{")
    with pytest.raises(RunLockedError):
        with run_lock(garbled):
            pass
    old = time.time() - 3600
    os.utime(garbled / ".lock", (old, old))
    with run_lock(garbled):
        assert json.loads((garbled / ".lock").read_text())["pid"] == os.getpid()
    assert not (garbled / ".lock").exists()


def test_the_lock_goes_when_the_run_ends_or_fails(root, tmp_path):
    out = tmp_path / "run"
    _api(root, out)
    assert not (out / ".lock").exists()
    with pytest.raises(DataError):  # fails inside the locked folder, before writing: the folder goes too
        _api(tmp_path / "nowhere", tmp_path / "failed")
    assert not (tmp_path / "failed").exists()

    @guard_run_folder(["result.txt"])
    def interrupted(out, *, resume=False, overwrite=False):
        (out / "result.txt").write_text("half")
        assert (out / ".lock").exists()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted(tmp_path / "cut")
    assert _visible(tmp_path / "cut") == ["result.txt"]
    with pytest.raises(RunFolderError):
        interrupted(tmp_path / "cut")
    with pytest.raises(KeyboardInterrupt):  # with the old run written over: the new files stay, the old go
        interrupted(tmp_path / "cut", overwrite=True)
    assert _visible(tmp_path / "cut") == ["result.txt"]


def test_unsupervised_wta_folder(tmp_path, capsys):
    from bioSNN.encoding import SpikeTrains
    from bioSNN.unsupervised.pipeline import train_wta
    from bioSNN.unsupervised.wta import WTAConfig

    rng = np.random.default_rng(1)
    dense = rng.random((6, 31, 16)) < 0.05
    trains = SpikeTrains.from_dense(dense, 1e-3, labels=np.arange(6) % 2, class_names=("a", "b"))
    config = WTAConfig(n_neurons=2, P_th_mV=3.0, D_mV=0.1)
    out = tmp_path / "wta"
    kw = dict(config=config, chunk=3, backend="numpy", progress=False)
    train_wta(trains, out, **kw)
    with pytest.raises(RunFolderError, match="not empty"):
        train_wta(trains, out, **kw)
    with pytest.raises(RunFolderError, match="shuffle: false -> true"):
        train_wta(trains, out, shuffle=True, resume=True, **kw)
    train_wta(trains, out, epochs=2, resume=True, **kw)  # more epochs: continued
    assert json.loads((out / "config.json").read_text())["epochs"] == 2
    train_wta(trains, out, overwrite=True, **kw)
    assert load_weight_history(out).steps.tolist() == [0, 3, 6]
    spikes = tmp_path / "s.npz"
    trains.save(spikes)
    assert main(["unsupervised", "--preset", "wta", "--spikes", str(spikes), "--n-neurons", "2", "--slice", "3",
                 "--backend", "numpy", "--no-progress", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
