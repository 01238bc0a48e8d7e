"""The cpp_standalone backend: compiled once, per-slice seeds, exact resume, same learning as runtime
in distribution (not in spikes: Brian2's standalone random streams differ from numpy's)."""

import numpy as np
import pytest
from brian2 import NumpyCodeObject

from bioSNN.errors import ModelMismatchError
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
from bioSNN.unsupervised.standalone import SEED_ENV, _patch_cxx_standard, _patch_seed, record_standalone, train_standalone
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


def test_cuda_seed_line_and_cxx_standard_patched(tmp_path):
    main = tmp_path / "main.cu"
    main.write_text("int main() {\n        random_number_buffer.set_seed(0ULL);\n}\n")
    _patch_seed(main, "cuda_standalone")
    assert f'std::getenv("{SEED_ENV}")' in main.read_text() and "0ULL" not in main.read_text()
    makefile = tmp_path / "makefile"
    makefile.write_text('NVCCFLAGS = -I. -std=c++11 -arch=sm_90 -Xcompiler "-O3 -std=c++11"\n')
    _patch_cxx_standard(makefile, "c++17")
    assert makefile.read_text().count("-std=c++17") == 2 and "c++11" not in makefile.read_text()


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


@pytest.mark.slow  # a second compiled build (~1 min); the training test above compiles and runs the backend
def test_standalone_recording_counts_every_example(tmp_path, rates):
    state = train_standalone(CFG, rates, tmp_path / "build", progress=False)
    many = np.concatenate([rates, rates[::-1], np.zeros((1, 16))])  # 9 examples, slices of 2: five runs or more
    counts = record_standalone(CFG, many, state, tmp_path / "rec", progress=False).counts
    assert counts.shape == (9, 3) and counts.dtype == np.int64
    assert np.all(counts[:8].sum(axis=1) >= CFG.min_spikes)  # every bright example counted, after its repeats
    assert counts[8].sum() == 0  # the black image never fires, even at the capped intensity
    again = record_standalone(CFG, many, state, tmp_path / "rec", progress=False).counts
    assert np.array_equal(counts, again)  # seeded per run



def _compiled_against_runtime(tmp_path, strides):
    """Inputs at 0 Hz or far above 1 / dt fire deterministically, and ``min_spikes=0`` shows each
    example once: the compiled recording (one build, slices of 2) then equals the runtime one bit for bit."""
    from brian2 import NumpyCodeObject

    from bioSNN.unsupervised.training import record

    cfg = DiehlCookConfig(n_neurons=3, present_ms=50, rest_ms=25, tick_ms=25, slice_examples=2, w_total=8.0, seed=5,
                          min_spikes=0)
    rates = (np.random.default_rng(0).random((3, 16)) < 0.3) * 4000.0
    rates[1] = 0
    state = DiehlCookState.initial(cfg, 16)
    runtime = record(cfg, rates, state, traces=True, progress=False, codeobj_class=NumpyCodeObject)
    assert runtime.counts.sum() > 0 and np.ptp(runtime.traces) > 10  # a recording that could differ
    for stride in strides:
        compiled = record_standalone(cfg, rates, state, tmp_path / "rec", traces=True, stride=stride, progress=False)
        assert np.array_equal(compiled.counts, runtime.counts)
        assert compiled.traces.shape == (3, 3, 100 // stride) and compiled.traces.dtype == np.float32
        assert np.array_equal(compiled.traces, runtime.traces[:, :, stride - 1::stride]), stride


def test_compiled_traces_equal_the_runtime_recording(tmp_path):
    """Every 10th step: a monitor every 10 steps, read at the start of the next step."""
    _compiled_against_runtime(tmp_path, (10,))


@pytest.mark.slow  # another compiled build
def test_compiled_traces_every_step_equal_the_runtime_recording(tmp_path):
    """Every step, and every 3rd (3 does not divide a tick: sliced from every step)."""
    _compiled_against_runtime(tmp_path, (1, 3))
