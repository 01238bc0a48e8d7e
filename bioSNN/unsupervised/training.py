"""Run a Diehl & Cook network over a data set in slices: progress bar, checkpoints, exact resume,
and recording of spike counts with plasticity off.

Checkpoint file (``.npz``, numpy-readable, written atomically): ``w`` ``[n_input, N]``, ``delay_ms``,
``theta`` (volts), ``meta`` (JSON: config, slice index, controller state, a SHA-256 of the rates,
the excitatory model's fingerprint, examples done).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from brian2 import mV, ms, seed as brian_seed

from ..arrays import digest
from ..equations.model import NeuronModel, check_same_model
from ..errors import DataError, InputError, ModelMismatchError
from ..fileio import READ_ERRORS, atomic_savez
from ..isolation import isolated
from ..progress import progress_bar
from ..interrupts import resume_hint, stop_requests
from ..weight_history import FILENAME as WEIGHTS_FILE, append_snapshot, square_shape
from .artifacts import check_finite
from .stdp import STDPRule
from .diehl_cook import (
    BuiltNetwork, DiehlCookConfig, DiehlCookState, build_network, controller_state, examples_done, excitatory_model,
    read_state, reset_transients, set_controller_state,
)

__all__ = ["train", "record", "Recording", "record_counts", "save_checkpoint", "load_checkpoint", "Checkpoint", "rates_digest", "presentation_counts"]


def rates_digest(rates: np.ndarray) -> str:
    """SHA-256 of the rates array (shape and float64 bytes), stored to refuse resuming on other data."""
    return digest(np.asarray(rates, dtype=np.float64))


def _slice_seed(seed: int, slice_index: int) -> int:
    return (int(seed) * 1_000_003 + int(slice_index)) % (2**32)


@dataclass
class Checkpoint:
    """A training position: the learned state plus where the run stands."""

    state: DiehlCookState
    config: DiehlCookConfig
    slice_index: int
    controller: dict[str, float]
    rates_sha256: str
    examples_done: int
    time_s: float = 0.0  # network time: resuming at the same absolute time keeps float rounding identical
    backend: str = "runtime"  # checkpoints of the runtime and standalone backends do not mix
    model_fingerprint: str = ""  # of the excitatory model trained (default: the library's)


def save_checkpoint(path: str | os.PathLike[str], ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` atomically (see the module docstring for the members), and add its weights to
    ``weights_history.npz`` beside it (:mod:`bioSNN.weight_history`)."""
    append_snapshot(Path(path).with_name(WEIGHTS_FILE), ckpt.examples_done, ckpt.state.w,
                    image_shape=square_shape(ckpt.state.w.shape[0]), step_name="examples", unit="1", source="diehl_cook")
    meta = {"format": "bioSNN.DiehlCookCheckpoint", "version": 1, "config": ckpt.config.to_dict(),
            "slice_index": ckpt.slice_index, "controller": ckpt.controller, "rates_sha256": ckpt.rates_sha256,
            "examples_done": ckpt.examples_done, "time_s": ckpt.time_s, "backend": ckpt.backend,
            "model_fingerprint": ckpt.model_fingerprint or excitatory_model(True, ckpt.config).fingerprint()}
    return atomic_savez(path, w=ckpt.state.w, delay_ms=ckpt.state.delay_ms, theta=ckpt.state.theta,
                        meta=np.asarray(json.dumps(meta, sort_keys=True)))


def load_checkpoint(path: str | os.PathLike[str], expect_model: NeuronModel | None = None) -> Checkpoint:
    """Read a checkpoint; refuse one written for another excitatory model than ``expect_model``
    (default: the library's, with the checkpoint's ``timer_rate``)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            state = DiehlCookState(z["w"], z["delay_ms"], z["theta"])
        if not isinstance(meta, dict) or meta.get("format") != "bioSNN.DiehlCookCheckpoint":
            raise DataError(f"{path}: not a Diehl & Cook checkpoint")
        config = DiehlCookConfig(**meta["config"])
    except DataError:
        raise
    except READ_ERRORS as exc:
        raise DataError(f"{path}: unreadable checkpoint, corrupt or truncated ({exc})") from exc
    check_finite(path, {"w": state.w, "delay_ms": state.delay_ms, "theta": state.theta})
    check_same_model(meta["model_fingerprint"], expect_model or excitatory_model(True, config), str(path))
    return Checkpoint(state, config, meta["slice_index"], meta["controller"],
                      meta["rates_sha256"], meta["examples_done"], meta.get("time_s", 0.0),
                      meta.get("backend", "runtime"), meta["model_fingerprint"])


def resume_from(checkpoint: str | os.PathLike[str] | None, config: DiehlCookConfig, digest: str,
                backend: str, model: NeuronModel | None = None) -> Checkpoint | None:
    """The checkpoint to resume from (``None`` if there is none), refused unless it was written for
    the same configuration, training data and backend."""
    if checkpoint is None or not Path(checkpoint).exists():
        return None
    ckpt = load_checkpoint(checkpoint, expect_model=model)
    if ckpt.config != config:
        raise ModelMismatchError(f"{checkpoint}: written with another configuration ({ckpt.config})")
    if ckpt.rates_sha256 != digest:
        raise ModelMismatchError(f"{checkpoint}: written for other training data")
    if ckpt.backend != backend:
        raise ModelMismatchError(f"{checkpoint}: written by the {ckpt.backend} backend")
    return ckpt


def _run_slices(built: BuiltNetwork, config: DiehlCookConfig, n: int, slice_index: int,
                after_slice: Callable[[int, int], None], bar: Any) -> None:
    done = examples_done(config, controller_state(built))
    while done < n:
        target = min(n, (slice_index + 1) * config.slice_examples)
        reset_transients(built)
        brian_seed(_slice_seed(config.seed, slice_index))
        while done < target:
            built.net.run((target - done) * config.example_ms * ms, namespace={})
            new = examples_done(config, controller_state(built))
            bar.update(new - done)
            done = new
        slice_index += 1
        after_slice(slice_index, done)


@isolated
def train(config: DiehlCookConfig, rates: np.ndarray, *, state: DiehlCookState | None = None,
          checkpoint: str | os.PathLike[str] | None = None, resume: bool = False, progress: bool = True,
          codeobj_class: Any = None, stop_after: int | None = None, rule: STDPRule | None = None,
          neuron: NeuronModel | None = None) -> DiehlCookState:
    """Train on ``rates`` (``[n_examples, n_input]``, Hz at intensity 1: pixel / 8) in order.

    Args:
        state: initial weights (default :meth:`DiehlCookState.initial`).
        checkpoint: file written after every slice; with ``resume`` training continues from it.
        stop_after: stop after this many examples (to simulate an interruption; the checkpoint stays).
        rule: the STDP rule (default :func:`~bioSNN.unsupervised.stdp.diehl_cook_stdp`); every weight
            change must be multiplied by the synaptic variable ``plastic``.
        neuron: your excitatory ``NeuronModel`` (see :func:`~bioSNN.unsupervised.diehl_cook.excitatory_model`);
            checkpoints carry its fingerprint and are refused for another model.

    Returns the learned :class:`DiehlCookState`. A run resumed from a checkpoint ends with exactly
    the weights of an uninterrupted run with the same seed and backend.
    """
    n = len(rates)
    if stop_after is not None and stop_after % config.slice_examples:
        raise InputError(f"stop_after ({stop_after}) must be a multiple of slice_examples ({config.slice_examples}): "
                         "checkpoints are taken at slice boundaries")
    digest = rates_digest(rates)
    slice_index, controller, start_time = 0, None, 0.0
    model = excitatory_model(True, config, neuron)
    ckpt = resume_from(checkpoint, config, digest, "runtime", model) if resume else None
    if ckpt is not None:
        state, slice_index, controller, start_time = ckpt.state, ckpt.slice_index, ckpt.controller, ckpt.time_s
    state = state or DiehlCookState.initial(config, rates.shape[1])
    built = build_network(config, rates, state, learning=True, rule=rule, codeobj_class=codeobj_class,
                          neuron=neuron)
    if controller is not None:
        set_controller_state(built, controller)
        built.net.t_ = start_time
    limit = n if stop_after is None else min(n, stop_after)
    bar = progress_bar(limit, "STDP training", "ex", enabled=progress,
                       initial=examples_done(config, controller_state(built)))

    def after_slice(index: int, done: int) -> None:
        if checkpoint is not None:
            save_checkpoint(checkpoint, Checkpoint(read_state(built, rates.shape[1], config.n_neurons), config,
                                                   index, controller_state(built), digest, done,
                                                   float(built.net.t_), model_fingerprint=model.fingerprint()))
        if done < limit:
            stop.check(f"after {done} of {limit} training examples", resume_hint(checkpoint))

    try:
        with stop_requests() as stop:
            _run_slices(built, config, limit, slice_index, after_slice, bar)
            stop.check(f"after the last of {limit} training examples (checkpoint written)", resume_hint(checkpoint))
    finally:
        bar.close()
    return read_state(built, rates.shape[1], config.n_neurons)


@dataclass
class Recording:
    """What :func:`record` returns: spike counts ``[n_examples, N]`` and, if asked, membrane traces
    ``[n_examples, N, T]`` in mV over the presentation (``T = present_ms / dt`` steps)."""

    counts: np.ndarray
    traces: np.ndarray | None = None
    #: with ``input_spikes=True``: per slice, the presentations it showed in order, with their input
    #: spikes (:class:`bioSNN.supervised.twin.Presentation`)
    presentations: list[list[Any]] | None = None


@isolated
def record(config: DiehlCookConfig, rates: np.ndarray, state: DiehlCookState, *, traces: bool = False,
           progress: bool = True, codeobj_class: Any = None, neuron: NeuronModel | None = None,
           input_spikes: bool = False, trace_dtype: Any = np.float32) -> Recording:
    """Present ``rates`` with plasticity off and theta fixed; count the excitatory spikes per example
    (and record their membrane potentials when ``traces``, every presentation's input spikes per
    slice when ``input_spikes``).

    When an example is shown again (fewer than ``min_spikes`` spikes), its last presentation counts,
    as in the original code.
    """
    n = len(rates)
    built = build_network(config, rates, state, learning=False, record_v=traces, record_ticks=True,
                          codeobj_class=codeobj_class, neuron=neuron, record_input=input_spikes)
    ticks = built.ticks
    bar = progress_bar(n, "recording", "ex", enabled=progress)
    def after_slice(index: int, done: int) -> None:
        if done < n:
            stop.check(f"after recording {done} of {n} examples", "recording must start again")

    try:
        with stop_requests() as stop:
            _run_slices(built, config, n, 0, after_slice, bar)
            stop.check(f"after recording all {n} examples", "recording must start again")
    finally:
        bar.close()
    counts, last_start = presentation_counts(config, n, ticks.idx[0], ticks.new_example[0],
                                             built.exc_spikes.t / ms, built.exc_spikes.i)
    shown = last_start >= 0
    trace_array = None
    if traces:
        v = np.asarray(built.exc_v.v / mV, dtype=trace_dtype)  # [N, steps]
        steps_per_tick = int(round(config.tick_ms / config.dt_ms))
        length = int(round(config.present_ms / config.dt_ms))
        trace_array = np.zeros((n, config.n_neurons, length), dtype=trace_dtype)
        for k in np.flatnonzero(shown):
            first = last_start[k] * steps_per_tick
            trace_array[k] = v[:, first:first + length]
    presentations = None
    if input_spikes:
        presentations = [[] for _ in range(-(-n // config.slice_examples))]
        add_presentations(presentations, config, n, ticks.idx[0], ticks.new_example[0], built.input_spikes.t / ms,
                          built.input_spikes.i, compiled=False)
    return Recording(counts, trace_array, presentations)


def add_presentations(chains: list[list[Any]], config: DiehlCookConfig, stop_idx: int, tick_idx: np.ndarray,
                      tick_new_example: np.ndarray, input_t_ms: np.ndarray, input_i: np.ndarray, *,
                      compiled: bool) -> None:
    """Append one run's presentations (with their input spikes) to ``chains[slice]``, the slice of
    each presentation's example; the controller's idle ticks (``idx >= stop_idx``) are no presentation.
    ``compiled``: a run on a compiled device (its clocks align differently,
    :func:`bioSNN.supervised.twin.tick_step`)."""
    from ..supervised.twin import recorded_presentations

    for p in recorded_presentations(config, tick_idx, tick_new_example, input_t_ms, input_i, compiled=compiled):
        if 0 <= p.example < stop_idx:
            chains[p.example // config.slice_examples].append(p)


def presentation_counts(config: DiehlCookConfig, n: int, tick_idx: np.ndarray, tick_new_example: np.ndarray,
                        spike_t_ms: np.ndarray, spike_i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts ``[n, N]`` per example from one run's controller ticks and excitatory spikes.

    A spike counts for the presentation under way while the input is on; an example shown more than
    once keeps its last presentation (as in the original). Examples not shown in this run (and
    presentations of ``idx >= n``) have ``last_start == -1`` and zero counts.

    Returns ``(counts, last_start)``, ``last_start[k]`` being the tick where example ``k``'s last
    presentation began.
    """
    tick_idx = np.asarray(tick_idx, dtype=np.int64)
    new_example = np.asarray(tick_new_example) > 0
    starts = np.flatnonzero(new_example)  # ticks where a presentation begins
    presentation = np.cumsum(new_example) - 1  # presentation shown at each tick (-1 before the first)
    last_start = np.full(n, -1, dtype=np.int64)
    for tick in starts:
        if 0 <= tick_idx[tick] < n:
            last_start[tick_idx[tick]] = tick
    spike_tick = np.floor(np.asarray(spike_t_ms, dtype=np.float64) / config.tick_ms + 1e-9).astype(np.int64)
    neuron = np.asarray(spike_i, dtype=np.int64)
    keep = (spike_tick < len(presentation)) & (presentation[np.minimum(spike_tick, len(presentation) - 1)] >= 0)
    spike_tick, neuron = spike_tick[keep], neuron[keep]
    pres = presentation[spike_tick]
    during_input = spike_tick - starts[pres] < config.ticks_on
    per_presentation = np.zeros((len(starts), config.n_neurons), dtype=np.int64)
    np.add.at(per_presentation, (pres[during_input], neuron[during_input]), 1)
    counts = np.zeros((n, config.n_neurons), dtype=np.int64)
    shown = last_start >= 0
    counts[shown] = per_presentation[presentation[last_start[shown]]]
    return counts, last_start


@isolated
def record_counts(config: DiehlCookConfig, rates: np.ndarray, state: DiehlCookState, *, progress: bool = True,
                  codeobj_class: Any = None) -> np.ndarray:
    """Spike counts ``[n_examples, N]`` (see :func:`record`)."""
    return record(config, rates, state, progress=progress, codeobj_class=codeobj_class).counts
