"""The core promise: the torch step generated from a model reproduces Brian2 to float precision."""

import pytest
from brian2 import mV, ms

from bioSNN.equations import library
from bioSNN.equations.verify import DEFAULT_DRIVES, ONE_STEP_BOUND, WHOLE_RUN_BOUND, Drive, verify_model, worst

from .models_for_tests import TEST_MODELS

STEPS = 2000


def _cases():
    for factory in library.MODELS:
        model, drive = factory(), DEFAULT_DRIVES[factory.__name__]
        if factory is library.seed_wta_if:
            # shorter presentations, refractoriness and a stronger drive so that >= 100 winners
            # spike in 2,000 steps (one WTA event per presentation)
            model = factory(t_image=12 * ms, t_ref=4 * ms)
            drive = Drive(1 * ms, 0.3, -1.2 * mV, 6 * mV, drive.record)
        yield pytest.param(model, drive, id=factory.__name__)
    for model, drive in TEST_MODELS:
        yield pytest.param(model, drive, id=model.name)


@pytest.mark.parametrize("model,drive", list(_cases()))
def test_torch_reproduces_brian2(model, drive):
    report = verify_model(model, drive, steps=STEPS, n_in=30, n_out=6, seed=1)
    r64, r32 = report["float64"], report["float32"]
    assert r64["spikes"]["count"] >= 100, "the check needs at least 100 output spikes"
    for var, r in r64.items():
        if var == "spikes":
            continue
        assert r["range"] > 0, f"{var} never changed: the comparison would be vacuous"
        assert r["max_abs_error"] <= WHOLE_RUN_BOUND * r["range"], (var, r)
    assert r64["spikes"]["identical"]
    assert worst(report["one_step"]) <= ONE_STEP_BOUND and report["one_step"]["spikes"]["identical"], report["one_step"]
    assert r32["spikes"]["agreement"] >= 0.999
