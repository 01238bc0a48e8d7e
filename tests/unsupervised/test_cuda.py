"""cuda_standalone: code generation (and, marked slow, compilation) on a machine without a GPU.

brian2cuda 1.0b1 needs Python >= 3.12 and brian2 2.10.1, so these tests run where the ``cuda``
extra is installed and skip elsewhere; the refusal without brian2cuda is tested everywhere else.
"""

import importlib.util

import numpy as np
import pytest

from bioSNN.errors import InputError
from bioSNN.unsupervised.backends import CudaOptions, configure_cuda
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState

HAVE_BRIAN2CUDA = importlib.util.find_spec("brian2cuda") is not None
needs_brian2cuda = pytest.mark.skipif(not HAVE_BRIAN2CUDA, reason="brian2cuda not installed (extra 'cuda')")
CFG = DiehlCookConfig(n_neurons=3, present_ms=100, rest_ms=50, slice_examples=2, w_total=8.0, seed=5)
H100 = CudaOptions(gpu_id=0, compute_capability=9.0)


@pytest.mark.skipif(HAVE_BRIAN2CUDA, reason="brian2cuda is installed")
def test_cuda_without_brian2cuda_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"needs brian2cuda: pip install 'bioSNN\[cuda\]'"):
        configure_cuda(H100, tmp_path)


def _sources(tmp_path, compile):
    from bioSNN.unsupervised.standalone import compiled_network

    rates = np.random.default_rng(0).integers(0, 256, size=(2, 16)) / 8.0 * 6
    with compiled_network(CFG, rates, DiehlCookState.initial(CFG, 16), tmp_path / "build", learning=True,
                          backend="cuda_standalone", cuda=H100, compile=compile):
        pass
    return tmp_path / "build"


@needs_brian2cuda
def test_cuda_code_generation_without_gpu(tmp_path):
    from brian2 import get_device

    build = _sources(tmp_path, compile=False)
    main = (build / "main.cu").read_text()
    assert 'std::getenv("BIOSNN_SEED")' in main and "set_seed(0ULL)" not in main
    makefile = (build / "makefile").read_text()
    assert "-arch=sm_90" in makefile and "-std=c++17" in makefile and "c++11" not in makefile
    names = {p.name for p in (build / "code_objects").iterdir()}
    assert any(name.startswith("input_exc_pre") for name in names)  # the plastic synapses' kernel
    assert any(name.startswith("controller_tick") for name in names)
    assert type(get_device()).__name__ == "RuntimeDevice"  # the device is handed back


@needs_brian2cuda
@pytest.mark.slow
def test_cuda_compiles_without_gpu(tmp_path):
    """Full nvcc build (minutes on 2 cores; needs nvcc and cuRAND: toolkit or the nvidia-curand wheel)."""
    from shutil import which

    if which("nvcc") is None:
        pytest.skip("nvcc not found")
    build = _sources(tmp_path, compile=True)
    assert (build / "main").is_file()
