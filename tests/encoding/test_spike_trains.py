"""SpikeTrains: packing, the .npz format (numpy-only readable), atomic writes, Brian2 and torch views."""

import json
import zipfile

import numpy as np
import pytest
import torch

from bioSNN.encoding import SpikeTrains, SpikeTrainsWriter
from bioSNN.errors import DataError, InputError


@pytest.fixture
def dense():
    rng = np.random.default_rng(0)
    return rng.random((5, 12, 13)) < 0.2  # n_in = 13: not a multiple of 8


def make(dense, **kw):
    return SpikeTrains.from_dense(dense, dt=0.5e-3, labels=[0, 1, 2, 1, 0], class_names=("a", "b", "c"),
                                  provenance={"encoder": "test"}, **kw)


def test_pack_round_trip(dense):
    trains = make(dense)
    assert trains.packed.shape == (5, 12, 2) and trains.shape == (5, 12, 13) and trains.T == 11
    assert np.array_equal(trains.dense(), dense)
    assert np.array_equal(trains.dense([3, 1]), dense[[3, 1]])
    assert trains.counts().tolist() == dense.sum(axis=(1, 2)).tolist()
    sub = trains[1:3]
    assert sub.labels.tolist() == [1, 2] and np.array_equal(sub.dense(), dense[1:3])


def test_save_load_and_numpy_only_reading(tmp_path, dense):
    trains = make(dense, image_shape=None)
    path = trains.save(tmp_path / "t.npz")
    back = SpikeTrains.load(path)
    assert np.array_equal(back.dense(), dense) and back.labels.tolist() == [0, 1, 2, 1, 0]
    assert back.class_names == ("a", "b", "c") and back.dt_seconds == 0.5e-3
    assert back.provenance == {"encoder": "test"}
    # what the module docstring tells users without bioSNN to do
    z = np.load(path)
    assert str(z["format"]) == "bioSNN.SpikeTrains" and int(z["version"]) == 1
    raw = np.unpackbits(z["packed"], axis=-1, count=int(z["n_in"]), bitorder="little").astype(bool)
    assert np.array_equal(raw, dense) and json.loads(str(z["provenance"]))["encoder"] == "test"


def test_uncompressed_file(tmp_path, dense):
    path = make(dense).save(tmp_path / "u.npz", compress=False)
    with zipfile.ZipFile(path) as zf:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
    assert np.array_equal(SpikeTrains.load(path).dense(), dense)


def test_corrupt_and_foreign_files(tmp_path, dense):
    path = make(dense).save(tmp_path / "t.npz")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="t.npz: corrupt or truncated"):
        SpikeTrains.load(path)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(DataError, match="other.npz: not a bioSNN.SpikeTrains file"):
        SpikeTrains.load(tmp_path / "other.npz")
    with pytest.raises(DataError, match="not found"):
        SpikeTrains.load(tmp_path / "missing.npz")


def test_single_npy_renamed_npz_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    with pytest.raises(DataError, match="a.npz: not a bioSNN.SpikeTrains file"):
        SpikeTrains.load(tmp_path / "a.npz")


def test_empty_set_round_trip(tmp_path):
    empty = SpikeTrains.from_dense(np.zeros((0, 4, 9), bool), 1e-3)
    assert empty.counts().tolist() == [] and empty.dense().shape == (0, 4, 9)
    assert SpikeTrains.load(empty.save(tmp_path / "e.npz")).shape == (0, 4, 9)


def test_counts_in_chunks_match_dense(monkeypatch):
    import bioSNN.encoding.spike_trains as module

    monkeypatch.setattr(module, "_COUNT_CHUNK", 3)
    dense = np.random.default_rng(2).random((10, 7, 300)) < 0.5  # > 255 spikes per sample
    assert SpikeTrains.from_dense(dense, 1e-3).counts().tolist() == dense.sum(axis=(1, 2)).tolist()


def test_with_labels_keeps_class_names(dense):
    trains = make(dense)
    assert trains.with_labels([2, 2, 2, 2, 2]).class_names == ("a", "b", "c")


def test_failed_write_keeps_previous_file(tmp_path, dense):
    path = make(dense).save(tmp_path / "t.npz")
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"):
        with SpikeTrainsWriter(path, 5, 12, 13, 1e-3) as writer:
            writer.write(dense[:2])
            raise RuntimeError("boom")
    with pytest.raises(InputError, match="2 samples written, 5 announced"):
        with SpikeTrainsWriter(path, 5, 12, 13, 1e-3) as writer:
            writer.write(dense[:2])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.npz"]


def test_writer_checks_chunks(tmp_path, dense):
    with pytest.raises(InputError, match="expected \\[n, 12, 13\\]"):
        with SpikeTrainsWriter(tmp_path / "x.npz", 5, 12, 13, 1e-3) as writer:
            writer.write(dense[:, :, :12])
    with pytest.raises(InputError, match="either every chunk has labels or none"):
        with SpikeTrainsWriter(tmp_path / "x.npz", 5, 12, 13, 1e-3) as writer:
            writer.write(dense[:2], labels=[0, 1])
            writer.write(dense[2:])
    assert not (tmp_path / "x.npz").exists()


def test_from_dense_validation():
    with pytest.raises(InputError, match="binary"):
        SpikeTrains.from_dense(np.full((1, 2, 3), 0.5), 1e-3)
    with pytest.raises(InputError, match="NaN"):
        SpikeTrains.from_dense(np.full((1, 2, 3), np.nan), 1e-3)
    with pytest.raises(InputError, match="dt must be positive"):
        SpikeTrains.from_dense(np.zeros((1, 2, 3)), 0.0)
    with pytest.raises(InputError, match="image_shape"):
        SpikeTrains.from_dense(np.zeros((1, 2, 6)), 1e-3, image_shape=(2, 2))
    with pytest.raises(InputError, match="labels must be"):
        SpikeTrains.from_dense(np.zeros((2, 2, 3)), 1e-3, labels=[0])


def test_to_torch_layouts(dense):
    trains = make(dense)
    x = trains.to_torch([0, 2])
    assert x.shape == (12, 2, 13) and x.dtype == torch.float32
    assert torch.equal(x[:, 1], torch.from_numpy(dense[2]).float())
    y = trains.to_torch(time_major=False, dtype=torch.float64)
    assert y.shape == (5, 12, 13) and y.dtype == torch.float64


def test_brian_generator_emits_row_k_at_k_dt(dense):
    """A SpikeGeneratorGroup fed by to_brian emits exactly the spikes of the dense rows, row k at k*dt."""
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor

    trains = make(dense)
    indices, times = trains.to_brian(3)
    group = SpikeGeneratorGroup(trains.n_in, indices, times, dt=trains.dt)
    monitor = SpikeMonitor(group)
    net = Network(group, monitor)
    net.run(trains.steps * trains.dt, namespace={})
    rebuilt = np.zeros((trains.steps, trains.n_in), bool)
    steps = np.round(np.asarray(monitor.t) / trains.dt_seconds).astype(int)
    rebuilt[steps, np.asarray(monitor.i)] = True
    assert np.array_equal(rebuilt, dense[3]) and len(monitor.i) == dense[3].sum()


def test_concatenate(dense):
    a, b = make(dense)[:2], make(dense)[2:]
    both = SpikeTrains.concatenate([a, b])
    assert np.array_equal(both.dense(), dense) and both.labels.tolist() == [0, 1, 2, 1, 0]
    with pytest.raises(InputError, match="cannot concatenate"):
        SpikeTrains.concatenate([a, SpikeTrains.from_dense(dense[:, :5], 0.5e-3)])
