"""Brian2 promises the same random numbers on its numpy and cython targets: the two runtime backends
must produce the same spikes and the same learned weights for the same seed."""

import numpy as np
import pytest

from bioSNN.errors import InputError
from bioSNN.unsupervised.backends import BACKENDS, codeobj_class
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig
from bioSNN.unsupervised.training import record_counts, train

CFG = DiehlCookConfig(n_neurons=3, present_ms=100, rest_ms=50, slice_examples=2, w_total=8.0, seed=11)


def test_numpy_and_cython_give_identical_spikes_and_weights():
    rates = np.random.default_rng(1).integers(0, 256, size=(4, 16)).astype(float) / 8.0 * 6
    learned = {b: train(CFG, rates, progress=False, codeobj_class=codeobj_class(b)) for b in ("numpy", "cython")}
    np.testing.assert_allclose(learned["numpy"].w, learned["cython"].w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(learned["numpy"].theta, learned["cython"].theta, rtol=1e-12)
    counts = {b: record_counts(CFG, rates, learned["numpy"], progress=False, codeobj_class=codeobj_class(b))
              for b in ("numpy", "cython")}
    assert counts["numpy"].sum() > 0 and np.array_equal(counts["numpy"], counts["cython"])


def test_unknown_backend_named_in_the_error():
    assert BACKENDS == ("cython", "numpy", "cpp_standalone", "cuda_standalone")
    with pytest.raises(InputError, match="unknown backend 'gpu'; available: cython, numpy, cpp_standalone"):
        codeobj_class("gpu")
