"""Any Brian2 model: unit names, inf, functions, per-neuron constants, TimedArrays, shared and
constant-over-dt variables, a renamed weight, several pathways and delays; named errors for the rest."""

import numpy as np
import pytest
import torch
from brian2 import Function, Mohm, TimedArray, mV, ms, nA, nS, pF

from bioSNN.equations import NeuronModel, TorchStep, compare, simulate
from bioSNN.equations.verify import ONE_STEP_BOUND, one_step_error
from bioSNN.errors import InputError, ModelError
from bioSNN.supervised.layers import NeuronLayer, over_time

LIF_I = """
dv/dt = (-v + I*Mohm)/(10*ms) : volt
dI/dt = -I/(5*ms) : amp
"""


def _inputs(T=600, n_in=10, n_out=3, p=0.1, scale=20.0, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((T, n_in)) < p, rng.uniform(0, scale, (n_in, n_out))


def _agree(model, x, w, dt, record, dtype=torch.float64, delays=None, bound=1e-9):
    ref = simulate(model, x, w, dt, backend="brian2", record=record, delays=delays)
    got = simulate(model, x, w, dt, backend="torch", record=record, dtype=dtype, delays=delays)
    report = compare(ref, got)
    assert report["spikes"]["count"] >= 20, "the comparison needs spikes"
    assert report["spikes"]["identical"], report
    for var in record:
        assert report[var]["range"] > 0, f"{var} never changed"
        assert report[var]["relative"] <= bound, (var, report[var])
    return ref, got


def test_unit_names_inf_and_brian2_functions_in_subexpressions():
    model = NeuronModel(
        name="units_and_functions",
        equations=LIF_I + """
            v_scaled = 2*(mV**-1)*v*mV : volt
            v_clipped = clip(v, -inf*mV, 8*mV) : volt
            mix = sinh(v/mV/100) + cosh(v/mV/100) + log10(abs(v/mV) + 1) + sign(v) + floor(v/mV) + ceil(v/mV) + int(v/mV) + arctan(v/mV) + exprel(v/mV) + sqrt(abs(v/mV)) + timestep(t, dt) : 1
        """,
        threshold="v_clipped >= 8*mV", reset="v = 0*mV", on_pre="I += w", method="euler")
    x, w = _inputs()
    _agree(model, x, w * nA, 0.1 * ms, ("v", "v_scaled", "v_clipped", "mix"))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_per_neuron_time_constant_matches_brian2(dtype):
    taus = [5, 10, 20, 40] * ms
    model = NeuronModel(name="per_neuron_tau", equations="dv/dt = -v/tau : volt\ntau : second (constant)",
                        threshold="v > 10*mV", reset="v = 0*mV", on_pre="v += w", initial={"tau": taus})
    assert model.per_neuron == ("tau",)
    x, w = _inputs(T=1000, n_out=1, scale=4.0)
    w = np.repeat(w, 4, axis=1)  # the same input to every neuron: only tau differs
    ref, got = _agree(model, x, w * mV, 0.1 * ms, ("v",), dtype=dtype,
                      bound=1e-9 if dtype == torch.float64 else 1e-6)
    rates = ref["spikes"].sum(0)
    assert rates[0] < rates[-1], "a longer tau integrates more: the per-neuron values are in use"


def test_per_neuron_value_given_in_parameters_is_an_initial_value():
    a = NeuronModel(equations="dv/dt = -v/tau : volt\ntau : second (constant)", on_pre="v += w",
                    threshold="v > 10*mV", reset="v = 0*mV", parameters={"tau": [5, 10] * ms})
    b = NeuronModel(equations="dv/dt = -v/tau : volt\ntau : second (constant)", on_pre="v += w",
                    threshold="v > 10*mV", reset="v = 0*mV", initial={"tau": [5, 10] * ms})
    assert a == b and "tau" not in a.parameters
    with pytest.raises(InputError, match="gives 2 per-neuron values of 'tau', but the layer has n=3"):
        TorchStep(a, 0.1 * ms).initial_state(1, 3)
    with pytest.raises(InputError, match="2 entries .* n=3 neurons"):
        simulate(a, np.zeros((5, 1), bool), np.ones((1, 3)) * mV, 0.1 * ms)


@pytest.mark.parametrize("two_d", [False, True], ids=["1d", "2d"])
def test_timed_array_parameter_matches_brian2(two_d):
    values = np.array([[0.5, 1.0, 1.5], [2.0, 0.0, 1.0], [1.0, 3.0, 0.5], [0.0, 1.0, 2.0]]) * nA
    ta = TimedArray(values if two_d else values[:, 0], dt=3.3 * ms)  # not a multiple of dt: Brian2's upsampling
    call = "stim(t, i)" if two_d else "stim(t)"
    model = NeuronModel(name="timed", equations=f"dv/dt = (-v + (I + {call})*Mohm)/(10*ms) : volt\n"
                        "dI/dt = -I/(5*ms) : amp", threshold="v > 10*mV", reset="v = 0*mV", on_pre="I += w",
                        method="euler", parameters={"stim": ta})
    x, w = _inputs(T=200, p=0.02)
    _agree(model, x, w * nA, 0.1 * ms, ("v",))
    again = NeuronModel.from_dict(model.to_dict())
    assert again == model
    assert model != model.replace(parameters={"stim": TimedArray(values[:, 0] * 2, dt=3.3 * ms)})


def test_shared_and_constant_over_dt_variables():
    model = NeuronModel(
        name="shared_const", method="euler",
        equations="""dv/dt = -v/(10*ms) + s/ms + c*mV/ms : volt
                     s : volt (shared)
                     c = v/(20*mV) : 1 (constant over dt)
                     c2 = 2*c : 1""",
        threshold="v > 10*mV", reset="v = 0*mV", on_pre="v += w", initial={"s": 0.1 * mV},
        per_step=[("s = s*0.999", "before_groups")])
    x, w = _inputs(scale=5.0)
    _agree(model, x, w * mV, 0.1 * ms, ("v", "s", "c", "c2"))


def test_renamed_weight_lets_adex_keep_its_own_w():
    adex = NeuronModel(
        name="adex", method="euler", weight="w_syn", on_pre="v += w_syn",
        equations="""dv/dt = (gL*(EL - v) + gL*DeltaT*exp((v - VT)/DeltaT) - w)/C : volt
                     dw/dt = (a*(v - EL) - w)/tauw : amp""",
        threshold="v > 0*mV", reset="v = EL; w += b",
        parameters=dict(gL=30 * nS, EL=-70.6 * mV, DeltaT=2 * mV, VT=-50.4 * mV, C=281 * pF, a=4 * nS,
                        tauw=144 * ms, b=0.0805 * nA),
        initial={"v": -70.6 * mV})
    x, w = _inputs(T=1500, p=0.2, scale=8.0)
    _agree(adex, x, w * mV, 0.1 * ms, ("v", "w"))
    assert NeuronModel.from_dict(adex.to_dict()) == adex
    with pytest.raises(ModelError, match="weight='w_syn'"):
        adex.replace(weight="w", on_pre="v += w")


def _coba():
    from .models_for_tests import coba_two_pathways

    return coba_two_pathways(5 * ms)


@pytest.mark.parametrize("delays", ["none", "homogeneous", "per_synapse"])
def test_two_pathways_with_delays_match_brian2(delays):
    model = _coba()
    rng = np.random.default_rng(0)
    T = 1500
    x = {"exc": rng.random((T, 20)) < 0.05, "inh": rng.random((T, 10)) < 0.05}
    w = {"exc": rng.uniform(0, 20, (20, 4)) * nS, "inh": rng.uniform(0, 30, (10, 4)) * nS}
    d = {"none": None,
         "homogeneous": {"exc": 1.5 * ms, "inh": 0 * ms},
         "per_synapse": {"exc": 0.25 * ms, "inh": rng.uniform(0, 3, (10, 4)) * ms}}[delays]
    ref, _ = _agree(model, x, w, 0.1 * ms, ("v", "ge", "gi"), delays=d)
    one = one_step_error(model, x, w, 0.1 * ms, delays=d)
    assert one["spikes"]["identical"] and max(one[k]["relative"] for k in ("v", "ge", "gi")) <= ONE_STEP_BOUND
    if delays == "homogeneous":  # the first excitatory spike reaches ge 15 steps late
        first = int(np.argmax(x["exc"].any(1)))
        assert ref["ge"][first + 14].max() == 0 and ref["ge"][first + 15].max() > 0


def test_coba_layer_trains_both_weight_matrices():
    model = _coba()
    layer = NeuronLayer(model, 0.1 * ms, 4, dtype=torch.float64)
    assert layer.drive_units == {"exc": "nS", "inh": "nS"}
    fc_e, fc_i = torch.nn.Linear(20, 4, bias=False).double(), torch.nn.Linear(10, 4, bias=False).double()
    with torch.no_grad():
        fc_e.weight.uniform_(0, 20)
        fc_i.weight.uniform_(0, 10)
    x_e = (torch.rand(400, 2, 20) < 0.08).double()
    x_i = (torch.rand(400, 2, 10) < 0.05).double()
    out = layer({"exc": over_time(fc_e, x_e), "inh": over_time(fc_i, x_i)})
    assert out.spikes.sum() > 5
    out.spikes.sum().backward()
    assert fc_e.weight.grad.abs().sum() > 0 and fc_i.weight.grad.abs().sum() > 0
    with pytest.raises(InputError, match="pathways"):
        layer(over_time(fc_e, x_e))


def test_pathway_model_round_trips_and_keeps_single_pathway_fingerprints():
    model = _coba()
    assert NeuronModel.from_dict(model.to_dict()) == model
    assert model != model.replace(on_pre={"exc": "ge += w", "inh": "gi += 2*w"})
    single = NeuronModel(equations="dv/dt = -v/(10*ms) : volt", on_pre="v += w")
    assert "weight" not in single.to_dict() and single.pathways == {"input": "v += w"}
    with pytest.raises(ModelError, match="has 2 input pathways"):
        model.sole_on_pre()


BASE = dict(equations="dv/dt = -v/(10*ms) : volt", threshold="v > 10*mV", reset="v = 0*mV", on_pre="v += w")


@pytest.mark.parametrize("change,message", [
    (dict(equations="dv/dt = -v/(10*ms) + rand()*mV/ms : volt", method="euler"), "draws random numbers"),
    (dict(reset="v = rand()*mV"), "draws random numbers"),
    (dict(per_step=[("v += poisson(1)*mV", "before_groups")]), "draws random numbers"),
    (dict(equations="dv/dt = -v/(10*ms) + mV*xi/sqrt(ms) : volt", method="euler"), "stochastic equations"),
    (dict(on_pre="v += w*(1 - v/mV)"), "which on_pre itself changes"),
    (dict(on_pre="v = w"), "only '\\+=' and '-=' are supported"),
    (dict(on_pre="v += w*w/mV"), "linear in w"),
    (dict(initial={"v": "rand()*mV"}), "not a string"),
    (dict(parameters={"f": Function(lambda x: x, arg_units=[1], return_unit=1)}), "only TimedArray"),
    (dict(equations="dv/dt = -v/(10*ms) : volt\nx : 1 (linked)"), "linked"),
    (dict(reset="v = foo(1)*mV"), "uses 'foo'"),
    (dict(parameters={"tau": [1, 2] * ms}), "declare it in the equations"),
    (dict(parameters={"ta": TimedArray([1, np.nan] * mV, dt=1 * ms)}), "NaN"),
    (dict(equations="dv/dt = -v/(10*ms) : volt\nw : volt"), "weight='w_syn'"),
    (dict(on_pre={"1x": "v += w"}), "must be an identifier"),
    (dict(on_pre={}), "non-empty dict"),
], ids=["rand", "rand_reset", "poisson", "xi", "on_pre_reads_target", "on_pre_assign", "on_pre_nonlinear",
        "initial_string", "function_parameter", "linked", "unknown_function", "array_parameter",
        "timed_array_nan", "weight_clash", "pathway_name", "no_pathway"])
def test_unsupported_features_give_named_errors(change, message):
    with pytest.raises(ModelError, match=message):
        TorchStep(NeuronModel(name="unsupported", **{**BASE, **change}), 0.1 * ms)
