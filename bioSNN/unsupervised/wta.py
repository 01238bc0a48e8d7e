"""The seed SAR project's network (seeds_spec 2.4-2.8, 1.3): ``n`` discrete integrate-and-fire output
neurons (:func:`~bioSNN.equations.library.seed_wta_if`), one winner-take-all event per image, and the
seed's windowed STDP with soft bounds plus the silent-pixel depression.

STDP, for a post spike at step ``t_post`` and an input spike at ``t_pre`` of the same image,
``d = t_post - t_pre``:

* ``2 <= d <= 20`` (input before output): ``w += sigma * A_minus * exp(-d / tau_minus) * (w_max - w)``;
* ``-20 <= d <= -2`` (input after output): ``w -= sigma * A_plus * exp(d / tau_plus) * (w - b)`` with
  ``b = w_min`` (``depression="intended"``) or ``b = |w_min|`` (``"as_coded"``, the seed's sign slip);
* after each image with a winner, every input that stayed silent loses ``silent_depression`` on the
  winner's synapse, floored at ``w_min``.

The seed scans the whole (known) input train at each post spike. Here the first rule runs at the post
spike and the second when the later input spike arrives, before that spike is integrated -- the same
result, exact whenever no input spikes twice within 21 steps (true for the seed's rate code, whose
periods are at least 30 steps) and no output neuron twice within 20 (its refractoriness).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray, mV, second

from ..encoding.spike_trains import SpikeTrains
from ..equations import library
from ..equations.brian import build_layer, connect_all
from ..equations.model import NeuronModel
from ..errors import InputError
from ..flagtypes import NON_NEGATIVE
from .presets import Preset
from .stdp import plastic_on_pre

__all__ = ["WTAConfig", "wta_model", "WTANetwork"]



@dataclass(frozen=True)
class WTAConfig:
    """Constants: the SAR project's neuron (P_th 80 mV, D 5 mV, t_ref 20 steps, P_in -500 mV) and the
    STDP of its ancestor ``temp-snn`` (sigma 0.02, A+ 0.8, A- 0.3, tau 10 steps, w in [-1.2, 2] mV)."""

    n_neurons: int = 3
    P_th_mV: float = 80.0
    D_mV: float = 5.0
    t_ref_steps: int = 20
    P_in_mV: float = -500.0
    sigma: float = 0.02
    A_plus: float = 0.8
    A_minus: float = 0.3
    tau_plus_steps: float = 10.0
    tau_minus_steps: float = 10.0
    window_min: int = 2
    window_max: int = 20
    w_min_mV: float = -1.2
    w_max_mV: float = 2.0
    w_init_max_mV: float = 1.0
    silent_depression_mV: float = 0.06
    depression: str = "intended"
    #: ``"fixed"`` (``P_th_mV``) or ``"per_image"`` (seeds_spec 2.5): before each image,
    #: ``P_th = max_t sum_i s_i(t) / threshold_divisor * threshold_scale`` mV
    threshold: str = "fixed"
    threshold_divisor: float = 3.0
    threshold_scale: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.depression not in ("intended", "as_coded"):
            raise InputError(f"depression must be 'intended' or 'as_coded', got {self.depression!r}")
        if self.threshold not in ("fixed", "per_image"):
            raise InputError(f"threshold must be 'fixed' or 'per_image', got {self.threshold!r}")
        if self.threshold_divisor <= 0 or self.threshold_scale <= 0:
            raise InputError("threshold_divisor and threshold_scale must be positive")
        if self.n_neurons < 1:
            raise InputError("n_neurons must be positive")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wta_model(config: WTAConfig, steps: int, dt_s: float) -> NeuronModel:
    """The output neuron for presentations of ``steps`` rows of ``dt_s`` seconds."""
    return library.seed_wta_if(P_th=config.P_th_mV * mV, D=config.D_mV * mV, P_in=config.P_in_mV * mV,
                               t_ref=config.t_ref_steps * dt_s * second, t_image=steps * dt_s * second)


_ON_PRE_STDP = """
gap_after = timestep(t - lastspike_post, dt)
dep = plastic * int(gap_after >= window_min and gap_after <= window_max) * A_plus * exp(-clip(gap_after, 0, window_max) / tau_plus)
w = w - sigma * dep * (w - w_bound)
"""
_ON_POST_STDP = """
gap_before = timestep(lastspike_post - t_pre_last, dt)
same_image = int(timestep(t_pre_last, dt) // n_steps == timestep(lastspike_post, dt) // n_steps)
pot = plastic * same_image * int(gap_before >= window_min and gap_before <= window_max) * A_minus * exp(-clip(gap_before, 0, window_max) / tau_minus)
w = w + sigma * pot * (w_max - w)
"""
_SILENT = ("last = int(timestep(t, dt) % n_steps == n_steps - 1)\n"
           "won = last * plastic * int(wta_done_post and not inhibited_post) * int(n_pre_img < 0.5)\n"
           "w = w * (1 - won) + won * clip(w - silent_depression, w_min, inf*volt)\n"
           "n_pre_img = n_pre_img * (1 - last)")


def thresholds_mV(config: WTAConfig, peaks: np.ndarray) -> np.ndarray:
    """``P_th`` of each image (mV) from its most input spikes in one step (``peaks``): fixed, or per
    image (seeds_spec 2.5).

    Example:
        >>> c = WTAConfig(threshold="per_image")
        >>> bool(thresholds_mV(c, np.array([30]))[0] == 30 / c.threshold_divisor * c.threshold_scale)
        True
    """
    if config.threshold == "fixed":
        return np.full(len(peaks), config.P_th_mV)
    return np.asarray(peaks, dtype=np.float64) / config.threshold_divisor * config.threshold_scale


class WTANetwork:
    """A seed WTA network built for spike trains of ``steps`` rows and ``n_in`` inputs.

    Example:
        >>> net = WTANetwork(WTAConfig(n_neurons=2), n_in=9, steps=71, dt_s=1e-3)
        >>> net.weights_mV.shape
        (9, 2)
    """

    def __init__(self, config: WTAConfig, n_in: int, steps: int, dt_s: float, *, codeobj_class: Any = None,
                 weights_mV: np.ndarray | None = None, model: NeuronModel | None = None) -> None:
        """``model``: your output neuron instead of :func:`wta_model`; it needs the variables of
        :func:`~bioSNN.equations.library.seed_wta_if` that the STDP and WTA read (``th``,
        ``inhibited``, ``wta_done``, ``lastspike``) and adds ``w`` to its potential in ``on_pre``."""
        self.config, self.n_in, self.steps, self.dt_s = config, n_in, steps, dt_s
        self.model = wta_model(config, steps, dt_s) if model is None else model
        missing = {"th", "inhibited", "wta_done"} - set(self.model.state_variables)
        if missing:
            raise InputError(f"the output model {self.model.name!r} lacks {sorted(missing)}, which the WTA uses")
        dt = dt_s * second
        self.layer = build_layer(self.model, config.n_neurons, dt, name="wta", codeobj_class=codeobj_class)
        self.gen = self._input_group(n_in, dt, codeobj_class)
        w_bound = config.w_min_mV if config.depression == "intended" else abs(config.w_min_mV)
        ns = {**self.model.namespace(), "sigma": config.sigma, "A_plus": config.A_plus, "A_minus": config.A_minus,
              "tau_plus": config.tau_plus_steps, "tau_minus": config.tau_minus_steps,
              "window_min": config.window_min, "window_max": config.window_max, "w_bound": w_bound * mV,
              "w_min": config.w_min_mV * mV, "w_max": config.w_max_mV * mV,
              "silent_depression": config.silent_depression_mV * mV, "n_steps": steps}
        self.synapses = Synapses(
            self.gen, self.layer, "w : volt\nplastic : 1 (shared)\nt_pre_last : second\nn_pre_img : 1",
            on_pre=_ON_PRE_STDP + plastic_on_pre(self.model, "the WTA network") + "\nt_pre_last = t\nn_pre_img += 1",
            on_post=_ON_POST_STDP, namespace=ns, dt=dt, name="wta_synapses", codeobj_class=codeobj_class)
        connect_all(self.synapses, n_in, config.n_neurons)  # row-major [n_in, n_neurons]
        # potentiation in the step of the post spike, after the threshold and the WTA, before the next
        # image's reset can clear lastspike (a spike at an image's last step still learns)
        self.synapses.post.when, self.synapses.post.order = "after_resets", 1
        self.synapses.t_pre_last = -1e4 * second
        self.synapses.run_regularly(_SILENT, when="end", name="wta_silent", codeobj_class=codeobj_class)
        if config.threshold == "per_image":  # th of every image from a TimedArray set by present()
            self.layer.run_regularly("th = image_threshold(t - first_image_t)", dt=steps * dt,
                                           when="before_groups", order=-1, name="wta_image_threshold",
                                           codeobj_class=codeobj_class)
        self.weights_mV = self.initial_weights_mV(config, n_in) if weights_mV is None else weights_mV
        self.spikes = SpikeMonitor(self.layer, name="wta_spikes", codeobj_class=codeobj_class)
        self.net = Network(self.layer, self.gen, self.synapses, self.spikes)
        self._codeobj_class = codeobj_class

    def _input_group(self, n_in: int, dt: Any, codeobj_class: Any) -> Any:
        """The input neurons: a ``SpikeGeneratorGroup`` given each presentation's spikes."""
        return SpikeGeneratorGroup(n_in, [], [] * second, dt=dt, name="wta_input", codeobj_class=codeobj_class)

    def image_thresholds_mV(self, trains: SpikeTrains) -> np.ndarray:
        """Per-image thresholds in mV (seeds_spec 2.5): the most input spikes in one step, divided by
        ``threshold_divisor``, times ``threshold_scale``; ``P_th_mV`` for every image when fixed."""
        return thresholds_mV(self.config, np.array([trains.dense(k)[0].sum(axis=1).max() for k in range(trains.n_samples)]))

    @staticmethod
    def initial_weights_mV(config: WTAConfig, n_in: int) -> np.ndarray:
        """``U(0, w_init_max)`` from ``numpy.random.default_rng(config.seed)``, ``[n_in, n_neurons]`` in mV."""
        return np.random.default_rng(config.seed).random((n_in, config.n_neurons)) * config.w_init_max_mV

    @property
    def weights_volt(self) -> np.ndarray:
        """Input weights ``[n_in, n_neurons]`` in volts, exactly as Brian2 holds them (for checkpoints)."""
        return np.asarray(self.synapses.w_[:], dtype=np.float64).reshape(self.n_in, self.config.n_neurons)

    @weights_volt.setter
    def weights_volt(self, value: np.ndarray) -> None:
        value = np.asarray(value, dtype=np.float64)
        if value.shape != (self.n_in, self.config.n_neurons):
            raise InputError(f"weights must be [{self.n_in}, {self.config.n_neurons}], got {value.shape}")
        self.synapses.w_ = value.ravel()

    @property
    def weights_mV(self) -> np.ndarray:
        """Input weights ``[n_in, n_neurons]`` in mV."""
        return self.weights_volt / float(mV)

    @weights_mV.setter
    def weights_mV(self, value: np.ndarray) -> None:
        self.weights_volt = np.asarray(value, dtype=np.float64) * float(mV)

    def present(self, trains: SpikeTrains, *, learning: bool, record_v: bool = False) -> dict[str, np.ndarray]:
        """Show every sample of ``trains`` once, in order; return per-image ``winner`` (-1: none),
        ``event_step`` (-1: none) and, with ``record_v``, ``v`` ``[N, n_neurons, T]`` in mV (steps 1..T)."""
        if trains.steps != self.steps or trains.n_in != self.n_in or not np.isclose(trains.dt_seconds, self.dt_s):
            raise InputError(f"spike trains have steps/n_in/dt {trains.steps}/{trains.n_in}/{trains.dt_seconds}, "
                             f"the network was built for {self.steps}/{self.n_in}/{self.dt_s}")
        n = trains.n_samples
        peaks = np.array([trains.dense(k)[0].sum(axis=1).max() for k in range(n)]) if n else np.zeros(0)
        spike_steps, spike_neurons, v = self._simulate(trains, thresholds_mV(self.config, peaks), learning, record_v)
        winner = np.full(n, -1, dtype=np.int64)
        event = np.full(n, -1, dtype=np.int64)
        for step, neuron in zip(spike_steps[::-1], spike_neurons[::-1]):  # earliest spike per image wins
            k = step // self.steps
            winner[k], event[k] = neuron, step % self.steps
        result = {"winner": winner, "event_step": event}
        if v is not None:
            result["v"] = v.reshape(self.config.n_neurons, n, self.steps).transpose(1, 0, 2)[:, :, 1:]
        return result  # step 0 (no input) dropped from v: guidance is t = 1..T

    def _simulate(self, trains: SpikeTrains, thresholds: np.ndarray, learning: bool,
                  record_v: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Run the images of ``trains`` with their thresholds (mV); returns the output spikes' steps (from
        the first image's step 0) and neurons, and with ``record_v`` the potentials
        ``float32 [n_neurons, n * steps]`` in mV."""
        n = trains.n_samples
        start_step = int(round(float(self.net.t / second) / self.dt_s))
        if start_step % self.steps:
            raise InputError("presentations must start at an image boundary")
        dt = self.dt_s * second
        first_image_t = start_step * dt
        indices, times = [], []
        for k in range(n):
            steps, inputs = np.nonzero(trains.dense(k)[0])
            indices.append(inputs)
            times.append(start_step + k * self.steps + steps)
        self.gen.set_spikes(np.concatenate(indices) if indices else [],
                            (np.concatenate(times) if times else np.zeros(0)) * dt)
        self.synapses.plastic = 1.0 if learning else 0.0
        if self.config.threshold == "per_image":
            self.layer.namespace["image_threshold"] = TimedArray(thresholds * mV, dt=self.steps * dt)
            self.layer.namespace["first_image_t"] = first_image_t
        monitor = None
        if record_v:
            monitor = StateMonitor(self.layer, "v", record=True, when="end", codeobj_class=self._codeobj_class)
            self.net.add(monitor)
        first_spike = len(self.spikes.t)
        self.net.run(n * self.steps * dt, namespace={})
        spike_steps = np.round(np.asarray(self.spikes.t[first_spike:] / second) / self.dt_s).astype(np.int64) - start_step
        spike_neurons = np.asarray(self.spikes.i[first_spike:], dtype=np.int64)
        v = None
        if monitor is not None:
            v = np.asarray(monitor.v / mV, dtype=np.float32)
            self.net.remove(monitor)
        return spike_steps, spike_neurons, v


# ------------------------------------------------------------------ the preset (biosnn unsupervised)
def _train_preset(trains: Any, out: Any, *, options: dict[str, Any], val: Any, n_neurons: int | None, seed: int,
                  epochs: int, slice: int, shuffle: bool, backend: str, cuda: Any, resume: bool, overwrite: bool,
                  progress: bool) -> dict[str, Any]:
    from .pipeline import train_wta

    o = options
    config = WTAConfig(n_neurons=n_neurons or 3, seed=seed, depression=o["depression"] or "intended",
                       threshold=o["threshold"] or "fixed",
                       silent_depression_mV=0.06 if o["silent_depression"] is None else o["silent_depression"])
    return train_wta(trains, out, config=config, epochs=epochs, chunk=slice, shuffle=shuffle, backend=backend,
                     resume=resume, overwrite=overwrite, progress=progress, cuda=cuda)


def _evaluate_preset(directory: Any, trains: Any, *, backend: str | None, cuda: Any, progress: bool,
                     draws: int | None) -> dict[str, Any]:
    from .pipeline import evaluate_wta

    return evaluate_wta(directory, trains, backend=backend, cuda=cuda)


#: this network as ``biosnn unsupervised --preset`` knows it (registered in :mod:`.presets`)
PRESET = Preset(
    name="wta", input="spikes", default_neurons=3,
    description="the seed SAR network: winner-take-all IF neurons with STDP, on labelled spike trains",
    train=_train_preset, evaluate=_evaluate_preset,
    flags=(
        ("--depression", dict(choices=["intended", "as_coded"],
                              help="STDP depression bound w - w_min (intended) or the seed's w - |w_min| (as_coded)")),
        ("--silent-depression", dict(type=NON_NEGATIVE, help="mV taken from the winner's weights of inputs "
                                                             "silent in an image (default 0.06)")),
        ("--threshold", dict(choices=["fixed", "per_image"],
                             help="P_th fixed at 80 mV (default) or per image, peak input spikes per step / 3 "
                                  "(in mV)")),
    ))
