"""Guidance files: round trip, model and dt checks, export to the seed layout."""

import json

import numpy as np
import pytest

from bioSNN.data import read_seed_layout
from bioSNN.encoding import SpikeTrains
from bioSNN.equations import library
from bioSNN.errors import DataError, InputError, ModelMismatchError
from bioSNN.unsupervised.guidance import Guidance


@pytest.fixture
def guidance():
    rng = np.random.default_rng(0)
    traces = rng.normal(-60, 5, size=(4, 3, 70)).astype(np.float32)
    labels = np.array([0, 1, 1, 0])
    templates = np.stack([traces[labels == c].mean(axis=0) for c in range(2)])
    return Guidance(templates, np.array([0, 1, -1]), ("a", "b"), 1e-3, library.seed_wta_if(), traces, labels,
                    {"encoder": "rf-rate"}, {"n_out": 3})


def test_round_trip(tmp_path, guidance):
    path = guidance.save(tmp_path / "g.npz")
    back = Guidance.load(path)
    assert np.array_equal(back.templates, guidance.templates) and np.array_equal(back.traces, guidance.traces)
    assert back.labels.tolist() == [0, 1, 1, 0] and back.class_names == ("a", "b")
    assert back.model == guidance.model and back.encoder == {"encoder": "rf-rate"} and back.T == 70
    with np.load(path) as z:  # numpy and json alone
        meta = json.loads(str(z["meta"]))
        assert meta["fingerprint"] == library.seed_wta_if().fingerprint() and meta["units"] == "mV"


def test_mismatches_refused(tmp_path, guidance):
    path = guidance.save(tmp_path / "g.npz")
    Guidance.load(path, expect_model=library.seed_wta_if(), expect_dt=1e-3)
    with pytest.raises(ModelMismatchError, match="not 'diehl_cook_excitatory'"):
        Guidance.load(path, expect_model=library.diehl_cook_excitatory())
    base = library.seed_wta_if()
    other = base.replace(parameters={**base.parameters, "D": base.parameters["D"] * 2})  # same name, other leak
    with pytest.raises(ModelMismatchError, match="not 'seed_wta_if'"):
        Guidance.load(path, expect_model=other)
    with pytest.raises(ModelMismatchError, match="dt = 1 ms, not 0.5 ms"):
        Guidance.load(path, expect_dt=0.5e-3)


def test_tampered_model_refused(tmp_path, guidance):
    path = guidance.save(tmp_path / "g.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["model"]["threshold"] = "v > 0*mV"
    arrays["meta"] = np.asarray(json.dumps(meta))
    np.savez(path, **arrays)
    with pytest.raises(DataError, match="does not match its stored fingerprint"):
        Guidance.load(path)


def test_validation(guidance):
    with pytest.raises(InputError, match="NaN"):
        Guidance(np.full((2, 3, 4), np.nan), np.zeros(3), ("a", "b"), 1e-3, library.seed_wta_if())
    with pytest.raises(InputError, match="assignments"):
        Guidance(np.zeros((2, 3, 4)), np.zeros(2), ("a", "b"), 1e-3, library.seed_wta_if())
    assert guidance.per_sample([1, 0]).shape == (2, 3, 70)
    with pytest.raises(InputError, match="no per-sample traces"):
        Guidance(np.zeros((2, 3, 4)), np.zeros(3), ("a", "b"), 1e-3, library.seed_wta_if()).per_sample()


def test_export_to_seed_layout_via_cli(tmp_path, guidance):
    from bioSNN.cli import main

    g_path = guidance.save(tmp_path / "g.npz")
    spikes = SpikeTrains.from_dense(np.zeros((3, 71, 9), bool), 1e-3, labels=[1, 0, 1])
    spikes.save(tmp_path / "s.npz")
    assert main(["export-seed", str(tmp_path / "s.npz"), "--root", str(tmp_path / "seed"), "--guidance",
                 str(g_path)]) == 0
    back = read_seed_layout(tmp_path / "seed", "train")
    assert np.allclose(back.guidance, guidance.templates[[1, 0, 1]])
