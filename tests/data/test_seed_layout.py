"""The SAR seed project's Spikes/Labels layout: round trips (.npy and .pkl), the seed's own
conventions, and errors that name the file."""

import joblib
import numpy as np
import pytest

from bioSNN.data import read_seed_layout, write_seed_layout
from bioSNN.encoding import rate_code, receptive_field
from bioSNN.errors import DataError, InputError


@pytest.fixture
def sample():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(4, 16, 16)).astype(np.uint8)
    trains = rate_code(receptive_field(images), T=70)
    guidance = rng.normal(0, 30, size=(4, 3, 70))
    guidance[np.arange(4), [0, 2, 1, 2]] += 500  # a clear winner per sample
    return trains, guidance


@pytest.mark.parametrize("fmt", ["npy", "pkl"])
def test_round_trip(tmp_path, sample, fmt):
    trains, guidance = sample
    dest = write_seed_layout(tmp_path, "train", trains, guidance, fmt=fmt)
    assert dest == tmp_path / "Train"
    assert sorted(p.name for p in (dest / "Spikes").iterdir()) == [f"{k}.{fmt}" for k in range(4)]
    if fmt == "pkl":  # pickles can run code: read only when trusted
        with pytest.raises(DataError, match="trust_pickle=True"):
            read_seed_layout(tmp_path, "train")
    back = read_seed_layout(tmp_path, "train", trust_pickle=fmt == "pkl")
    assert np.array_equal(back.spikes.packed, trains.packed)
    assert np.allclose(back.guidance, guidance.astype(np.float32))
    assert back.spikes.labels.tolist() == [0, 2, 1, 2]
    assert back.spikes.image_shape == (16, 16) and back.names == ("0", "1", "2", "3")


def test_files_follow_seed_conventions(tmp_path, sample):
    trains, guidance = sample
    write_seed_layout(tmp_path, "test", trains, guidance)
    spikes = np.load(tmp_path / "Test" / "Spikes" / "2.npy")
    labels = np.load(tmp_path / "Test" / "Labels" / "2.npy")
    assert spikes.shape == (256, 71) and spikes.dtype == np.float64 and labels.shape == (3, 70)
    assert not spikes[:, 0].any()  # column 0 = time 0, silent
    # row = pixel in row-major order, column = time step
    assert np.array_equal(spikes.T.astype(bool), trains.dense(2)[0])


def test_reads_legacy_pickles_written_by_joblib(tmp_path):
    (tmp_path / "Train" / "Spikes").mkdir(parents=True)
    (tmp_path / "Train" / "Labels").mkdir(parents=True)
    for k in (10, 2):  # natural order: 2 before 10
        s = np.zeros((9, 5)); s[k % 9, 3] = 1
        joblib.dump(s, tmp_path / "Train" / "Spikes" / f"{k}.pkl")
        joblib.dump(np.full((2, 4), float(k)), tmp_path / "Train" / "Labels" / f"{k}.pkl")
    back = read_seed_layout(tmp_path, "train", trust_pickle=True)
    assert back.names == ("2", "10")
    assert back.guidance[:, 0, 0].tolist() == [2.0, 10.0]
    assert back.spikes.image_shape == (3, 3)


def test_export_refuses_to_clobber_and_replaces_atomically(tmp_path, sample):
    trains, guidance = sample
    write_seed_layout(tmp_path, "train", trains, guidance)
    with pytest.raises(InputError, match="exists"):
        write_seed_layout(tmp_path, "train", trains[:2], guidance[:2])
    write_seed_layout(tmp_path, "train", trains[:2], guidance[:2], overwrite=True)
    assert len(read_seed_layout(tmp_path, "train").names) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Train"]  # no temp or backup folders left


def test_failed_export_leaves_nothing(tmp_path, sample, monkeypatch):
    trains, guidance = sample
    calls = {"n": 0}
    real_save = np.save

    def failing_save(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_seed_layout(tmp_path, "train", trains, guidance)
    assert list(tmp_path.iterdir()) == []


def test_export_validates(tmp_path, sample):
    trains, guidance = sample
    with pytest.raises(InputError, match=r"guidance must be \[N=4, n_out, T=70\]"):
        write_seed_layout(tmp_path, "train", trains, guidance[:, :, :69])
    bad = guidance.copy(); bad[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        write_seed_layout(tmp_path, "train", trains, bad)


def _layout(tmp_path, spikes, labels):
    for sub, arrays in (("Spikes", spikes), ("Labels", labels)):
        (tmp_path / "Train" / sub).mkdir(parents=True, exist_ok=True)
        for k, a in enumerate(arrays):
            np.save(tmp_path / "Train" / sub / f"{k}.npy", a)


def test_errors_name_the_file(tmp_path):
    ok_s, ok_l = np.zeros((9, 5)), np.zeros((2, 4))
    _layout(tmp_path, [ok_s, np.full((9, 5), 0.5)], [ok_l, ok_l])
    with pytest.raises(DataError, match=r"Spikes/1.npy: spike array is not binary"):
        read_seed_layout(tmp_path, "train")
    _layout(tmp_path, [ok_s, ok_s], [ok_l, np.zeros((2, 5))])
    with pytest.raises(DataError, match=r"Labels/1.npy: guidance has 5 columns.*so 4 expected"):
        read_seed_layout(tmp_path, "train")
    _layout(tmp_path, [ok_s, np.zeros((8, 5))], [ok_l, ok_l])
    with pytest.raises(DataError, match=r"Spikes/1.npy: spikes of shape \(8, 5\)"):
        read_seed_layout(tmp_path, "train")
    _layout(tmp_path, [ok_s, ok_s], [ok_l, ok_l])
    (tmp_path / "Train" / "Spikes" / "1.npy").unlink()
    with pytest.raises(DataError, match=r"Labels/1.npy: no matching spike file"):
        read_seed_layout(tmp_path, "train")
    (tmp_path / "Train" / "Labels" / "0.npy").write_bytes(b"corrupt")
    with pytest.raises(DataError, match=r"Labels/0.npy: cannot read"):
        read_seed_layout(tmp_path, "train")


def test_unmatched_spike_files_refused(tmp_path):
    ok_s, ok_l = np.zeros((9, 5)), np.zeros((2, 4))
    _layout(tmp_path, [ok_s, ok_s, ok_s], [ok_l])
    with pytest.raises(DataError, match=r"Spikes: 2 spike file\(s\) without a guidance file.*e.g. 1.npy"):
        read_seed_layout(tmp_path, "train")


@pytest.mark.parametrize("bad", ["../escape", "/abs", ".hidden", "a/../b", "", "a\\b"])
def test_bad_sample_names_refused(tmp_path, sample, bad):
    trains, guidance = sample
    names = [bad, "x", "y", "z"]
    with pytest.raises(InputError, match="bad sample name"):
        write_seed_layout(tmp_path / "out", "train", trains, guidance, names=names)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_nested_names_round_trip(tmp_path, sample):
    trains, guidance = sample
    write_seed_layout(tmp_path, "train", trains, guidance, names=["a/1", "a/2", "b/1", "b/10"])
    assert read_seed_layout(tmp_path, "train").names == ("a/1", "a/2", "b/1", "b/10")


def test_exported_folder_has_usual_permissions(tmp_path, sample):
    import os

    trains, guidance = sample
    dest = write_seed_layout(tmp_path, "train", trains, guidance)
    mask = os.umask(0); os.umask(mask)
    assert dest.stat().st_mode & 0o777 == 0o777 & ~mask


def test_spikes_without_labels(tmp_path):
    (tmp_path / "Test" / "Spikes").mkdir(parents=True)
    np.save(tmp_path / "Test" / "Spikes" / "0.npy", np.zeros((4, 3)))
    back = read_seed_layout(tmp_path, "test")
    assert back.guidance is None and back.spikes.labels is None and back.spikes.shape == (1, 3, 4)
