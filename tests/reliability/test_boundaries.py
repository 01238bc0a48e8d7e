"""Validation at the boundary (issue 16): every flag and public function checks its range and type, every
loader names the file it cannot read, and every file-system failure is one named error (exit status 2 on
the command line). Read-only and full disks are simulated with a mocked ``OSError`` (the tests may run
as root, for whom permissions do not hold)."""

import errno
import io
import json
import logging
import os
import signal
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

from bioSNN.cli import main
from bioSNN.encoding import SpikeTrains
from bioSNN.errors import DataError, InputError, OutputError, RunFolderError

DEAD_PID = 2**22 + 7  # above Linux's largest pid: names no process


def _err(capsys):
    return capsys.readouterr().err


def _usage_error(argv, capsys):
    """``main(argv)`` as argparse refuses it: exit status 2 and the message."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return _err(capsys)


def _trains(n=4, steps=5, n_in=6, labels=(0, 1, 0, 1)):
    rng = np.random.default_rng(0)
    return SpikeTrains.from_dense(rng.random((n, steps, n_in)) < 0.3, 1e-3, labels=np.asarray(labels),
                                  class_names=("a", "b"))


def _raw_spike_file(path, packed, labels=None, class_names=None):
    """A spike-train file written without bioSNN's checks (what a foreign writer or a bad copy leaves)."""
    members = dict(format=np.asarray("bioSNN.SpikeTrains"), version=np.asarray(1), packed=packed,
                   n_in=np.asarray(6), dt_seconds=np.asarray(1e-3), provenance=np.asarray("{}"))
    if labels is not None:
        members["labels"] = np.asarray(labels, dtype=np.int64)
    if class_names is not None:
        members["class_names"] = np.asarray(class_names)
    np.savez(path, **members)
    return path


# ------------------------------------------------------------------------------------ range checks
@pytest.mark.parametrize("argv, flag", [
    (["unsupervised", "--dataset", "mnist-subset", "--timer-rate", "-1"], "--timer-rate"),
    (["unsupervised", "--dataset", "mnist-subset", "--timer-rate", "nan"], "--timer-rate"),
    (["unsupervised", "--dataset", "mnist-subset", "--val-fraction", "0"], "--val-fraction"),
    (["unsupervised", "--dataset", "mnist-subset", "--nu-post", "-0.1"], "--nu-post"),
    (["supervised", "--dataset", "spikes", "--hidden", "abc"], "--hidden"),
    (["supervised", "--dataset", "spikes", "--hidden", "8,0"], "--hidden"),
    (["supervised", "--dataset", "spikes", "--dropout", "2"], "--dropout"),
    (["supervised", "--dataset", "spikes", "--lr", "nan"], "--lr"),
    (["supervised", "--dataset", "spikes", "--seed", "-1"], "--seed"),
    (["supervised", "--dataset", "spikes", "--device", "gpu0"], "--device"),
    (["encode", "--dataset", "mnist-subset", "--dt", "0"], "--dt"),
    (["encode", "--dataset", "mnist-subset", "--encoder", "poisson", "--max-rate", "-5"], "--max-rate"),
    (["encode", "--dataset", "mstar", "--crop", "0"], "--crop"),
    (["encode", "--dataset", "mnist-subset", "--encoder", "latency", "--latency-threshold", "2"],
     "--latency-threshold"),
    (["evaluate", "somewhere", "--gpu-id", "-1"], "--gpu-id"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v[2:]))
def test_out_of_range_flags_are_usage_errors(tmp_path, capsys, argv, flag):
    out = tmp_path / "out"
    err = _usage_error([*argv, *([] if argv[0] == "evaluate" else ["--out", str(out)])], capsys)
    assert f"error: argument {flag}:" in err
    assert not out.exists()


def test_device_cuda_without_cuda_is_a_usage_error(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    err = _usage_error(["supervised", "--dataset", "spikes", "--device", "cuda", "--out", str(tmp_path / "o")], capsys)
    assert "argument --device: cuda:" in err and "--device cpu" in err
    from bioSNN.supervised import TrainConfig

    with pytest.raises(InputError, match="cuda: "):   # the same check from Python
        TrainConfig(device="cuda")
    with pytest.raises(InputError, match="not a torch device"):
        TrainConfig(device="gpu0")


def test_fc_of_resnet19_is_one_width(tmp_path, capsys):
    assert main(["supervised", "--dataset", "spikes", "--model", "spiking-resnet19", "--fc", "8,8",
                 "--out", str(tmp_path / "o")]) == 2
    assert "--fc of spiking-resnet19 is one FC width" in _err(capsys)


def test_network_sizes_and_dropout_are_checked_by_the_api():
    from bioSNN.supervised.models import SpikingConvNet, SpikingMLP

    with pytest.raises(InputError, match=r"dropout must be a probability in \[0, 1\), got 2"):
        SpikingMLP(8, 2, hidden=(4,), dropout=2)
    with pytest.raises(InputError, match="hidden sizes must be positive integers"):
        SpikingMLP(8, 2, hidden=("abc",))
    with pytest.raises(InputError, match="channels must be positive integers"):
        SpikingConvNet((4, 4), 2, channels=(0,))


@pytest.mark.parametrize("field, value", [("timer_rate", -1.0), ("timer_rate", float("nan")), ("dt_ms", 0.0),
                                          ("intensity", -2.0), ("w_total", float("inf")), ("nu_pre", float("nan")),
                                          ("delay_max_ms", -1.0)])
def test_diehl_cook_config_ranges(field, value):
    from bioSNN.unsupervised.diehl_cook import DiehlCookConfig

    with pytest.raises(InputError, match=field):
        DiehlCookConfig(**{field: value})


def test_train_and_record_refuse_nan_or_negative_rates_and_nan_weights():
    from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
    from bioSNN.unsupervised.training import record, train

    config = DiehlCookConfig(n_neurons=2, present_ms=100, rest_ms=50, slice_examples=2)
    rates = np.full((2, 4), 10.0)
    for bad, named in ((np.nan, "NaN"), (-1.0, "non-negative")):
        wrong = rates.copy()
        wrong[1, 2] = bad
        with pytest.raises(InputError, match=f"rates .*{named}"):
            train(config, wrong, progress=False)
    state = DiehlCookState.initial(config, 4)
    state.w[0, 0] = np.nan
    with pytest.raises(InputError, match=r"state\.w holds 1 NaN"):
        record(config, rates, state, progress=False)


def test_stored_nan_weights_are_refused_naming_the_file(tmp_path):
    from bioSNN.equations import library
    from bioSNN.unsupervised.artifacts import SavedNetwork, load_network, save_network

    w = np.ones((4, 2))
    w[2, 1] = np.nan
    save_network(tmp_path, SavedNetwork("diehl_cook", {"w": w}, np.array([0, 1]), ("a", "b"),
                                        library.diehl_cook_excitatory()))
    with pytest.raises(DataError, match=r"network\.npz: w holds 1 NaN or infinite values"):
        load_network(tmp_path)


def test_guidance_dt_is_covered_by_a_fingerprint(tmp_path):
    from bioSNN.equations import library
    from bioSNN.unsupervised.guidance import Guidance

    model = library.seed_wta_if()
    with pytest.raises(InputError, match="dt_seconds must be positive"):
        Guidance(np.zeros((2, 2, 3), np.float32), np.array([0, 1]), ("a", "b"), 0.0, model)
    path = Guidance(np.zeros((2, 2, 3), np.float32), np.array([0, 1]), ("a", "b"), 1e-3, model).save(tmp_path / "g.npz")
    with np.load(path) as z:
        members = {k: z[k] for k in z.files}
    meta = json.loads(str(members["meta"]))
    np.savez(path, **{**members, "meta": np.asarray(json.dumps({**meta, "dt_seconds": 5e-4}))})
    with pytest.raises(DataError, match=r"g\.npz: stored dt_seconds 0.0005 does not match its fingerprint"):
        Guidance.load(path)
    del meta["dt_fingerprint"]  # a file from before the fingerprint: still range-checked
    np.savez(path, **{**members, "meta": np.asarray(json.dumps({**meta, "dt_seconds": -1.0}))})
    with pytest.raises(DataError, match=r"g\.npz: stored dt_seconds -1.0 is not a positive time step"):
        Guidance.load(path)


# ------------------------------------------------------------------------ read-only and full disks
def _refuse_mkstemp(monkeypatch, code=errno.EROFS, text="Read-only file system"):
    import tempfile

    def refuse(*args, dir=None, **kwargs):
        raise OSError(code, text, os.path.join(str(dir), "x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_read_only_disk_is_one_named_error(tmp_path, monkeypatch):
    from bioSNN.fileio import atomic_write_json

    target = tmp_path / "m.json"
    _refuse_mkstemp(monkeypatch)
    with pytest.raises(OutputError, match=r"m\.json: cannot write \(Read-only file system\)") as info:
        atomic_write_json(target, {"a": 1})
    assert isinstance(info.value, OSError) and not target.exists()


def test_full_disk_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    from bioSNN.fileio import atomic_write_bytes

    target = tmp_path / "m.bin"
    target.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match=r"m\.bin: cannot write \(No space left on device: the disk is full\)"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]


@pytest.mark.parametrize("disk", ["read-only", "full"])
def test_encode_on_a_failing_disk_exits_2(tmp_path, monkeypatch, capsys, disk):
    import zipfile

    out = tmp_path / "s.npz"
    if disk == "read-only":
        _refuse_mkstemp(monkeypatch)
    else:
        def full(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(zipfile._ZipWriteFile, "write", full)
    assert main(["encode", "--dataset", "mnist-subset", "--split", "test", "--limit", "2", "--T", "3",
                 "--no-progress", "--out", str(out)]) == 2
    err = _err(capsys)
    assert err.startswith(f"biosnn: error: {out}: cannot write") and err.count("\n") == 1
    assert ("Read-only file system" if disk == "read-only" else "No space left on device: the disk is full") in err
    assert list(tmp_path.iterdir()) == []  # no file, no temporary file


def _refuse_lock(monkeypatch, folder, code=errno.EROFS, text="Read-only file system"):
    """``os.open`` fails for ``folder/.lock`` (and only there), as on a read-only disk."""
    real = os.open

    def fake(path, *args, **kwargs):
        if str(path) == str(folder / ".lock"):
            raise OSError(code, text, str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake)


def test_evaluate_on_a_read_only_folder_fails_before_any_work(tmp_path, monkeypatch, capsys):
    import bioSNN.cli.evaluate as cli_evaluate

    run = tmp_path / "run"
    run.mkdir()
    (run / "network.npz").write_bytes(b"unread")  # evaluation never gets as far as reading it
    monkeypatch.setattr(cli_evaluate, "_evaluate_unsupervised",
                        lambda args: pytest.fail("evaluated a read-only folder"))
    _refuse_lock(monkeypatch, run)
    assert main(["evaluate", str(run), "--dataset", "mnist-subset", "--no-progress"]) == 2
    err = _err(capsys)
    assert str(run) in err and "Read-only file system" in err and "metrics.json" in err and err.count("\n") == 1


def test_run_folder_on_a_read_only_disk(tmp_path, monkeypatch):
    from bioSNN.runfolder import prepare_run_folder

    _refuse_lock(monkeypatch, tmp_path / "run", errno.EACCES, "Permission denied")
    with pytest.raises(OutputError, match=r"run: cannot create its lock file \.lock \(Permission denied\)"):
        with prepare_run_folder(tmp_path / "run"):
            pass
    assert not (tmp_path / "run").exists()


def test_evaluate_refuses_a_folder_being_written(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "network.npz").write_bytes(b"unread")
    (run / ".lock").write_text(json.dumps({"pid": os.getppid(), "host": __import__("socket").gethostname()}))
    assert main(["evaluate", str(run), "--dataset", "mnist-subset"]) == 2
    assert "evaluate it once that run ends" in _err(capsys)


def test_any_other_file_system_failure_exits_2_naming_the_file(monkeypatch, capsys):
    import bioSNN.cli.models as cli_models

    def broken(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/x.npz")

    monkeypatch.setattr(cli_models, "_cmd_models", broken)
    assert main(["models"]) == 2
    assert _err(capsys) == "biosnn: error: /data/x.npz: Permission denied\n"


# ------------------------------------------------------------------- --out: a folder, a file
def test_out_that_is_a_folder_or_under_a_file(tmp_path, capsys):
    from bioSNN.fileio import atomic_path

    folder, file = tmp_path / "d", tmp_path / "f"
    folder.mkdir()
    file.write_text("x")
    encode = ["encode", "--dataset", "mnist-subset", "--limit", "2", "--T", "3", "--no-progress", "--out"]
    assert main([*encode, str(folder)]) == 2
    assert f"--out {folder} is a folder: give a file name" in _err(capsys)
    assert main([*encode, str(file / "x.npz")]) == 2
    assert f"{file} is a file, not a folder" in _err(capsys)
    assert main(["supervised", "--dataset", "spikes", "--root", str(tmp_path), "--out", str(file)]) == 2
    assert f"{file} is a file, not a folder" in _err(capsys)
    with pytest.raises(OutputError, match="is a folder"):
        with atomic_path(folder):
            pass
    with pytest.raises(OutputError, match="a file of that name exists"):
        with atomic_path(file / "x.json"):
            pass
    with pytest.raises(RunFolderError, match="part of that path is a file"):
        from bioSNN.runfolder import run_lock

        with run_lock(file / "run"):
            pass
    assert file.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["d", "f"]


# --------------------------------------------------------------------------- corrupt files
def _truncated_npz(path):
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(1000))
    path.write_bytes(buf.getvalue()[:200])
    return path


def _loaders():
    from bioSNN.unsupervised.artifacts import load_network
    from bioSNN.unsupervised.guidance import Guidance
    from bioSNN.unsupervised.sample_guidance import SampleGuidance
    from bioSNN.unsupervised.training import load_checkpoint
    from bioSNN.weight_history import load_weight_history

    return {"weights_history.npz": load_weight_history, "guidance.npz": Guidance.load,
            "network.npz": lambda p: load_network(p.parent), "checkpoint.npz": load_checkpoint,
            "sample_guidance.npz": SampleGuidance.load, "spikes.npz": SpikeTrains.load}


@pytest.mark.parametrize("damage", ["truncated", "empty", "npy"])
@pytest.mark.parametrize("name", list(_loaders()))
def test_every_loader_names_its_corrupt_file(tmp_path, name, damage):
    path = tmp_path / name
    if damage == "truncated":
        _truncated_npz(path)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with open(path, "wb") as fh:
            np.save(fh, np.arange(3))
    with pytest.raises(DataError) as info:
        _loaders()[name](path)
    assert str(path) in str(info.value)


def test_wta_resume_from_a_corrupt_checkpoint(tmp_path):
    from bioSNN.unsupervised.pipeline import train_wta
    from bioSNN.unsupervised.wta import WTAConfig

    out = tmp_path / "wta"
    out.mkdir()
    _truncated_npz(out / "checkpoint.npz")
    with pytest.raises(DataError, match=r"checkpoint\.npz: unreadable checkpoint, corrupt or truncated"):
        train_wta(_trains(), out, config=WTAConfig(n_neurons=2), resume=True, backend="numpy", progress=False)


def test_a_corrupt_weight_history_is_started_afresh(tmp_path, caplog):
    from bioSNN.weight_history import append_snapshot, load_weight_history

    path = _truncated_npz(tmp_path / "weights_history.npz")
    with caplog.at_level(logging.WARNING, logger="bioSNN.weight_history"):
        append_snapshot(path, 3, np.ones((4, 2)), image_shape=(2, 2), step_name="epoch", unit="1")
    assert "weights_history.npz" in caplog.text and "starting a new weight history" in caplog.text
    assert load_weight_history(path).steps.tolist() == [3]


def test_inspect_labels_out_of_range_and_zero_steps(tmp_path, capsys):
    packed = np.zeros((4, 5, 1), np.uint8)
    for labels, named in (([0, 1, 5, 1], "label 5 is outside the 2 class names"),
                          ([0, -1, 0, 1], "non-negative class indices, found -1")):
        path = _raw_spike_file(tmp_path / "lab.npz", packed, labels, ["a", "b"])
        assert main(["inspect", str(path)]) == 2
        err = _err(capsys)
        assert f"{path}: invalid spike-train file" in err and named in err
    path = _raw_spike_file(tmp_path / "zero.npz", np.zeros((4, 0, 1), np.uint8))
    assert main(["inspect", str(path)]) == 2
    assert f"{path}: invalid spike-train file (spike trains need at least one time step" in _err(capsys)
    with pytest.raises(InputError, match="at least one time step"):
        SpikeTrains(np.zeros((2, 0, 1), np.uint8), 6, 1e-3)


def test_idx_header_sizes_cannot_overflow(tmp_path):
    from bioSNN.data import read_idx

    path = tmp_path / "big.idx"
    side = 2**32 - 1
    path.write_bytes(bytes([0, 0, 0x0E, 3]) + side.to_bytes(4, "big") * 3 + b"\0" * 16)
    with pytest.raises(DataError, match=rf"big\.idx: truncated: .* = {side ** 3 * 8} bytes, file holds 16"):
        read_idx(path)


def _png(path, width, height):
    """A PNG header of the given size (no pixel data: readers must refuse it from the header)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("width, height, named", [(20000, 20000, "too large to read safely"),
                                                 (5, 0, "cannot identify image|at least one row")])
def test_decompression_bombs_and_empty_images(tmp_path, width, height, named):
    from bioSNN.data import load_image_folder

    path = _png(tmp_path / "imgs" / "a" / "x.png", width, height)
    with pytest.raises(DataError, match=named) as info:
        load_image_folder(tmp_path / "imgs")
    assert str(path) in str(info.value)


def test_images_of_height_zero(tmp_path):
    from bioSNN.data import ImageSet, load_mnist, write_idx
    from bioSNN.encoding import encode_images

    with pytest.raises(InputError, match="at least one row and column"):
        encode_images(np.zeros((2, 0, 5), np.uint8), "rf-rate", 3)
    with pytest.raises(InputError, match="at least one row and column"):
        ImageSet(np.zeros((1, 0, 3)), np.array([0]), ("a",), (0,))
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 0, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: images of 0 x 28 pixels"):
        load_mnist(tmp_path, "train")


# ------------------------------------------------------------------------------ unclear messages
def test_evaluating_a_checkpoint_says_so(tmp_path, caplog):
    from bioSNN.supervised.checkpoint import load_trained

    (tmp_path / "checkpoint.pt").write_bytes(b"not read here")
    with caplog.at_level(logging.WARNING, logger="bioSNN.supervised.checkpoint"):
        with pytest.raises(DataError, match=r"checkpoint\.pt: "):
            load_trained(tmp_path)
    assert f"{tmp_path} has no model.pt" in caplog.text and "using its last checkpoint.pt" in caplog.text


def test_evaluate_names_what_is_missing(tmp_path, capsys):
    from bioSNN.equations import library
    from bioSNN.unsupervised.artifacts import SavedNetwork, save_network

    assert main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "no such folder" in _err(capsys)
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "not a trained folder" in _err(capsys)
    saved = SavedNetwork("diehl_cook", {"w": np.zeros((4, 2))}, np.array([0, 1]), ("a", "b"),
                         library.diehl_cook_excitatory(), {"config": {}})
    save_network(tmp_path / "net", saved)
    assert main(["evaluate", str(tmp_path / "net")]) == 2
    err = _err(capsys)
    assert "give --dataset" in err and "None" not in err
    (tmp_path / "net" / "metrics.json").write_text("{")
    assert main(["evaluate", str(tmp_path / "net"), "--dataset", "mnist-subset"]) == 2
    assert "metrics.json: unreadable" in _err(capsys)
    assert not (tmp_path / "net" / ".lock").exists()


def _phoenix(path, magnitude):
    import hashlib

    rows, cols = magnitude.shape
    data = np.concatenate([magnitude, np.zeros_like(magnitude)]).astype(">f4").tobytes()
    fields = {"NumberOfRows": rows, "NumberOfColumns": cols, "TargetType": "t72_tank", "TargetSerNum": "132",
              "TargetAz": "10.0", "DesiredDepression": "15", "Chip_MD5_CheckSum": hashlib.md5(data).hexdigest()}
    body = "".join(f"{k}= {v}\n" for k, v in fields.items())
    head = "[PhoenixHeaderVer01.04]\nPhoenixHeaderLength= {:08d}\n" + body + "[EndofPhoenixHeader]\n"
    header = head.format(len(head.format(0)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode("latin-1") + data)
    return path


def test_mstar_nan_names_the_chip_and_hints_name_flags(tmp_path):
    from bioSNN.data import load_mstar

    good = _phoenix(tmp_path / "train" / "T72" / "a.000", np.ones((4, 4), np.float32))
    assert load_mstar(tmp_path, "train").images.shape == (1, 4, 4)
    bad = np.ones((4, 4), np.float32)
    bad[1, 2] = np.nan
    chip = _phoenix(tmp_path / "train" / "T72" / "b.000", bad)
    with pytest.raises(DataError, match="1 NaN or infinite magnitude values") as info:
        load_mstar(tmp_path, "train")
    assert str(chip) in str(info.value)
    _phoenix(chip, np.ones((5, 5), np.float32))
    with pytest.raises(DataError, match="--crop N or --size N") as info:
        load_mstar(tmp_path, "train")
    assert str(good) in str(info.value)


def test_messages_name_command_line_flags(tmp_path):
    from PIL import Image

    from bioSNN.data import load_image_folder, write_seed_layout

    trains = _trains()
    write_seed_layout(tmp_path / "seed", "train", trains)
    with pytest.raises(InputError, match="give --overwrite"):
        write_seed_layout(tmp_path / "seed", "train", trains)
    for name, size in (("a", (3, 4)), ("b", (4, 4))):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        Image.new("L", size).save(tmp_path / "imgs" / name / "x.png")
    with pytest.raises(DataError, match="--size N"):
        load_image_folder(tmp_path / "imgs")


def test_temporary_files_of_a_killed_writer_go_with_the_next_write(tmp_path):
    from bioSNN.fileio import _tag, atomic_write_text

    host = _tag().split("-")[0]
    dead = tmp_path / f".out.txt.{host}-{DEAD_PID}-abc.tmp"
    alive = tmp_path / f".out.txt.{host}-{os.getppid()}-abc.tmp"  # a live writer's: kept
    other = tmp_path / f".out.txt.ffffff-{DEAD_PID}-abc.tmp"  # another host's: cannot be checked, kept
    for p in (dead, alive, other):
        p.write_text("")
    atomic_write_text(tmp_path / "out.txt", "done")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.txt", alive.name, other.name])


# ------------------------------------------------------------------------------------------- slow
def test_sigkill_while_encoding_leaves_a_temporary_file_the_next_encode_removes(tmp_path):
    out = tmp_path / "s.npz"
    code = ("import sys, time\n"
            "from bioSNN.fileio import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    print(tmp, flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    tmp = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.path.exists(tmp)
    assert main(["encode", "--dataset", "mnist-subset", "--limit", "2", "--T", "3", "--no-progress",
                 "--out", str(out)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]


@pytest.mark.slow
def test_supervised_resume_survives_a_corrupt_weight_history(tmp_path):
    from ..supervised.helpers import toy_split

    root = tmp_path / "root"
    root.mkdir()
    for name, seed in (("train", 0), ("test", 1)):
        toy_split(n=16, steps=8, seed=seed).trains.save(root / f"{name}.npz")
    argv = ["supervised", "--dataset", "spikes", "--root", str(root), "--model", "spiking-mlp", "--hidden", "8",
            "--loss", "ce-membrane", "--batch-size", "8", "--no-progress", "--out", str(tmp_path / "run")]
    assert main([*argv, "--epochs", "1"]) == 0
    _truncated_npz(tmp_path / "run" / "weights_history.npz")
    assert main([*argv, "--epochs", "2", "--resume"]) == 0


def test_a_corrupt_test_split_stops_training(tmp_path, capsys):
    from ..supervised.helpers import toy_split

    root = tmp_path / "root"
    root.mkdir()
    toy_split(n=8, steps=4, seed=0).trains.save(root / "train.npz")
    _truncated_npz(root / "test.npz")
    assert main(["supervised", "--dataset", "spikes", "--root", str(root), "--model", "spiking-mlp", "--hidden", "4",
                 "--loss", "ce-membrane", "--epochs", "1", "--no-progress", "--out", str(tmp_path / "run")]) == 2
    assert "test.npz" in _err(capsys)


def test_a_bare_step_in_seconds_that_is_too_long_is_refused():
    from brian2 import ms

    from bioSNN.equations import library
    from bioSNN.supervised.layers import NeuronLayer

    with pytest.raises(InputError, match=r"0\.1 \* ms"):
        NeuronLayer(library.lif_delta(), 0.1, 3)        # meant 0.1 ms: would be 0.1 s
    assert NeuronLayer(library.lif_delta(), 0.1 * ms, 3).dt == pytest.approx(1e-4)
    assert NeuronLayer(library.lif_delta(), 20 * ms, 3).dt == pytest.approx(0.02)   # a quantity may be long
