"""The seed WTA network on Brian2's compiled devices (``cpp_standalone``, ``cuda_standalone``).

:class:`CompiledWTANetwork` is a :class:`~bioSNN.unsupervised.wta.WTANetwork` generated and compiled
once, for runs of ``images_per_run`` presentations; :meth:`~CompiledWTANetwork.present` then shows any
number of images as runs of the binary, each given, as run arguments, the weights, ``plastic``, the
input spikes (the bits of the input ``TimedArray``, :func:`~bioSNN.unsupervised.wta.pack_input_bits`)
and the per-image thresholds; a last, shorter run is padded with silent images (no input, no
output, no learning). Every run starts at ``t = 0``: the network forgets everything at every image
boundary (potential, WTA, ``lastspike``; the STDP compares times within one image only), so runs of
the compiled network learn exactly what one long runtime run learns: the same spikes and weights
(there is no random number in the network), tested against the runtime targets.

Brian2's device is global state: use it through :func:`compiled_wta`, which switches to the compiled
device and back to ``runtime`` when the block ends.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from brian2 import NeuronGroup, StateMonitor, TimedArray, device, mV, second, volt

from ..equations.model import NeuronModel
from ..errors import InputError
from .backends import CudaOptions
from .standalone import standalone_device
from ..encoding.spike_trains import SpikeTrains
from .wta import WTAConfig, WTANetwork

__all__ = ["CompiledWTANetwork", "compiled_wta", "pack_input_bits", "WORD_BITS", "INPUT_THRESHOLD"]

#: A compiled network's input spikes are the bits of a 2-D ``TimedArray`` (``[step, word]``), ``WORD_BITS``
#: inputs per value (exact in float64, and below 2**31 once shifted): each run's spikes are then a run
#: argument of fixed shape, which a ``SpikeGeneratorGroup`` (read-only, resizable arrays) cannot take.
#: The runtime network keeps its ``SpikeGeneratorGroup`` (faster there).
WORD_BITS = 31
#: the threshold of such an input neuron ``i``: the bit of this step's word that is its own
INPUT_THRESHOLD = "int(input_bits(t - first_image_t, i // word_bits) / 2.0**(i % word_bits)) % 2 == 1"


def pack_input_bits(spikes: np.ndarray) -> np.ndarray:
    """``bool [steps, n_in]`` spikes as ``float64 [steps, ceil(n_in / WORD_BITS)]`` words: input ``i`` is
    bit ``i % WORD_BITS`` of word ``i // WORD_BITS``.

    Example:
        >>> pack_input_bits(np.array([[1, 0, 1], [0, 0, 0]], bool)).tolist()
        [[5.0], [0.0]]
        >>> pack_input_bits(np.eye(32, dtype=bool))[31].tolist()
        [0.0, 1.0]
    """
    spikes = np.asarray(spikes, dtype=bool)
    steps, n_in = spikes.shape
    words = -(-n_in // WORD_BITS)
    padded = np.zeros((steps, words * WORD_BITS), dtype=np.float64)
    padded[:, :n_in] = spikes
    return padded.reshape(steps, words, WORD_BITS) @ (2.0 ** np.arange(WORD_BITS))


class CompiledWTANetwork(WTANetwork):
    """A :class:`~bioSNN.unsupervised.wta.WTANetwork` built into ``directory`` by Brian2's current
    standalone device (made by :func:`compiled_wta`, which sets that device up); weights live here,
    in numpy, between runs."""

    def __init__(self, config: WTAConfig, n_in: int, steps: int, dt_s: float, directory: str | os.PathLike[str], *,
                 images_per_run: int = 100, weights_mV: np.ndarray | None = None, model: NeuronModel | None = None,
                 compile: bool = True) -> None:
        if images_per_run < 1:
            raise InputError(f"images_per_run must be at least 1, got {images_per_run}")
        self.images_per_run = int(images_per_run)
        self._w_volt = np.zeros((n_in, config.n_neurons))
        super().__init__(config, n_in, steps, dt_s, weights_mV=weights_mV, model=model)
        dt = dt_s * second
        rows = self.images_per_run * steps
        self._thresholds = None
        if config.threshold == "per_image":
            self._thresholds = TimedArray(np.zeros(self.images_per_run) * mV, dt=steps * dt, name="wta_thresholds")
            self.layer.namespace.update(image_threshold=self._thresholds, first_image_t=0 * second)
        self._v = StateMonitor(self.layer, "v", record=True, when="end", name="wta_v")
        self.net.add(self._v)
        device.apply_run_args()
        self.net.run(rows * dt, namespace={})
        device.build(directory=str(directory), compile=False, run=False)
        if compile:
            device.compile_source(str(directory), compiler=None, debug=False, clean=False)

    def _input_group(self, n_in: int, dt: Any, codeobj_class: Any) -> Any:
        """Input neurons firing by the bits of ``wta_input_bits`` (:data:`~bioSNN.unsupervised.wta.INPUT_THRESHOLD`),
        a ``TimedArray`` of one run's words (fixed name and shape: a run argument)."""
        self._input_bits = TimedArray(np.zeros((self.images_per_run * self.steps, -(-n_in // WORD_BITS))), dt=dt,
                                      name="wta_input_bits")
        return NeuronGroup(n_in, "", threshold=INPUT_THRESHOLD, reset="", dt=dt, name="wta_input",
                           namespace={"word_bits": WORD_BITS, "first_image_t": 0 * second,
                                      "input_bits": self._input_bits})

    @property
    def weights_volt(self) -> np.ndarray:
        """Input weights ``[n_in, n_neurons]`` in volts (a copy)."""
        return self._w_volt.copy()

    @weights_volt.setter
    def weights_volt(self, value: np.ndarray) -> None:
        value = np.asarray(value, dtype=np.float64)
        if value.shape != (self.n_in, self.config.n_neurons):
            raise InputError(f"weights must be [{self.n_in}, {self.config.n_neurons}], got {value.shape}")
        self._w_volt = value.copy()

    def _simulate(self, trains: SpikeTrains, thresholds: np.ndarray, learning: bool,
                  record_v: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        n, per_run, steps = trains.n_samples, self.images_per_run, self.steps
        spike_steps, spike_neurons, potentials = [], [], []
        for first in range(0, n, per_run):
            shown = min(per_run, n - first)
            bits = np.zeros(self._input_bits.values.shape)  # silent images after the last shown one
            for k in range(shown):
                bits[k * steps:(k + 1) * steps] = pack_input_bits(trains.dense(first + k)[0])
            run_args: dict[Any, Any] = {self.synapses.w: self._w_volt.ravel() * volt,
                                        self.synapses.plastic: 1.0 if learning else 0.0, self._input_bits: bits}
            if self._thresholds is not None:
                padded = np.zeros(per_run)
                padded[:shown] = thresholds[first:first + shown]
                run_args[self._thresholds] = padded * mV
            device.run(run_args=run_args)
            self._w_volt = np.asarray(self.synapses.w_[:], dtype=np.float64).reshape(self.n_in, self.config.n_neurons)
            steps_run = np.round(np.asarray(self.spikes.t_[:]) / self.dt_s).astype(np.int64)
            inside = steps_run < shown * steps
            spike_steps.append(steps_run[inside] + first * steps)
            spike_neurons.append(np.asarray(self.spikes.i[:], dtype=np.int64)[inside])
            if record_v:
                potentials.append(np.asarray(self._v.v_[:, :shown * steps], dtype=np.float64) / float(mV))
        v = np.concatenate(potentials, axis=1).astype(np.float32) if record_v else None
        return (np.concatenate(spike_steps) if spike_steps else np.zeros(0, np.int64),
                np.concatenate(spike_neurons) if spike_neurons else np.zeros(0, np.int64), v)


@contextmanager
def compiled_wta(config: WTAConfig, n_in: int, steps: int, dt_s: float, directory: str | os.PathLike[str], *,
                 images_per_run: int = 100, weights_mV: np.ndarray | None = None, model: NeuronModel | None = None,
                 backend: str = "cpp_standalone", cuda: CudaOptions | None = None,
                 make_jobs: int = 2) -> Iterator[CompiledWTANetwork]:
    """A :class:`CompiledWTANetwork` compiled with ``backend`` into ``directory``, usable inside the block
    like a runtime :class:`~bioSNN.unsupervised.wta.WTANetwork` (``present``, ``weights_mV``).

    Example:
        >>> with compiled_wta(WTAConfig(), trains.n_in, trains.steps, trains.dt_seconds, "build") as net:  # doctest: +SKIP
        ...     net.present(trains, learning=True)
    """
    directory = Path(directory)
    with standalone_device(directory, backend, cuda, make_jobs):
        yield CompiledWTANetwork(config, n_in, steps, dt_s, directory, images_per_run=images_per_run,
                                 weights_mV=weights_mV, model=model)
