"""Per-sample guidance: recorded from pixels only, sharded exactly, stored compactly, merged safely."""

import numpy as np
import pytest

from bioSNN.cli import main
from bioSNN.data import load_images
from bioSNN.equations import library
from bioSNN.errors import DataError, InputError
from bioSNN.unsupervised.sample_guidance import (SampleGuidance, merge_sample_guidance, parse_shard,
                                                 record_sample_guidance, shard_range)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    out = tmp_path_factory.mktemp("dc")
    assert main(["unsupervised", "--dataset", "mnist-subset", "--n-neurons", "5", "--n-train", "8", "--n-assign",
                 "8", "--guidance-per-class", "1", "--slice", "8", "--no-sample-traces", "--backend", "numpy",
                 "--no-progress", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def images():
    return load_images("mnist-subset", split="train", progress=False)[:5]


def test_shards_record_exactly_the_unsharded_rows(network, images):
    whole = record_sample_guidance(network, images.images, stride=50, chunk=2, backend="numpy", progress=False)
    assert whole.traces.shape == (5, 5, 14) and whole.traces.dtype == np.float16 and whole.complete
    assert whole.first_step == 49 and whole.stride == 50
    parts = [record_sample_guidance(network, images.images, stride=50, chunk=2, shard=(i, 2), backend="numpy",
                                    progress=False) for i in (1, 0)]
    assert [(p.start, p.stop) for p in parts] == [(2, 5), (0, 2)] and not parts[0].complete
    merged = merge_sample_guidance(parts)
    np.testing.assert_array_equal(merged.traces, whole.traces)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    assert np.ptp(whole.traces.astype(np.float32)) > 1  # the potentials move (mV)


def test_cli_never_reads_labels(network, tmp_path, monkeypatch):
    """The labels of the images are scrambled: the recorded guidance is the same, bit for bit."""
    import bioSNN.data as data_module
    from dataclasses import replace

    real = data_module.load_images
    outs = []
    for scramble in (False, True):
        def fake(*args, _scramble=scramble, **kwargs):
            data = real(*args, **kwargs)[:3]
            if _scramble:
                data = replace(data, labels=(data.labels + 1) % 10)
            return data

        monkeypatch.setattr(data_module, "load_images", fake)
        out = tmp_path / f"g{int(scramble)}.npz"
        assert main(["sample-guidance", str(network), "--dataset", "mnist-subset", "--stride", "100", "--backend",
                     "numpy", "--no-progress", "--out", str(out)]) == 0
        outs.append(SampleGuidance.load(out))
    np.testing.assert_array_equal(outs[0].traces, outs[1].traces)
    with np.load(tmp_path / "g0.npz") as z:
        assert "labels" not in z.files


def _part(start, stop, total=4, **kw):
    return SampleGuidance(np.full((stop - start, 2, 3), start, np.float16), np.zeros((stop - start, 2)), 5e-4,
                          library.lif_delta(), start=start, stop=stop, n_total=total, **kw)


def test_merge_refuses_gaps_overlaps_and_foreign_shards():
    assert merge_sample_guidance([_part(2, 4), _part(0, 2)]).complete
    with pytest.raises(DataError, match="gap"):
        merge_sample_guidance([_part(0, 1), _part(2, 4)])
    with pytest.raises(DataError, match="overlap"):
        merge_sample_guidance([_part(0, 3), _part(2, 4)])
    with pytest.raises(DataError, match="missing"):
        merge_sample_guidance([_part(0, 2)])
    with pytest.raises(DataError, match="stride"):
        merge_sample_guidance([_part(0, 2), _part(2, 4, stride=5)])


def test_file_round_trip_and_bad_input(tmp_path):
    g = _part(0, 4)
    back = SampleGuidance.load(g.save(tmp_path / "g.npz"))
    np.testing.assert_array_equal(back.traces, g.traces)
    assert back.traces.dtype == np.float16 and back.complete
    with pytest.raises(InputError, match="NaN"):
        SampleGuidance(np.full((1, 2, 3), np.nan, np.float32), np.zeros((1, 2)), 1e-3, library.lif_delta())
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="unreadable"):
        SampleGuidance.load(tmp_path / "bad.npz")
    with pytest.raises(DataError, match="not found"):
        SampleGuidance.load(tmp_path / "missing.npz")


def test_shard_arithmetic():
    for n in (1, 3, 7):
        ranges = [shard_range(300, (i, n), chunk=64) for i in range(n)]
        assert ranges[0][0] == 0 and ranges[-1][1] == 300
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
        assert all(start % 64 == 0 for start, _ in ranges)
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "a/b", "1"):
        with pytest.raises(InputError):
            parse_shard(bad)


@pytest.mark.slow  # three compiled builds (~1 min each)
def test_compiled_shards_record_exactly_the_unsharded_rows(network, images):
    """cpp_standalone: one build per call, one run per chunk seeded by the chunk's index, so shards
    recorded apart equal the unsharded recording bit for bit; the same shapes as the runtime targets'."""
    whole = record_sample_guidance(network, images.images, stride=50, chunk=2, backend="cpp_standalone",
                                   progress=False)
    runtime = record_sample_guidance(network, images.images, stride=50, chunk=2, backend="numpy", progress=False)
    assert whole.traces.shape == runtime.traces.shape and whole.traces.dtype == runtime.traces.dtype
    assert whole.counts.shape == runtime.counts.shape and whole.first_step == runtime.first_step
    parts = [record_sample_guidance(network, images.images, stride=50, chunk=2, shard=(i, 2),
                                    backend="cpp_standalone", progress=False) for i in (1, 0)]
    merged = merge_sample_guidance(parts)
    np.testing.assert_array_equal(merged.traces, whole.traces)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    assert np.ptp(whole.traces.astype(np.float32)) > 1


def test_merge_refuses_shards_of_two_networks_with_the_same_settings(network, images, tmp_path):
    """Two networks of one configuration (here: the same folder with one weight changed) give shards
    that differ only in their weights' digest; merging them was silently accepted before."""
    import shutil

    from bioSNN.unsupervised.artifacts import SavedNetwork, load_network, save_network

    other = tmp_path / "other"
    shutil.copytree(network, other)
    saved = load_network(other)
    arrays = dict(saved.arrays)
    arrays["w"] = arrays["w"].copy()
    arrays["w"][0, 0] += 0.01
    save_network(other, SavedNetwork(saved.preset, arrays, saved.assignments, saved.class_names, saved.model,
                                     {k: v for k, v in saved.meta.items()
                                      if k not in ("format", "version", "preset", "model", "fingerprint")}))
    a = record_sample_guidance(network, images.images, stride=100, chunk=2, shard=(0, 2), backend="numpy")
    b = record_sample_guidance(other, images.images, stride=100, chunk=2, shard=(1, 2), backend="numpy")
    same = record_sample_guidance(network, images.images, stride=100, chunk=2, shard=(1, 2), backend="numpy")
    assert {k: v for k, v in a.network.items() if k != "weights_sha256"} == \
           {k: v for k, v in b.network.items() if k != "weights_sha256"}
    assert merge_sample_guidance([a, same]).complete
    with pytest.raises(DataError, match="recorded from different networks"):
        merge_sample_guidance([a, b])
