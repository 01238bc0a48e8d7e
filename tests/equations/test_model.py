"""NeuronModel: serialisation round trip and fingerprint sensitivity."""

import json

import pytest
from brian2 import mV, ms

from bioSNN.equations import ModelError, NeuronModel, library


@pytest.mark.parametrize("factory", library.MODELS, ids=lambda f: f.__name__)
def test_round_trip_through_json(factory):
    model = factory()
    text = json.dumps(model.to_dict())
    again = NeuronModel.from_dict(json.loads(text))
    assert again.fingerprint() == model.fingerprint()
    assert again.to_dict() == model.to_dict()
    assert NeuronModel.from_dict(text) == model


def test_fingerprint_ignores_formatting_and_labels():
    a = library.lif_exp_synapse()
    b = a.replace(equations="  dv/dt = (v_rest - v)/tau_m + I/C_m : volt (unless refractory)  # membrane\n"
                            "dI/dt = -I/tau_syn : amp", name="renamed", description="other words")
    assert a.fingerprint() == b.fingerprint()


@pytest.mark.parametrize("change", [
    dict(equations="dv/dt = (v_rest - v)/tau_m + 2*I/C_m : volt (unless refractory)\ndI/dt = -I/tau_syn : amp"),
    dict(threshold="v >= v_th"),
    dict(reset="v = v_rest"),
    dict(refractory=3 * ms),
    dict(refractory=None),
    dict(on_pre="I -= w"),
    dict(method="euler"),
    dict(initial={"v": -60 * mV}),
    dict(per_step=[("v = v", "end")]),
])
def test_fingerprint_changes_with_dynamics(change):
    a = library.lif_exp_synapse()
    assert a.replace(**change).fingerprint() != a.fingerprint()


def test_fingerprint_changes_with_each_parameter():
    a = library.lif_exp_synapse()
    seen = {a.fingerprint()}
    for name, value in a.parameters.items():
        assert float(value) != 0
        seen.add(a.replace(parameters={**a.parameters, name: value * 1.001}).fingerprint())
    assert len(seen) == len(a.parameters) + 1


def test_from_dict_rejects_foreign_data():
    with pytest.raises(ModelError, match="format tag"):
        NeuronModel.from_dict({"equations": "dv/dt = -v/ms : volt"})
    d = library.lif_exp_synapse().to_dict()
    d["version"] = 99
    with pytest.raises(ModelError, match="newer"):
        NeuronModel.from_dict(d)


def test_model_is_immutable_and_reports_variables():
    m = library.diehl_cook_excitatory()
    with pytest.raises(AttributeError):
        m.method = "rk4"
    assert m.state_variables == ("ge", "gi", "theta", "timer", "v")
    assert "lif" in repr(library.lif_exp_synapse())
