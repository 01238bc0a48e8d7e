"""build_layer gives Brian2 objects that behave like Brian2's own: collected by the magic run(),
unique names, Equations accepted; library calls leave global generators, environment and prefs alone."""

import os

import numpy as np
from brian2 import Equations, NumpyCodeObject, SpikeMonitor, mV, ms, prefs, run, start_scope

from bioSNN.equations import NeuronModel, library
from bioSNN.equations.brian import build_layer


def test_magic_run_collects_a_layer_and_its_lateral_synapses():
    start_scope()
    layer = build_layer(library.seed_wta_if(), 3, 1 * ms, codeobj_class=NumpyCodeObject)
    layer.run_regularly("v += 12*mV", dt=1 * ms, codeobj_class=NumpyCodeObject)  # a steady drive
    spikes = SpikeMonitor(layer, codeobj_class=NumpyCodeObject)
    run(60 * ms, namespace={})
    assert spikes.num_spikes > 0  # the magic network found the layer (before: 0 spikes)
    assert layer.lateral is not None and layer.lateral in layer.contained_objects
    assert layer.lateral.name == f"{layer.name}_lateral"


def test_default_names_are_unique_and_a_layer_without_lateral_synapses_runs_alone():
    start_scope()
    a = build_layer(library.lif_delta(), 2, 1 * ms, codeobj_class=NumpyCodeObject)
    b = build_layer(library.lif_delta(), 2, 1 * ms, codeobj_class=NumpyCodeObject)
    assert a.name != b.name and a.lateral is None
    a.v = -40 * mV
    run(5 * ms, namespace={})


def test_a_brian2_equations_object_is_accepted():
    ref = library.lif_delta()
    model = NeuronModel(equations=Equations(ref.equations), threshold=ref.threshold, reset=ref.reset,
                        refractory=ref.refractory, on_pre=ref.on_pre, parameters=ref.parameters, initial=ref.initial,
                        name=ref.name)
    assert model.brian_equations == ref.brian_equations
    assert model.fingerprint() == ref.fingerprint()


def test_library_calls_leave_global_generators_environment_and_prefs_alone():
    import random

    import torch

    from bioSNN.unsupervised.diehl_cook import DiehlCookConfig
    from bioSNN.unsupervised.training import train

    np.random.seed(11)
    random.seed(11)
    torch.manual_seed(11)
    before = (np.random.get_state()[1].copy(), random.getstate(), torch.random.get_rng_state().clone())
    env, gcc = dict(os.environ), list(prefs.codegen.cpp.extra_compile_args_gcc)
    config = DiehlCookConfig(n_neurons=2, present_ms=100, rest_ms=50, slice_examples=2, seed=5)
    train(config, np.full((2, 9), 20.0), progress=False, codeobj_class=NumpyCodeObject)
    assert np.array_equal(np.random.get_state()[1], before[0])
    assert random.getstate() == before[1]
    assert torch.equal(torch.random.get_rng_state(), before[2])
    assert dict(os.environ) == env and list(prefs.codegen.cpp.extra_compile_args_gcc) == gcc
