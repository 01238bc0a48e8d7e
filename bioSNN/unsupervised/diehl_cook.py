"""Diehl & Cook (2015) in Brian2: 784 Poisson inputs -> N excitatory (adaptive threshold) <-> N inhibitory.

The network runs many examples per Brian2 ``run``: every image's rates sit in one ``TimedArray``
indexed by the example number, and a one-neuron *controller* group advances through them with a
``run_regularly`` every ``tick`` (50 ms), so no ``run()`` and no recompilation is paid per example.
Per example (as in the original code):

* ``present`` (350 ms) of Poisson input at ``pixel / 8 * intensity`` Hz, then ``rest`` (150 ms) without;
* if the excitatory layer fired fewer than ``min_spikes`` (5) spikes while the input was on, the same
  image is shown again with ``intensity + 1``; otherwise the next image, intensity back to 2;
* while learning, before each example every excitatory neuron's input weights are rescaled to sum
  to ``w_total`` (78), and STDP (:func:`~bioSNN.unsupervised.stdp.diehl_cook_stdp`) and the adaptive
  threshold are on; while recording, both are off and theta is fixed.

Training proceeds in *slices* of ``slice_examples`` examples. At the start of every slice the
transient state (membrane potentials, conductances, timers, STDP traces) is reset to its initial
values and Brian2's random generator is seeded with ``(seed, slice)``: this is the documented state
reset that makes a checkpoint at a slice boundary resume to exactly the weights of an uninterrupted
run. (Between examples inside a slice the state decays during the rest, as in the original.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from brian2 import Hz, Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray, linked_var, mV, ms
from brian2 import second, volt

from ..equations import library
from ..equations.brian import build_layer, connect_all
from ..equations.model import NeuronModel
from ..errors import InputError
from ..evaluations import MAX_DRAWS
from ..flagtypes import NON_NEGATIVE, POSITIVE, ranged
from .presets import Preset
from .stdp import STDPRule, diehl_cook_stdp, plastic_on_pre

__all__ = ["DiehlCookConfig", "DiehlCookState", "excitatory_model", "build_network", "check_rates", "CONTROLLER_CODE"]

N_INPUT_DEFAULT = 784


@dataclass(frozen=True)
class DiehlCookConfig:
    """Constants of the network (times in ms; the original's values by default)."""

    n_neurons: int = 100
    dt_ms: float = 0.5
    present_ms: float = 350.0
    rest_ms: float = 150.0
    tick_ms: float = 50.0
    intensity: float = 2.0
    min_spikes: int = 5
    max_intensity: float = 32.0  # not in the original (unbounded): caps the repeats of an image that never excites
    w_total: float = 78.0
    w_init_scale: float = 0.3
    exc_to_inh: float = 10.4
    inh_to_exc: float = 17.0
    delay_max_ms: float = 10.0
    #: rate of the excitatory spike-block timer: 100 (the original code as Brian 1 ran it, no block
    #: beyond the refractoriness) or 0.1 (Brian2 ports: 50 ms block); see ``diehl_cook_excitatory``
    timer_rate: float = 100.0
    seed: int = 0
    slice_examples: int = 200
    #: if set, every image is scaled so that its pixels sum to this before the rates are drawn
    #: (``pixel / 8 * intensity`` Hz as usual): the same total input drive for every image. MNIST
    #: digits sum to about 26,000 on average; SAR chips, whose energy is spread over the clutter,
    #: need it (see :func:`~bioSNN.unsupervised.pipeline.rates_of`)
    input_total: float | None = None
    #: learning rates of the trace STDP (:func:`~bioSNN.unsupervised.stdp.diehl_cook_stdp`; the
    #: original's values). A data set of a few hundred images shown for a few epochs gives each neuron
    #: far fewer wins than MNIST's 60,000 digits, and learns only with larger ones
    nu_pre: float = 0.0001
    nu_post: float = 0.01

    def __post_init__(self) -> None:
        positive = ("dt_ms", "present_ms", "rest_ms", "tick_ms", "intensity", "max_intensity", "w_total",
                    "w_init_scale", "timer_rate")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not (np.isfinite(value) and value > 0):
                raise InputError(f"{name} must be a positive number, got {value!r}")
        for name in ("exc_to_inh", "inh_to_exc", "delay_max_ms"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a non-negative number, got {value!r}")
        if self.min_spikes < 0:
            raise InputError(f"min_spikes must be non-negative, got {self.min_spikes}")
        if self.input_total is not None and not (np.isfinite(self.input_total) and self.input_total > 0):
            raise InputError(f"input_total must be a positive number, got {self.input_total}")
        for name in ("present_ms", "rest_ms"):
            ratio = getattr(self, name) / self.tick_ms
            if abs(ratio - round(ratio)) > 1e-9 or ratio < 1:
                raise InputError(f"{name} must be a positive multiple of tick_ms ({self.tick_ms})")
        if not (np.isfinite(self.nu_pre) and np.isfinite(self.nu_post) and self.nu_pre >= 0 and self.nu_post >= 0):
            raise InputError(f"nu_pre and nu_post must be non-negative, got {self.nu_pre}, {self.nu_post}")
        if self.n_neurons < 1 or self.slice_examples < 1:
            raise InputError("n_neurons and slice_examples must be positive")

    @property
    def example_ms(self) -> float:
        return self.present_ms + self.rest_ms

    @property
    def ticks_per_example(self) -> int:
        """Controller ticks in one presentation plus rest."""
        return int(round(self.example_ms / self.tick_ms))

    @property
    def ticks_on(self) -> int:
        """Controller ticks while the input is on."""
        return int(round(self.present_ms / self.tick_ms))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DiehlCookState:
    """What learning changes, as plain arrays: ``w`` ``[n_input, N]``, ``delay_ms`` ``[n_input, N]``,
    ``theta`` ``[N]`` in volts."""

    w: np.ndarray
    delay_ms: np.ndarray
    theta: np.ndarray

    @classmethod
    def initial(cls, config: DiehlCookConfig, n_input: int = N_INPUT_DEFAULT) -> "DiehlCookState":
        """Weights ``(U + 0.01) * 0.3`` and delays ``U * 10 ms`` from ``numpy.random.default_rng(seed)``,
        theta 20 mV (the original's initialisation)."""
        rng = np.random.default_rng(config.seed)
        w = (rng.random((n_input, config.n_neurons)) + 0.01) * config.w_init_scale
        delay = rng.random((n_input, config.n_neurons)) * config.delay_max_ms
        theta = np.full(config.n_neurons, float(20 * mV))
        return cls(w, delay, theta)


def excitatory_model(learning: bool, config: DiehlCookConfig | None = None,
                     neuron: NeuronModel | None = None) -> NeuronModel:
    """The excitatory neuron as it runs: ``neuron`` (a user's model; default
    :func:`~bioSNN.equations.library.diehl_cook_excitatory` with the config's ``timer_rate``), and
    while recording the same model with ``theta_plus = 0`` and ``tau_theta = 1e30 ms`` (where it has
    those parameters), so theta neither grows nor decays.

    A user's model must define ``v``, ``ge`` (increased by ``w`` in its ``on_pre``), ``gi`` and
    ``theta``, as the network connects and checkpoints them.

    Example:
        >>> excitatory_model(False).parameters["theta_plus"]
        0. * volt
    """
    model = neuron or library.diehl_cook_excitatory(timer_rate=(config or DiehlCookConfig()).timer_rate)
    if learning:
        return model
    frozen = {name: value for name, value in (("theta_plus", 0 * mV), ("tau_theta", 1e30 * ms))
              if name in model.parameters}
    return model.replace(parameters={**model.parameters, **frozen})


#: The controller's per-tick logic (runs at the start of every tick, before anything else). Once
#: ``idx`` reaches ``stop_idx`` it idles with ``block`` held at 0: no input, no decisions, and a
#: later run with a higher ``stop_idx`` starts example ``idx`` afresh, so a run longer than its
#: examples (a compiled run of a whole slice after repeats) neither skips nor re-shows anything.
CONTROLLER_CODE = """
ended = int(block >= n_blocks) * int(idx < stop_idx)
repeat = ended * int(count < min_spikes) * int(intensity + 1 <= max_intensity)
idx = idx + ended * (1 - repeat)
intensity = intensity + ended * (repeat + (1 - repeat) * (start_intensity - intensity))
repeats = repeats + repeat
count = count * (1 - ended)
block = block * (1 - ended)
on = int(block < n_on) * int(idx < stop_idx)
new_example = int(block == 0)
block = (block + 1) * int(idx < stop_idx)
"""


@dataclass
class BuiltNetwork:
    """Brian2 objects of one Diehl & Cook network."""

    net: Network
    rule: STDPRule
    exc: NeuronGroup
    inh: NeuronGroup
    inp: NeuronGroup
    controller: NeuronGroup
    input_synapses: Synapses
    exc_spikes: SpikeMonitor
    exc_v: StateMonitor | None
    exc_model: NeuronModel
    ticks: StateMonitor | None = None
    input_spikes: SpikeMonitor | None = None


def check_rates(rates: Any) -> np.ndarray:
    """``rates`` (``[n_examples, n_input]``, Hz) as float64, refusing NaN, infinite and negative rates.

    Example:
        >>> check_rates([[0.0, 31.875]]).shape
        (1, 2)
    """
    from ..arrays import to_numpy

    arr = to_numpy(rates, "rates").astype(np.float64, copy=False)
    if arr.ndim != 2:
        raise InputError(f"rates must be [n_examples, n_input], got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise InputError(f"rates contain {int(arr.size - np.count_nonzero(np.isfinite(arr)))} NaN or infinite values")
    if arr.size and arr.min() < 0:
        raise InputError(f"rates must be non-negative (Hz), found {arr.min():g}")
    return arr


def build_network(config: DiehlCookConfig, rates: np.ndarray, state: DiehlCookState, *, learning: bool,
                  rule: STDPRule | None = None, record_v: bool = False, record_ticks: bool = False,
                  codeobj_class: Any = None, neuron: NeuronModel | None = None, v_stride: int = 1,
                  record_input: bool = False) -> BuiltNetwork:
    """Brian2 objects for presenting ``rates`` (``[n_examples, n_input]``, Hz at intensity 1: pixel / 8)
    one after the other, learning or not. ``record_v`` records the excitatory potentials at the end of
    every step (``v_stride=1``) or, every ``v_stride`` steps, at the start of step ``k * v_stride``
    (that is the end of step ``k * v_stride - 1``, see :func:`monitor_row`),
    ``record_ticks`` the controller's ``idx`` and ``new_example`` at every tick (what
    :func:`~bioSNN.unsupervised.training.presentation_counts` needs), ``record_input`` the input spikes
    (what the torch twin, :mod:`bioSNN.supervised.twin`, is fed to reproduce this run)."""
    rule = rule or diehl_cook_stdp(nu_pre=config.nu_pre, nu_post=config.nu_post)
    rates = check_rates(rates)
    n_examples, n_input = rates.shape
    n = config.n_neurons
    expected = {"w": (n_input, n), "delay_ms": (n_input, n), "theta": (n,)}
    for name, shape in expected.items():
        value = getattr(state, name)
        if np.shape(value) != shape:
            raise InputError(f"state.{name} has shape {np.shape(value)}; {n_input} inputs and "
                             f"{n} neurons need {shape}")
        if not np.all(np.isfinite(value)):
            bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
            raise InputError(f"state.{name} holds {bad} NaN or infinite values (a corrupt or diverged network)")
    if np.any(np.asarray(state.delay_ms) < 0):
        raise InputError("state.delay_ms must be non-negative")
    dt = config.dt_ms * ms
    exc_model = excitatory_model(learning, config, neuron)
    missing = {"v", "ge", "gi", "theta"} - set(exc_model.state_variables)
    if missing:
        raise InputError(f"the excitatory model {exc_model.name!r} lacks {sorted(missing)}, which the network uses")
    exc_model = exc_model.replace(equations=exc_model.equations + "\nwsum : 1")
    exc = build_layer(exc_model, n, dt, name="exc", codeobj_class=codeobj_class)
    inh = build_layer(library.diehl_cook_inhibitory(), n, dt, name="inh", codeobj_class=codeobj_class)
    exc.theta = state.theta * volt
    # fixed names: regenerated standalone code stays identical, so make recompiles nothing
    stim = TimedArray(np.ascontiguousarray(rates, dtype=np.float64) * Hz, dt=1 * second, name="stimulus")
    controller = NeuronGroup(
        1, "idx : 1\nintensity : 1\non : 1\ncount : 1\nblock : 1\nrepeats : 1\nnew_example : 1\nstop_idx : 1",
        dt=dt, name="controller", codeobj_class=codeobj_class,
        namespace={"n_blocks": config.ticks_per_example, "n_on": config.ticks_on, "min_spikes": config.min_spikes,
                   "max_intensity": config.max_intensity, "start_intensity": config.intensity})
    controller.intensity = config.intensity
    controller.stop_idx = n_examples  # the standalone backend lowers it to stop at a slice's end
    controller.run_regularly(CONTROLLER_CODE, dt=config.tick_ms * ms, when="start", order=-10, name="controller_tick",
                             codeobj_class=codeobj_class)
    inp = NeuronGroup(n_input, "rate = stim(idx * second, i) * intensity * on : Hz\n"
                               "idx : 1 (linked)\nintensity : 1 (linked)\non : 1 (linked)",
                      threshold="rand() < rate * dt", dt=dt, name="input", namespace={"stim": stim},
                      codeobj_class=codeobj_class)
    zeros = np.zeros(n_input, dtype=int)
    inp.idx = linked_var(controller, "idx", index=zeros)
    inp.intensity = linked_var(controller, "intensity", index=zeros)
    inp.on = linked_var(controller, "on", index=zeros)
    s_in = Synapses(inp, exc, "w : 1\nplastic : 1 (shared)\n" + rule.model,
                    on_pre=f"{plastic_on_pre(exc_model)}; {rule.on_pre}", on_post=rule.on_post,
                    namespace=dict(rule.parameters), dt=dt, name="input_exc", codeobj_class=codeobj_class)
    connect_all(s_in, n_input, n)
    s_in.w = state.w.ravel()
    s_in.delay = state.delay_ms.ravel() * ms
    s_in.plastic = 1.0 if learning else 0.0
    s_ei = Synapses(exc, inh, on_pre="ge_post += w_ei", namespace={"w_ei": config.exc_to_inh}, dt=dt,
                    name="exc_inh", codeobj_class=codeobj_class)
    s_ei.connect(j="i")
    s_ie = Synapses(inh, exc, on_pre="gi_post += w_ie", namespace={"w_ie": config.inh_to_exc}, dt=dt,
                    name="inh_exc", codeobj_class=codeobj_class)
    s_ie.connect(condition="i != j")
    counter = Synapses(exc, controller, on_pre="count_post += on_post", dt=dt, name="spike_counter",
                       codeobj_class=codeobj_class)
    counter.connect()
    objects: list[Any] = [exc, inh, controller, inp, s_in, s_ei, s_ie, counter]
    if learning:  # normalise each neuron's input weights to w_total at the start of every example
        exc.run_regularly("wsum = 0", dt=config.example_ms * ms, when="start", order=0, name="norm_reset",
                          codeobj_class=codeobj_class)
        s_in.run_regularly("wsum_post += w", dt=config.example_ms * ms, when="start", order=1, name="norm_sum",
                           codeobj_class=codeobj_class)
        s_in.run_regularly("w = w * w_total / wsum_post", dt=config.example_ms * ms, when="start", order=2,
                           name="norm_scale", codeobj_class=codeobj_class)
        s_in.namespace["w_total"] = config.w_total
    spikes = SpikeMonitor(exc, name="exc_spikes", codeobj_class=codeobj_class)
    objects.append(spikes)
    v_mon = None
    if record_v:
        v_mon = (StateMonitor(exc, "v", record=True, when="end", name="exc_v", codeobj_class=codeobj_class)
                 if v_stride == 1 else
                 StateMonitor(exc, "v", record=True, when="start", dt=v_stride * dt, name="exc_v",
                              codeobj_class=codeobj_class))
        objects.append(v_mon)
    ticks = None
    if record_ticks:
        ticks = StateMonitor(controller, ["idx", "new_example"], record=0, dt=config.tick_ms * ms, when="start",
                             order=-5, name="ticks", codeobj_class=codeobj_class)
        objects.append(ticks)
    input_spikes = None
    if record_input:
        input_spikes = SpikeMonitor(inp, name="input_spikes", codeobj_class=codeobj_class)
        objects.append(input_spikes)
    return BuiltNetwork(Network(*objects, name="diehl_cook"), rule, exc, inh, inp, controller, s_in, spikes, v_mon,
                        exc_model, ticks, input_spikes)


def monitor_row(step: np.ndarray, v_stride: int = 1) -> np.ndarray:
    """The row of ``build_network(..., record_v=True, v_stride=v_stride)``'s potential monitor that holds
    ``v`` at the end of run step ``step`` (which, for ``v_stride > 1``, must be ``-1`` modulo it).

    Example:
        >>> monitor_row(np.array([9, 19]), 10).tolist(), monitor_row(np.array([9]), 1).tolist()
        ([1, 2], [9])
    """
    step = np.asarray(step)
    if v_stride == 1:
        return step
    if np.any((step + 1) % v_stride):
        raise InputError(f"steps {step} are not recorded by a monitor every {v_stride} steps")
    return (step + 1) // v_stride


def read_state(built: BuiltNetwork, n_input: int, n: int) -> DiehlCookState:
    """Copy the learned arrays out of the Brian2 objects."""
    s = built.input_synapses  # connected with connect_all: row-major [n_input, n]
    return DiehlCookState(np.asarray(s.w[:], dtype=np.float64).reshape(n_input, n),
                          (np.asarray(s.delay[:]) / float(ms)).reshape(n_input, n),
                          np.asarray(built.exc.theta[:], dtype=np.float64))


def reset_transients(built: BuiltNetwork) -> None:
    """Initial values for everything that is not learned (the slice-boundary state reset)."""
    for group, model in ((built.exc, built.exc_model), (built.inh, library.diehl_cook_inhibitory())):
        group.v = model.initial.get("v", 0 * volt)
        group.ge = 0
        group.gi = 0
        if "lastspike" in group.variables:
            group.lastspike = -1e4 * second
    if "timer" in built.exc.variables:
        built.exc.timer = 0 * ms
    for trace in built.rule.state_variables:
        setattr(built.input_synapses, trace, 0)


#: controller variables saved in checkpoints
CONTROLLER_VARIABLES = ("idx", "intensity", "on", "count", "block", "repeats", "new_example")


def controller_state(built: BuiltNetwork) -> dict[str, float]:
    return {name: float(getattr(built.controller, name)[0]) for name in CONTROLLER_VARIABLES}


def set_controller_state(built: BuiltNetwork, values: dict[str, float]) -> None:
    for name, value in values.items():
        getattr(built.controller, name)[:] = value


def examples_done(config: DiehlCookConfig, ctrl: dict[str, float]) -> int:
    """Examples finished once the pending end-of-example decision (made at the next tick) is taken."""
    ended = ctrl["block"] >= config.ticks_per_example
    repeat = ended and ctrl["count"] < config.min_spikes and ctrl["intensity"] + 1 <= config.max_intensity
    return int(ctrl["idx"]) + int(ended and not repeat)


# ------------------------------------------------------------------ the preset (biosnn unsupervised)
def _train_preset(data: Any, out: Any, *, options: dict[str, Any], val: Any, n_neurons: int | None, seed: int,
                  epochs: int, slice: int, shuffle: bool, backend: str, cuda: Any, resume: bool, overwrite: bool,
                  progress: bool) -> dict[str, Any]:
    from .pipeline import train_diehl_cook

    o = options
    config = DiehlCookConfig(n_neurons=n_neurons or 100, seed=seed, slice_examples=slice,
                             timer_rate=100.0 if o["timer_rate"] is None else o["timer_rate"],
                             input_total=o["input_total"],
                             **{k: o[k] for k in ("nu_pre", "nu_post") if o[k] is not None})
    return train_diehl_cook(data, out, config=config, n_train=o["n_train"], val_set=val, draws=o["draws"] or 1,
                            shuffle=shuffle, n_assign=o["n_assign"] or 10000,
                            guidance_per_class=o["guidance_per_class"] or 10, backend=backend, cuda=cuda,
                            sample_traces=not o["no_sample_traces"], epochs=epochs, resume=resume,
                            overwrite=overwrite, progress=progress,
                            neuron=library.get(o["neuron_model"]) if o["neuron_model"] else None)


def _evaluate_preset(directory: Any, data: Any, *, backend: str | None, cuda: Any, progress: bool,
                     draws: int | None) -> dict[str, Any]:
    from .pipeline import evaluate

    return evaluate(directory, data, backend=backend, cuda=cuda, progress=progress, draws=draws)


#: this network as ``biosnn unsupervised --preset`` knows it (registered in :mod:`.presets`)
PRESET = Preset(
    name="diehl_cook", input="images", default_neurons=100, draws=True,
    description="Diehl & Cook 2015: Poisson input drawn from --dataset images, adaptive thresholds, lateral "
                "inhibition, trace STDP",
    train=_train_preset, evaluate=_evaluate_preset,
    flags=(
        ("--neuron-model", dict(help="the excitatory neuron, a library name or a model JSON file (biosnn show "
                                     "NAME > FILE.json, then edit): it must define v, ge (on_pre ge += w), gi and "
                                     "theta (default diehl_cook_excitatory)")),
        ("--n-train", dict(type=int, help="training images, in file order (default: all)")),
        ("--n-assign", dict(type=int, help="last N training images used to assign neurons to classes "
                                           "(default 10000)")),
        ("--guidance-per-class", dict(type=int, help="images per class whose traces make the guidance "
                                                     "templates (default 10)")),
        ("--timer-rate", dict(type=POSITIVE, help="excitatory spike-block timer rate, 100 (the original code "
                                                  "as Brian 1 ran it, default) or 0.1 (Brian2 ports: 50 ms block)")),
        ("--no-sample-traces", dict(action="store_true", default=None,
                                    help="keep only the per-class templates in guidance.npz, not every trace")),
        ("--input-total", dict(type=POSITIVE, help="scale every image so that its pixels sum to this before "
                                                   "drawing rates (default: unscaled; MNIST digits sum to ~26,000)")),
        ("--nu-post", dict(type=NON_NEGATIVE, help="STDP potentiation rate (default 0.01, the original)")),
        ("--nu-pre", dict(type=NON_NEGATIVE, help="STDP depression rate (default 0.0001, the original)")),
        ("--draws", dict(type=ranged(int, 1, MAX_DRAWS), help="sum each image's spike counts over K presentations (independent "
                                        "Poisson draws) to assign neurons and to classify (default 1; kept for "
                                        "evaluate)")),
    ))
