"""Errors a user can act on: each names the problem."""

import numpy as np
import pytest
import torch
from brian2 import mV, ms, nA, second

from bioSNN.equations import InputError, ModelError, NeuronModel, TorchStep, library, simulate

LIF = dict(equations="dv/dt = (v_rest - v)/tau : volt", threshold="v > v_th", reset="v = v_rest",
           on_pre="v += w", parameters={"v_rest": -65 * mV, "tau": 10 * ms, "v_th": -50 * mV})


def lif(**changes):
    return NeuronModel(**{**LIF, **changes})


def test_unknown_variable_in_reset():
    with pytest.raises(ModelError, match="'u'.*unknown variable"):
        lif(reset="v = v_rest; u += 1*mV")


def test_missing_parameter():
    params = dict(LIF["parameters"])
    del params["tau"]
    with pytest.raises(ModelError, match="'tau'.*missing parameter"):
        lif(parameters=params)


def test_dimensionally_wrong_parameter():
    with pytest.raises(ModelError, match="dimension"):
        TorchStep(lif(parameters={**LIF["parameters"], "tau": 10 * mV}), 0.1 * ms)


def test_method_cannot_integrate():
    model = library.diehl_cook_excitatory().replace(method="exact")
    with pytest.raises(ModelError, match="cannot integrate.*'exact'"):
        TorchStep(model, 0.5 * ms)


def test_bad_syntax_and_initial_values():
    with pytest.raises(ModelError, match="cannot parse"):
        lif(equations="dv/dt = (v_rest - v/tau : volt")
    with pytest.raises(ModelError, match="not a state variable"):
        lif(initial={"x": 1 * mV})
    with pytest.raises(ModelError, match="dimension"):
        lif(initial={"v": 1 * nA})
    with pytest.raises(ModelError, match="finite"):
        lif(parameters={**LIF["parameters"], "tau": float("nan")})


def test_on_pre_must_be_additive_and_linear():
    with pytest.raises(ModelError, match="only '\\+=' and '-='"):
        TorchStep(lif(on_pre="v = w"), 0.1 * ms)
    with pytest.raises(ModelError, match="linear in w"):
        TorchStep(lif(on_pre="v += w*w/mV"), 0.1 * ms)
    with pytest.raises(ModelError, match="which on_pre itself changes"):
        TorchStep(lif(on_pre="v += w*v/mV"), 0.1 * ms)


def test_random_numbers_are_refused_by_torch():
    with pytest.raises(ModelError, match="RNG|noise"):
        TorchStep(lif(equations="dv/dt = (v_rest - v)/tau + sigma*xi*tau**-0.5 : volt",
                      parameters={**LIF["parameters"], "sigma": 1 * mV}), 0.1 * ms)


def test_schedule_and_per_step_slots_are_checked():
    with pytest.raises(ModelError, match="not a Brian2 slot"):
        lif(per_step=[("v = v", "sometime")])
    with pytest.raises(ModelError, match="shared with the layer"):
        lif(per_step=[("v = v", "groups")])
    with pytest.raises(ModelError, match="schedule key"):
        lif(schedule={"state_updater": "end"})


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_simulate_input_errors(backend):
    model = lif()
    x = np.zeros((10, 3), bool)
    w = np.zeros((3, 2))
    with pytest.raises(InputError, match=r"\[T, n_in\]"):
        simulate(model, x[None], w, 0.1 * ms, backend=backend)
    with pytest.raises(InputError, match="boolean"):
        simulate(model, x + 0.5, w, 0.1 * ms, backend=backend)
    with pytest.raises(InputError, match="n_in=3"):
        simulate(model, x, np.zeros((4, 2)), 0.1 * ms, backend=backend)
    with pytest.raises(InputError, match="NaN"):
        simulate(model, x, np.full((3, 2), np.nan), 0.1 * ms, backend=backend)
    for bad_dt in (0 * ms, -1 * ms, 3 * mV, float("nan")):
        with pytest.raises(InputError, match="dt"):
            simulate(model, x, w, bad_dt, backend=backend)
    with pytest.raises(InputError, match="dimension"):
        simulate(model, x, w * nA, 0.1 * ms, backend=backend)
    with pytest.raises(InputError, match="cannot record"):
        simulate(model, x, w, 0.1 * ms, backend=backend, record=("u",))
    with pytest.raises(InputError, match="no time steps"):
        simulate(model, x[:0], w, 0.1 * ms, backend=backend)
    with pytest.raises(InputError, match="backend"):
        simulate(model, x, w, 0.1 * ms, backend="nest")
    assert simulate(model, x, w * 1.0 * mV / mV, 1e-4 * second, backend=backend)["v"].shape == (10, 2)


def test_torch_step_input_errors():
    step = TorchStep(lif(), 0.1 * ms, dtype=torch.float64)
    state = step.initial_state(2, 3)
    w = torch.zeros(4, 3, dtype=torch.float64)
    with pytest.raises(InputError, match="4 rows"):
        step(state, torch.zeros(2, 5, dtype=torch.bool), w)
    with pytest.raises(InputError, match="NaN"):
        step(state, torch.zeros(2, 4, dtype=torch.bool), torch.full((4, 3), float("nan"), dtype=torch.float64))
    with pytest.raises(InputError, match="columns"):
        step(state, torch.zeros(2, 4, dtype=torch.bool), torch.zeros(4, 5, dtype=torch.float64))
    with pytest.raises(InputError, match="batch"):
        step(state, torch.zeros(3, 4, dtype=torch.bool), w)
    with pytest.raises(InputError, match="boolean"):
        step(state, torch.full((2, 4), 0.3), w)
    with pytest.raises(InputError, match=r"\[T, batch, n_in\]"):
        step.run(torch.zeros(2, 4, dtype=torch.bool), w)
    with pytest.raises(InputError, match="not a parameter"):
        TorchStep(lif(), 0.1 * ms, params={"nope": 1.0})
    with pytest.raises(InputError, match="dtype"):
        TorchStep(lif(), 0.1 * ms, dtype=torch.int32)
