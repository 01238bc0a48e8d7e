"""The cpp_standalone backend: compiled once, per-slice seeds, exact resume, same learning as runtime
in distribution (not in spikes: Brian2's standalone random streams differ from numpy's)."""

import numpy as np
import pytest
from brian2 import NumpyCodeObject

from bioSNN.errors import ModelMismatchError
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
from bioSNN.unsupervised.standalone import SEED_ENV, _patch_seed, train_standalone
from bioSNN.unsupervised.training import load_checkpoint, train

CFG = DiehlCookConfig(n_neurons=3, present_ms=100, rest_ms=50, slice_examples=2, w_total=8.0, seed=5)


@pytest.fixture(scope="module")
def rates():
    return np.random.default_rng(0).integers(0, 256, size=(4, 16)).astype(float) / 8.0 * 6


def test_seed_line_patched(tmp_path):
    main = tmp_path / "main.cpp"
    main.write_text("int main() {\n    brian::_random_generators[_i].seed(0L + _i);\n}\n")
    _patch_seed(main)
    code = main.read_text()
    assert f'std::getenv("{SEED_ENV}")' in code and "seed(0L" not in code
    main.write_text("no seed here")
    with pytest.raises(RuntimeError, match="expected one random-seed line"):
        _patch_seed(main)


def test_standalone_trains_reproducibly_and_resumes_exactly(tmp_path, rates):
    whole = train_standalone(CFG, rates, tmp_path / "build", progress=False, checkpoint=tmp_path / "a.npz")
    again = train_standalone(CFG, rates, tmp_path / "build", progress=False)
    assert np.array_equal(whole.w, again.w) and np.array_equal(whole.theta, again.theta)
    assert not np.allclose(whole.w, DiehlCookState.initial(CFG, 16).w)
    assert np.allclose(whole.w.sum(axis=0), CFG.w_total, rtol=0.05)
    ckpt = load_checkpoint(tmp_path / "a.npz")
    assert ckpt.backend == "cpp_standalone" and ckpt.examples_done == 4
    # interrupted after the first slice, then resumed: the uninterrupted weights
    train_standalone(CFG, rates, tmp_path / "build", progress=False, checkpoint=tmp_path / "b.npz", stop_after=2)
    assert load_checkpoint(tmp_path / "b.npz").examples_done == 2
    resumed = train_standalone(CFG, rates, tmp_path / "build", progress=False, checkpoint=tmp_path / "b.npz",
                               resume=True)
    assert np.array_equal(resumed.w, whole.w) and np.array_equal(resumed.theta, whole.theta)
    # backends do not mix checkpoints
    with pytest.raises(ModelMismatchError, match="cpp_standalone backend"):
        train(CFG, rates, checkpoint=tmp_path / "a.npz", resume=True, progress=False, codeobj_class=NumpyCodeObject)
