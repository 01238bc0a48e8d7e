"""Ready-made neuron models. Each function returns a fresh :class:`NeuronModel`.

Keyword arguments override parameters (``lif_exp_synapse(tau_m=10*ms)``), so a variant is a new
model with a new fingerprint, never a mutated shared object.

>>> from bioSNN.equations import library
>>> [f.__name__ for f in library.MODELS]
['lif_exp_synapse', 'lif_delta', 'diehl_cook_excitatory', 'diehl_cook_inhibitory', 'seed_wta_if']
"""

from __future__ import annotations

import os
from typing import Any, Callable

from brian2 import mV, ms, pF

from ..errors import DataError, MissingDataError
from .model import NeuronModel, PerStep

__all__ = ["lif_exp_synapse", "lif_delta", "diehl_cook_excitatory", "diehl_cook_inhibitory", "seed_wta_if", "MODELS", "get"]


def _params(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise TypeError(f"unknown parameters {sorted(unknown)}; this model has {sorted(defaults)}")
    return {**defaults, **overrides}


def lif_exp_synapse(**parameters: Any) -> NeuronModel:
    r"""Current-based leaky integrate-and-fire neuron with an exponentially decaying synaptic current.

    .. math::
        \tau_m \frac{dv}{dt} = v_{rest} - v + \frac{\tau_m}{C_m} I, \qquad
        \tau_{syn} \frac{dI}{dt} = -I

    Spike when :math:`v > v_{th}`, then :math:`v \leftarrow v_{reset}` and 2 ms refractoriness
    (v is clamped). An input spike adds ``w`` (amp) to ``I``. Integrated exactly.
    """
    p = _params(dict(v_rest=-70 * mV, v_reset=-70 * mV, v_th=-55 * mV, tau_m=20 * ms, tau_syn=5 * ms,
                     C_m=250 * pF, t_ref=2 * ms), parameters)
    return NeuronModel(
        name="lif_exp_synapse",
        description="current-based LIF, exponential synaptic current",
        equations="""
            dv/dt = (v_rest - v)/tau_m + I/C_m : volt (unless refractory)
            dI/dt = -I/tau_syn : amp
        """,
        threshold="v > v_th",
        reset="v = v_reset",
        refractory="t_ref",
        on_pre="I += w",
        method="exact",
        parameters=p,
        initial={"v": p["v_rest"]},
    )


def lif_delta(**parameters: Any) -> NeuronModel:
    r"""Leaky integrate-and-fire neuron with instantaneous (delta) synapses: the hidden neuron of deep nets.

    .. math:: \tau_m \frac{dv}{dt} = v_{rest} - v

    integrated exactly. One step, in Brian2's schedule: decay :math:`v \leftarrow v_{rest} + (v - v_{rest})
    e^{-dt/\tau_m}`; spike if :math:`v > v_{th}`; add this step's input ``w`` (volt); reset
    :math:`v \leftarrow v_{reset}` if spiked. No refractoriness. The update is the discrete LIF of snnTorch,
    Norse and SpikingJelly (``decay_input=False``) with decay factor :math:`e^{-dt/\tau_m}`, but the
    threshold test comes *before* the input of the step (Brian2 delivers synaptic input after it), so an
    input can make the neuron spike one step later than in those libraries at the earliest.
    """
    p = _params(dict(v_rest=-65 * mV, v_reset=-65 * mV, v_th=-55 * mV, tau_m=10 * ms), parameters)
    return NeuronModel(
        name="lif_delta",
        description="LIF, instantaneous synapses, no refractoriness",
        equations="dv/dt = (v_rest - v)/tau_m : volt",
        threshold="v > v_th",
        reset="v = v_reset",
        on_pre="v += w",
        method="exact",
        parameters=p,
        initial={"v": p["v_rest"]},
    )


def diehl_cook_excitatory(**parameters: Any) -> NeuronModel:
    r"""Excitatory neuron of Diehl & Cook (2015): conductance-based LIF with adaptive threshold.

    .. math::
        \tau_m \frac{dv}{dt} = (v_{rest} - v) + g_e (E_{exc} - v) + g_i (E_{inh} - v), \quad
        \frac{dg_e}{dt} = -\frac{g_e}{\tau_{ge}}, \quad \frac{dg_i}{dt} = -\frac{g_i}{\tau_{gi}}, \quad
        \frac{d\theta}{dt} = -\frac{\theta}{\tau_\theta}

    Spike when :math:`v > \theta + v_{th}` (``v_th`` = -72 mV = -52 mV - 20 mV offset) and the timer
    exceeds ``t_block`` (5 ms); reset ``v = v_reset; theta += theta_plus; timer = 0``; 5 ms
    refractoriness. An input spike adds ``w`` (dimensionless conductance) to ``ge``. Constants as in
    the original code (dt 0.5 ms intended); integrated with forward Euler, as in Brian2's own port
    (``exact`` cannot integrate ``g*v``).

    The timer runs at ``timer_rate``. The original (Brian 1) writes ``dtimer/dt = 100.0 : ms``, which
    Brian 1 integrates in SI units: the timer gains 50 ms per 0.5 ms step, so the 5 ms condition holds
    one step after a spike and only the refractoriness limits the rate (``timer_rate=100``, the
    default). Brian2 ports (and Brian2's own example) read it as 100 ms per second, ``0.1``, which
    blocks a neuron for 50 ms after each spike; ``timer_rate=0.1`` reproduces them. On MNIST with
    100 neurons the original's reading learns sharper weights and classifies better (README).
    """
    p = _params(dict(v_rest=-65 * mV, v_reset=-65 * mV, v_th=-72 * mV, E_exc=0 * mV, E_inh=-100 * mV,
                     tau_m=100 * ms, tau_ge=1 * ms, tau_gi=2 * ms, tau_theta=1e7 * ms, theta_plus=0.05 * mV,
                     t_block=5 * ms, t_ref=5 * ms, timer_rate=100.0), parameters)
    return NeuronModel(
        name="diehl_cook_excitatory",
        description="Diehl & Cook 2015 excitatory neuron (adaptive threshold theta)",
        equations="""
            dv/dt = ((v_rest - v) + ge*(E_exc - v) + gi*(E_inh - v)) / tau_m : volt (unless refractory)
            dge/dt = -ge/tau_ge : 1
            dgi/dt = -gi/tau_gi : 1
            dtheta/dt = -theta/tau_theta : volt
            dtimer/dt = timer_rate : second
        """,
        threshold="(v > theta + v_th) and (timer > t_block)",
        reset="v = v_reset; theta += theta_plus; timer = 0*ms",
        refractory="t_ref",
        on_pre="ge += w",
        method="euler",
        parameters=p,
        initial={"v": p["v_rest"] - 40 * mV, "theta": 20 * mV},
    )


def diehl_cook_inhibitory(**parameters: Any) -> NeuronModel:
    r"""Inhibitory neuron of Diehl & Cook (2015).

    .. math:: \tau_m \frac{dv}{dt} = (v_{rest} - v) + g_e (E_{exc} - v) + g_i (E_{inh} - v)

    with ``v_rest`` -60 mV, ``E_inh`` -85 mV, ``tau_m`` 10 ms, threshold -40 mV, reset -45 mV,
    2 ms refractoriness; an input spike adds ``w`` to ``ge``.
    """
    p = _params(dict(v_rest=-60 * mV, v_reset=-45 * mV, v_th=-40 * mV, E_exc=0 * mV, E_inh=-85 * mV,
                     tau_m=10 * ms, tau_ge=1 * ms, tau_gi=2 * ms, t_ref=2 * ms), parameters)
    return NeuronModel(
        name="diehl_cook_inhibitory",
        description="Diehl & Cook 2015 inhibitory neuron",
        equations="""
            dv/dt = ((v_rest - v) + ge*(E_exc - v) + gi*(E_inh - v)) / tau_m : volt (unless refractory)
            dge/dt = -ge/tau_ge : 1
            dgi/dt = -gi/tau_gi : 1
        """,
        threshold="v > v_th",
        reset="v = v_reset",
        refractory="t_ref",
        on_pre="ge += w",
        method="euler",
        parameters=p,
        initial={"v": p["v_rest"] - 40 * mV},
    )


def seed_wta_if(**parameters: Any) -> NeuronModel:
    r"""The discrete integrate-and-fire layer of the seed SAR project (seeds_spec 1.3, 2.4, 6.4).

    Per step ``t`` (dt = 1 ms intended), for every output neuron ``j``:

    1. input: :math:`P_j \mathrel{+}= \sum_i W_{ij} s_i(t)` unless refractory or inhibited;
    2. leak: :math:`P_j \mathrel{-}= D` if :math:`P_j > P_{rest}` (``run_regularly`` after the input);
    3. winner-take-all, once per presentation: at the first step where some
       :math:`P_j > P_{th}`, the winner :math:`\arg\max_j P_j` (lowest index on ties) spikes, is reset
       to :math:`P_{reset}` and is refractory for ``t_ref`` steps (no input while
       :math:`t \le t_{spike} + t_{ref}`); every other neuron is set to :math:`P_{in}` (-500 mV) and
       frozen for the rest of the presentation;
    4. the recorded value is the one after all of this (the guidance semantics of seeds_spec 1.3).

    The threshold is the state variable ``th``, which starts at ``P_th`` and has no dynamics: a fixed
    threshold unless the network sets it per image (seeds_spec 2.5, ``WTAConfig(threshold="per_image")``).

    Every ``t_image`` (71 steps: step 0 without input, then 70 steps) all neurons return to rest and
    the WTA is re-armed, so many presentations run in one Brian2 ``run``. Lateral all-to-all
    synapses compute ``n_above`` (how many neurons beat this one) and ``n_cross`` (how many are above
    threshold) as summed variables; the threshold runs after the leak (``schedule``).
    """
    p = _params(dict(P_rest=0 * mV, P_th=80 * mV, P_reset=0 * mV, P_in=-500 * mV, D=5 * mV, t_ref=20 * ms,
                     t_image=71 * ms), parameters)
    return NeuronModel(
        name="seed_wta_if",
        description="seed SAR project: discrete IF, constant conditional leak, one-shot WTA, refractoriness",
        equations="""
            v : volt
            th : volt
            inhibited : boolean
            wta_done : boolean
            n_above : 1
            n_cross : 1
        """,
        threshold="v > th and n_above < 0.5 and not inhibited",
        reset="v = P_reset",
        refractory="t_ref + dt",
        on_pre="v += w*int(not_refractory)*int(not inhibited)",
        method="exact",
        parameters=p,
        initial={"v": p["P_rest"], "th": p["P_th"]},
        per_step=[
            PerStep(
                "new_image = timestep(t, dt) % timestep(t_image, dt) == 0\n"
                "v = v*int(not new_image) + P_rest*int(new_image)\n"
                "inhibited = inhibited and not new_image\n"
                "wta_done = wta_done and not new_image\n"
                "lastspike = lastspike*int(not new_image) - 1e4*second*int(new_image)",
                "before_groups",
                0,
            ),
            PerStep("v = v - D*int(v > P_rest)", "after_synapses", 0),
            PerStep(
                "lose = n_cross > 0.5 and not wta_done and lastspike != t\n"
                "v = v*int(not lose) + P_in*int(lose)\n"
                "inhibited = inhibited or lose\n"
                "wta_done = wta_done or n_cross > 0.5",
                "after_resets",
                0,
            ),
        ],
        lateral="""
            n_above_post = int(v_pre > v_post or (v_pre == v_post and i < j)) : 1 (summed)
            n_cross_post = int(v_pre > th_pre) : 1 (summed)
        """,
        schedule={"lateral": ("after_synapses", 1), "threshold": ("after_synapses", 2)},
    )


#: The library, in the order the CLI lists it.
MODELS: tuple[Callable[..., NeuronModel], ...] = (
    lif_exp_synapse,
    lif_delta,
    diehl_cook_excitatory,
    diehl_cook_inhibitory,
    seed_wta_if,
)


def get(name: Any, **parameters: Any) -> NeuronModel:
    """The model ``name`` names: a library model (see :data:`MODELS`), a path to a JSON file such as
    ``biosnn show NAME`` writes (a user's own model, e.g. AdEx; its stored fingerprint is checked), or a
    :class:`NeuronModel` itself (returned as given, with ``parameters`` replaced).

    Example:
        >>> get("lif_delta").name, get(get("lif_delta")).name
        ('lif_delta', 'lif_delta')
    """
    if isinstance(name, NeuronModel):
        return name.replace(parameters={**name.parameters, **parameters}) if parameters else name
    if isinstance(name, (str, os.PathLike)) and str(name).endswith(".json"):
        return _from_file(name, parameters)
    for factory in MODELS:
        if factory.__name__ == name:
            return factory(**parameters)
    raise KeyError(f"no library model {name!r}; available: {[f.__name__ for f in MODELS]} "
                   "(or give a model JSON file, e.g. from `biosnn show NAME`)")


def _from_file(path: Any, parameters: dict[str, Any]) -> NeuronModel:
    """A model from its JSON description (``NeuronModel.to_dict``), fingerprint checked when stored."""
    import json

    try:
        data = json.loads(open(path, encoding="utf-8").read())
    except FileNotFoundError:
        raise MissingDataError(f"{path}: neuron model file not found") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise DataError(f"{path}: unreadable neuron model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: not a neuron model (a JSON object as `biosnn show` writes expected)")
    stored = data.pop("fingerprint", None)
    try:
        model = NeuronModel.from_dict(data)
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a neuron model ({exc})") from exc
    if stored is not None and stored != model.fingerprint():
        raise DataError(f"{path}: the model does not match its stored fingerprint (edited by hand? drop the "
                        "'fingerprint' entry to accept the edit)")
    return model.replace(parameters={**model.parameters, **parameters}) if parameters else model
